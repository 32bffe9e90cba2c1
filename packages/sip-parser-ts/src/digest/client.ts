// The client side of digest (RFC 3261 §22.2-22.3, RFC 8760 §2.4): choose a
// challenge from a 401/407 and answer it. The egress proxy uses this toward
// carriers; our tests use it against our own server.

import { type DigestAlgorithm, isSessionAlgorithm, parseDigestAlgorithm } from "./algorithm.ts";
import { type AuthHeader, formatCredentials, formatNonceCount, parseAuthHeader } from "./auth-header.ts";
import { base64urlEncode } from "./base64url.ts";
import { computeResponse } from "./digest.ts";
import { SipParseError } from "../errors.ts";

/** The qop a challenge lets us use: "auth", none (RFC 2069 style), or null if it offers only what we lack (auth-int). */
function usableQop(qopOptions: string | undefined): "auth" | undefined | null {
  if (qopOptions === undefined) return undefined;
  for (const q of qopOptions.split(",")) if (q.trim().toLowerCase() === "auth") return "auth";
  return null;
}

/** True if answerChallenge can answer this challenge's parameters. */
export function canAnswer(challenge: Record<string, string>): boolean {
  return (
    challenge["realm"] !== undefined &&
    challenge["nonce"] !== undefined &&
    parseDigestAlgorithm(challenge["algorithm"]) !== null &&
    usableQop(challenge["qop"]) !== null
  );
}

/**
 * The challenge to answer among a response's WWW-Authenticate (or
 * Proxy-Authenticate) values: the topmost Digest challenge we can answer
 * (RFC 8760 §2.4). Unparseable values and other schemes are skipped.
 */
export function pickChallenge(challenges: readonly (string | AuthHeader)[]): AuthHeader | undefined {
  for (const c of challenges) {
    let header: AuthHeader;
    try {
      header = typeof c === "string" ? parseAuthHeader(c, "WWW-Authenticate") : c;
    } catch (e) {
      if (e instanceof SipParseError) continue;
      throw e;
    }
    if (header.scheme.toLowerCase() === "digest" && canAnswer(header.params)) return header;
  }
  return undefined;
}

export interface AnswerOptions {
  /** The chosen challenge's parameters (parseAuthHeader(...).params). */
  challenge: Record<string, string>;
  method: string;
  /** The Request-URI, as sent. */
  uri: string;
  username: string;
  password: string;
  /** Default: 16 random bytes, base64url. */
  cnonce?: string;
  /** How many times this nonce has been used, this one included. Default 1. */
  nc?: number;
}

/**
 * The Authorization (or Proxy-Authorization) value answering `challenge`.
 * Uses qop=auth when offered, none when the challenge has no qop; echoes
 * realm, nonce and opaque as received. Throws RangeError for a challenge
 * canAnswer rejects.
 */
export function answerChallenge(opts: AnswerOptions): string {
  const ch = opts.challenge;
  const realm = ch["realm"];
  const nonce = ch["nonce"];
  const algorithm: DigestAlgorithm | null = parseDigestAlgorithm(ch["algorithm"]);
  const qop = usableQop(ch["qop"]);
  if (realm === undefined || nonce === undefined) throw new RangeError("digest challenge without realm or nonce");
  if (algorithm === null) throw new RangeError(`unsupported digest algorithm: ${ch["algorithm"]}`);
  if (qop === null) throw new RangeError(`unsupported digest qop: ${ch["qop"]}`);

  const needsCnonce = qop !== undefined || isSessionAlgorithm(algorithm);
  const cnonce = needsCnonce ? (opts.cnonce ?? newCnonce()) : undefined;
  const nc = qop !== undefined ? formatNonceCount(opts.nc ?? 1) : undefined;
  const response = computeResponse({
    algorithm,
    password: opts.password,
    username: opts.username,
    realm,
    nonce,
    ...(cnonce === undefined ? {} : { cnonce }),
    ...(nc === undefined ? {} : { nc }),
    ...(qop === undefined ? {} : { qop }),
    method: opts.method,
    uri: opts.uri,
  });
  const opaque = ch["opaque"];
  return formatCredentials({
    username: opts.username,
    realm,
    nonce,
    uri: opts.uri,
    response,
    algorithm,
    ...(cnonce === undefined ? {} : { cnonce }),
    ...(opaque === undefined ? {} : { opaque }),
    ...(qop === undefined ? {} : { qop }),
    ...(nc === undefined ? {} : { nc }),
  });
}

function newCnonce(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(16)));
}
