// SIP text is UTF-8 (RFC 3261 §7.3.1, §25) while Content-Length counts
// octets (§20.14), and our strings count UTF-16 code units: these helpers
// convert between the two without encoding whole messages.

let encoder: TextEncoder | undefined;
let decoder: TextDecoder | undefined;
/** encodeInto's destination: room for CHUNK code units of any kind (3 octets at most each). */
let scratch: Uint8Array | undefined;
const CHUNK = 8192;

/**
 * UTF-8 octets of s[from, to) by encoding it natively into a reused buffer
 * (several times faster than a charCodeAt loop, and allocation-free). Chunks
 * never split a surrogate pair, so the count matches TextEncoder's.
 */
function encodedLength(s: string, from: number, to: number): number {
  encoder ??= new TextEncoder();
  scratch ??= new Uint8Array(CHUNK * 3);
  let total = 0;
  let i = from;
  while (i < to) {
    let j = to - i > CHUNK ? i + CHUNK : to;
    if (j < to && (s.charCodeAt(j - 1) & 0xfc00) === 0xd800) j--;
    total += encoder.encodeInto(i === 0 && j === s.length ? s : s.slice(i, j), scratch).written;
    i = j;
  }
  return total;
}

function isAscii(s: string, from: number, to: number): boolean {
  if (to - from <= 32) {
    for (let i = from; i < to; i++) if (s.charCodeAt(i) >= 0x80) return false;
    return true;
  }
  return encodedLength(s, from, to) === to - from;
}

/** Decodes UTF-8; invalid sequences become U+FFFD (never throws). */
export function decodeUtf8(bytes: Uint8Array): string {
  decoder ??= new TextDecoder("utf-8");
  return decoder.decode(bytes);
}

export function encodeUtf8(s: string): Uint8Array {
  encoder ??= new TextEncoder();
  return encoder.encode(s);
}

/** UTF-8 length of s[from, to) in octets (a lone surrogate counts as U+FFFD, 3 octets, as TextEncoder writes it). */
export function utf8Length(s: string, from = 0, to = s.length): number {
  if (to - from > 32) return encodedLength(s, from, to);
  let bytes = to - from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 code units, 4 octets
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * The index in s where `octets` UTF-8 octets starting at `from` end: -1 when
 * s has fewer, -2 when the count ends inside a character.
 */
export function indexAfterOctets(s: string, from: number, octets: number): number {
  const n = s.length;
  // Almost always ASCII: one octet per code unit.
  if (from + octets <= n && isAscii(s, from, from + octets)) return from + octets;
  let i = from;
  let count = 0;
  while (count < octets) {
    if (i >= n) return -1;
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      count += 1;
    } else if (c < 0x800) {
      count += 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count += 4;
      i++;
    } else {
      count += 3;
    }
    i++;
  }
  return count === octets ? i : -2;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
