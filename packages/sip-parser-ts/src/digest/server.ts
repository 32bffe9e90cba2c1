// The server side of digest (RFC 3261 §22.2 for a UAS/registrar answering
// 401 with WWW-Authenticate, §22.3 for a proxy answering 407 with
// Proxy-Authenticate; RFC 8760 for offering several algorithms): build the
// challenges, then judge the credentials that come back.
//
// Offering several algorithms (PITFALLS 24): RFC 8760 §2.4 has the UAC use
// the topmost challenge it supports, but JsSIP 3.13 and SIP.js 0.21 keep only
// the LAST WWW-Authenticate / Proxy-Authenticate header field of a response
// (their parsers replace the header on each occurrence) and abort unless its
// algorithm is MD5 (test/digest-clients.test.ts shows both). So for browser
// clients either offer MD5 alone, or put MD5 last; ["SHA-256", "MD5"] serves
// RFC 8760 clients (topmost supported: SHA-256) and JsSIP/SIP.js (last: MD5)
// alike. buildChallenges keeps whatever order it is given.

import { type DigestAlgorithm, hashNameOf, isSessionAlgorithm, parseDigestAlgorithm } from "./algorithm.ts";
import { type AuthHeader, formatChallenge, parseAuthHeader } from "./auth-header.ts";
import { type Ha1ByAlgorithm, parseNonceCount, verifyCredentials } from "./digest.ts";
import { SipParseError } from "../errors.ts";
import { checkNonce, createNonce, type NonceCountStore, type NonceOptions } from "./nonce.ts";

export interface ChallengeOptions {
  realm: string;
  secret: string | Uint8Array;
  nowMs: number;
  /** RFC 7616 §3.3: set when the last credentials were right but their nonce had expired. */
  stale?: boolean;
  /** One challenge per algorithm, in this order. Default ["MD5"] (see the note above). */
  algorithms?: readonly DigestAlgorithm[];
  opaque?: string;
  /** Randomness for the nonce (tests). */
  random?: NonceOptions["random"];
}

/**
 * Header field values for WWW-Authenticate (401) or Proxy-Authenticate (407),
 * one per algorithm, each to be sent as its own header field, never
 * comma-joined. All carry the same nonce, bound to the realm, and qop="auth".
 */
export function buildChallenges(opts: ChallengeOptions): string[] {
  const algorithms = opts.algorithms ?? ["MD5"];
  if (algorithms.length === 0) throw new RangeError("buildChallenges needs at least one algorithm");
  const nonceOpts: NonceOptions = { bind: opts.realm };
  if (opts.random) nonceOpts.random = opts.random;
  const nonce = createNonce(opts.secret, opts.nowMs, nonceOpts);
  return algorithms.map((algorithm) =>
    formatChallenge({
      realm: opts.realm,
      nonce,
      ...(opts.opaque === undefined ? {} : { opaque: opts.opaque }),
      algorithm,
      qop: ["auth"],
      stale: opts.stale === true,
    }),
  );
}

export type AuthFailure =
  | "missing"
  | "stale"
  | "bad-nonce"
  | "wrong-realm"
  | "bad-response"
  | "replay"
  | "unsupported-algorithm"
  | "malformed";

export type AuthenticateResult =
  | { ok: true; username: string; algorithm: DigestAlgorithm }
  | { ok: false; why: AuthFailure; username?: string };

export type FindCredentialsResult =
  | { ok: true; header: AuthHeader }
  | { ok: false; why: "missing" | "wrong-realm" | "malformed" };

/**
 * The Digest credentials for `realm` among a request's Authorization (or
 * Proxy-Authorization) values. A request may carry credentials for several
 * realms, one per proxy on the path (RFC 3261 §22.3), and other schemes;
 * those are skipped, as is an unparseable value when another one matches.
 * Use it to learn the username before looking up its HA1.
 */
export function findCredentials(
  credentials: readonly (string | AuthHeader)[],
  realm: string,
  headerName = "Authorization",
): FindCredentialsResult {
  let sawDigest = false;
  let sawMalformed = false;
  for (const c of credentials) {
    let header: AuthHeader;
    if (typeof c === "string") {
      try {
        header = parseAuthHeader(c, headerName);
      } catch (e) {
        if (!(e instanceof SipParseError)) throw e;
        sawMalformed = true;
        continue;
      }
    } else {
      header = c;
    }
    if (header.scheme.toLowerCase() !== "digest") continue;
    sawDigest = true;
    if (header.params["realm"] === realm) return { ok: true, header };
  }
  if (sawDigest) return { ok: false, why: "wrong-realm" };
  return { ok: false, why: sawMalformed ? "malformed" : "missing" };
}

export interface AuthenticateOptions {
  /** Every Authorization (or Proxy-Authorization) value of the request, raw or parsed. */
  credentials: readonly (string | AuthHeader)[];
  method: string;
  realm: string;
  secret: string | Uint8Array;
  nowMs: number;
  /** Nonce lifetime; older nonces with a right response are "stale". */
  maxAgeMs: number;
  /**
   * The stored HA1 per hash of the user named in the credentials (learn the
   * name with findCredentials, then look it up), or undefined for an unknown
   * user, which then fails as "bad-response", like a wrong password, after
   * the same work. HA1 covers username and realm, so another user's HA1 is
   * not a check of this user.
   */
  ha1ByAlgorithm: Ha1ByAlgorithm | undefined;
  /** Replay protection; without it a captured request can be replayed until its nonce goes stale. */
  nonceCounts?: NonceCountStore;
  /** The algorithms that were offered; default: any we implement. */
  algorithms?: readonly DigestAlgorithm[];
  /** Our challenges always offer qop="auth", so credentials without qop are refused. Default true. */
  requireQop?: boolean;
}

// Computed against when the user is unknown, so that case costs what a wrong
// password costs.
const UNKNOWN_USER_HA1: Ha1ByAlgorithm = { MD5: "0".repeat(32), "SHA-256": "0".repeat(64) };

/**
 * Judges a request's credentials. The order of checks matters:
 * the response is verified before the nonce's age, because RFC 7616 §3.3
 * allows `stale=true` only for a right response to an expired nonce (else a
 * wrong password would be retried forever as "stale"); and the nonce count is
 * recorded only for a request that passed everything else, so forged
 * requests cannot burn counts.
 *
 * On "stale", challenge again with stale=true; on every other failure,
 * challenge again without it (or answer 403 after repeated failures).
 */
export function authenticate(opts: AuthenticateOptions): AuthenticateResult {
  if (opts.credentials.length === 0) return { ok: false, why: "missing" };
  const found = findCredentials(opts.credentials, opts.realm);
  if (!found.ok) return { ok: false, why: found.why };
  const p = found.header.params;

  const { username, nonce, uri, response } = p;
  if (username === undefined || nonce === undefined || uri === undefined || uri === "" || response === undefined) {
    return { ok: false, why: "malformed", ...(username === undefined ? {} : { username }) };
  }
  const fail = (why: AuthFailure): AuthenticateResult => ({ ok: false, why, username });

  const algorithm = parseDigestAlgorithm(p["algorithm"]);
  if (algorithm === null || (opts.algorithms !== undefined && !opts.algorithms.includes(algorithm))) {
    return fail("unsupported-algorithm");
  }

  const qop = p["qop"];
  const cnonce = p["cnonce"];
  let nc: number | null = null;
  if (qop === undefined) {
    if (opts.requireQop !== false) return fail("malformed");
  } else {
    // auth-int is never offered (digest.ts).
    if (qop.toLowerCase() !== "auth") return fail("malformed");
    nc = p["nc"] === undefined ? null : parseNonceCount(p["nc"]);
    if (nc === null || cnonce === undefined || cnonce === "") return fail("malformed");
  }
  if (isSessionAlgorithm(algorithm) && (cnonce === undefined || cnonce === "")) return fail("malformed");

  const freshness = checkNonce(nonce, opts.secret, opts.nowMs, opts.maxAgeMs, { bind: opts.realm });
  if (freshness === "invalid") return fail("bad-nonce");

  const known = opts.ha1ByAlgorithm;
  if (known !== undefined && known[hashNameOf(algorithm)] === undefined) return fail("unsupported-algorithm");
  const ok = verifyCredentials({
    credentials: p,
    method: opts.method,
    expectedRealm: opts.realm,
    ha1ByAlgorithm: known ?? UNKNOWN_USER_HA1,
  });
  if (!ok || known === undefined) return fail("bad-response");

  if (freshness === "stale") return fail("stale");
  if (nc !== null && opts.nonceCounts !== undefined && !opts.nonceCounts.accept(nonce, nc)) return fail("replay");
  return { ok: true, username, algorithm };
}
