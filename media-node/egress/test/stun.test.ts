import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import { isStunMessage, stunBindingResponse } from "../src/transport/stun.ts";
import { waitFor } from "./support/wait.ts";

// STUN keep-alives on the SIP UDP port (RFC 5626 §8): the codec against
// hand-built RFC 5389 messages, then the transport on a real UDP socket.
// The end-to-end check with baresip/libre sending them is
// test/integration/legacy-phones-outbound.test.ts.

const COOKIE = Buffer.from("2112a442", "hex");

function stunMessage(type: number, transactionId: Buffer, attributes = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(attributes.length, 2);
  COOKIE.copy(header, 4);
  transactionId.copy(header, 8);
  return Buffer.concat([header, attributes]);
}

/** Reads XOR-MAPPED-ADDRESS back the way a STUN client does (RFC 5389 §15.2). */
function mappedAddress(response: Uint8Array): { family: number; port: number; address: string } {
  const b = Buffer.from(response);
  expect(b.readUInt16BE(0)).toBe(0x0101); // Binding success
  expect(b.readUInt16BE(2)).toBe(b.length - 20);
  expect(b.subarray(4, 8)).toEqual(COOKIE);
  let at = 20;
  while (at < b.length) {
    const type = b.readUInt16BE(at);
    const length = b.readUInt16BE(at + 2);
    if (type === 0x0020) {
      const family = b[at + 5]!;
      const port = b.readUInt16BE(at + 6) ^ 0x2112;
      const mask = Buffer.concat([COOKIE, b.subarray(8, 20)]);
      const raw = Buffer.from(b.subarray(at + 8, at + 4 + length).map((x, i) => x ^ mask[i]!));
      const address = family === 1 ? [...raw].join(".") : (raw.toString("hex").match(/.{4}/g) ?? []).join(":");
      return { family, port, address };
    }
    at += 4 + length + ((4 - (length % 4)) % 4);
  }
  throw new Error("no XOR-MAPPED-ADDRESS");
}

describe("STUN Binding (RFC 5389) for RFC 5626 keep-alives", () => {
  it("answers a Binding request with the sender's address and port, XORed, under the same transaction id", () => {
    const id = randomBytes(12);
    const response = stunBindingResponse(stunMessage(0x0001, id), { address: "198.51.100.7", port: 50123 })!;
    expect(Buffer.from(response.subarray(8, 20))).toEqual(id);
    expect(mappedAddress(response)).toEqual({ family: 1, port: 50123, address: "198.51.100.7" });
    // XORed on the wire: the plain address does not appear (RFC 5389 §15.2's reason: ALGs rewrite it).
    expect(Buffer.from(response).includes(Buffer.from([198, 51, 100, 7]))).toBe(false);
  });

  it("IPv6 and IPv4-mapped IPv6 senders", () => {
    const v6 = stunBindingResponse(stunMessage(0x0001, randomBytes(12)), { address: "2001:db8::5", port: 5060 })!;
    expect(mappedAddress(v6)).toEqual({ family: 2, port: 5060, address: "2001:0db8:0000:0000:0000:0000:0000:0005" });
    const mapped = stunBindingResponse(stunMessage(0x0001, randomBytes(12)), { address: "::ffff:192.0.2.1", port: 1 })!;
    expect(mappedAddress(mapped)).toEqual({ family: 1, port: 1, address: "192.0.2.1" });
  });

  it("takes attributes in the request (libre sends FINGERPRINT) and ignores STUN that is not a Binding request", () => {
    const fingerprint = Buffer.from("802800040000abcd", "hex");
    expect(stunBindingResponse(stunMessage(0x0001, randomBytes(12), fingerprint), { address: "127.0.0.1", port: 9 })).toBeDefined();
    expect(stunBindingResponse(stunMessage(0x0101, randomBytes(12)), { address: "127.0.0.1", port: 9 })).toBeUndefined(); // a response
    expect(stunBindingResponse(stunMessage(0x0011, randomBytes(12)), { address: "127.0.0.1", port: 9 })).toBeUndefined(); // an indication
  });

  it("tells STUN from SIP and from garbage", () => {
    expect(isStunMessage(stunMessage(0x0001, randomBytes(12)))).toBe(true);
    expect(isStunMessage(Buffer.from("OPTIONS sip:a@b SIP/2.0\r\n\r\n"))).toBe(false);
    const badLength = stunMessage(0x0001, randomBytes(12));
    badLength.writeUInt16BE(4, 2);
    expect(isStunMessage(badLength)).toBe(false);
    const noCookie = stunMessage(0x0001, randomBytes(12));
    noCookie.writeUInt32BE(0, 4);
    expect(isStunMessage(noCookie)).toBe(false); // RFC 3489 STUN: not ours to answer
    expect(isStunMessage(Buffer.alloc(8))).toBe(false);
  });

  it("on the SIP UDP port: a Binding request gets its answer and is counted; SIP still flows on the same socket", async () => {
    const layer = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: false });
    const sip: string[] = [];
    layer.onMessage((m) => sip.push("method" in m ? m.method : String(m.status)));
    await layer.start();
    const peer = createSocket("udp4");
    const got: Buffer[] = [];
    peer.on("message", (m) => got.push(m));
    await new Promise<void>((r) => peer.bind(0, "127.0.0.1", () => r()));
    try {
      const port = layer.addresses().UDP!.port;
      const id = randomBytes(12);
      peer.send(stunMessage(0x0001, id), port, "127.0.0.1");
      await waitFor("the Binding response", () => got.length === 1);
      expect(Buffer.from(got[0]!.subarray(8, 20))).toEqual(id);
      expect(mappedAddress(got[0]!)).toEqual({ family: 1, port: peer.address().port, address: "127.0.0.1" });
      peer.send(stunMessage(0x0101, randomBytes(12)), port, "127.0.0.1"); // a response: no answer
      const v = peer.address().port;
      peer.send(
        Buffer.from(`OPTIONS sip:e@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${v};branch=z9hG4bK-stun1\r\nMax-Forwards: 70\r\nFrom: <sip:p@example.com>;tag=1\r\nTo: <sip:e@example.com>\r\nCall-ID: stun1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`),
        port,
        "127.0.0.1",
      );
      await waitFor("the OPTIONS after the STUN", () => sip.length === 1);
      expect(sip).toEqual(["OPTIONS"]);
      expect(got).toHaveLength(1);
      expect(layer.counters).toMatchObject({ stunBindingsAnswered: 1, malformedDropped: 0, malformedAnswered: 0 });
    } finally {
      peer.close();
      await layer.stop();
    }
  });
});
