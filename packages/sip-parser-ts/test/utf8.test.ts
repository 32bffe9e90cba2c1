import { describe, expect, it } from "vitest";
import { indexAfterOctets, utf8Length } from "../src/utf8.ts";

describe("octet counting (RFC 3261 §20.14: Content-Length is in octets)", () => {
  const enc = new TextEncoder();

  it("matches TextEncoder, across chunk boundaries and surrogate pairs", () => {
    const pieces = ["a", "é", "✓", "😀", "\uD800", "\uDC00", "\r\n"];
    let seed = 1;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const size of [0, 1, 31, 33, 8191, 8192, 8193, 20000]) {
      let s = "";
      while (s.length < size) s += pieces[Math.floor(next() * pieces.length)];
      expect(utf8Length(s), `size ${size}`).toBe(enc.encode(s).length);
      expect(utf8Length("x" + s + "y", 1, s.length + 1)).toBe(enc.encode(s).length);
    }
    const pairAtBoundary = "a".repeat(8191) + "😀" + "b";
    expect(utf8Length(pairAtBoundary)).toBe(enc.encode(pairAtBoundary).length);
  });

  it("finds where a number of octets ends", () => {
    const s = "head|" + "héllo" + "tail";
    expect(indexAfterOctets(s, 5, 6)).toBe(10);
    expect(indexAfterOctets(s, 5, 2)).toBe(-2); // inside "é"
    expect(indexAfterOctets(s, 5, 100)).toBe(-1);
    expect(indexAfterOctets(s, 0, 5)).toBe(5);
    const ascii = "x".repeat(100);
    expect(indexAfterOctets(ascii, 10, 50)).toBe(60);
  });
});
