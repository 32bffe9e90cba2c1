import { createSocket, type Socket } from "node:dgram";
import { type SipRequest, type SipResponse, createResponse, parseMessage } from "sip-parser-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageSource } from "../src/transport/protocol.ts";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import { waitFor } from "./support/wait.ts";

// The UDP transport on real sockets (loopback): what arrives, what goes
// back, and what malformed input does (an answer when one can be built,
// otherwise a dropped datagram and a counter, never a crash).

let layer: SipTransportLayer;
let port: number;
let peer: Socket;
let peerPort: number;
const received: Array<{ message: SipRequest | SipResponse; source: MessageSource }> = [];
const peerGot: string[] = [];

beforeAll(async () => {
  layer = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: false });
  layer.onMessage((message, source) => received.push({ message, source }));
  await layer.start();
  port = layer.addresses().UDP!.port;
  peer = createSocket("udp4");
  peer.on("message", (m) => peerGot.push(m.toString()));
  await new Promise<void>((r) => peer.bind(0, "127.0.0.1", () => r()));
  peerPort = peer.address().port;
});

afterAll(async () => {
  peer?.close();
  await layer?.stop();
});

function send(text: string | Buffer): void {
  peer.send(typeof text === "string" ? Buffer.from(text) : text, port, "127.0.0.1");
}

const options = (branch: string, extra = "", via?: string) =>
  "OPTIONS sip:egress@127.0.0.1 SIP/2.0\r\n" +
  `Via: ${via ?? `SIP/2.0/UDP 127.0.0.1:${peerPort};branch=${branch};rport`}\r\n` +
  "Max-Forwards: 70\r\nFrom: <sip:peer@example.com>;tag=p1\r\nTo: <sip:egress@example.com>\r\n" +
  `Call-ID: ${branch}@test\r\nCSeq: 1 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`;

describe("UDP transport", () => {
  it("delivers a request with received/rport added, and routes the response back by Via", async () => {
    send(options("z9hG4bK-u1"));
    await waitFor("the OPTIONS", () => received.length === 1);
    const { message, source } = received[0]!;
    expect(source).toMatchObject({ transport: "UDP", address: "127.0.0.1", port: peerPort });
    expect((message as SipRequest).topVia.rport).toBe(peerPort);
    expect((message as SipRequest).topVia.received).toBe("127.0.0.1");
    await layer.sendResponse(createResponse(message as SipRequest, 200), source);
    await waitFor("the 200", () => peerGot.some((t) => t.startsWith("SIP/2.0 200")));
    expect(layer.counters.received.UDP).toBe(1);
    expect(layer.counters.sent.UDP).toBe(1);
  });

  it("answers 400 naming the problem when a response can be built", async () => {
    peerGot.length = 0;
    send(options("z9hG4bK-u2", "CSeq: 2 OPTIONS\r\n"));
    await waitFor("a 400", () => peerGot.length === 1);
    expect(peerGot[0]).toMatch(/^SIP\/2.0 400 Bad Request - Multiple CSeq\r\n/);
    expect(parseMessage(peerGot[0]!).callId).toBe("z9hG4bK-u2@test");
    peerGot.length = 0;
    send(options("z9hG4bK-u3").replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS"));
    await waitFor("a 400", () => peerGot.length === 1);
    expect(peerGot[0]).toMatch(/^SIP\/2.0 400 Bad Request - Malformed CSeq/);
    peerGot.length = 0;
    // A broken Via cannot route the answer: it goes back to the datagram's source.
    send(options("z9hG4bK-u4", "", "SIP/2.0/UDP ;;;"));
    await waitFor("a 400", () => peerGot.length === 1);
    expect(peerGot[0]).toMatch(/^SIP\/2.0 400 Bad Request - Malformed Via/);
    peerGot.length = 0;
    send(options("z9hG4bK-u5").replace("SIP/2.0\r\n", "SIP/3.0\r\n"));
    await waitFor("a 505", () => peerGot.length === 1);
    expect(peerGot[0]).toMatch(/^SIP\/2.0 505 /);
    expect(layer.counters.malformedAnswered).toBe(4);
    expect(received).toHaveLength(1);
  });

  it("drops and counts what cannot be answered: garbage, responses, ACKs; keep-alives are ignored", async () => {
    peerGot.length = 0;
    const before = layer.counters.malformedDropped;
    send(Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42])); // a STUN header
    send("hello world");
    send("SIP/2.0 200 OK\r\nVia: nonsense\r\nContent-Length: 0\r\n\r\n");
    send(options("z9hG4bK-u6").replace(/OPTIONS/g, "ACK").replace("CSeq: 1 ACK", "CSeq: x ACK"));
    send("\r\n\r\n");
    send(options("z9hG4bK-u7"));
    await waitFor("the OPTIONS after the garbage", () => received.length === 2);
    expect(layer.counters.malformedDropped - before).toBe(4);
    expect(peerGot).toEqual([]);
  });

  it("survives a storm of mutated datagrams: each one is delivered, answered or dropped", async () => {
    const base = Buffer.from(options("z9hG4bK-fuzz"));
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const c0 = { ...layer.counters, received: { ...layer.counters.received } };
    const accounted = () =>
      layer.counters.received.UDP - c0.received.UDP + (layer.counters.malformedAnswered - c0.malformedAnswered) + (layer.counters.malformedDropped - c0.malformedDropped);
    // In batches, so the socket's receive buffer never overflows and every datagram arrives.
    const N = 300;
    for (let sent = 0; sent < N; ) {
      for (let i = 0; i < 20; i++, sent++) {
        const b = Buffer.from(base);
        for (let k = 0; k < 1 + rand(6); k++) b[rand(b.length)] = rand(256);
        send(rand(4) === 0 ? b.subarray(0, b.length - 1 - rand(20)) : b);
      }
      // Blank datagrams are the only ones not counted; a mutation cannot make one from this base.
      await waitFor(`datagrams 1-${sent} accounted for`, () => accounted() === sent);
    }
    expect(layer.counters.malformedAnswered - c0.malformedAnswered).toBeGreaterThan(0);
    expect(layer.counters.malformedDropped - c0.malformedDropped).toBeGreaterThan(0);
    send(options("z9hG4bK-after-fuzz"));
    await waitFor("a request after the storm", () => received.some((r) => r.message.callId === "z9hG4bK-after-fuzz@test"));
  });

  it("discards a response whose top Via is not ours (§18.1.2)", async () => {
    const before = layer.counters.misroutedResponses;
    const n = received.length;
    send(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-notours\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    send(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-ours\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    await waitFor("our response", () => received.length === n + 1);
    expect(layer.counters.misroutedResponses - before).toBe(1);
    expect((received[n]!.message as SipResponse).topVia.branch).toBe("z9hG4bK-ours");
  });
});

describe("configuration errors", () => {
  it("names a port in use and the way out", async () => {
    const other = new SipTransportLayer({ udp: { host: "127.0.0.1", port }, tcp: false });
    await expect(other.start()).rejects.toThrow(`SIP UDP port 127.0.0.1:${port} is already in use`);
  });

  it("refuses a wildcard address without advertise, and unreadable TLS files", async () => {
    expect(() => new SipTransportLayer({ udp: { host: "0.0.0.0", port: 0 } })).toThrow(/set `advertise`/);
    const tls = new SipTransportLayer({ udp: false, tcp: false, tls: { host: "127.0.0.1", port: 0, certFile: "/nonexistent/cert.pem", keyFile: "/nonexistent/key.pem" } });
    await expect(tls.start()).rejects.toThrow("cannot read the TLS certificate file /nonexistent/cert.pem: ENOENT");
  });
});
