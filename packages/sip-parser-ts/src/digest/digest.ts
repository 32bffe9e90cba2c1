// The digest computation: RFC 2617 §3.2.2 (MD5, MD5-sess, qop=auth and the
// RFC 2069 form without qop), RFC 7616 §3.4 (SHA-256, SHA-256-sess) and
// RFC 8760 (the same algorithms in SIP).
//
//   HA1      = H(username ":" realm ":" password)                 (storable)
//   HA1-sess = H(HA1 ":" nonce ":" cnonce)                         (-sess only)
//   HA2      = H(method ":" uri)
//   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)  with qop
//            = H(HA1 ":" nonce ":" HA2)                            without qop
//
// qop=auth-int (which hashes the body into HA2) is not supported: SIP
// clients rarely use it, it forces the proxy to hold the body, and JsSIP picks
// it over auth whenever offered. We only ever challenge with qop="auth".

import {
  digestHash,
  hashNameOf,
  isSessionAlgorithm,
  parseDigestAlgorithm,
  type DigestAlgorithm,
  type DigestHashName,
} from "./algorithm.ts";
import { formatNonceCount } from "./auth-header.ts";
import { constantTimeEqual } from "./hmac.ts";

/** The stored secret per hash: H(username ":" realm ":" password), lowercase hex. */
export type Ha1ByAlgorithm = Partial<Record<DigestHashName, string>>;

/**
 * H(username ":" realm ":" password) with the algorithm's hash. For the -sess
 * algorithms this is the storable part; computeResponse derives the session
 * HA1 from it and the nonce and cnonce.
 */
export function computeHA1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** RFC 7616 §3.4.2: for -sess, HA1 = H(H(username:realm:password) ":" nonce ":" cnonce). */
export function computeSessionHA1(algorithm: DigestAlgorithm, ha1: string, nonce: string, cnonce: string): string {
  return digestHash(algorithm, `${ha1.toLowerCase()}:${nonce}:${cnonce}`);
}

export interface ResponseInput {
  algorithm: DigestAlgorithm;
  /** H(username:realm:password) for the algorithm's hash; or give `password`. */
  ha1?: string;
  password?: string;
  username: string;
  realm: string;
  nonce: string;
  /** Required with qop and for the -sess algorithms. */
  cnonce?: string;
  /** A number is written as 8 hex digits; a string is hashed as received. */
  nc?: number | string;
  qop?: "auth";
  method: string;
  uri: string;
}

/** The `response` value, lowercase hex. Throws RangeError on inconsistent input. */
export function computeResponse(input: ResponseInput): string {
  const nc = input.nc === undefined ? undefined : typeof input.nc === "number" ? formatNonceCount(input.nc) : input.nc;
  return responseOf(input.algorithm, ha1Of(input), input.nonce, input.cnonce, nc, input.qop, input.method, input.uri);
}

function ha1Of(input: ResponseInput): string {
  if (input.ha1 !== undefined) return input.ha1.toLowerCase();
  if (input.password !== undefined) return computeHA1(input.algorithm, input.username, input.realm, input.password);
  throw new RangeError("computeResponse needs ha1 or password");
}

/** Every value is hashed exactly as it appears on the wire (qop, nc included). */
function responseOf(
  algorithm: DigestAlgorithm,
  ha1: string,
  nonce: string,
  cnonce: string | undefined,
  nc: string | undefined,
  qop: string | undefined,
  method: string,
  uri: string,
): string {
  let key = ha1;
  if (isSessionAlgorithm(algorithm)) {
    if (cnonce === undefined) throw new RangeError(`${algorithm} needs a cnonce`);
    key = computeSessionHA1(algorithm, ha1, nonce, cnonce);
  }
  const ha2 = digestHash(algorithm, `${method}:${uri}`);
  if (qop === undefined) return digestHash(algorithm, `${key}:${nonce}:${ha2}`);
  if (cnonce === undefined || nc === undefined) throw new RangeError("qop needs cnonce and nc");
  return digestHash(algorithm, `${key}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
}

/**
 * An nc-value as a number: 1 to 8 hex digits (RFC 2617 says exactly 8; we
 * accept fewer, since the value is hashed as received anyway), at least 1.
 * Null if malformed.
 */
export function parseNonceCount(value: string): number | null {
  if (value.length === 0 || value.length > 8) return null;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return null;
    n = n * 16 + d;
  }
  return n >= 1 ? n : null;
}

export interface VerifyInput {
  /** Parameters of one Authorization / Proxy-Authorization value (parseAuthHeader). */
  credentials: Record<string, string>;
  method: string;
  expectedRealm: string;
  ha1ByAlgorithm: Ha1ByAlgorithm;
}

/**
 * True if the credentials' `response` is right for this request. Checks the
 * response only: whether the nonce is ours and fresh, and whether the nc was
 * seen before, is the server's business (server.ts). The final comparison is
 * constant-time.
 */
export function verifyCredentials(input: VerifyInput): boolean {
  const p = input.credentials;
  const algorithm = parseDigestAlgorithm(p["algorithm"]);
  if (algorithm === null) return false;
  const ha1 = input.ha1ByAlgorithm[hashNameOf(algorithm)];
  if (ha1 === undefined) return false;
  const { username, realm, nonce, uri, response } = p;
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) {
    return false;
  }
  if (realm !== input.expectedRealm) return false;
  const qop = p["qop"];
  const cnonce = p["cnonce"];
  const nc = p["nc"];
  if (qop !== undefined) {
    if (qop.toLowerCase() !== "auth") return false;
    if (cnonce === undefined || cnonce === "" || nc === undefined || parseNonceCount(nc) === null) return false;
  }
  if (isSessionAlgorithm(algorithm) && (cnonce === undefined || cnonce === "")) return false;
  const expected = responseOf(
    algorithm,
    ha1.toLowerCase(),
    nonce,
    cnonce,
    qop === undefined ? undefined : nc,
    qop,
    input.method,
    uri,
  );
  return constantTimeEqual(expected, response.toLowerCase());
}
