// The CallCounters conformance suite against the in-memory counters (here)
// and the SQL counters over a real Durable Object's SQLite in workerd.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryCallCounters } from "../../src/trunks/call-counters.ts";
import { runCallCountersConformance } from "./call-counters-conformance.ts";

describe("CallCounters conformance", () => {
  it("MemoryCallCounters", () => {
    expect(runCallCountersConformance(() => new MemoryCallCounters())).toEqual([]);
  });

  describe("SqlCallCounters over Durable Object SQLite (workerd)", () => {
    let mf: Miniflare | undefined;
    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), "call-counters-"));
      const outfile = join(dir, "counters-do.mjs");
      await build({
        entryPoints: [fileURLToPath(new URL("./call-counters-do.ts", import.meta.url))],
        outfile,
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        logLevel: "warning",
      });
      mf = new Miniflare({
        modules: true,
        scriptPath: outfile,
        modulesRoot: dirname(outfile),
        compatibilityDate: "2026-04-26",
        durableObjects: { COUNTERS: { className: "CountersTest", useSQLite: true } },
        durableObjectsPersist: join(dir, "do"),
      });
      await mf.ready;
    }, 60_000);
    afterAll(async () => {
      await mf?.dispose();
    });

    it("passes the suite", async () => {
      const res = await mf!.dispatchFetch("http://do/run");
      expect(await res.json()).toEqual({ failures: [] });
    });
  });
});
