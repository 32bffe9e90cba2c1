import { createHmac, timingSafeEqual } from "node:crypto";
import type { ReplayCache } from "./replay-cache.ts";

/**
 * Authentication of `POST /ng` (issue 4). The edge signs every request:
 *
 *   X-Sipedge-Timestamp: <Unix time in milliseconds>
 *   X-Sipedge-Signature: v1=<lower-case hex HMAC-SHA256(secret, timestamp + "\n" + body)>
 *
 * where body is the exact request bytes. A request is accepted when the
 * timestamp is within ±window of our clock, the signature matches one of the
 * configured secrets (two during a rotation), and the signature was not seen
 * before within the window. Edge side: `workers/src/media/ng-signature.ts`.
 */
export const TIMESTAMP_HEADER = "x-sipedge-timestamp";
export const SIGNATURE_HEADER = "x-sipedge-signature";
const SIGNATURE_RE = /^v1=([0-9a-f]{64})$/;
const TIMESTAMP_RE = /^\d{1,16}$/;

export type AuthFailure = "missing" | "malformed" | "stale" | "bad-signature" | "replayed" | "replay-cache-full";
export type AuthResult = { ok: true } | { ok: false; reason: AuthFailure };

export function signNgBody(secret: string, timestamp: string, body: Uint8Array): string {
  return "v1=" + createHmac("sha256", secret).update(timestamp, "latin1").update("\n").update(body).digest("hex");
}

export function verifyNgRequest(
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: Uint8Array,
  opts: { secrets: readonly string[]; windowMs: number; now: number; replays: ReplayCache },
): AuthResult {
  const { timestamp, signature } = headers;
  if (timestamp === undefined || signature === undefined) return { ok: false, reason: "missing" };
  const m = SIGNATURE_RE.exec(signature);
  if (!TIMESTAMP_RE.test(timestamp) || m === null) return { ok: false, reason: "malformed" };
  if (Math.abs(opts.now - Number(timestamp)) > opts.windowMs) return { ok: false, reason: "stale" };
  const given = Buffer.from(m[1]!, "hex");
  const matches = opts.secrets.some((secret) => {
    const expected = Buffer.from(signNgBody(secret, timestamp, body).slice(3), "hex");
    return timingSafeEqual(expected, given);
  });
  if (!matches) return { ok: false, reason: "bad-signature" };
  // Only a valid signature is remembered: garbage cannot fill the cache.
  const seen = opts.replays.remember(m[1]!, opts.now);
  if (seen === "replayed") return { ok: false, reason: "replayed" };
  if (seen === "full") return { ok: false, reason: "replay-cache-full" };
  return { ok: true };
}
