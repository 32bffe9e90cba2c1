import { createRequest, type SipRequest } from "sip-parser-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeUdpPort } from "../../../packages/sipedge/src/stack/ports.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import type { MessageSource } from "../src/transport/protocol.ts";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";

// RFC 3261 §18.1.1 and PITFALLS 17: a request over 1300 bytes that would go
// over UDP goes over TCP when the destination takes TCP, and falls back to
// UDP when it does not. Real sockets on loopback, two transaction layers.

let sender: SipTransportLayer;
let senderTx: TransactionLayer;
let both: SipTransportLayer; // UDP and TCP on the same port
let udpOnly: SipTransportLayer;
const arrived: Array<{ request: SipRequest; source: MessageSource; at: string }> = [];

async function startBoth(): Promise<SipTransportLayer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    const l = new SipTransportLayer({ udp: { host: "127.0.0.1", port }, tcp: { host: "127.0.0.1", port } });
    try {
      await l.start();
      return l;
    } catch (e) {
      if (attempt > 5) throw e;
    }
  }
}

function answering(name: string, transport: SipTransportLayer): TransactionLayer {
  const tl = new TransactionLayer({ transport });
  tl.onRequest((request, tx, source) => {
    arrived.push({ request, source, at: name });
    tx?.respond(200);
  });
  return tl;
}

beforeAll(async () => {
  sender = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: { host: "127.0.0.1", port: 0 } });
  await sender.start();
  senderTx = new TransactionLayer({ transport: sender, timers: { t1: 50 } });
  both = await startBoth();
  answering("both", both);
  udpOnly = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: false });
  await udpOnly.start();
  answering("udp-only", udpOnly);
});

afterAll(async () => {
  senderTx?.close();
  await Promise.all([sender?.stop(), both?.stop(), udpOnly?.stop()]);
});

const sdpLike = "v=0\r\n" + "a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host generation 0\r\n".repeat(25);

function request(method: string, port: number, body = "") {
  return createRequest({ method, uri: `sip:carrier@127.0.0.1:${port}`, from: "<sip:egress@example.com>", to: "<sip:carrier@example.com>", callId: `${method}-${body.length}-${port}@mtu`, cseq: 1, body, contentType: body ? "application/sdp" : undefined });
}

describe("requests larger than the MTU allows (§18.1.1, PITFALLS 17)", () => {
  it("sends a large UDP-bound INVITE over TCP, with the Via saying TCP", async () => {
    const port = both.addresses().UDP!.port;
    const tx = senderTx.sendInvite(request("INVITE", port, sdpLike), { transport: "UDP", host: "127.0.0.1", port });
    expect(tx.request.toString().length).toBeGreaterThan(1300);
    expect((await tx.final).status).toBe(200);
    expect(tx.transport).toBe("TCP");
    const got = arrived.find((a) => a.request.callId === tx.request.callId)!;
    expect(got.source.transport).toBe("TCP");
    expect(got.request.topVia.transport).toBe("TCP");
    expect(got.request.body).toBe(sdpLike);
    expect(sender.counters.largeRequestsOverTcp).toBe(1);
  });

  it("keeps a small request on UDP", async () => {
    const port = both.addresses().UDP!.port;
    const tx = senderTx.sendRequest(request("OPTIONS", port), { transport: "UDP", host: "127.0.0.1", port });
    expect((await tx.final).status).toBe(200);
    expect(tx.transport).toBe("UDP");
  });

  it("falls back to UDP when the destination refuses TCP", async () => {
    const port = udpOnly.addresses().UDP!.port;
    const tx = senderTx.sendRequest(request("MESSAGE", port, sdpLike), { transport: "UDP", host: "127.0.0.1", port });
    expect((await tx.final).status).toBe(200);
    expect(tx.transport).toBe("UDP");
    const got = arrived.find((a) => a.request.callId === tx.request.callId)!;
    expect(got.source.transport).toBe("UDP");
    expect(got.request.topVia.transport).toBe("UDP");
    expect(sender.counters.tcpFallbacksToUdp).toBe(1);
  });

  it("does not try TCP for a destination marked UDP-only", async () => {
    const port = both.addresses().UDP!.port;
    const tx = senderTx.sendRequest(request("INFO", port, sdpLike), { transport: "UDP", host: "127.0.0.1", port, tcp: false });
    expect((await tx.final).status).toBe(200);
    expect(tx.transport).toBe("UDP");
    expect(sender.counters.largeRequestsOverTcp).toBe(1);
  });
});
