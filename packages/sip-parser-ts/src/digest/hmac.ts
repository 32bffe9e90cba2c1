// HMAC-SHA256 (RFC 2104, with SHA-256 as in RFC 4231) for the stateless
// nonces, and a constant-time comparison for everything secret-derived.

import { sha256Bytes } from "./sha256.ts";
import { bytesToHex } from "./hex.ts";
import { utf8Bytes } from "./utf8.ts";

const BLOCK = 64;

function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === "string" ? utf8Bytes(input) : input;
}

/** HMAC-SHA256(key, message) as 32 bytes; strings are UTF-8. */
export function hmacSha256(key: string | Uint8Array, message: string | Uint8Array): Uint8Array {
  let k = toBytes(key);
  // RFC 2104 §2: keys longer than the block are hashed first.
  if (k.length > BLOCK) k = sha256Bytes(k);
  const m = toBytes(message);
  const inner = new Uint8Array(BLOCK + m.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const b = i < k.length ? k[i]! : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  inner.set(m, BLOCK);
  outer.set(sha256Bytes(inner), BLOCK);
  return sha256Bytes(outer);
}

/** HMAC-SHA256(key, message) as 64 lowercase hex digits. */
export function hmacSha256Hex(key: string | Uint8Array, message: string | Uint8Array): string {
  return bytesToHex(hmacSha256(key, message));
}

/**
 * Compares two strings in time that depends only on their lengths, not on
 * where they differ, so a response or MAC cannot be guessed byte by byte
 * from response timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) {
    // Past the end charCodeAt is NaN, and NaN | 0 is 0: keeps the loop uniform.
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}

/** constantTimeEqual for bytes. */
export function constantTimeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
