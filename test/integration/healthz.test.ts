import { describe, expect, inject, it } from "vitest";
import "../harness/stack-info.ts";

describe("GET /healthz", () => {
  const stack = inject("stack");

  it("answers with the edge version and a reachable DynamoDB holding every table", async () => {
    const res = await fetch(`${stack.edgeUrl}/healthz`);
    const body = (await res.json()) as { service: string; version: string; ok: boolean; backends: { dynamodb: { reachable: boolean; missingTables: string[] } } };
    expect(res.status).toBe(200);
    expect(body.service).toBe("sipedge-edge");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.backends.dynamodb.reachable).toBe(true);
    expect(body.backends.dynamodb.missingTables).toEqual([]);
    expect(body.ok).toBe(true);
  });
});

describe("GET /healthz with DynamoDB down", () => {
  it("answers 503 and names the unreachable backend", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { startEdge } = await import("../../packages/sipedge/src/stack/edge.ts");
    const { freeTcpPort } = await import("../../packages/sipedge/src/stack/ports.ts");
    const dir = mkdtempSync(join(tmpdir(), "sipedge-healthz-"));
    // A port nothing listens on: taken from the kernel and released at once.
    const deadPort = await freeTcpPort();
    const edge = await startEdge({
      host: "127.0.0.1",
      port: await freeTcpPort(),
      bindings: { DYNAMODB_ENDPOINT: `http://127.0.0.1:${deadPort}`, AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x" },
      persistDir: join(dir, "do"),
      buildDir: join(dir, "build"),
      log: () => undefined,
    });
    try {
      const res = await fetch(`${edge.url}/healthz`);
      const body = (await res.json()) as { ok: boolean; backends: { dynamodb: { reachable: boolean; error?: string } } };
      expect(res.status).toBe(503);
      expect(body.ok).toBe(false);
      expect(body.backends.dynamodb.reachable).toBe(false);
      expect(body.backends.dynamodb.error).toBeTruthy();
    } finally {
      await edge.miniflare.dispose();
    }
  });
});
