import { createSocket } from "node:dgram";
import { createRequest } from "sip-parser-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLogger } from "../src/log.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import { waitFor } from "./support/wait.ts";

// One JSON object per line, an event name on each, never a credential or a
// body; counters as plain objects that survive JSON.

const lines: string[] = [];
let a: SipTransportLayer;
let b: SipTransportLayer;
let ta: TransactionLayer;
let tb: TransactionLayer;

beforeAll(async () => {
  const logger = jsonLogger("debug", (l) => lines.push(l));
  a = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: false }, { logger });
  b = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: false }, { logger });
  ta = new TransactionLayer({ transport: a, logger, timers: { t1: 50 } });
  tb = new TransactionLayer({ transport: b, logger });
  tb.onRequest((_req, tx) => tx?.respond(200));
  await Promise.all([a.start(), b.start()]);
});

afterAll(async () => {
  ta?.close();
  tb?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("logs and counters", () => {
  it("logs JSON lines without credentials or bodies", async () => {
    const port = b.addresses().UDP!.port;
    const req = createRequest({
      method: "MESSAGE",
      uri: `sip:bob@127.0.0.1:${port}`,
      from: "<sip:alice@example.com>",
      to: "<sip:bob@example.com>",
      callId: "logs@test",
      cseq: 1,
      headers: [["Proxy-Authorization", 'Digest username="alice", realm="x", nonce="n", uri="sip:bob@example.com", response="0123456789abcdef0123456789abcdef"']],
      body: "the password is hunter2",
      contentType: "text/plain",
    });
    const tx = ta.sendRequest(req, { transport: "UDP", host: "127.0.0.1", port });
    expect((await tx.final).status).toBe(200);
    // A malformed datagram is logged too.
    const s = createSocket("udp4");
    s.send("garbage\r\n\r\n", port, "127.0.0.1");
    await waitFor("the malformed datagram logged", () => lines.some((l) => l.includes('"sip-malformed"')));
    s.close();
    const events = new Set<string>();
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(typeof o.t).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(o.level);
      events.add(String(o.event));
      expect(line).not.toContain("0123456789abcdef");
      expect(line).not.toContain("hunter2");
    }
    expect([...events]).toEqual(expect.arrayContaining(["sip-listening", "sip-in", "sip-out", "sip-malformed"]));
  });

  it("exposes counters as plain objects", () => {
    const t = ta.snapshot();
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
    expect(t.client).toEqual({ MESSAGE: 1 });
    expect(tb.snapshot().server).toEqual({ MESSAGE: 1 });
    const tr = b.snapshot();
    expect(tr.received.UDP).toBe(1);
    expect(tr.malformedDropped).toBe(1);
    // A snapshot is a copy.
    tr.received.UDP = 99;
    expect(b.counters.received.UDP).toBe(1);
  });
});
