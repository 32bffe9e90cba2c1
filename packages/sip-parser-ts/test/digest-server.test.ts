// Stateless nonces, the nonce-count store, and the server helper judging
// credentials from our own client: every algorithm round-trips, and each
// failure is reported as the reason the registrar must act on.

import { describe, expect, it } from "vitest";
import { parseAuthHeader } from "../src/digest/auth-header.ts";
import { answerChallenge } from "../src/digest/client.ts";
import { computeHA1 } from "../src/digest/digest.ts";
import type { DigestAlgorithm } from "../src/digest/algorithm.ts";
import { checkNonce, createNonce, MemoryNonceCountStore, nonceIssuedAt } from "../src/digest/nonce.ts";
import { authenticate, buildChallenges, findCredentials, type AuthenticateOptions } from "../src/digest/server.ts";
import * as digest from "../src/digest/index.ts";

const SECRET = "server secret for tests";
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const MINUTE = 60_000;

describe("nonces", () => {
  it("are 44 base64url characters carrying their issue time", () => {
    const n = createNonce(SECRET, T0);
    expect(n).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(nonceIssuedAt(n)).toBe(T0);
    expect(createNonce(SECRET, T0)).not.toBe(n);
    expect(nonceIssuedAt(createNonce(SECRET, 2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it("are valid until maxAge, then stale; a future date beyond the skew is invalid", () => {
    const n = createNonce(SECRET, T0);
    expect(checkNonce(n, SECRET, T0, 5 * MINUTE)).toBe("valid");
    expect(checkNonce(n, SECRET, T0 + 5 * MINUTE, 5 * MINUTE)).toBe("valid");
    expect(checkNonce(n, SECRET, T0 + 5 * MINUTE + 1, 5 * MINUTE)).toBe("stale");
    expect(checkNonce(n, SECRET, T0 - 30_000, 5 * MINUTE)).toBe("valid");
    expect(checkNonce(n, SECRET, T0 - 2 * MINUTE, 5 * MINUTE)).toBe("invalid");
    expect(checkNonce(n, SECRET, T0 - 2 * MINUTE, 5 * MINUTE, { maxFutureSkewMs: 3 * MINUTE })).toBe("valid");
  });

  it("are invalid when forged, altered, truncated, under another secret or bound elsewhere", () => {
    const n = createNonce(SECRET, T0, { bind: "realm-a" });
    expect(checkNonce(n, SECRET, T0, MINUTE, { bind: "realm-a" })).toBe("valid");
    expect(checkNonce(n, SECRET, T0, MINUTE, { bind: "realm-b" })).toBe("invalid");
    expect(checkNonce(n, SECRET, T0, MINUTE)).toBe("invalid");
    expect(checkNonce(n, "another secret", T0, MINUTE, { bind: "realm-a" })).toBe("invalid");
    for (let i = 0; i < n.length; i++) {
      const c = n[i] === "A" ? "B" : "A";
      expect(checkNonce(n.slice(0, i) + c + n.slice(i + 1), SECRET, T0, MINUTE, { bind: "realm-a" }), `char ${i}`).toBe("invalid");
    }
    expect(checkNonce(n.slice(0, 43), SECRET, T0, MINUTE, { bind: "realm-a" })).toBe("invalid");
    expect(checkNonce(n + "A", SECRET, T0, MINUTE, { bind: "realm-a" })).toBe("invalid");
    expect(checkNonce("dcd98b7102dd2f0e8b11d0f600bfb0c093", SECRET, T0, MINUTE)).toBe("invalid");
    expect(checkNonce("+".repeat(44), SECRET, T0, MINUTE)).toBe("invalid");
    // An old nonce whose time was moved forward: the MAC no longer matches.
    const old = createNonce(SECRET, T0 - 10 * MINUTE);
    const bytes = Buffer.from(old, "base64url");
    bytes.writeUIntBE(T0, 0, 6);
    expect(checkNonce(bytes.toString("base64url"), SECRET, T0, MINUTE)).toBe("invalid");
    expect(checkNonce(old, SECRET, T0, MINUTE)).toBe("stale");
  });

  it("use the random source given, and refuse an empty secret", () => {
    const zero = (b: Uint8Array): void => void b.fill(0);
    expect(createNonce(SECRET, T0, { random: zero })).toBe(createNonce(SECRET, T0, { random: zero }));
    expect(() => createNonce("", T0)).toThrow(RangeError);
    expect(() => checkNonce("x", new Uint8Array(0), T0, 1)).toThrow(RangeError);
    expect(() => createNonce(SECRET, -1)).toThrow(RangeError);
  });
});

describe("MemoryNonceCountStore", () => {
  it("accepts strictly increasing counts per nonce", () => {
    const s = new MemoryNonceCountStore(10);
    expect(s.accept("a", 1)).toBe(true);
    expect(s.accept("a", 1)).toBe(false);
    expect(s.accept("a", 3)).toBe(true);
    expect(s.accept("a", 2)).toBe(false);
    expect(s.accept("b", 2)).toBe(true); // a fresh nonce may start anywhere (JsSIP continues its count)
    expect(s.accept("a", 4)).toBe(true);
  });

  it("stays bounded, forgetting the least recently used nonce", () => {
    const s = new MemoryNonceCountStore(3);
    s.accept("a", 1);
    s.accept("b", 1);
    s.accept("c", 1);
    s.accept("a", 2); // a is now the most recent
    s.accept("d", 1); // evicts b
    expect(s.size).toBe(3);
    expect(s.accept("a", 2)).toBe(false);
    expect(s.accept("c", 1)).toBe(false);
    expect(s.accept("b", 1)).toBe(true); // forgotten
    expect(() => new MemoryNonceCountStore(0)).toThrow(RangeError);
  });
});

describe("buildChallenges", () => {
  it("returns one challenge per algorithm in the order given, sharing one realm-bound nonce, qop=auth only", () => {
    const values = buildChallenges({ realm: "sip.example.com", secret: SECRET, nowMs: T0, algorithms: ["SHA-256", "MD5"], opaque: "o" });
    expect(values).toHaveLength(2);
    const [a, b] = values.map((v) => parseAuthHeader(v, "WWW-Authenticate"));
    expect(a!.params["algorithm"]).toBe("SHA-256");
    expect(b!.params["algorithm"]).toBe("MD5");
    expect(a!.params["nonce"]).toBe(b!.params["nonce"]);
    expect(checkNonce(a!.params["nonce"]!, SECRET, T0, MINUTE, { bind: "sip.example.com" })).toBe("valid");
    expect({ ...b!.params, nonce: "-" }).toEqual({ realm: "sip.example.com", nonce: "-", opaque: "o", algorithm: "MD5", qop: "auth" });
    expect(values[1]).toMatch(/^Digest realm="sip\.example\.com", nonce="[A-Za-z0-9_-]{44}", opaque="o", algorithm=MD5, qop="auth"$/);
  });

  it("defaults to MD5 alone and writes stale=true when asked", () => {
    const [v, more] = buildChallenges({ realm: "r", secret: SECRET, nowMs: T0, stale: true });
    expect(more).toBeUndefined();
    expect(v).toMatch(/^Digest realm="r", nonce="[A-Za-z0-9_-]{44}", algorithm=MD5, qop="auth", stale=true$/);
    expect(() => buildChallenges({ realm: "r", secret: SECRET, nowMs: T0, algorithms: [] })).toThrow(RangeError);
  });
});

describe("authenticate: our client against our server", () => {
  const realm = "sip.example.com";
  const user = "alice";
  const password = "wonderland";
  const ha1ByAlgorithm = { MD5: computeHA1("MD5", user, realm, password), "SHA-256": computeHA1("SHA-256", user, realm, password) };
  const method = "REGISTER";
  const uri = "sip:sip.example.com";

  const answer = (challengeValue: string, opts: { nc?: number; password?: string; uri?: string; method?: string } = {}): string =>
    answerChallenge({
      challenge: parseAuthHeader(challengeValue, "WWW-Authenticate").params,
      method: opts.method ?? method,
      uri: opts.uri ?? uri,
      username: user,
      password: opts.password ?? password,
      ...(opts.nc === undefined ? {} : { nc: opts.nc }),
    });
  const server = (credentials: string[], over: Partial<AuthenticateOptions> = {}) =>
    authenticate({
      credentials,
      method,
      realm,
      secret: SECRET,
      nowMs: T0,
      maxAgeMs: 5 * MINUTE,
      ha1ByAlgorithm,
      nonceCounts: new MemoryNonceCountStore(100),
      ...over,
    });

  const algorithms: DigestAlgorithm[] = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess"];
  it.each(algorithms)("%s round-trips", (alg) => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0, algorithms: [alg] });
    const auth = answer(challenge!);
    expect(parseAuthHeader(auth).params["algorithm"]).toBe(alg);
    expect(server([auth])).toEqual({ ok: true, username: user, algorithm: alg });
  });

  it("reports a nonce past its lifetime as stale, but only when the response is right", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const later = T0 + 5 * MINUTE + 1;
    expect(server([answer(challenge!)], { nowMs: later })).toEqual({ ok: false, why: "stale", username: user });
    expect(server([answer(challenge!, { password: "wrong" })], { nowMs: later })).toMatchObject({ ok: false, why: "bad-response" });
  });

  it("reports a tampered or foreign nonce as bad-nonce", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const params = parseAuthHeader(challenge!).params;
    const nonce = params["nonce"]!;
    const tampered = challenge!.replace(nonce, (nonce[0] === "A" ? "B" : "A") + nonce.slice(1));
    expect(server([answer(tampered)])).toMatchObject({ ok: false, why: "bad-nonce" });
    const [otherRealms] = buildChallenges({ realm: "other.example.com", secret: SECRET, nowMs: T0 });
    const moved = challenge!.replace(nonce, parseAuthHeader(otherRealms!).params["nonce"]!);
    expect(server([answer(moved)])).toMatchObject({ ok: false, why: "bad-nonce" });
    expect(server([answer(challenge!)], { secret: "rotated" })).toMatchObject({ ok: false, why: "bad-nonce" });
  });

  it("reports a replayed nonce count as replay, and accepts the next count", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const nonceCounts = new MemoryNonceCountStore(100);
    const first = answer(challenge!, { nc: 1 });
    expect(server([first], { nonceCounts })).toMatchObject({ ok: true });
    expect(server([first], { nonceCounts })).toEqual({ ok: false, why: "replay", username: user });
    expect(server([answer(challenge!, { nc: 2 })], { nonceCounts })).toMatchObject({ ok: true });
    expect(server([answer(challenge!, { nc: 2 })], { nonceCounts })).toMatchObject({ ok: false, why: "replay" });
    // Without a store there is no replay protection.
    expect(server([first], { nonceCounts: undefined })).toMatchObject({ ok: true });
  });

  it("does not burn a nonce count on a request that fails", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const nonceCounts = new MemoryNonceCountStore(100);
    expect(server([answer(challenge!, { password: "wrong" })], { nonceCounts })).toMatchObject({ why: "bad-response" });
    expect(server([answer(challenge!)], { nonceCounts })).toMatchObject({ ok: true });
  });

  it("reports wrong password, tampered uri or method, and unknown user as bad-response", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    expect(server([answer(challenge!, { password: "wrong" })])).toMatchObject({ ok: false, why: "bad-response" });
    const good = answer(challenge!);
    expect(server([good.replace(`uri="${uri}"`, 'uri="sip:evil.example.com"')])).toMatchObject({ ok: false, why: "bad-response" });
    expect(server([good], { method: "INVITE" })).toMatchObject({ ok: false, why: "bad-response" });
    expect(server([good], { ha1ByAlgorithm: undefined })).toEqual({ ok: false, why: "bad-response", username: user });
    // Another user's name on alice's answer: the registrar looks up bob's HA1.
    const bobHa1 = { MD5: computeHA1("MD5", "bob", realm, "builder") };
    expect(server([good.replace('username="alice"', 'username="bob"')], { ha1ByAlgorithm: bobHa1 })).toEqual({
      ok: false,
      why: "bad-response",
      username: "bob",
    });
  });

  it("picks the credentials for our realm among several, and reports wrong-realm when none match", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const good = answer(challenge!);
    const foreign = good.replace(`realm="${realm}"`, 'realm="upstream.example.net"');
    expect(server([foreign, "Bearer abc", good])).toMatchObject({ ok: true });
    expect(server([foreign])).toEqual({ ok: false, why: "wrong-realm" });
    expect(server([good], { realm: "other.example.com" })).toEqual({ ok: false, why: "wrong-realm" });
    const found = findCredentials([foreign, good], realm);
    expect(found.ok && found.header.params["username"]).toBe(user);
  });

  it("reports missing and malformed credentials", () => {
    expect(server([])).toEqual({ ok: false, why: "missing" });
    expect(server(['Basic realm="x"'])).toEqual({ ok: false, why: "missing" });
    expect(server(['Digest realm="sip.example.com", nonce="unterminated'])).toEqual({ ok: false, why: "malformed" });
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const good = answer(challenge!);
    const drop = (name: string): string => {
      const p = { ...parseAuthHeader(good).params };
      delete p[name];
      return "Digest " + Object.entries(p).map(([k, v]) => `${k}="${v}"`).join(", ");
    };
    for (const name of ["username", "nonce", "uri", "response", "qop", "nc", "cnonce"]) {
      expect(server([drop(name)]), name).toMatchObject({ ok: false, why: "malformed" });
    }
    expect(server([good.replace("qop=auth", "qop=auth-int")])).toMatchObject({ ok: false, why: "malformed" });
    expect(server([good.replace("nc=00000001", "nc=00000000")])).toMatchObject({ ok: false, why: "malformed" });
    expect(server([good.replace("nc=00000001", "nc=xyz")])).toMatchObject({ ok: false, why: "malformed" });
    // Without qop (RFC 2069 style) only when the caller allows it.
    expect(server([drop("qop")], { requireQop: false })).toMatchObject({ ok: false, why: "bad-response" });
  });

  it("accepts RFC 2069-style credentials (no qop) when requireQop is false", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const noQop = challenge!.replace(', qop="auth"', "");
    const auth = answer(noQop);
    expect(parseAuthHeader(auth).params["qop"]).toBeUndefined();
    expect(server([auth])).toMatchObject({ ok: false, why: "malformed" });
    expect(server([auth], { requireQop: false })).toMatchObject({ ok: true });
  });

  it("reports algorithms we do not implement, did not offer, or hold no HA1 for as unsupported-algorithm", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0, algorithms: ["SHA-256"] });
    const sha = answer(challenge!);
    expect(server([sha.replace("algorithm=SHA-256", "algorithm=SHA-512-256")])).toMatchObject({ ok: false, why: "unsupported-algorithm" });
    expect(server([sha], { algorithms: ["MD5"] })).toMatchObject({ ok: false, why: "unsupported-algorithm" });
    expect(server([sha], { ha1ByAlgorithm: { MD5: ha1ByAlgorithm.MD5 } })).toMatchObject({ ok: false, why: "unsupported-algorithm" });
    expect(server([sha], { algorithms: ["MD5", "SHA-256"] })).toMatchObject({ ok: true, algorithm: "SHA-256" });
  });

  it("takes the algorithm token case-insensitively and an absent algorithm as MD5", () => {
    const [challenge] = buildChallenges({ realm, secret: SECRET, nowMs: T0 });
    const good = answer(challenge!);
    expect(server([good.replace("algorithm=MD5", "algorithm=md5")])).toMatchObject({ ok: true, algorithm: "MD5" });
    expect(server([good.replace("algorithm=MD5, ", "")])).toMatchObject({ ok: true, algorithm: "MD5" });
  });
});

describe("src/digest/index.ts", () => {
  it("re-exports the public API", () => {
    for (const name of [
      "md5Hex", "md5Bytes", "sha256Hex", "sha256Bytes", "hmacSha256", "hmacSha256Hex", "constantTimeEqual",
      "parseAuthHeader", "formatChallenge", "formatCredentials", "computeHA1", "computeResponse", "verifyCredentials",
      "createNonce", "checkNonce", "MemoryNonceCountStore", "buildChallenges", "findCredentials", "authenticate",
      "answerChallenge", "pickChallenge",
    ]) {
      expect(typeof (digest as Record<string, unknown>)[name], name).toBe("function");
    }
  });
});
