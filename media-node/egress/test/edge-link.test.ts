import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { verifyEgressToken } from "../../../workers/src/egress/egress-token.ts";
import { backoffDelay } from "../src/link/backoff.ts";
import { EdgeLink, type LinkState, linkUrl } from "../src/link/edge-link.ts";
import { silentLogger } from "../src/log.ts";
import { waitFor } from "./support/wait.ts";

// The link to the edge against a real WebSocket server on loopback standing
// in for the edge's /egress/:id (the real edge is in
// test/integration/egress-trunks.test.ts): a fresh signed token per attempt,
// the subprotocol, reconnection after a close, CRLF keep-alives.

const SECRET = "k".repeat(40);

describe("backoffDelay", () => {
  it("doubles from the base up to the cap, jittered within the upper half of each step", () => {
    const policy = { baseMs: 250, capMs: 30_000 };
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, policy, () => 0))).toEqual([125, 250, 500, 1000]);
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, policy, () => 0.999999))).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelay(20, policy, () => 0.999999)).toBe(30_000);
    expect(backoffDelay(1000, policy, () => 0)).toBe(15_000);
  });
});

describe("linkUrl", () => {
  it("dials <edge>/egress/<id>, http(s) turned into ws(s)", () => {
    expect(linkUrl("http://127.0.0.1:8787", "eg-1")).toBe("ws://127.0.0.1:8787/egress/eg-1");
    expect(linkUrl("https://sip.example.com/", "eg.1")).toBe("wss://sip.example.com/egress/eg.1");
    expect(linkUrl("wss://sip.example.com/base", "x")).toBe("wss://sip.example.com/base/egress/x");
  });
});

describe("EdgeLink", () => {
  let server: WebSocketServer | undefined;
  let link: EdgeLink | undefined;
  afterEach(async () => {
    await link?.stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  async function edge(onConnection: (ws: WebSocket, req: IncomingMessage) => void): Promise<number> {
    server = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: (protocols) => (protocols.has("sip") ? "sip" : false) });
    server.on("connection", onConnection);
    await new Promise<void>((r) => server!.once("listening", () => r()));
    return (server.address() as { port: number }).port;
  }

  it("presents a new valid token on every attempt, comes back after a close, and answers CRLFCRLF with CRLF", async () => {
    const nonces: string[] = [];
    const sockets: WebSocket[] = [];
    const received: string[] = [];
    const port = await edge((ws, req) => {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
      const check = verifyEgressToken([SECRET], "eg-1", token, Date.now());
      expect(check.ok).toBe(true);
      if (check.ok) nonces.push(check.nonce);
      expect(ws.protocol).toBe("sip");
      sockets.push(ws);
      ws.on("message", (d) => received.push(d.toString()));
    });
    const states: LinkState[] = [];
    const frames: string[] = [];
    link = new EdgeLink({ edgeUrl: `http://127.0.0.1:${port}`, linkId: "eg-1", secret: SECRET, logger: silentLogger, keepaliveMs: 0, backoff: { baseMs: 20, capMs: 100 } });
    link.onStateChange((s) => states.push(s));
    link.onFrame((f) => frames.push(f));
    link.start();
    await waitFor("the link up", () => link!.state === "up");
    expect(link.send("OPTIONS sip:x SIP/2.0\r\n\r\n")).toBe(true);
    sockets[0]!.send("\r\n\r\n");
    sockets[0]!.send("SIP/2.0 200 OK\r\n\r\n");
    await waitFor("the pong and the frame", () => received.includes("\r\n") && frames.length === 1);
    expect(frames).toEqual(["SIP/2.0 200 OK\r\n\r\n"]);

    // The edge drops the socket (a replaced connection, a deploy): the link dials again, with a new nonce.
    sockets[0]!.close(4000, "replaced");
    await waitFor("the link down", () => states.includes("down"));
    expect(link.send("x")).toBe(false);
    await waitFor("the link up again", () => link!.state === "up" && sockets.length === 2);
    expect(new Set(nonces).size).toBe(2);
    expect(states).toEqual(["connecting", "up", "down", "connecting", "up"]);
    expect(link.counters).toMatchObject({ connects: 2, disconnects: 1, framesIn: 1, framesOut: 1 });
  });

  it("keeps trying while the edge refuses the upgrade, and a silent link is closed by the keep-alive", async () => {
    let refuse = 2;
    server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      verifyClient: (_info, done) => (refuse-- > 0 ? done(false, 401, "Unauthorized") : done(true)),
    });
    const sockets: WebSocket[] = [];
    // This edge never answers the CRLF pings.
    server.on("connection", (ws) => sockets.push(ws));
    await new Promise<void>((r) => server!.once("listening", () => r()));
    const port = (server.address() as { port: number }).port;
    link = new EdgeLink({ edgeUrl: `ws://127.0.0.1:${port}`, linkId: "eg-1", secret: SECRET, logger: silentLogger, keepaliveMs: 100, backoff: { baseMs: 10, capMs: 50 } });
    link.start();
    await waitFor("the link up after two refusals", () => link!.state === "up");
    expect(link.counters.failedAttempts).toBe(2);
    await waitFor("the keep-alive timeout", () => link!.counters.keepaliveTimeouts === 1, 5_000);
    await waitFor("the link up again", () => link!.state === "up" && sockets.length === 2, 5_000);
  });
});
