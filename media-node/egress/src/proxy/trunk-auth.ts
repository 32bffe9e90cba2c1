// Answering a carrier's digest challenge with the trunk's credentials
// (RFC 3261 §22.2, §22.3; the digest client of sip-parser-ts), the way
// Kamailio's uac_auth() does for a trunk: the proxy, not the caller, holds
// the account.
//
// CSeq: §22.2 has a UAC send the request again with "the CSeq header field
// value … incremented"; a carrier must not see the same CSeq on a new
// transaction (§8.2.2.2 can answer that 482). So the retry carries CSeq + 1,
// and the dialog's requests from the edge side must follow (an ACK for the
// 2xx must carry the INVITE's CSeq, §13.2.2.4; later requests must not go
// below it, §12.2.2). Kamailio keeps that difference in its dialog module
// (dialog's track_cseq_updates); we keep no dialog state, so the offset
// travels in our carrier-side Record-Route (egress-routes.ts): every request
// from the edge side is shifted by it, and every response to one is shifted
// back before the edge sees it.
import { type SipResponse, answerChallenge, pickChallenge } from "sip-parser-ts";
import type { TrunkCredentials } from "../../../../workers/src/trunks/index.ts";

export interface Credentials {
  /** Authorization (after a 401) or Proxy-Authorization (after a 407). */
  header: "Authorization" | "Proxy-Authorization";
  value: string;
  realm: string;
}

/**
 * The credentials answering a 401/407 from a trunk, or why not: the trunk
 * has none, the carrier's realm is not the one the trunk's credentials are
 * for (a credential sent to whoever asks is a credential leaked), or no
 * challenge is one we can answer (RFC 8760 §2.4: the topmost Digest we can).
 */
export function answerTrunkChallenge(
  response: SipResponse,
  request: { method: string; requestUri: string },
  credentials: TrunkCredentials | undefined,
): Credentials | { refused: string } {
  if (credentials === undefined) return { refused: "trunk-has-no-credentials" };
  const name = response.status === 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
  const challenges = response.getAll(name);
  const allowed = credentials.realm === undefined ? challenges : challenges.filter((c) => realmOf(c) === credentials.realm);
  const challenge = pickChallenge(allowed);
  if (challenge === undefined) return { refused: allowed.length === 0 && challenges.length > 0 ? "realm-not-the-trunks" : "no-answerable-challenge" };
  return {
    header: response.status === 407 ? "Proxy-Authorization" : "Authorization",
    value: answerChallenge({ challenge: challenge.params, method: request.method, uri: request.requestUri, username: credentials.username, password: credentials.password }),
    realm: challenge.params["realm"] ?? "",
  };
}

function realmOf(challenge: string): string | undefined {
  const picked = pickChallenge([challenge]);
  return picked?.params["realm"];
}
