// The pure-TypeScript hashes behind digest: MD5 (RFC 1321 Appendix A.5 test
// suite), SHA-256 (FIPS 180-4 examples / NIST CAVP short and long messages),
// HMAC-SHA256 (RFC 4231 §4), each also cross-checked against node:crypto on
// random inputs of every length around the block and padding boundaries.

import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { md5Bytes, md5Hex } from "../src/digest/md5.ts";
import { sha256Bytes, sha256Hex } from "../src/digest/sha256.ts";
import { constantTimeEqual, constantTimeEqualBytes, hmacSha256, hmacSha256Hex } from "../src/digest/hmac.ts";
import { base64urlDecode, base64urlEncode } from "../src/digest/base64url.ts";

const nodeHash = (alg: string, data: string | Uint8Array): string => createHash(alg).update(data).digest("hex");
const hexBytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));

describe("md5", () => {
  // RFC 1321 Appendix A.5.
  it.each([
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
    ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"],
  ])("RFC 1321 suite: MD5(%j)", (input, expected) => {
    expect(md5Hex(input)).toBe(expected);
    expect(md5Hex(new TextEncoder().encode(input))).toBe(expected);
    expect(Buffer.from(md5Bytes(input)).toString("hex")).toBe(expected);
  });

  it("matches node:crypto for every length 0..300 (one to six blocks, both padding cases)", () => {
    for (let n = 0; n <= 300; n++) {
      const data = new Uint8Array(randomBytes(n));
      expect(md5Hex(data), `length ${n}`).toBe(nodeHash("md5", data));
    }
  });

  it("hashes strings as UTF-8, lone surrogates as U+FFFD (as TextEncoder and Buffer do)", () => {
    for (const s of ["pässwörd", "日本語のパスワード", "emoji 😀 and 𝄞", "lone \ud800 high", "lone \udc00 low", "end \ud83d", "é".repeat(100)]) {
      expect(md5Hex(s), s).toBe(nodeHash("md5", s));
      expect(md5Hex(s)).toBe(md5Hex(new TextEncoder().encode(s)));
    }
  });

  it("hashes a 1 MiB input and long random strings like node:crypto", () => {
    const big = new Uint8Array(randomBytes(1 << 20));
    expect(md5Hex(big)).toBe(nodeHash("md5", big));
    for (let i = 0; i < 50; i++) {
      const s = Array.from({ length: 1 + (i * 37) % 500 }, () => String.fromCharCode(Math.floor(Math.random() * 0x3000))).join("");
      expect(md5Hex(s)).toBe(nodeHash("md5", s));
    }
  });
});

describe("sha256", () => {
  // FIPS 180-4 examples (one-block, two-block) and the NIST long-message vectors.
  it.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
  ])("FIPS 180 / NIST: SHA-256(%j)", (input, expected) => {
    expect(sha256Hex(input)).toBe(expected);
    expect(Buffer.from(sha256Bytes(input)).toString("hex")).toBe(expected);
  });

  it("NIST: one million 'a'", () => {
    expect(sha256Hex("a".repeat(1_000_000))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("matches node:crypto for every length 0..300 and for UTF-8 text", () => {
    for (let n = 0; n <= 300; n++) {
      const data = new Uint8Array(randomBytes(n));
      expect(sha256Hex(data), `length ${n}`).toBe(nodeHash("sha256", data));
    }
    for (const s of ["pässwörd", "日本語", "😀𝄞", "lone \ud800", "x".repeat(1000)]) expect(sha256Hex(s)).toBe(nodeHash("sha256", s));
  });

  it("interleaved md5/sha256 calls do not disturb each other's shared buffers", () => {
    const a = "a".repeat(200), b = "b".repeat(3);
    const ma = md5Hex(a), sb = sha256Hex(b);
    for (let i = 0; i < 3; i++) {
      expect(sha256Hex(b)).toBe(sb);
      expect(md5Hex(a)).toBe(ma);
    }
  });
});

describe("hmac-sha256", () => {
  // RFC 4231 §4.2-4.8.
  const aa131 = new Uint8Array(131).fill(0xaa);
  it.each([
    ["1", new Uint8Array(20).fill(0x0b), new TextEncoder().encode("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
    ["2", new TextEncoder().encode("Jefe"), new TextEncoder().encode("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
    ["3", new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
    ["4", hexBytes("0102030405060708090a0b0c0d0e0f10111213141516171819"), new Uint8Array(50).fill(0xcd), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
    ["6", aa131, new TextEncoder().encode("Test Using Larger Than Block-Size Key - Hash Key First"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
    [
      "7",
      aa131,
      new TextEncoder().encode("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ])("RFC 4231 test case %s", (_n, key, data, expected) => {
    expect(hmacSha256Hex(key, data)).toBe(expected);
  });

  it("RFC 4231 test case 5 (truncation to 128 bits)", () => {
    const mac = hmacSha256(new Uint8Array(20).fill(0x0c), "Test With Truncation");
    expect(Buffer.from(mac.subarray(0, 16)).toString("hex")).toBe("a3b6167473100ee06e0c796c2955552b");
  });

  it("matches node:crypto for random keys (0..200 bytes) and messages, and for string keys", () => {
    for (let i = 0; i < 200; i++) {
      const key = new Uint8Array(randomBytes(i));
      const msg = new Uint8Array(randomBytes((i * 7) % 300));
      expect(hmacSha256Hex(key, msg)).toBe(createHmac("sha256", key).update(msg).digest("hex"));
    }
    expect(hmacSha256Hex("sécret", "mëssage")).toBe(createHmac("sha256", "sécret").update("mëssage").digest("hex"));
  });
});

describe("constantTimeEqual", () => {
  it("compares strings and bytes exactly", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "ab")).toBe(false);
    expect(constantTimeEqual("ab", "abc")).toBe(false);
    expect(constantTimeEqual("a\u0100", "a\u0000")).toBe(false);
    expect(constantTimeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });
});

describe("base64url", () => {
  it("round-trips every length and matches Buffer's base64url", () => {
    for (let n = 0; n < 70; n++) {
      const b = new Uint8Array(randomBytes(n));
      const s = base64urlEncode(b);
      expect(s).toBe(Buffer.from(b).toString("base64url"));
      expect(base64urlDecode(s)).toEqual(b);
    }
  });

  it("rejects foreign characters, impossible lengths and non-canonical trailing bits", () => {
    expect(base64urlDecode("ab+c")).toBeNull();
    expect(base64urlDecode("ab=c")).toBeNull();
    expect(base64urlDecode("abcde")).toBeNull();
    expect(base64urlDecode("QR")).toBeNull(); // "QQ" is the canonical encoding of 0x41
    expect(base64urlDecode("QQ")).toEqual(new Uint8Array([0x41]));
    expect(base64urlDecode("é")).toBeNull();
  });
});

describe("speed (loose bounds; measured numbers are printed)", () => {
  // Budget from the brief: md5Hex of ~100 bytes ≲ 2 µs, sha256Hex ≲ 3 µs. The
  // assertion allows 10x for a loaded CI machine; it catches a deoptimized
  // implementation, not a slow runner.
  const line = `alice:sip.example.com:${"0123456789abcdef".repeat(2)}:00000001:a84fc3e81d5e:auth:${"fedcba9876543210".repeat(1)}`;
  // CPU time, best of several runs: other work on a shared machine inflates
  // wall-clock time, not this.
  const time = (f: (s: string) => string): number => {
    let best = Infinity;
    for (let r = 0; r < 8; r++) {
      const n = 20_000;
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) f(line);
      const c = process.cpuUsage(c0);
      best = Math.min(best, (c.user + c.system) / n);
    }
    return best;
  };
  it(`md5Hex and sha256Hex of a ${line.length}-character string`, () => {
    const md5 = time(md5Hex);
    const sha = time(sha256Hex);
    console.log(`md5Hex ${md5.toFixed(2)} µs, sha256Hex ${sha.toFixed(2)} µs (${line.length} bytes)`);
    expect(md5).toBeLessThan(20);
    expect(sha).toBeLessThan(30);
  });
});
