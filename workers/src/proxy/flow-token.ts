import { base64urlDecode, base64urlEncode } from "./base64url.ts";

/**
 * A flow token (RFC 5626 §5.2 and §5.3): the user part of the Record-Route
 * URI this DO inserts. It names the DO (its AOR) and one of its flows (a
 * WebSocket), so an in-dialog request reaches the right socket with no
 * location lookup and no `.invalid` host ever resolved (PITFALLS 4, 5).
 *
 * Form: `<base64url(aor NUL flowId)>.<mac>` where mac is the first 32 hex
 * digits (128 bits) of an HMAC over a domain-separated string. RFC 5626 §5.2
 * asks for exactly this: a client must not be able to forge a route into
 * another user's socket. The MAC key lives with the host (`TokenSigner`), so
 * this file stays pure and testable.
 */
export interface FlowToken {
  /** The DO that owns the flow: `user@domain`. */
  aor: string;
  flowId: string;
}

/**
 * HMAC with the edge's secret, e.g. `(d) => hmacSha256Hex(secret, d)` from
 * sip-parser-ts. It must return at least 32 lowercase hex digits; the same
 * secret must be used by every DO (each verifies tokens the others minted).
 */
export interface TokenSigner {
  sign(data: string): string;
}

const MAC_HEX = 32;
const CONTEXT = "sipedge-flow-token-v1\n";

export function encodeFlowToken(token: FlowToken, signer: TokenSigner): string {
  const body = base64urlEncode(token.aor + "\u0000" + token.flowId);
  return body + "." + mac(body, signer);
}

/** Reads a token without checking its MAC: only to learn which DO to hand it to (that DO verifies). */
export function peekFlowToken(text: string): FlowToken | undefined {
  const dot = text.indexOf(".");
  if (dot <= 0 || text.length - dot - 1 !== MAC_HEX) return undefined;
  const plain = base64urlDecode(text.slice(0, dot));
  if (plain === undefined) return undefined;
  const nul = plain.indexOf("\u0000");
  if (nul <= 0 || nul === plain.length - 1) return undefined;
  return { aor: plain.slice(0, nul), flowId: plain.slice(nul + 1) };
}

/** The token's content if its MAC is ours, else undefined. */
export function verifyFlowToken(text: string, signer: TokenSigner): FlowToken | undefined {
  const token = peekFlowToken(text);
  if (token === undefined) return undefined;
  const dot = text.indexOf(".");
  return constantTimeEqual(text.slice(dot + 1), mac(text.slice(0, dot), signer)) ? token : undefined;
}

function mac(body: string, signer: TokenSigner): string {
  const m = signer.sign(CONTEXT + body);
  if (m.length < MAC_HEX) throw new Error("TokenSigner.sign must return at least 32 hex digits");
  return m.slice(0, MAC_HEX).toLowerCase();
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
