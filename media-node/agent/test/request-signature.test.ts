import { describe, expect, it } from "vitest";
import { ReplayCache } from "../src/replay-cache.ts";
import { signNgBody, verifyNgRequest } from "../src/request-signature.ts";

const SECRET = "s".repeat(40);
const OLD = "o".repeat(40);
const body = Buffer.from('{"command":"ping"}');
const T0 = 1_800_000_000_000;

function verify(h: { timestamp?: string; signature?: string }, opts: { now?: number; replays?: ReplayCache; secrets?: string[]; b?: Buffer } = {}) {
  return verifyNgRequest({ timestamp: h.timestamp, signature: h.signature }, opts.b ?? body, {
    secrets: opts.secrets ?? [SECRET],
    windowMs: 30_000,
    now: opts.now ?? T0,
    replays: opts.replays ?? new ReplayCache(30_000, 100),
  });
}

describe("ng request signatures (HMAC-SHA256 over timestamp \\n body)", () => {
  const ts = String(T0);
  const sig = signNgBody(SECRET, ts, body);

  it("has the documented form", () => {
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
  });

  it("accepts a fresh, correctly signed request once", () => {
    const replays = new ReplayCache(30_000, 100);
    expect(verify({ timestamp: ts, signature: sig }, { replays })).toEqual({ ok: true });
    expect(verify({ timestamp: ts, signature: sig }, { replays, now: T0 + 1000 })).toEqual({ ok: false, reason: "replayed" });
  });

  it("refuses missing, malformed, stale and mis-signed requests", () => {
    expect(verify({ timestamp: ts })).toEqual({ ok: false, reason: "missing" });
    expect(verify({ signature: sig })).toEqual({ ok: false, reason: "missing" });
    expect(verify({ timestamp: "12.5", signature: sig })).toEqual({ ok: false, reason: "malformed" });
    expect(verify({ timestamp: ts, signature: sig.slice(3) })).toEqual({ ok: false, reason: "malformed" });
    expect(verify({ timestamp: ts, signature: sig.toUpperCase() })).toEqual({ ok: false, reason: "malformed" });
    expect(verify({ timestamp: ts, signature: sig }, { now: T0 + 30_001 })).toEqual({ ok: false, reason: "stale" });
    expect(verify({ timestamp: ts, signature: sig }, { now: T0 - 30_001 })).toEqual({ ok: false, reason: "stale" });
    expect(verify({ timestamp: ts, signature: sig }, { b: Buffer.from('{"command":"pong"}') })).toEqual({ ok: false, reason: "bad-signature" });
    expect(verify({ timestamp: String(T0 + 1), signature: sig })).toEqual({ ok: false, reason: "bad-signature" });
    expect(verify({ timestamp: ts, signature: signNgBody("x".repeat(40), ts, body) })).toEqual({ ok: false, reason: "bad-signature" });
  });

  it("accepts the previous secret during a rotation", () => {
    expect(verify({ timestamp: ts, signature: signNgBody(OLD, ts, body) }, { secrets: [SECRET, OLD] })).toEqual({ ok: true });
  });

  it("does not remember invalid signatures (garbage cannot fill the cache)", () => {
    const replays = new ReplayCache(30_000, 100);
    verify({ timestamp: ts, signature: "v1=" + "0".repeat(64) }, { replays });
    expect(replays.size).toBe(0);
  });
});

describe("replay cache", () => {
  it("forgets a signature once its timestamp can no longer be fresh", () => {
    const c = new ReplayCache(1000, 10);
    expect(c.remember("a", 0)).toBe("fresh");
    expect(c.remember("a", 1999)).toBe("replayed");
    expect(c.remember("b", 2000)).toBe("fresh");
    expect(c.size).toBe(1);
  });

  it("is bounded and fails closed when full of live signatures", () => {
    const c = new ReplayCache(1000, 3);
    for (const s of ["a", "b", "c"]) expect(c.remember(s, 0)).toBe("fresh");
    expect(c.remember("d", 10)).toBe("full");
    expect(c.remember("a", 10)).toBe("replayed");
    expect(c.remember("d", 2001)).toBe("fresh");
  });
});
