import { describe, expect, it } from "vitest";
import { type FramerEvent, SipParseError, StreamFramer, parseMessage } from "../src/index.ts";
import { INVITE, INVITE_200, REGISTER, REGISTER_200 } from "./samples.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function drain(f: StreamFramer): FramerEvent[] {
  const out: FramerEvent[] = [];
  for (let e = f.next(); e !== undefined; e = f.next()) out.push(e);
  return out;
}

/** Events as short strings: the message text, "ping", "pong" or "error: reason". */
function describeEvents(events: FramerEvent[]): string[] {
  return events.map((e) => ("message" in e ? dec(e.message) : "keepAlive" in e ? "ping" : "pong" in e ? "pong" : `error: ${e.error.status} ${e.error.reason}`));
}

/** Feeds `wire` in pieces cut at `cuts`, draining after every push. */
function feed(wire: Uint8Array, cuts: number[]): string[] {
  const f = new StreamFramer();
  const events: FramerEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, wire.length]) {
    f.push(wire.subarray(at, cut));
    events.push(...drain(f));
    at = cut;
  }
  return describeEvents(events);
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("StreamFramer (RFC 3261 §18.3, RFC 5626 §3.5.1)", () => {
  const stream = "\r\n\r\n" + REGISTER + REGISTER_200 + "\r\n" + INVITE + "\r\n\r\n" + INVITE_200;
  const expected = ["ping", REGISTER, REGISTER_200, "pong", INVITE, "ping", INVITE_200];

  it("frames whole messages and keep-alives", () => {
    expect(feed(enc(stream), [])).toEqual(expected);
  });

  it("gives the same events however the stream is cut", () => {
    const wire = enc(stream);
    const random = rng(7);
    for (let round = 0; round < 300; round++) {
      const cuts: number[] = [];
      const n = 1 + Math.floor(random() * 12);
      for (let i = 0; i < n; i++) cuts.push(Math.floor(random() * wire.length));
      cuts.sort((a, b) => a - b);
      const events = feed(wire, cuts);
      // A CRLF pong cut right after its first octet of "\r\n\r\n" is the one
      // ambiguity of RFC 5626 keep-alives; otherwise the events are identical.
      expect(events.filter((e) => e !== "pong" && e !== "ping")).toEqual(expected.filter((e) => e !== "pong" && e !== "ping"));
    }
    // One octet at a time, each CRLF of a ping comes alone and reads as a pong.
    expect(feed(wire, Array.from({ length: wire.length }, (_, i) => i))).toEqual(
      ["pong", "pong", REGISTER, REGISTER_200, "pong", INVITE, "pong", "pong", INVITE_200],
    );
  });

  it("hands out octets that parse, binary bodies included", () => {
    const head = enc(REGISTER.replace("Content-Length: 0", "Content-Type: application/octet-stream\r\nContent-Length: 4"));
    const wire = new Uint8Array(head.length + 4);
    wire.set(head);
    wire.set([0, 0xff, 0x0d, 0x0a], head.length);
    const f = new StreamFramer();
    f.push(wire);
    f.push(wire);
    const events = drain(f);
    expect(events).toHaveLength(2);
    for (const e of events) {
      if (!("message" in e)) throw new Error("expected a message");
      expect([...e.message]).toEqual([...wire]);
      expect([...parseMessage(e.message).bodyBytes]).toEqual([0, 0xff, 0x0d, 0x0a]);
    }
  });

  it("takes strings too, counting Content-Length in octets", () => {
    const body = "grüße ✓";
    const msg = REGISTER.replace("Content-Length: 0", `Content-Length: ${enc(body).length}`).replace(/\r\n\r\n$/, "\r\n\r\n" + body);
    const f = new StreamFramer();
    f.push(msg.slice(0, 100));
    expect(f.next()).toBeUndefined();
    f.push(msg.slice(100) + msg);
    expect(describeEvents(drain(f))).toEqual([msg, msg]);
    expect(parseMessage((drain(f), msg)).body).toBe(body);
  });

  it("accepts compact l: and bare-LF header blocks", () => {
    const compact = REGISTER.replace("Content-Length: 0", "l: 0");
    const lf = REGISTER.replace(/\r\n/g, "\n");
    expect(feed(enc(compact + lf), [7])).toEqual([compact, lf]);
  });

  it("refuses a message without Content-Length (§18.3)", () => {
    const f = new StreamFramer();
    f.push(REGISTER.replace("Content-Length: 0\r\n", ""));
    const events = describeEvents(drain(f));
    expect(events).toEqual(["error: 400 Bad Request - Missing Content-Length"]);
    f.push(REGISTER);
    expect(f.next()).toBeUndefined(); // an error ends the stream
  });

  it("refuses malformed and repeated Content-Length", () => {
    for (const [cl, reason] of [["Content-Length: x", "Malformed Content-Length"], ["Content-Length: -1", "Malformed Content-Length"], ["Content-Length: 0\r\nl: 0", "Multiple Content-Length"]]) {
      const f = new StreamFramer();
      f.push(REGISTER.replace("Content-Length: 0", cl!));
      expect(describeEvents(drain(f))).toEqual([`error: 400 Bad Request - ${reason}`]);
    }
  });

  it("refuses garbage as soon as it can tell", () => {
    const tls = new StreamFramer();
    tls.push(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00]));
    expect(describeEvents(drain(tls))).toEqual(["error: 400 Bad Request - Not a SIP message"]);
    const http = new StreamFramer();
    http.push("GET / HTTP/1.1\r\n");
    expect(describeEvents(drain(http))).toEqual(["error: 400 Bad Request - Malformed Request-Line"]);
    const cr = new StreamFramer();
    cr.push("\r\nX");
    expect(describeEvents(drain(cr))).toEqual(["pong"]);
    cr.push(" y z\r\n");
    expect(describeEvents(drain(cr))).toEqual(["error: 400 Bad Request - Malformed Request-Line"]);
    const badKeepAlive = new StreamFramer();
    badKeepAlive.push("\rX");
    expect(describeEvents(drain(badKeepAlive))).toEqual(["error: 400 Bad Request - Malformed keep-alive"]);
  });

  it("refuses to buffer past the limits", () => {
    const endless = new StreamFramer({ maxMessageBytes: 1000 });
    endless.push("INVITE sip:a@example.com SIP/2.0\r\n");
    for (let i = 0; i < 40; i++) endless.push(`X-Pad-${i}: ${"a".repeat(20)}\r\n`);
    const events = drain(endless);
    expect(events).toHaveLength(1);
    expect(events[0]).toHaveProperty("error");
    expect((events[0] as { error: SipParseError }).error.status).toBe(513);
    const big = new StreamFramer({ maxMessageBytes: 1000 });
    big.push(REGISTER.replace("Content-Length: 0", "Content-Length: 5000"));
    expect(describeEvents(drain(big))).toEqual(["error: 513 Message Too Large"]);
    const longLine = new StreamFramer();
    longLine.push("OPTIONS " + "x".repeat(9000));
    expect(describeEvents(drain(longLine))).toEqual(["error: 400 Bad Request - Start line too long"]);
    expect(longLine.buffered).toBe(0);
  });

  it("iterates", () => {
    const f = new StreamFramer();
    f.push(REGISTER + REGISTER);
    expect([...f]).toHaveLength(2);
    expect(f.buffered).toBe(0);
  });

  it("stays linear in the octets pushed, one octet at a time", () => {
    const wire = (pad: number) => enc(INVITE.replace("Content-Length: ", "X-Pad: " + "p".repeat(pad) + "\r\nContent-Length: "));
    const time = (octets: Uint8Array) => {
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        const f = new StreamFramer();
        const t0 = performance.now();
        for (let i = 0; i < octets.length; i++) {
          f.push(octets.subarray(i, i + 1));
          f.next();
        }
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const small = wire(15000);
    const large = wire(60000);
    time(small); // warm up
    // Four times the octets: about four times the work if linear, sixteen if quadratic.
    expect(time(large) / time(small)).toBeLessThan(10);
  });
});
