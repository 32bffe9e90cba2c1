import { constantTimeEqual, hmacSha256Hex, randomToken } from "sip-parser-ts";

/**
 * The credential an egress proxy presents when it opens its link to the
 * edge (`GET /egress/:id`, `Authorization: Bearer <token>`): an HMAC under
 * EGRESS_SECRET over the link id, a timestamp and a random nonce.
 *
 *   v1.<unix seconds>.<nonce>.<hex HMAC-SHA-256(secret, "sipedge egress\n" id "\n" ts "\n" nonce)>
 *
 * A token is good for EGRESS_TOKEN_WINDOW_S either side of now, and the
 * EgressLink DO refuses a nonce it has seen (a replayed upgrade). No
 * `cloudflare:*`: the egress process (media-node/egress) signs with this.
 */
export const EGRESS_TOKEN_WINDOW_S = 60;

export function signEgressToken(secret: string, linkId: string, nowMs: number, nonce = randomToken(16)): string {
  const ts = String(Math.floor(nowMs / 1000));
  return `v1.${ts}.${nonce}.${hmacSha256Hex(secret, message(linkId, ts, nonce))}`;
}

export type EgressTokenCheck = { ok: true; nonce: string; issuedAt: number } | { ok: false; why: string };

export function verifyEgressToken(secrets: readonly string[], linkId: string, token: string, nowMs: number): EgressTokenCheck {
  const parts = token.split(".");
  if (parts.length !== 4 || parts[0] !== "v1") return { ok: false, why: "malformed token" };
  const [, ts, nonce, mac] = parts as [string, string, string, string];
  if (!/^\d{1,12}$/.test(ts) || !/^[A-Za-z0-9]{8,64}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(mac)) return { ok: false, why: "malformed token" };
  const issuedAt = Number(ts) * 1000;
  if (Math.abs(nowMs - issuedAt) > EGRESS_TOKEN_WINDOW_S * 1000) return { ok: false, why: "token outside the time window (check the clocks)" };
  const signed = message(linkId, ts, nonce);
  if (!secrets.some((s) => s !== "" && constantTimeEqual(hmacSha256Hex(s, signed), mac))) return { ok: false, why: "bad signature" };
  return { ok: true, nonce, issuedAt };
}

function message(linkId: string, ts: string, nonce: string): string {
  return `sipedge egress\n${linkId}\n${ts}\n${nonce}`;
}
