// MD5 (RFC 1321), synchronous and allocation-light. We need it in pure
// TypeScript: WebCrypto (the only hashing workerd and Node share) has no MD5,
// yet MD5 is what every SIP client answers with (PITFALLS 24).
//
// Not for anything but digest authentication: MD5 is broken for collision
// resistance, which digest's challenge-response does not depend on.

import { HEX } from "./hex.ts";
import { encodeUtf8ToScratch, scratch } from "./utf8.ts";

const state = new Int32Array(4);
const tail = new Uint8Array(128);

/** Runs the compression function over the 64-byte blocks in m[from, to). */
function blocks(m: Uint8Array, from: number, to: number): void {
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;
  for (let p = from; p < to; p += 64) {
    // Little-endian words (RFC 1321 §3.4).
    const x0 = m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24);
    const x1 = m[p + 4]! | (m[p + 5]! << 8) | (m[p + 6]! << 16) | (m[p + 7]! << 24);
    const x2 = m[p + 8]! | (m[p + 9]! << 8) | (m[p + 10]! << 16) | (m[p + 11]! << 24);
    const x3 = m[p + 12]! | (m[p + 13]! << 8) | (m[p + 14]! << 16) | (m[p + 15]! << 24);
    const x4 = m[p + 16]! | (m[p + 17]! << 8) | (m[p + 18]! << 16) | (m[p + 19]! << 24);
    const x5 = m[p + 20]! | (m[p + 21]! << 8) | (m[p + 22]! << 16) | (m[p + 23]! << 24);
    const x6 = m[p + 24]! | (m[p + 25]! << 8) | (m[p + 26]! << 16) | (m[p + 27]! << 24);
    const x7 = m[p + 28]! | (m[p + 29]! << 8) | (m[p + 30]! << 16) | (m[p + 31]! << 24);
    const x8 = m[p + 32]! | (m[p + 33]! << 8) | (m[p + 34]! << 16) | (m[p + 35]! << 24);
    const x9 = m[p + 36]! | (m[p + 37]! << 8) | (m[p + 38]! << 16) | (m[p + 39]! << 24);
    const x10 = m[p + 40]! | (m[p + 41]! << 8) | (m[p + 42]! << 16) | (m[p + 43]! << 24);
    const x11 = m[p + 44]! | (m[p + 45]! << 8) | (m[p + 46]! << 16) | (m[p + 47]! << 24);
    const x12 = m[p + 48]! | (m[p + 49]! << 8) | (m[p + 50]! << 16) | (m[p + 51]! << 24);
    const x13 = m[p + 52]! | (m[p + 53]! << 8) | (m[p + 54]! << 16) | (m[p + 55]! << 24);
    const x14 = m[p + 56]! | (m[p + 57]! << 8) | (m[p + 58]! << 16) | (m[p + 59]! << 24);
    const x15 = m[p + 60]! | (m[p + 61]! << 8) | (m[p + 62]! << 16) | (m[p + 63]! << 24);
    const aa = a, bb = b, cc = c, dd = d;

    // The four rounds, written out step by step (RFC 1321 §3.4): as calls to
    // F/G/H/I helpers they overflow V8's inlining budget and run 3x slower.
    a = (a + ((b & c) | (~b & d)) + x0 - 680876936) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x1 - 389564586) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x2 + 606105819) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x3 - 1044525330) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + x4 - 176418897) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x5 + 1200080426) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x6 - 1473231341) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x7 - 45705983) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + x8 + 1770035416) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x9 - 1958414417) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x10 - 42063) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x11 - 1990404162) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + x12 + 1804603682) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x13 - 40341101) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x14 - 1502002290) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x15 + 1236535329) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;

    a = (a + ((b & d) | (c & ~d)) + x1 - 165796510) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x6 - 1069501632) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x11 + 643717713) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x0 - 373897302) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((b & d) | (c & ~d)) + x5 - 701558691) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x10 + 38016083) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x15 - 660478335) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x4 - 405537848) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((b & d) | (c & ~d)) + x9 + 568446438) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x14 - 1019803690) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x3 - 187363961) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x8 + 1163531501) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((b & d) | (c & ~d)) + x13 - 1444681467) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x2 - 51403784) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x7 + 1735328473) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x12 - 1926607734) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;

    a = (a + (b ^ c ^ d) + x5 - 378558) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x8 - 2022574463) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x11 + 1839030562) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x14 - 35309556) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + x1 - 1530992060) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x4 + 1272893353) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x7 - 155497632) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x10 - 1094730640) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + x13 + 681279174) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x0 - 358537222) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x3 - 722521979) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x6 + 76029189) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + x9 - 640364487) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x12 - 421815835) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x15 + 530742520) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x2 - 995338651) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;

    a = (a + (c ^ (b | ~d)) + x0 - 198630844) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x14 - 1416354905) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x5 - 57434055) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x3 - 1894986606) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x10 - 1051523) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x1 - 2054922799) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x15 - 30611744) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x6 - 1560198380) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + x4 - 145523070) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x11 - 1120210379) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x9 - 343485551) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;

    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}

/** Hashes m[0, len) into `state`. */
function digest(m: Uint8Array, len: number): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  const full = len - (len % 64);
  blocks(m, 0, full);
  // Padding (RFC 1321 §3.1–3.2): 0x80, zeros, then the bit length as a
  // 64-bit little-endian integer, in one or two final blocks.
  const rest = len - full;
  tail.fill(0);
  for (let i = 0; i < rest; i++) tail[i] = m[full + i]!;
  tail[rest] = 0x80;
  const end = rest < 56 ? 64 : 128;
  const bitsLo = (len << 3) >>> 0;
  const bitsHi = Math.floor(len / 0x20000000);
  tail[end - 8] = bitsLo & 0xff;
  tail[end - 7] = (bitsLo >>> 8) & 0xff;
  tail[end - 6] = (bitsLo >>> 16) & 0xff;
  tail[end - 5] = bitsLo >>> 24;
  tail[end - 4] = bitsHi & 0xff;
  tail[end - 3] = (bitsHi >>> 8) & 0xff;
  tail[end - 2] = (bitsHi >>> 16) & 0xff;
  tail[end - 1] = bitsHi >>> 24;
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

function wordHex(w: number): string {
  return HEX[w & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[(w >>> 16) & 0xff]! + HEX[w >>> 24]!;
}

/** MD5 of `input` (strings as UTF-8) as 32 lowercase hex digits. */
export function md5Hex(input: string | Uint8Array): string {
  load(input);
  return wordHex(state[0]!) + wordHex(state[1]!) + wordHex(state[2]!) + wordHex(state[3]!);
}

/** MD5 of `input` (strings as UTF-8) as 16 bytes. */
export function md5Bytes(input: string | Uint8Array): Uint8Array {
  load(input);
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const w = state[i]!;
    out[i * 4] = w & 0xff;
    out[i * 4 + 1] = (w >>> 8) & 0xff;
    out[i * 4 + 2] = (w >>> 16) & 0xff;
    out[i * 4 + 3] = w >>> 24;
  }
  return out;
}
