// The ProxyStore conformance suite against the in-memory store (here) and the
// SQL store over a real Durable Object's SQLite in workerd (Miniflare).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryProxyStore } from "../src/proxy/memory-proxy-store.ts";
import { runProxyStoreConformance } from "./proxy-store-conformance.ts";

describe("ProxyStore conformance", () => {
  it("MemoryProxyStore", () => {
    expect(runProxyStoreConformance(() => new MemoryProxyStore())).toEqual([]);
  });

  describe("SqlProxyStore over Durable Object SQLite (workerd)", () => {
    let mf: Miniflare | undefined;
    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), "proxy-store-"));
      const outfile = join(dir, "store-do.mjs");
      await build({
        entryPoints: [fileURLToPath(new URL("./proxy-store-do.ts", import.meta.url))],
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
        durableObjects: { STORE: { className: "StoreTest", useSQLite: true } },
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

    it("what one request wrote, the next one reads", async () => {
      const res = await mf!.dispatchFetch("http://do/persisted");
      expect(await res.json()).toEqual({ found: true, request: expect.stringContaining("INVITE sip:bob@example.com") });
    });
  });
});
