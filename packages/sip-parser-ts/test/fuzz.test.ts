// Fuzzing the parser: seeded random mutations of realistic messages. Whatever
// the input, parseMessage and every accessor may only throw SipParseError,
// and no message may take long (the parser must stay linear: no regular
// expression or scan that backtracks or rescans).
//
//   SIP_FUZZ_ITERATIONS=1000000 SIP_FUZZ_SEED=42 npx vitest run --project unit packages/sip-parser-ts/test/fuzz.test.ts

import { describe, expect, it } from "vitest";
import {
  Contact, SipParseError, SipRequest, SipResponse, SipUri, StreamFramer, parseMessage, parseNameAddr, parseUri, parseVia, type SipMessage,
} from "../src/index.ts";
import { INVITE, INVITE_200, REGISTER, REGISTER_200, crlf } from "./samples.ts";

const ITERATIONS = Number(process.env.SIP_FUZZ_ITERATIONS ?? 100_000);
const SEED = Number(process.env.SIP_FUZZ_SEED ?? 0x5eed);
/** Generous: a message takes a few microseconds; only runaway work gets near this. */
const MAX_MS = 50;
/** Room for slow, shared machines: about 2 ms per iteration, never under the default minute. */
const TIMEOUT_MS = Math.max(60_000, ITERATIONS * 2);

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
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

const SEEDS = [
  REGISTER,
  REGISTER_200,
  INVITE,
  INVITE_200,
  crlf([
    "REFER sip:bob@[2001:db8::10]:5070;transport=tcp SIP/2.0",
    "v: SIP/2.0/TCP [2001:db8::9:1]:5060;branch=z9hG4bKa;received=2001:db8::9:255;rport=5060,",
    "  SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb;ttl=16;maddr=224.2.0.1",
    "t: Bob <sip:bob@example.com>;tag=1",
    'f: "A \\"quoted\\" name" <sips:alice:pw@example.com:5061;lr>;tag=2',
    "i: refer-1@host",
    "CSeq: 3 REFER",
    "r: <sip:carol@example.com?Replaces=x%40y%3Bto-tag%3D1%3Bfrom-tag%3D2%3Bearly-only>",
    "b: <sip:alice@example.com>",
    "o: refer;id=3",
    "Route: <sip:p1.example.com;lr>,<tel:+1-201-555-0123;phone-context=example.com>",
    "Record-Route: <sip:rr.example.com;lr>",
    "Path: <sip:edge.example.com;lr;ob>",
    "Max-Forwards: 0068",
    "x: 1800;refresher=uac",
    "Min-SE: 90",
    "RAck: 1 3 INVITE",
    "RSeq: 5",
    "Expires: 30",
    "Min-Expires: 60",
    "Flow-Timer: 25",
    "Proxy-Require: foo",
    "Unsupported: bar",
    "Require: 100rel",
    'Authorization: Digest username="alice", realm="example.com", nonce="a,b", uri="sip:example.com", response="00", qop=auth, nc=00000001, cnonce="c"',
    'Proxy-Authorization: Digest username="alice", realm="example.com", nonce="n", uri="sip:example.com", response="00"',
    "Subject: folded",
    "\tsubject",
    "Content-Type: message/sipfrag;version=2.0",
    "Content-Length: 16",
    "",
    "SIP/2.0 200 OK\r\n",
  ]),
  crlf([
    "SIP/2.0 407 Proxy Authentication Required",
    "Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKx;rport",
    "To: sip:bob@example.com;tag=9",
    "From: <sip:alice@example.com>;tag=8",
    "Call-ID: c",
    "CSeq: 9 INVITE",
    'Proxy-Authenticate: Digest realm="example.com", nonce="abc", algorithm=SHA-256, qop="auth"',
    'WWW-Authenticate: Digest realm="example.com", nonce="abc", algorithm=MD5',
    "Contact: *",
    "Allow: INVITE, ACK",
    "Supported: ",
    "",
    "",
  ]),
];

const SPECIAL = [":", ";", ",", "<", ">", '"', "\r\n", "\r", "\n", "\0", "\\", " ", "\t", "%", "@", "[", "]", "=", "?", "&", "*", "/", "\r\n ", "é", "\uD800", "😀"];
const HUGE = ["99999999999999999999999", "4294967296", "65536", "-1", "0000000000000000000000000001", "1e309", "NaN"];

function mutate(s: string, r: () => number): string {
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const at = () => Math.floor(r() * (s.length + 1));
  const count = 1 + Math.floor(r() * 4);
  for (let k = 0; k < count; k++) {
    switch (Math.floor(r() * 10)) {
      case 0: { // flip a character
        const i = at();
        s = s.slice(0, i) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(i + 1);
        break;
      }
      case 1:
      case 2: { // insert a special character
        const i = at();
        s = s.slice(0, i) + pick(SPECIAL) + s.slice(i);
        break;
      }
      case 3: { // delete a run
        const i = at();
        s = s.slice(0, i) + s.slice(i + 1 + Math.floor(r() * 8));
        break;
      }
      case 4: // truncate
        s = s.slice(0, at());
        break;
      case 5: { // duplicate a line
        const [a, b] = lineAround(s, at());
        s = s.slice(0, b) + s.slice(a, b) + s.slice(b);
        break;
      }
      case 6: { // move a line elsewhere
        const [a, b] = lineAround(s, at());
        const line = s.slice(a, b);
        const rest = s.slice(0, a) + s.slice(b);
        const [c] = lineAround(rest, Math.floor(r() * (rest.length + 1)));
        s = rest.slice(0, c) + line + rest.slice(c);
        break;
      }
      case 7: { // a huge or odd number in place of a digit run
        let i = at();
        while (i < s.length && !(s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57)) i++;
        let j = i;
        while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
        if (i < j) s = s.slice(0, i) + pick(HUGE) + s.slice(j);
        break;
      }
      case 8: { // repeat a short piece many times (long runs of structure)
        const i = at();
        const piece = s.slice(i, i + 1 + Math.floor(r() * 6)) || pick(SPECIAL);
        s = s.slice(0, i) + piece.repeat(1 + Math.floor(r() * 40)) + s.slice(i);
        break;
      }
      default: { // case change of a run (header names are case-insensitive)
        const i = at();
        const j = i + Math.floor(r() * 20);
        const part = s.slice(i, j);
        s = s.slice(0, i) + (r() < 0.5 ? part.toUpperCase() : part.toLowerCase()) + s.slice(j);
      }
    }
  }
  return s;
}

/** [start, end) of the line around i, its CRLF included. */
function lineAround(s: string, i: number): [number, number] {
  const a = s.lastIndexOf("\n", i - 1) + 1;
  const lf = s.indexOf("\n", i);
  return [a, lf < 0 ? s.length : lf + 1];
}

/** Flips random octets of the UTF-8 form: invalid UTF-8 included. */
function mutateOctets(s: string, r: () => number): Uint8Array {
  const b = new TextEncoder().encode(s);
  const n = Math.floor(r() * 4);
  for (let k = 0; k < n && b.length > 0; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
  return b;
}

/**
 * Reads everything a message offers; returns what was thrown that is not a
 * SipParseError. With `change`, also changes it, serializes it and parses
 * the result.
 */
function touchEverything(m: SipMessage, change = true): unknown[] {
  const bad: unknown[] = [];
  const t = (f: () => unknown) => {
    try {
      const v = f();
      if (v instanceof Contact) touchNameAddr(v, t);
    } catch (e) {
      if (!(e instanceof SipParseError)) bad.push(e);
    }
  };
  t(() => m.version);
  if (m instanceof SipRequest) {
    t(() => m.method);
    t(() => m.uri.toString());
    t(() => m.uri.uriParam("transport"));
    t(() => (m.uri instanceof SipUri ? [m.uri.userDecoded, m.uri.headers.size, m.uri.params.size] : 0));
  } else if (m instanceof SipResponse) {
    t(() => [m.status, m.reason]);
  }
  t(() => m.vias.map((v) => [v.transport, v.host, v.port, v.branch, v.received, v.rport, v.maddr, v.ttl, v.toString()]));
  t(() => m.topVia.toString());
  t(() => touchNameAddr(m.from, t));
  t(() => touchNameAddr(m.to, t));
  t(() => m.callId);
  t(() => m.cseq);
  t(() => m.maxForwards);
  t(() => {
    const c = m.contacts;
    if (c !== "*") for (const x of c) touchNameAddr(x, t);
  });
  t(() => m.routes.forEach((x) => touchNameAddr(x, t)));
  t(() => m.recordRoutes.forEach((x) => touchNameAddr(x, t)));
  t(() => m.paths.forEach((x) => touchNameAddr(x, t)));
  t(() => m.expires);
  t(() => m.minExpires);
  t(() => m.authorization);
  t(() => m.proxyAuthorization);
  t(() => m.wwwAuthenticate);
  t(() => m.proxyAuthenticate);
  t(() => m.contentType);
  t(() => m.contentLength);
  t(() => m.supported);
  t(() => m.require);
  t(() => m.proxyRequire);
  t(() => m.allow);
  t(() => m.unsupported);
  t(() => m.sessionExpires);
  t(() => m.minSE);
  t(() => m.rseq);
  t(() => m.rack);
  t(() => m.event);
  t(() => {
    const r = m.referTo;
    if (r) touchNameAddr(r, t);
    return r?.replaces;
  });
  t(() => m.flowTimer);
  t(() => m.body);
  t(() => m.bodyBytes);
  t(() => m.raw);
  if (change) t(() => m.toBytes());
  t(() => {
    let k = 0;
    for (const h of m.headers) {
      void h.name;
      void h.value;
      // Lookups by name scan every line: a sample keeps this linear.
      if (k++ < 8) {
        m.get(h.name);
        m.getAll(h.name);
      }
    }
  });
  // Change it, serialize it, read it back.
  if (change) t(() => {
    m.set("Max-Forwards", "69");
    m.prepend("Via", "SIP/2.0/UDP fuzz.example.com;branch=z9hG4bKfuzz");
    m.removeFirst("Route");
    m.setBody("x");
    const again = parseMessage(m.toString());
    return again.topVia.host;
  });
  return bad;
}

function touchNameAddr(na: { displayName?: string; uri: unknown; params: Map<string, string | null>; tag?: string; toString(): string }, t: (f: () => unknown) => void): void {
  t(() => na.displayName);
  t(() => String(na.uri));
  t(() => na.params.size);
  t(() => na.tag);
  t(() => na.toString());
  if (na instanceof Contact) t(() => [na.expires, na.q, na.instance, na.regId, na.ob]);
}

describe("fuzz", () => {
  it(`parses ${ITERATIONS} mutated messages (seed ${SEED}): only SipParseError, never slow`, () => {
    const r = rng(SEED);
    const failures: string[] = [];
    let parsed = 0;
    let refused = 0;
    let slowest = 0;
    let change = false;
    const run = (input: string | Uint8Array): unknown[] => {
      let m: SipMessage;
      try {
        m = parseMessage(input);
      } catch (e) {
        if (e instanceof SipParseError) {
          refused++;
          if (e.partial) return touchEverything(e.partial, change);
          return [];
        }
        return [e];
      }
      parsed++;
      return touchEverything(m, change);
    };
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = SEEDS[Math.floor(r() * SEEDS.length)]!;
      const text = mutate(seed, r);
      const input: string | Uint8Array = r() < 0.25 ? mutateOctets(text, r) : text;
      change = i % 8 === 0;
      const t0 = performance.now();
      const bad = run(input);
      let ms = performance.now() - t0;
      if (ms > MAX_MS) {
        // Timing on a shared machine: only a message that is slow every time counts.
        for (let k = 0; k < 3 && ms > MAX_MS; k++) {
          const t1 = performance.now();
          run(input);
          ms = Math.min(ms, performance.now() - t1);
        }
        if (ms > MAX_MS) failures.push(`iteration ${i}: ${ms.toFixed(1)} ms for ${JSON.stringify(typeof input === "string" ? input.slice(0, 200) : "octets")}`);
      }
      slowest = Math.max(slowest, ms);
      for (const e of bad) failures.push(`iteration ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} for ${JSON.stringify(typeof input === "string" ? input : new TextDecoder().decode(input))}`);
      if (failures.length > 10) break;
    }
    expect(failures).toEqual([]);
    // Both paths were exercised.
    expect(parsed).toBeGreaterThan(ITERATIONS / 20);
    expect(refused).toBeGreaterThan(ITERATIONS / 20);
    expect(slowest).toBeLessThan(MAX_MS);
  }, TIMEOUT_MS);

  it("stays linear on adversarial shapes", () => {
    const base = (line: string) => SEEDS[0]!.replace("Expires: 600", line);
    const shapes = [
      "Contact: " + "<sip:a>,".repeat(900) + "<sip:a>",
      "Contact: " + ";".repeat(8000),
      "Contact: " + "<".repeat(8000),
      "Contact: " + '"'.repeat(8000),
      "Contact: " + '"\\'.repeat(4000),
      "Contact: sip:" + "a;".repeat(4000),
      "Route: " + "<sip:" + "%41".repeat(2600) + "@x>",
      "Via: SIP/2.0/UDP " + "a.".repeat(4000) + "b",
      "Via: " + "SIP/2.0/UDP h;branch=x,".repeat(300) + "SIP/2.0/UDP h",
      "Refer-To: <sip:a@b?Replaces=" + "%3B".repeat(2600) + ">",
      "Authorization: Digest " + "a=b,".repeat(2000),
      "Authorization: Digest " + 'a="'.repeat(2600),
      "Event: x" + ";id=1".repeat(1600),
      "Subject: " + "x\r\n ".repeat(2000),
      "Call-ID: " + "@".repeat(8000),
    ];
    for (const shape of shapes) {
      const text = base(shape);
      const t0 = performance.now();
      let bad: unknown[] = [];
      try {
        bad = touchEverything(parseMessage(text, { maxHeaderLineBytes: 20000 }));
      } catch (e) {
        if (!(e instanceof SipParseError)) bad.push(e);
      }
      const ms = performance.now() - t0;
      expect(bad, shape.slice(0, 40)).toEqual([]);
      expect(ms, shape.slice(0, 40)).toBeLessThan(MAX_MS * 4);
    }
    // Standalone parsers too.
    for (const s of ["sip:" + "a".repeat(20000), "sip:[" + ":".repeat(20000) + "]", '"' + "\\".repeat(20000), "<" + "sip:a;".repeat(3000) + ">"]) {
      for (const f of [parseUri, parseNameAddr, parseVia]) {
        const t0 = performance.now();
        try {
          f(s);
        } catch (e) {
          expect(e).toBeInstanceOf(SipParseError);
        }
        expect(performance.now() - t0).toBeLessThan(MAX_MS);
      }
    }
  });

  it("frames mutated streams cut at random without throwing", () => {
    const r = rng(SEED + 1);
    const n = Math.max(200, Math.floor(ITERATIONS / 100));
    for (let i = 0; i < n; i++) {
      const parts: string[] = [];
      for (let k = 0; k < 4; k++) parts.push(r() < 0.2 ? (r() < 0.5 ? "\r\n\r\n" : "\r\n") : mutate(SEEDS[Math.floor(r() * SEEDS.length)]!, r));
      const wire = mutateOctets(parts.join(""), r);
      const f = new StreamFramer();
      let at = 0;
      while (at < wire.length) {
        const next = Math.min(wire.length, at + 1 + Math.floor(r() * 300));
        f.push(wire.subarray(at, next));
        at = next;
        for (let e = f.next(); e !== undefined; e = f.next()) {
          if ("message" in e) {
            try {
              parseMessage(e.message);
            } catch (err) {
              expect(err).toBeInstanceOf(SipParseError);
            }
          } else if ("error" in e) {
            expect(e.error).toBeInstanceOf(SipParseError);
          }
        }
      }
    }
  }, TIMEOUT_MS);
});
