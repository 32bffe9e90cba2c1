import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readWorkerSettings } from "../../packages/sipedge/src/stack/wrangler-config.ts";

const WRANGLER_TOML = join(import.meta.dirname, "..", "..", "wrangler.toml");

describe("readWorkerSettings(wrangler.toml)", () => {
  it("gives Miniflare what wrangler itself would: compatibility, vars, SQLite-backed Durable Objects", async () => {
    const ours = readWorkerSettings(WRANGLER_TOML);
    const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
    const { workerOptions, main } = unstable_getMiniflareWorkerOptions(WRANGLER_TOML);
    expect(join(import.meta.dirname, "..", "..", ours.main)).toBe(main);
    expect(ours.compatibilityDate).toBe(workerOptions.compatibilityDate);
    expect(ours.compatibilityFlags).toEqual(workerOptions.compatibilityFlags ?? []);
    expect(ours.vars).toEqual(workerOptions.bindings);
    expect(ours.durableObjects).toEqual(workerOptions.durableObjects);
    expect(Object.keys(ours.durableObjects).sort()).toEqual(["EGRESS_LINK", "USER_AGENT"]);
  });
});
