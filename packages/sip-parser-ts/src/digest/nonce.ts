// Stateless server nonces (RFC 7616 §3.3 and §5.4-5.5): the nonce carries its
// own issue time and a MAC under a server secret, so any instance holding the
// secret can check a nonce without shared state, and an old one is told
// apart from a forged one ("stale" vs "invalid", RFC 7616 §3.3 `stale`).
//
//   nonce = base64url( time[6] ‖ random[11] ‖ HMAC-SHA256(secret, label ‖ time ‖ random ‖ bind)[0..16) )
//
// 33 bytes, so 44 base64url characters with no padding. The time is
// milliseconds since the epoch, 48-bit big-endian (good until year 10889). The
// MAC is truncated to 128 bits, half the output as RFC 2104 §5 advises. `bind`
// ties a nonce to a context, e.g. the realm, so a nonce issued for one realm
// is not accepted for another.
//
// Replay is a separate, stateful concern: NonceCountStore below.

import { base64urlDecode, base64urlEncode } from "./base64url.ts";
import { constantTimeEqualBytes, hmacSha256 } from "./hmac.ts";
import { utf8Bytes } from "./utf8.ts";

const TIME_BYTES = 6;
const RANDOM_BYTES = 11;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + MAC_BYTES;
const NONCE_CHARS = 44;
const LABEL = utf8Bytes("sipedge digest nonce v1\0");

export interface NonceOptions {
  /** Context the nonce is valid for (e.g. the realm); checkNonce must get the same. */
  bind?: string;
  /** Fills a buffer with random bytes; crypto.getRandomValues by default. For tests. */
  random?: (bytes: Uint8Array) => void;
}

export interface NonceCheckOptions {
  bind?: string;
  /** How far in the future an issue time may be (clock skew between instances). Default 60 s. */
  maxFutureSkewMs?: number;
}

export type NonceCheck = "valid" | "stale" | "invalid";

function mac(secret: string | Uint8Array, timeAndRandom: Uint8Array, bind: string | undefined): Uint8Array {
  const b = bind === undefined ? new Uint8Array(0) : utf8Bytes(bind);
  const msg = new Uint8Array(LABEL.length + timeAndRandom.length + b.length);
  msg.set(LABEL, 0);
  msg.set(timeAndRandom, LABEL.length);
  msg.set(b, LABEL.length + timeAndRandom.length);
  return hmacSha256(secret, msg).subarray(0, MAC_BYTES);
}

function checkSecret(secret: string | Uint8Array): void {
  // An empty secret would make every nonce forgeable.
  if (secret.length === 0) throw new RangeError("digest nonce secret is empty");
}

/** A fresh nonce issued at `nowMs`. */
export function createNonce(secret: string | Uint8Array, nowMs: number, opts: NonceOptions = {}): string {
  checkSecret(secret);
  const t = Math.floor(nowMs);
  if (!(t >= 0 && t < 2 ** 48)) throw new RangeError(`nonce time out of range: ${nowMs}`);
  const bytes = new Uint8Array(NONCE_BYTES);
  // 48-bit big-endian: the high 16 bits, then the low 32.
  const hi = Math.floor(t / 2 ** 32);
  const lo = t >>> 0;
  bytes[0] = hi >>> 8;
  bytes[1] = hi & 0xff;
  bytes[2] = lo >>> 24;
  bytes[3] = (lo >>> 16) & 0xff;
  bytes[4] = (lo >>> 8) & 0xff;
  bytes[5] = lo & 0xff;
  const random = bytes.subarray(TIME_BYTES, TIME_BYTES + RANDOM_BYTES);
  if (opts.random) opts.random(random);
  else crypto.getRandomValues(random);
  bytes.set(mac(secret, bytes.subarray(0, TIME_BYTES + RANDOM_BYTES), opts.bind), TIME_BYTES + RANDOM_BYTES);
  return base64urlEncode(bytes);
}

/** When the nonce was issued (ms since the epoch), or null if it is not one of ours in form. Does not check the MAC. */
export function nonceIssuedAt(nonce: string): number | null {
  if (nonce.length !== NONCE_CHARS) return null;
  const bytes = base64urlDecode(nonce);
  if (bytes === null || bytes.length !== NONCE_BYTES) return null;
  return issuedAt(bytes);
}

function issuedAt(bytes: Uint8Array): number {
  const hi = (bytes[0]! << 8) | bytes[1]!;
  const lo = ((bytes[2]! << 24) | (bytes[3]! << 16) | (bytes[4]! << 8) | bytes[5]!) >>> 0;
  return hi * 2 ** 32 + lo;
}

/**
 * "invalid" unless the MAC is right (a forged, truncated or foreign nonce, or
 * one bound to another context, or one dated too far in the future); then
 * "stale" if older than `maxAgeMs`, else "valid".
 */
export function checkNonce(
  nonce: string,
  secret: string | Uint8Array,
  nowMs: number,
  maxAgeMs: number,
  opts: NonceCheckOptions = {},
): NonceCheck {
  checkSecret(secret);
  if (nonce.length !== NONCE_CHARS) return "invalid";
  const bytes = base64urlDecode(nonce);
  if (bytes === null || bytes.length !== NONCE_BYTES) return "invalid";
  const expected = mac(secret, bytes.subarray(0, TIME_BYTES + RANDOM_BYTES), opts.bind);
  if (!constantTimeEqualBytes(expected, bytes.subarray(TIME_BYTES + RANDOM_BYTES))) return "invalid";
  const issued = issuedAt(bytes);
  if (issued > nowMs + (opts.maxFutureSkewMs ?? 60_000)) return "invalid";
  return nowMs - issued > maxAgeMs ? "stale" : "valid";
}

/**
 * Replay protection (RFC 7616 §5.5): remembers the highest nonce count seen
 * per nonce. The edge persists its own; MemoryNonceCountStore is the simple
 * in-process one.
 */
export interface NonceCountStore {
  /** True, and remembers nc, if nc is strictly greater than the last seen for this nonce. */
  accept(nonce: string, nc: number): boolean;
}

/**
 * A bounded in-memory NonceCountStore. When full it forgets the least
 * recently used nonce; a forgotten nonce's counts could then be replayed
 * until the nonce goes stale, so size it for the number of nonces in use
 * within one nonce lifetime (maxAgeMs).
 */
export class MemoryNonceCountStore implements NonceCountStore {
  // Map iterates in insertion order; re-inserting on use keeps the least
  // recently used entry first.
  private readonly last = new Map<string, number>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer: ${maxEntries}`);
  }

  accept(nonce: string, nc: number): boolean {
    const seen = this.last.get(nonce);
    if (seen !== undefined && nc <= seen) return false;
    this.last.delete(nonce);
    this.last.set(nonce, nc);
    if (this.last.size > this.maxEntries) {
      const oldest = this.last.keys().next();
      if (!oldest.done) this.last.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.last.size;
  }
}
