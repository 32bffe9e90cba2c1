import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplayCache } from "../../../media-node/agent/src/replay-cache.ts";
import { verifyNgRequest } from "../../../media-node/agent/src/request-signature.ts";
import { NgClient } from "../../src/media/ng-client.ts";
import { CAPACITY_REASONS, NgAuthError, NgCapacityError, NgClosedError, NgError, NgTimeoutError, NgTransportError } from "../../src/media/ng-errors.ts";

/**
 * The client's framing, limits and error typing against a scripted HTTP
 * peer (pure logic; the real agent and rtpengine are in
 * media-profiles.test.ts). Every request it receives is verified with the
 * agent's own verifier, so the WebCrypto signer and the agent's node:crypto
 * check are held to one format.
 */
const SECRET = "edge-secret-0123456789-0123456789-abcdef";
type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let url: string;
let script: Script = (_req, res) => res.end("{}");
const replays = new ReplayCache(30_000, 10_000);
const verdicts: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const v = verifyNgRequest(
        { timestamp: req.headers["x-sipedge-timestamp"] as string, signature: req.headers["x-sipedge-signature"] as string },
        body,
        { secrets: [SECRET], windowMs: 30_000, now: Date.now(), replays },
      );
      verdicts.push(v.ok ? "ok" : v.reason);
      script(req, res, body.toString());
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ng`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function json(status: number, body: unknown): Script {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
}

async function failure(p: Promise<unknown>): Promise<NgError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NgError);
  return err as NgError;
}

describe("NgClient", () => {
  it("signs each request so the agent's verifier accepts it, even identical bodies in the same millisecond", async () => {
    script = (_req, res, body) => res.end(JSON.stringify({ result: "pong", echo: JSON.parse(body) }));
    const ng = new NgClient({ url, secret: SECRET });
    verdicts.length = 0;
    const replies = await Promise.all([ng.request("ping"), ng.request("ping"), ng.request("ping")]);
    expect(replies.map((r) => r.result)).toEqual(["pong", "pong", "pong"]);
    expect(replies[0]!.echo).toEqual({ command: "ping" });
    expect(verdicts).toEqual(["ok", "ok", "ok"]);
    expect(ng.pendingCount).toBe(0);
  });

  it("returns rtpengine's reply, warnings included", async () => {
    script = json(200, { result: "ok", warning: "Unknown call-ID", sdp: "v=0\r\n" });
    const reply = await new NgClient({ url, secret: SECRET }).request("delete", { "call-id": "x", "from-tag": "y" });
    expect(reply).toEqual({ result: "ok", warning: "Unknown call-ID", sdp: "v=0\r\n" });
  });

  it.each(CAPACITY_REASONS)("turns %j into a capacity error the caller fails over on", async (reason) => {
    script = json(200, { result: "error", "error-reason": reason });
    const err = await failure(new NgClient({ url, secret: SECRET }).request("offer", {}));
    expect(err).toBeInstanceOf(NgCapacityError);
    expect(err.failover).toBe(true);
    expect(err.reply).toEqual({ result: "error", "error-reason": reason });
  });

  it("treats the ng 'load limit' result as a capacity error", async () => {
    script = json(200, { result: "load limit", message: "CPU usage limit exceeded" });
    expect(await failure(new NgClient({ url, secret: SECRET }).request("offer", {}))).toBeInstanceOf(NgCapacityError);
  });

  it("keeps other rtpengine errors as plain NgError (no failover)", async () => {
    script = json(200, { result: "error", "error-reason": "Unknown call-id" });
    const err = await failure(new NgClient({ url, secret: SECRET }).request("answer", {}));
    expect(err.constructor).toBe(NgError);
    expect(err.failover).toBe(false);
    expect(err.message).toBe("rtpengine: Unknown call-id");
  });

  it("maps the agent's statuses: 504 timeout, 401 auth, others transport", async () => {
    const ng = new NgClient({ url, secret: SECRET });
    script = json(504, { error: "rtpengine-timeout", reason: "no answer" });
    expect(await failure(ng.request("offer"))).toBeInstanceOf(NgTimeoutError);
    script = json(401, { error: "unauthorized", reason: "stale" });
    const auth = await failure(ng.request("offer"));
    expect(auth).toBeInstanceOf(NgAuthError);
    expect(auth.message).toMatch(/refused our signature \(stale\)/);
    script = json(502, { error: "rtpengine-bad-reply" });
    const bad = await failure(ng.request("offer"));
    expect(bad).toBeInstanceOf(NgTransportError);
    expect((bad as NgTransportError).status).toBe(502);
    script = (_req, res) => res.end("<html>");
    expect((await failure(ng.request("offer"))).message).toMatch(/not JSON/);
  });

  it("times out on its own when the agent never answers, and forgets the request", async () => {
    script = () => undefined;
    const ng = new NgClient({ url, secret: SECRET, timeoutMs: 150 });
    const t0 = performance.now();
    const err = await failure(ng.request("offer"));
    expect(err).toBeInstanceOf(NgTimeoutError);
    expect(err.failover).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    expect(ng.pendingCount).toBe(0);
  });

  it("reports an unreachable agent as a transport error to fail over on", async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", () => r()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const err = await failure(new NgClient({ url: `http://127.0.0.1:${port}/ng`, secret: SECRET }).request("ping"));
    expect(err).toBeInstanceOf(NgTransportError);
    expect(err.failover).toBe(true);
  });

  it("enforces size limits both ways", async () => {
    const ng = new NgClient({ url, secret: SECRET, maxRequestBytes: 1024, maxReplyBytes: 2048 });
    verdicts.length = 0;
    expect((await failure(ng.request("offer", { sdp: "x".repeat(2000) }))).message).toMatch(/over the 1024-byte limit/);
    expect(verdicts).toEqual([]); // never sent
    script = json(200, { result: "ok", sdp: "y".repeat(4000) });
    expect((await failure(ng.request("offer"))).message).toMatch(/over the 2048-byte limit/);
    script = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }); // chunked: no content-length
      res.write(`{"result":"ok","sdp":"${"z".repeat(1500)}`);
      res.end(`${"z".repeat(1500)}"}`);
    };
    expect((await failure(ng.request("offer"))).message).toMatch(/reply is over the 2048-byte limit/);
  });

  it("rejects pending requests on close and refuses new ones", async () => {
    let arrived!: () => void;
    const atServer = new Promise<void>((r) => (arrived = r));
    script = () => arrived();
    const ng = new NgClient({ url, secret: SECRET });
    const pending = ng.request("offer");
    await atServer;
    ng.close();
    expect(await failure(pending)).toBeInstanceOf(NgClosedError);
    expect(await failure(ng.request("ping"))).toBeInstanceOf(NgClosedError);
    expect(ng.pendingCount).toBe(0);
  });
});
