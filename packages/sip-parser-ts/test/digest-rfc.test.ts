// The RFCs' worked examples, byte for byte:
// - RFC 2617 §3.5: Mufasa / "Circle Of Life", MD5, qop=auth, GET /dir/index.html
//   -> response="6629fae49393a05397450978507c4ef1".
// - RFC 7616 §3.9.1: Mufasa / "Circle of Life" (lowercase "of"), realm
//   http-auth@example.org, qop=auth, nc=00000001, the same request answered
//   with MD5 -> 8ca523f5e9506fed4657c9700eebdbec and SHA-256 ->
//   753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1.
// Plus the -sess and no-qop forms, built from the definitions and checked
// against node:crypto.

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseAuthHeader } from "../src/digest/auth-header.ts";
import { answerChallenge, pickChallenge } from "../src/digest/client.ts";
import { computeHA1, computeResponse, parseNonceCount, verifyCredentials } from "../src/digest/digest.ts";
import type { DigestAlgorithm } from "../src/digest/algorithm.ts";

const h = (alg: "md5" | "sha256", s: string): string => createHash(alg).update(s).digest("hex");

const RFC2617 = {
  challenge:
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  authorization:
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  password: "Circle Of Life",
  response: "6629fae49393a05397450978507c4ef1",
};

const RFC7616 = {
  challenge: (alg: string): string =>
    `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${alg}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
  password: "Circle of Life",
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
  responses: {
    MD5: "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
  } as const,
};

describe("RFC 2617 §3.5", () => {
  it("computeResponse gives the RFC's response", () => {
    expect(
      computeResponse({
        algorithm: "MD5",
        password: RFC2617.password,
        username: "Mufasa",
        realm: "testrealm@host.com",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        cnonce: "0a4f113b",
        nc: 1,
        qop: "auth",
        method: "GET",
        uri: "/dir/index.html",
      }),
    ).toBe(RFC2617.response);
  });

  it("verifyCredentials accepts the RFC's Authorization with the stored HA1, and rejects it for another method or password", () => {
    const credentials = parseAuthHeader(RFC2617.authorization).params;
    const ha1 = computeHA1("MD5", "Mufasa", "testrealm@host.com", RFC2617.password);
    expect(ha1).toBe(h("md5", "Mufasa:testrealm@host.com:Circle Of Life"));
    const base = { credentials, method: "GET", expectedRealm: "testrealm@host.com", ha1ByAlgorithm: { MD5: ha1 } };
    expect(verifyCredentials(base)).toBe(true);
    expect(verifyCredentials({ ...base, ha1ByAlgorithm: { MD5: ha1.toUpperCase() } })).toBe(true);
    expect(verifyCredentials({ ...base, method: "POST" })).toBe(false);
    expect(verifyCredentials({ ...base, expectedRealm: "other" })).toBe(false);
    expect(verifyCredentials({ ...base, ha1ByAlgorithm: { MD5: computeHA1("MD5", "Mufasa", "testrealm@host.com", "Circle of Life") } })).toBe(false);
    expect(verifyCredentials({ ...base, ha1ByAlgorithm: { "SHA-256": "00" } })).toBe(false);
  });

  it("answerChallenge reproduces the RFC's Authorization (qop auth chosen over auth-int, opaque echoed)", () => {
    const out = answerChallenge({
      challenge: parseAuthHeader(RFC2617.challenge).params,
      method: "GET",
      uri: "/dir/index.html",
      username: "Mufasa",
      password: RFC2617.password,
      cnonce: "0a4f113b",
    });
    expect({ ...parseAuthHeader(out).params }).toEqual({ ...parseAuthHeader(RFC2617.authorization).params, algorithm: "MD5" });
  });
});

describe("RFC 7616 §3.9.1", () => {
  it.each(["MD5", "SHA-256"] as const)("%s: computeResponse, answerChallenge and verifyCredentials agree with the RFC", (alg) => {
    const expected = RFC7616.responses[alg];
    const common = {
      username: "Mufasa",
      realm: "http-auth@example.org",
      nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
      method: "GET",
      uri: "/dir/index.html",
    };
    expect(computeResponse({ ...common, algorithm: alg, password: RFC7616.password, cnonce: RFC7616.cnonce, nc: "00000001", qop: "auth" })).toBe(
      expected,
    );

    const challenge = parseAuthHeader(RFC7616.challenge(alg)).params;
    const header = answerChallenge({ challenge, method: "GET", uri: "/dir/index.html", username: "Mufasa", password: RFC7616.password, cnonce: RFC7616.cnonce });
    // The RFC's Authorization, parameter for parameter.
    expect({ ...parseAuthHeader(header).params }).toEqual({
      username: "Mufasa",
      realm: "http-auth@example.org",
      uri: "/dir/index.html",
      algorithm: alg,
      nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
      nc: "00000001",
      cnonce: RFC7616.cnonce,
      qop: "auth",
      response: expected,
      opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    });

    const ha1 = computeHA1(alg, "Mufasa", "http-auth@example.org", RFC7616.password);
    const credentials = parseAuthHeader(header).params;
    expect(verifyCredentials({ credentials, method: "GET", expectedRealm: "http-auth@example.org", ha1ByAlgorithm: { [alg]: ha1 } })).toBe(true);
  });

  it("pickChallenge takes the topmost challenge it can answer (RFC 8760 §2.4)", () => {
    const picked = pickChallenge(['Digest realm="r", nonce="n", algorithm=SHA-512-256', RFC7616.challenge("SHA-256"), RFC7616.challenge("MD5")]);
    expect(picked?.params["algorithm"]).toBe("SHA-256");
    expect(pickChallenge(['Digest realm="r", nonce="n", qop="auth-int"', "Basic realm=\"x\"", "garbage\"", 'Digest realm="r"'])).toBeUndefined();
  });
});

describe("the other forms, from the definitions", () => {
  const u = "alice", r = "sip.example.com", pw = "s3cret", n = "NONCE", cn = "CNONCE", m = "REGISTER", uri = "sip:sip.example.com";
  const cases: [DigestAlgorithm, "md5" | "sha256", boolean][] = [
    ["MD5", "md5", false],
    ["MD5-sess", "md5", true],
    ["SHA-256", "sha256", false],
    ["SHA-256-sess", "sha256", true],
  ];
  it.each(cases)("%s with qop=auth", (alg, H, sess) => {
    const base = h(H, `${u}:${r}:${pw}`);
    const ha1 = sess ? h(H, `${base}:${n}:${cn}`) : base;
    const expected = h(H, `${ha1}:${n}:0000002a:${cn}:auth:${h(H, `${m}:${uri}`)}`);
    expect(computeResponse({ algorithm: alg, password: pw, username: u, realm: r, nonce: n, cnonce: cn, nc: 42, qop: "auth", method: m, uri })).toBe(expected);
    expect(computeResponse({ algorithm: alg, ha1: base, username: u, realm: r, nonce: n, cnonce: cn, nc: "0000002a", qop: "auth", method: m, uri })).toBe(expected);
  });

  it.each(cases)("%s without qop (RFC 2069 form)", (alg, H, sess) => {
    const base = h(H, `${u}:${r}:${pw}`);
    const ha1 = sess ? h(H, `${base}:${n}:${cn}`) : base;
    const expected = h(H, `${ha1}:${n}:${h(H, `${m}:${uri}`)}`);
    expect(computeResponse({ algorithm: alg, password: pw, username: u, realm: r, nonce: n, cnonce: cn, method: m, uri })).toBe(expected);
  });

  it("refuses inconsistent input", () => {
    const base = { algorithm: "MD5" as const, username: u, realm: r, nonce: n, method: m, uri };
    expect(() => computeResponse(base)).toThrow(RangeError);
    expect(() => computeResponse({ ...base, password: pw, qop: "auth" })).toThrow(RangeError);
    expect(() => computeResponse({ ...base, algorithm: "MD5-sess", password: pw })).toThrow(RangeError);
  });

  it("parseNonceCount reads 1-8 hex digits, at least 1", () => {
    expect(parseNonceCount("00000001")).toBe(1);
    expect(parseNonceCount("0000000A")).toBe(10);
    expect(parseNonceCount("ffffffff")).toBe(0xffffffff);
    expect(parseNonceCount("1")).toBe(1);
    for (const bad of ["", "00000000", "000000001", "0000000g", "-1", " 1"]) expect(parseNonceCount(bad), bad).toBeNull();
  });
});
