// SHA-256 (FIPS 180-4 §6.2), synchronous. WebCrypto has SHA-256, but only
// behind a Promise; digest verification sits in the middle of synchronous
// request handling and hashes a few short strings, so a synchronous
// implementation is both simpler and faster here.

import { HEX } from "./hex.ts";
import { encodeUtf8ToScratch, scratch } from "./utf8.ts";

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots
// of the first 64 primes.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// §5.3.3: initial hash value.
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const H = new Int32Array(8);
const W = new Int32Array(64);
const tail = new Uint8Array(128);

/** Runs the compression function over the 64-byte blocks in m[from, to). */
function blocks(m: Uint8Array, from: number, to: number): void {
  let h0 = H[0]!, h1 = H[1]!, h2 = H[2]!, h3 = H[3]!, h4 = H[4]!, h5 = H[5]!, h6 = H[6]!, h7 = H[7]!;
  for (let p = from; p < to; p += 64) {
    for (let i = 0; i < 16; i++) {
      const q = p + i * 4;
      W[i] = (m[q]! << 24) | (m[q + 1]! << 16) | (m[q + 2]! << 8) | m[q + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = W[i - 15]!, y = W[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    // Eight rounds per iteration, renaming the working variables instead of
    // shifting them (§6.2.2 step 3), so each round writes only two of them.
    for (let i = 0; i < 64; i += 8) {
      h = (h + ((((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7)))) + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
      d = (d + h) | 0;
      h = (h + ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c)))) | 0;
      g = (g + ((((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7)))) + ((d & e) ^ (~d & f)) + K[i + 1]! + W[i + 1]!) | 0;
      c = (c + g) | 0;
      g = (g + ((((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) + ((h & a) ^ (h & b) ^ (a & b)))) | 0;
      f = (f + ((((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7)))) + ((c & d) ^ (~c & e)) + K[i + 2]! + W[i + 2]!) | 0;
      b = (b + f) | 0;
      f = (f + ((((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & h) ^ (g & a) ^ (h & a)))) | 0;
      e = (e + ((((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7)))) + ((b & c) ^ (~b & d)) + K[i + 3]! + W[i + 3]!) | 0;
      a = (a + e) | 0;
      e = (e + ((((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) ^ (f & h) ^ (g & h)))) | 0;
      d = (d + ((((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7)))) + ((a & b) ^ (~a & c)) + K[i + 4]! + W[i + 4]!) | 0;
      h = (h + d) | 0;
      d = (d + ((((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) ^ (e & g) ^ (f & g)))) | 0;
      c = (c + ((((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7)))) + ((h & a) ^ (~h & b)) + K[i + 5]! + W[i + 5]!) | 0;
      g = (g + c) | 0;
      c = (c + ((((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) ^ (d & f) ^ (e & f)))) | 0;
      b = (b + ((((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7)))) + ((g & h) ^ (~g & a)) + K[i + 6]! + W[i + 6]!) | 0;
      f = (f + b) | 0;
      b = (b + ((((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) ^ (c & e) ^ (d & e)))) | 0;
      a = (a + ((((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7)))) + ((f & g) ^ (~f & h)) + K[i + 7]! + W[i + 7]!) | 0;
      e = (e + a) | 0;
      a = (a + ((((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) ^ (b & d) ^ (c & d)))) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  H[0] = h0;
  H[1] = h1;
  H[2] = h2;
  H[3] = h3;
  H[4] = h4;
  H[5] = h5;
  H[6] = h6;
  H[7] = h7;
}

/** Hashes m[0, len) into `H`. */
function digest(m: Uint8Array, len: number): void {
  H.set(IV);
  const full = len - (len % 64);
  blocks(m, 0, full);
  // Padding (§5.1.1): 0x80, zeros, the bit length as a 64-bit big-endian integer.
  const rest = len - full;
  tail.fill(0);
  for (let i = 0; i < rest; i++) tail[i] = m[full + i]!;
  tail[rest] = 0x80;
  const end = rest < 56 ? 64 : 128;
  const bitsLo = (len << 3) >>> 0;
  const bitsHi = Math.floor(len / 0x20000000);
  tail[end - 8] = bitsHi >>> 24;
  tail[end - 7] = (bitsHi >>> 16) & 0xff;
  tail[end - 6] = (bitsHi >>> 8) & 0xff;
  tail[end - 5] = bitsHi & 0xff;
  tail[end - 4] = bitsLo >>> 24;
  tail[end - 3] = (bitsLo >>> 16) & 0xff;
  tail[end - 2] = (bitsLo >>> 8) & 0xff;
  tail[end - 1] = bitsLo & 0xff;
  blocks(tail, 0, end);
}

function load(input: string | Uint8Array): void {
  if (typeof input === "string") {
    encodeUtf8ToScratch(input);
    digest(scratch.bytes, scratch.length);
  } else {
    digest(input, input.length);
  }
}

/** SHA-256 of `input` (strings as UTF-8) as 64 lowercase hex digits. */
export function sha256Hex(input: string | Uint8Array): string {
  load(input);
  let s = "";
  for (let i = 0; i < 8; i++) {
    const w = H[i]!;
    s += HEX[w >>> 24]! + HEX[(w >>> 16) & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[w & 0xff]!;
  }
  return s;
}

/** SHA-256 of `input` (strings as UTF-8) as 32 bytes. */
export function sha256Bytes(input: string | Uint8Array): Uint8Array {
  load(input);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const w = H[i]!;
    out[i * 4] = w >>> 24;
    out[i * 4 + 1] = (w >>> 16) & 0xff;
    out[i * 4 + 2] = (w >>> 8) & 0xff;
    out[i * 4 + 3] = w & 0xff;
  }
  return out;
}
