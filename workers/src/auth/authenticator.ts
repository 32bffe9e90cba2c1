import { authenticate, buildChallenges, findCredentials, type DigestAlgorithm, type NonceCountStore, type SipRequest } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";
import { LoginLimiter } from "./login-limiter.ts";

/**
 * How long a nonce stays fresh. Stateless nonces (an HMAC over a timestamp
 * with NONCE_SECRET) are checked without storage; past this age the answer is
 * 401 with `stale=true` (RFC 7616 §3.3), which clients answer silently. Long
 * enough that most refreshes (JsSIP and SIP.js default to 600 s) reuse the
 * nonce with a higher nc and cost no extra round trip; replays are refused by
 * the nonce-count check (RFC 7616 §3.4.5), not by the age.
 */
export const NONCE_MAX_AGE_MS = 30 * 60_000;

/**
 * Challenge order (PITFALLS 24). Both algorithms are offered (RFC 8760), MD5
 * for JsSIP and SIP.js, which abort on anything else, and SHA-256 for clients
 * that can use it. Which header a client takes decides the order: JsSIP 3.13
 * and SIP.js 0.21 parse every WWW-Authenticate with `setHeader`, which
 * replaces, so they answer the LAST one (jssip/lib/Parser.js,
 * sip.js/lib/core/messages/parser.js); RFC 8760 §2.4 clients take the topmost
 * they support. SHA-256 then MD5 serves both: JsSIP/SIP.js answer MD5,
 * RFC 8760 clients SHA-256. (MD5 first would make JsSIP and SIP.js see only
 * SHA-256 and abort.) The integration tests register with both libraries.
 */
export const CHALLENGE_ALGORITHMS: readonly DigestAlgorithm[] = ["SHA-256", "MD5"];

/**
 * For legacy phones (issue 5): MD5 alone, as Kamailio and OpenSIPS offer.
 * baresip's libre (Debian 12's 1.0.0) reads every challenge and gives up on
 * the registration when any is not MD5 ("Register: Function not
 * implemented"), where RFC 8760 §2.4 asks it to skip those; older desk
 * phones do the same.
 */
export const LEGACY_PHONE_ALGORITHMS: readonly DigestAlgorithm[] = ["MD5"];

/** The digest-relevant part of a subscriber record. */
export interface SubscriberSecrets {
  enabled: boolean;
  ha1_md5: string;
  ha1_sha256: string;
}

/** Gives the directory record of the AOR, cached by the caller. */
export interface CredentialSource {
  get(aor: string): Promise<SubscriberSecrets | undefined>;
}

export interface AuthContext {
  /** This DO's AOR: the only identity it authenticates. */
  aor: { aor: string; user: string; domain: string };
  nowMs: number;
  /** Login-limiter scopes of this attempt ("flow:…", "src:…"). */
  scopes: readonly string[];
  /** The challenges' order (default CHALLENGE_ALGORITHMS). */
  algorithms?: readonly DigestAlgorithm[];
}

export interface Authenticated {
  username: string;
  algorithm: string;
}

export type AuthKind = "www" | "proxy";

const KIND = {
  www: { status: 401, reason: "Unauthorized", challenge: "WWW-Authenticate", credentials: "Authorization" },
  proxy: { status: 407, reason: "Proxy Authentication Required", challenge: "Proxy-Authenticate", credentials: "Proxy-Authorization" },
} as const;

export interface AuthenticatorDeps {
  secret: string;
  credentials: CredentialSource;
  nonceCounts: NonceCountStore;
  limiter: LoginLimiter;
  /** Waits before a failed answer (setTimeout in the DO; instant in unit tests). */
  sleep: (ms: number) => Promise<void>;
}

/**
 * Digest authentication of requests from this AOR's own UA (RFC 3261 §22,
 * RFC 7616, RFC 8760): `www` for REGISTER (401), `proxy` for INVITE and
 * other requests a proxy authenticates (407). Realm = the AOR's domain.
 * Resolves on success; otherwise throws the SipError to answer (a challenge,
 * or 403).
 *
 * An unknown AOR is challenged like a known one and its credentials fail
 * like a wrong password: the answers never tell whether a user exists. A
 * disabled subscriber is refused 403 once its credentials check out.
 */
export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  challenge(kind: AuthKind, ctx: AuthContext, stale: boolean, why: string): SipError {
    const k = KIND[kind];
    const values = buildChallenges({ realm: ctx.aor.domain, secret: this.deps.secret, nowMs: ctx.nowMs, stale, algorithms: ctx.algorithms ?? CHALLENGE_ALGORITHMS });
    return new SipError(k.status, k.reason, values.map((v) => [k.challenge, v] as [string, string]), why);
  }

  async authenticate(req: SipRequest, kind: AuthKind, ctx: AuthContext): Promise<Authenticated> {
    const { limiter } = this.deps;
    const k = KIND[kind];
    if (limiter.lockedUntil(ctx.scopes, ctx.nowMs) !== undefined) throw new SipError(403, "Forbidden - Too many failed attempts", [], "locked-out");

    const presented = kind === "www" ? req.authorization : req.proxyAuthorization;
    const found = findCredentials(presented, ctx.aor.domain, k.credentials);
    if (!found.ok) {
      if (found.why === "malformed") throw new SipError(400, `Bad Request - Malformed ${k.credentials}`, [], "malformed-credentials");
      throw this.challenge(kind, ctx, false, found.why === "wrong-realm" ? "wrong-realm" : "no-credentials");
    }

    // RFC 3261 §22.4 / §10.3 step 4: these credentials may only act for this AOR.
    if (found.header.params["username"] !== ctx.aor.user) {
      await this.failed(ctx);
      throw new SipError(403, "Forbidden - Username does not match the AOR", [], "username-mismatch");
    }

    // The digest `uri` is hashed but not compared with the Request-URI (RFC
    // 2617 §3.2.2.5's SHOULD): SIPp and phones behind an outbound proxy put
    // the proxy's address there, and Kamailio and OpenSIPS accept it. A
    // captured answer cannot be replayed towards another destination anyway:
    // qop=auth is required and each nonce count is accepted once (the DO's
    // SQLite), and the response covers the count.
    const subscriber = await this.deps.credentials.get(ctx.aor.aor);
    const result = authenticate({
      credentials: [found.header],
      method: req.method,
      realm: ctx.aor.domain,
      secret: this.deps.secret,
      nowMs: ctx.nowMs,
      maxAgeMs: NONCE_MAX_AGE_MS,
      // An unknown user fails as "bad-response" after the same work as a wrong password.
      ha1ByAlgorithm: subscriber === undefined ? undefined : { MD5: subscriber.ha1_md5, "SHA-256": subscriber.ha1_sha256 },
      nonceCounts: this.deps.nonceCounts,
      algorithms: ctx.algorithms ?? CHALLENGE_ALGORITHMS,
    });
    if (result.ok) {
      if (subscriber === undefined || !subscriber.enabled) {
        // Only reachable for a disabled subscriber (unknown ones fail above):
        // refused at once, and only after the password checked out, so the
        // answer tells nothing to someone who does not know it.
        throw new SipError(403, "Forbidden - Subscriber disabled", [], "disabled");
      }
      limiter.recordSuccess(ctx.scopes);
      return { username: result.username, algorithm: result.algorithm };
    }
    switch (result.why) {
      case "stale":
        // RFC 7616 §3.3: right response, expired nonce: the client retries silently.
        throw this.challenge(kind, ctx, true, "stale-nonce");
      case "replay":
        // A nonce-count already seen (RFC 7616 §3.4.5): refused. The response
        // itself was right, so stale=true lets a real client go on with a
        // fresh nonce; a replayer gains nothing from it.
        throw this.challenge(kind, ctx, true, "nonce-count-replay");
      case "bad-response": {
        const why = subscriber === undefined ? "unknown-subscriber" : "wrong-password";
        if (await this.failed(ctx)) throw new SipError(403, "Forbidden - Too many failed attempts", [], `${why}+locked-out`);
        throw this.challenge(kind, ctx, false, why);
      }
      case "malformed":
        throw new SipError(400, `Bad Request - Malformed ${k.credentials}`, [], "malformed-credentials");
      default:
        // bad-nonce (not ours, e.g. after NONCE_SECRET rotation), unsupported algorithm, wrong realm: a fresh challenge.
        throw this.challenge(kind, ctx, false, result.why);
    }
  }

  /** Counts a failure; waits as the limiter says; true when the scope is now locked. */
  private async failed(ctx: AuthContext): Promise<boolean> {
    const verdict = this.deps.limiter.recordFailure(ctx.scopes, ctx.nowMs);
    if (verdict.delayMs > 0) await this.deps.sleep(verdict.delayMs);
    return verdict.locked;
  }
}
