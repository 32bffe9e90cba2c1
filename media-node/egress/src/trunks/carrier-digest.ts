// Answering a carrier's digest challenges with a trunk's credentials (RFC
// 3261 §22.2 for 401 / WWW-Authenticate, §22.3 for 407 / Proxy-Authenticate,
// RFC 8760 for the algorithm) across the requests of one registration or
// one call: the computation is sip-parser-ts's digest client; this keeps
// the challenges received, counts nonce uses, and refuses to loop.
import { type AuthHeader, type SipResponse, answerChallenge, parseAuthHeader, pickChallenge } from "sip-parser-ts";
import type { TrunkCredentials } from "./egress-trunk.ts";

export type AuthorizationHeader = "Authorization" | "Proxy-Authorization";

/** A credentials header to put into a request. */
export interface Authorization {
  header: AuthorizationHeader;
  value: string;
}

interface KeptChallenge {
  params: Record<string, string>;
  /** Times this nonce was used so far (the nc of RFC 7616 §3.4). */
  nc: number;
  /** Whether the last request answered this challenge the moment it arrived (rather than reusing it). */
  answeredFresh: boolean;
  /** Not yet sent: the next request answers a challenge just received. */
  pending: boolean;
}

/**
 * One per registrar dialog (or per call): challenges are per server, and a
 * proxy and a registrar may each challenge (§22.3: 401 and 407 together).
 *
 * Later requests reuse the last challenge with the next nonce count, as
 * SIP UAs do, so a refresh needs no extra round trip; a server that wants
 * a new nonce simply challenges again. A challenge to a request that
 * carried credentials computed from a challenge just received means the
 * credentials are wrong (unless the server says `stale=true`, RFC 7616
 * §3.3): no second try, which would only lock the account.
 */
export class CarrierDigest {
  private readonly kept = new Map<AuthorizationHeader, KeptChallenge>();

  constructor(private readonly credentials: TrunkCredentials | undefined) {}

  /** The credentials headers for the next request (none before the first challenge). */
  authorize(method: string, uri: string): Authorization[] {
    const out: Authorization[] = [];
    const credentials = this.credentials;
    if (credentials === undefined) return out;
    for (const [header, c] of this.kept) {
      c.nc++;
      c.answeredFresh = c.pending;
      c.pending = false;
      out.push({ header, value: answerChallenge({ challenge: c.params, method, uri, username: credentials.username, password: credentials.password, nc: c.nc }) });
    }
    return out;
  }

  /**
   * Takes a 401 or 407 to the last request. Returns undefined when the next
   * authorize() answers it, or why it cannot be answered (a reason fit for
   * a log line and the trunk's status: never a secret).
   */
  challenged(response: SipResponse): string | undefined {
    const what = `${response.status} ${response.reason}`;
    if (this.credentials === undefined) return `challenged (${what}) but the trunk has no credentials`;
    const proxy = response.status === 407;
    const header: AuthorizationHeader = proxy ? "Proxy-Authorization" : "Authorization";
    const offered = parseChallenges(response.getAll(proxy ? "Proxy-Authenticate" : "WWW-Authenticate"), proxy);
    if (offered.length === 0) return `${what} without a ${proxy ? "Proxy-Authenticate" : "WWW-Authenticate"} digest challenge`;
    const realm = this.credentials.realm;
    // A credential given to whichever realm asks is a credential leaked (trunk.ts, TrunkCredentials.realm).
    const candidates = realm === undefined ? offered : offered.filter((c) => c.params["realm"] === realm);
    if (candidates.length === 0) return `${what} for realm "${offered[0]!.params["realm"] ?? ""}", but the trunk's credentials are for realm "${realm}"`;
    const chosen = pickChallenge(candidates);
    if (chosen === undefined) return `${what} offers no digest challenge we can answer (algorithm ${candidates.map((c) => c.params["algorithm"] ?? "MD5").join(", ")})`;
    const previous = this.kept.get(header);
    const stale = chosen.params["stale"]?.toLowerCase() === "true";
    if (previous?.answeredFresh === true && !stale) return `credentials rejected (${what})`;
    this.kept.set(header, { params: chosen.params, nc: 0, answeredFresh: false, pending: true });
    return undefined;
  }

  /** Forgets every challenge (a new server, or new credentials). */
  reset(): void {
    this.kept.clear();
  }
}

function parseChallenges(values: string[], proxy: boolean): AuthHeader[] {
  const out: AuthHeader[] = [];
  for (const v of values) {
    try {
      const h = parseAuthHeader(v, proxy ? "Proxy-Authenticate" : "WWW-Authenticate");
      if (h.scheme.toLowerCase() === "digest") out.push(h);
    } catch {
      // an unparseable challenge is skipped, as pickChallenge does
    }
  }
  return out;
}
