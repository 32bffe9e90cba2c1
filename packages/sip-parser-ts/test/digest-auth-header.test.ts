// The WWW-Authenticate / Authorization value syntax (RFC 3261 §25.1,
// RFC 7616 §3.3-3.4): parsing, its failure modes, and the serializers.

import { describe, expect, it } from "vitest";
import { formatChallenge, formatCredentials, formatNonceCount, parseAuthHeader } from "../src/digest/auth-header.ts";
import { SipParseError } from "../src/errors.ts";

const plain = (p: Record<string, string>): Record<string, string> => ({ ...p });

describe("parseAuthHeader", () => {
  it("parses the RFC 2617 §3.5 challenge: quoted values unquoted, commas inside quotes kept", () => {
    const h = parseAuthHeader(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    expect(h.scheme).toBe("Digest");
    expect(plain(h.params)).toEqual({
      realm: "testrealm@host.com",
      qop: "auth,auth-int",
      nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
      opaque: "5ccc069c403ebaf9f0171e9517f40e41",
    });
  });

  it("lowercases parameter names, keeps values' case, reads unquoted tokens", () => {
    const h = parseAuthHeader("digest Realm=\"Example\", ALGORITHM=SHA-256, NC=0000000A, Qop=auth");
    expect(h.scheme).toBe("digest");
    expect(plain(h.params)).toEqual({ realm: "Example", algorithm: "SHA-256", nc: "0000000A", qop: "auth" });
  });

  it("unescapes quoted-pairs", () => {
    const h = parseAuthHeader(String.raw`Digest username="a\"b\\c\d", realm="r"`);
    expect(h.params["username"]).toBe('a"b\\cd');
  });

  it("tolerates extra whitespace, tabs, folded lines, empty list elements and a trailing comma", () => {
    const h = parseAuthHeader('  Digest \t realm = "x" ,,  nonce=\r\n "y"\t, , algorithm = MD5 ,');
    expect(plain(h.params)).toEqual({ realm: "x", nonce: "y", algorithm: "MD5" });
  });

  it("accepts an empty quoted value and an unquoted URI some clients send", () => {
    const h = parseAuthHeader('Digest opaque="", uri=sip:alice@example.com;transport=ws, realm="r"');
    expect(plain(h.params)).toEqual({ opaque: "", uri: "sip:alice@example.com;transport=ws", realm: "r" });
  });

  it("treats __proto__ and constructor as plain parameters", () => {
    const h = parseAuthHeader('Digest __proto__="x", constructor="y"');
    expect(h.params["__proto__"]).toBe("x");
    expect(h.params["constructor"]).toBe("y");
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it("keeps a scheme with no parameters", () => {
    expect(parseAuthHeader("Digest")).toEqual({ scheme: "Digest", params: {} });
  });

  it.each([
    ["empty", ""],
    ["no scheme", '="x"'],
    ["unterminated quote", 'Digest realm="abc'],
    ["backslash at the end", 'Digest realm="abc\\'],
    ["missing '='", 'Digest realm "x"'],
    ["missing value", "Digest realm="],
    ["empty unquoted value", "Digest realm=, nonce=\"x\""],
    ["missing comma", 'Digest realm="x" nonce="y"'],
    ["junk after a quoted value", 'Digest realm="x"y'],
    ["quote inside a token value", 'Digest realm=a"b'],
    ["a second challenge in the same value", 'Digest realm="a", nonce="b", Digest realm="c"'],
    ["token68", "Bearer abc.def=="],
    ["a duplicated parameter", 'Digest response="a", RESPONSE="b"'],
    ["a non-token parameter name", 'Digest re(alm="x"'],
    ["a control character in a token value", "Digest nc=0000\u00000001"],
    ["a scheme glued to a parameter", 'Digest"realm"'],
  ])("rejects %s with SipParseError 400", (_what, value) => {
    let err: unknown;
    try {
      parseAuthHeader(value, "Proxy-Authorization");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipParseError);
    expect((err as SipParseError).status).toBe(400);
    expect((err as SipParseError).reason).toBe("Bad Request - Malformed Proxy-Authorization");
  });

  it("is linear: a 1 MB quoted value, 100k parameters and pathological quoting parse quickly", () => {
    const cases = [
      `Digest realm="${"\\\"".repeat(250_000)}"`,
      "Digest " + Array.from({ length: 100_000 }, (_, i) => `p${i}="v"`).join(","),
      `Digest realm="${"a,".repeat(500_000)}`, // unterminated: must fail fast
      "Digest " + ",".repeat(1_000_000),
    ];
    for (const c of cases) {
      const t0 = performance.now();
      try {
        parseAuthHeader(c);
      } catch (e) {
        expect(e).toBeInstanceOf(SipParseError);
      }
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });
});

describe("formatChallenge", () => {
  it("quotes realm, nonce, opaque and the qop list; leaves algorithm and stale bare", () => {
    expect(
      formatChallenge({ realm: "sip.example.com", nonce: "abc", opaque: "op", algorithm: "SHA-256", qop: ["auth"], stale: true }),
    ).toBe('Digest realm="sip.example.com", nonce="abc", opaque="op", algorithm=SHA-256, qop="auth", stale=true');
    expect(formatChallenge({ realm: "r", nonce: "n", qop: ["auth", "auth-int"], stale: false })).toBe(
      'Digest realm="r", nonce="n", qop="auth,auth-int"',
    );
  });

  it("escapes quotes and backslashes, refuses CR/LF and non-token algorithms", () => {
    expect(formatChallenge({ realm: 'a"b\\c', nonce: "n" })).toBe(String.raw`Digest realm="a\"b\\c", nonce="n"`);
    expect(() => formatChallenge({ realm: "a\r\nVia: x", nonce: "n" })).toThrow(RangeError);
    expect(() => formatChallenge({ realm: "r", nonce: "n", qop: ["auth int"] })).toThrow(RangeError);
  });

  it("round-trips through parseAuthHeader", () => {
    const v = formatChallenge({ realm: 'we"ird, realm', nonce: "n=1", opaque: "o\\p", algorithm: "MD5-sess", qop: ["auth"], stale: true });
    expect(plain(parseAuthHeader(v).params)).toEqual({
      realm: 'we"ird, realm',
      nonce: "n=1",
      opaque: "o\\p",
      algorithm: "MD5-sess",
      qop: "auth",
      stale: "true",
    });
  });
});

describe("formatCredentials", () => {
  it("quotes username, realm, nonce, uri, response, cnonce, opaque; not algorithm, qop, nc (RFC 7616 §3.4)", () => {
    expect(
      formatCredentials({
        username: "Mufasa",
        realm: "testrealm@host.com",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        uri: "/dir/index.html",
        response: "6629fae49393a05397450978507c4ef1",
        algorithm: "MD5",
        cnonce: "0a4f113b",
        opaque: "5ccc069c403ebaf9f0171e9517f40e41",
        qop: "auth",
        nc: 1,
      }),
    ).toBe(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", ' +
        'response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", ' +
        "qop=auth, nc=00000001",
    );
  });

  it("writes nc as 8 lowercase hex digits and refuses out-of-range counts", () => {
    expect(formatNonceCount(1)).toBe("00000001");
    expect(formatNonceCount(0xabc)).toBe("00000abc");
    expect(formatNonceCount(0xffffffff)).toBe("ffffffff");
    expect(() => formatNonceCount(0)).toThrow(RangeError);
    expect(() => formatNonceCount(2 ** 32)).toThrow(RangeError);
    expect(() => formatNonceCount(1.5)).toThrow(RangeError);
  });
});
