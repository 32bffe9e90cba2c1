import { defineConfig } from "vitest/config";

// Two tiers (STYLE.md, drachtio-srf): fast unit tests of pure logic, and
// integration tests that start the real stack (workerd via Miniflare,
// dynalite, rtpengine) once per run in test/harness/global-setup.ts.
export default defineConfig({
  test: {
    reporters: ["default", "./test/harness/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "workers/test/**/*.test.ts", "media-node/*/test/**/*.test.ts", "test/unit/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
