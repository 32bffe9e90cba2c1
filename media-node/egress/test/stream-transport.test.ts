import { once } from "node:events";
import { type Server, type Socket, connect, createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type SipRequest, type SipResponse, StreamFramer, createRequest, createResponse } from "sip-parser-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageSource } from "../src/transport/protocol.ts";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import { ManualClock } from "./support/manual-clock.ts";
import { type TestCert, makeSelfSignedCert } from "./support/tls-cert.ts";
import { waitFor } from "./support/wait.ts";

// TCP and TLS on real sockets: framing by Content-Length, RFC 5626
// keep-alives, responses on the request's connection, connection reuse,
// idle close (driven by a manual clock: no waiting), and TLS both ways.

const clock = new ManualClock();
let cert: TestCert;
let layer: SipTransportLayer;
let tcpPort: number;
let tlsPort: number;
const got: Array<{ message: SipRequest | SipResponse; source: MessageSource }> = [];

beforeAll(async () => {
  cert = makeSelfSignedCert();
  layer = new SipTransportLayer(
    { udp: false, tcp: { host: "127.0.0.1", port: 0 }, tls: { host: "127.0.0.1", port: 0, certFile: cert.certFile, keyFile: cert.keyFile, caFile: cert.certFile }, idleTimeoutMs: 60_000 },
    { clock },
  );
  layer.onMessage((message, source) => got.push({ message, source }));
  await layer.start();
  tcpPort = layer.addresses().TCP!.port;
  tlsPort = layer.addresses().TLS!.port;
});

afterAll(async () => {
  await layer?.stop();
  cert?.remove();
});

const request = (callId: string, body = "") =>
  createRequest({ method: "MESSAGE", uri: "sip:egress@127.0.0.1", from: "<sip:peer@example.com>", to: "<sip:egress@example.com>", callId, cseq: 1, via: "SIP/2.0/TCP 127.0.0.1:5099;rport", body, contentType: body ? "text/plain" : undefined }).toString();

/** A client connection that collects what it receives, framed. */
async function client(kind: "TCP" | "TLS"): Promise<{ socket: Socket; messages: string[]; pongs: number; closed: () => boolean }> {
  const socket = kind === "TCP" ? connect(tcpPort, "127.0.0.1") : tlsConnect({ port: tlsPort, host: "127.0.0.1", ca: cert.cert });
  await once(socket, kind === "TCP" ? "connect" : "secureConnect");
  const framer = new StreamFramer();
  const state = { socket, messages: [] as string[], pongs: 0, closed: () => socket.destroyed || ended };
  let ended = false;
  socket.on("close", () => (ended = true));
  socket.on("error", () => {});
  socket.on("data", (d: Buffer) => {
    framer.push(d);
    for (const e of framer) {
      if ("message" in e) state.messages.push(Buffer.from(e.message).toString());
      else if ("pong" in e) state.pongs++;
    }
  });
  return state;
}

describe("TCP transport", () => {
  it("frames by Content-Length: two messages in one segment, one split across three, bodies included", async () => {
    const c = await client("TCP");
    const a = request("tcp-a@test");
    const b = request("tcp-b@test", "hello\r\n\r\nworld");
    const d = request("tcp-d@test");
    c.socket.write(a + b);
    c.socket.write(d.slice(0, 10));
    c.socket.write(d.slice(10, 100));
    c.socket.write(d.slice(100));
    await waitFor("three messages", () => got.filter((g) => g.message.callId.startsWith("tcp-")).length === 3);
    const mine = got.filter((g) => g.message.callId.startsWith("tcp-"));
    expect(mine.map((g) => g.message.callId)).toEqual(["tcp-a@test", "tcp-b@test", "tcp-d@test"]);
    expect(mine[1]!.message.body).toBe("hello\r\n\r\nworld");
    expect(mine[0]!.source.transport).toBe("TCP");
    expect(mine[0]!.source.connectionId).toBe(mine[2]!.source.connectionId);
    c.socket.destroy();
  });

  it("answers a CRLFCRLF ping with a CRLF pong (RFC 5626 §4.4.1)", async () => {
    const c = await client("TCP");
    const before = layer.counters.keepAlivesAnswered;
    c.socket.write("\r\n\r\n");
    await waitFor("the pong", () => c.pongs === 1);
    expect(layer.counters.keepAlivesAnswered - before).toBe(1);
    c.socket.destroy();
  });

  it("sends the response on the request's connection (§18.2.2)", async () => {
    const c = await client("TCP");
    c.socket.write(request("tcp-resp@test"));
    await waitFor("the request", () => got.some((g) => g.message.callId === "tcp-resp@test"));
    const { message, source } = got.find((g) => g.message.callId === "tcp-resp@test")!;
    await layer.sendResponse(createResponse(message as SipRequest, 200), source);
    await waitFor("the 200 on the same connection", () => c.messages.length === 1);
    expect(c.messages[0]).toMatch(/^SIP\/2.0 200 OK\r\n/);
    expect(c.messages[0]).toContain(`;rport=${c.socket.localPort};`);
    expect(c.messages[0]).toContain(";received=127.0.0.1");
    c.socket.destroy();
  });

  it("answers a framed but malformed message with 400 and keeps the connection", async () => {
    const c = await client("TCP");
    c.socket.write(request("tcp-bad@test").replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE"));
    await waitFor("the 400", () => c.messages.length === 1);
    expect(c.messages[0]).toMatch(/^SIP\/2.0 400 Bad Request/);
    c.socket.write(request("tcp-good@test"));
    await waitFor("the next request", () => got.some((g) => g.message.callId === "tcp-good@test"));
    expect(c.closed()).toBe(false);
    c.socket.destroy();
  });

  it("closes a connection that cannot be framed (no Content-Length, or not SIP at all)", async () => {
    const before = layer.counters.malformedDropped;
    const c1 = await client("TCP");
    c1.socket.write(request("tcp-nolen@test").replace(/Content-Length: 0\r\n/, ""));
    const c2 = await client("TCP");
    c2.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])); // a TLS ClientHello on the TCP port
    await waitFor("both closed", () => c1.closed() && c2.closed());
    expect(layer.counters.malformedDropped - before).toBe(2);
  });

  it("closes an idle connection (clock-driven), not one with traffic", async () => {
    const idle = await client("TCP");
    const busy = await client("TCP");
    await waitFor("both accepted", () => layer.connectionCount().TCP >= 2);
    clock.advance(40_000);
    busy.socket.write("\r\n\r\n");
    await waitFor("the pong", () => busy.pongs === 1);
    clock.advance(20_000);
    await waitFor("the idle one closed", () => idle.closed());
    expect(busy.closed()).toBe(false);
    busy.socket.destroy();
  });
});

describe("connections we open", () => {
  let peer: Server;
  let peerPort: number;
  const accepted: Socket[] = [];
  const peerData: string[] = [];

  beforeAll(async () => {
    peer = createServer((s) => {
      accepted.push(s);
      s.on("data", (d) => peerData.push(d.toString()));
    });
    await new Promise<void>((r) => peer.listen(0, "127.0.0.1", () => r()));
    peerPort = (peer.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => peer.close(() => r()));
  });

  const outgoing = (n: number) => {
    const r = createRequest({ method: "OPTIONS", uri: `sip:peer@127.0.0.1:${peerPort}`, from: "<sip:egress@example.com>", to: "<sip:peer@example.com>", callId: `out-${n}@test`, cseq: n });
    r.prepend("Via", `SIP/2.0/TCP sent-by.invalid;branch=z9hG4bK-out-${n};rport`);
    return r;
  };

  it("reuses one connection per remote address, concurrent sends included", async () => {
    await Promise.all([1, 2, 3].map((n) => layer.sendRequest(outgoing(n), { transport: "TCP", host: "127.0.0.1", port: peerPort })));
    await layer.sendRequest(outgoing(4), { transport: "TCP", host: "127.0.0.1", port: peerPort });
    await waitFor("four requests", () => peerData.join("").split("OPTIONS sip:").length - 1 === 4);
    expect(accepted).toHaveLength(1);
    // §18.1.1: the transport filled in the sent-by.
    expect(peerData.join("")).toContain(`Via: SIP/2.0/TCP 127.0.0.1:${tcpPort};branch=z9hG4bK-out-1;rport`);
  });

  it("opens a new connection for a response when the request's connection is gone (§18.2.2)", async () => {
    const c = await client("TCP");
    c.socket.write(request("tcp-gone@test").replace("127.0.0.1:5099", `127.0.0.1:${peerPort}`));
    await waitFor("the request", () => got.some((g) => g.message.callId === "tcp-gone@test"));
    const { message, source } = got.find((g) => g.message.callId === "tcp-gone@test")!;
    c.socket.destroy();
    await waitFor("the connection closed", () => layer.connectionCount().TCP === 1);
    await layer.sendResponse(createResponse(message as SipRequest, 200), source);
    await waitFor("the 200 at the sent-by port", () => peerData.some((d) => d.startsWith("SIP/2.0 200")));
  });

  it("reports a refused connection as a TransportError", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(layer.sendRequest(outgoing(9), { transport: "TCP", host: "127.0.0.1", port })).rejects.toMatchObject({ name: "TransportError", code: "ECONNREFUSED" });
  });
});

describe("TLS transport", () => {
  it("gives up a dial whose handshake never completes after the connect timeout (clock-driven)", async () => {
    // A TCP server that accepts and stays silent: the TLS ClientHello is never answered.
    const accepted: Socket[] = [];
    const silent = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = createRequest({ method: "OPTIONS", uri: `sip:x@127.0.0.1:${port}`, from: "<sip:egress@example.com>", to: "<sip:x@example.com>", callId: "tls-silent@test", cseq: 1 });
      r.prepend("Via", "SIP/2.0/TLS sent-by.invalid;branch=z9hG4bK-silent");
      const sent = layer.sendRequest(r, { transport: "TLS", host: "127.0.0.1", port });
      let outcome: string | undefined;
      sent.then(
        () => (outcome = "sent"),
        (e: { code?: string }) => (outcome = e.code),
      );
      await waitFor("the TCP connection", () => accepted.length === 1);
      clock.advance(4_999);
      await new Promise((r) => setImmediate(r));
      expect(outcome).toBeUndefined();
      clock.advance(1);
      await waitFor("the dial to fail", () => outcome !== undefined);
      expect(outcome).toBe("ETIMEDOUT");
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("receives over TLS and answers on the same connection", async () => {
    const c = await client("TLS");
    c.socket.write(request("tls-1@test").replace("SIP/2.0/TCP", "SIP/2.0/TLS"));
    await waitFor("the request", () => got.some((g) => g.message.callId === "tls-1@test"));
    const { message, source } = got.find((g) => g.message.callId === "tls-1@test")!;
    expect(source.transport).toBe("TLS");
    await layer.sendResponse(createResponse(message as SipRequest, 200), source);
    await waitFor("the 200", () => c.messages.length === 1);
    c.socket.write("\r\n\r\n");
    await waitFor("the pong", () => c.pongs === 1);
    c.socket.destroy();
  });

  it("dials TLS to a peer whose certificate it trusts, and refuses one it does not", async () => {
    const other = new SipTransportLayer({ udp: false, tcp: false, tls: { host: "127.0.0.1", port: 0, certFile: cert.certFile, keyFile: cert.keyFile } });
    const otherGot: SipRequest[] = [];
    other.onMessage((m) => otherGot.push(m as SipRequest));
    await other.start();
    try {
      const port = other.addresses().TLS!.port;
      const r = createRequest({ method: "OPTIONS", uri: `sip:peer@127.0.0.1:${port};transport=tls`, from: "<sip:egress@example.com>", to: "<sip:peer@example.com>", callId: "tls-out@test", cseq: 1 });
      r.prepend("Via", "SIP/2.0/TLS sent-by.invalid;branch=z9hG4bK-tls-out");
      expect(await layer.sendRequest(r, { transport: "TLS", host: "127.0.0.1", port })).toBe("TLS");
      await waitFor("the request over TLS", () => otherGot.length === 1);
      expect(otherGot[0]!.topVia.transport).toBe("TLS");
      // `other` trusts only the system store, not our self-signed certificate.
      const back = createRequest({ method: "OPTIONS", uri: "sip:egress@127.0.0.1", from: "<sip:peer@example.com>", to: "<sip:egress@example.com>", callId: "tls-back@test", cseq: 1 });
      back.prepend("Via", "SIP/2.0/TLS sent-by.invalid;branch=z9hG4bK-tls-back");
      await expect(other.sendRequest(back, { transport: "TLS", host: "127.0.0.1", port: tlsPort })).rejects.toMatchObject({ name: "TransportError" });
    } finally {
      await other.stop();
    }
  });
});
