// Transaction matching (RFC 3261 §17.1.3 for responses, §17.2.3 for
// requests). Keys are strings for Map lookups.
import type { SipRequest, SipResponse, Via } from "sip-parser-ts";

const MAGIC_COOKIE = "z9hG4bK";

/**
 * §17.1.3: a response matches a client transaction when its top Via branch
 * equals the branch of the request that created it and its CSeq method
 * equals that request's method (a CANCEL has the INVITE's branch, so the
 * method tells their responses apart).
 */
export function clientKey(branch: string, method: string): string {
  return `${branch}\n${method}`;
}

export function responseClientKey(response: SipResponse): string | undefined {
  const branch = response.topVia.branch;
  return branch === undefined ? undefined : clientKey(branch, response.cseq.method);
}

function sentBy(via: Via): string {
  return `${via.host.toLowerCase()}:${via.port ?? ""}`;
}

/** A request's method as its transaction sees it: an ACK belongs to the INVITE it acknowledges. */
function transactionMethod(method: string): string {
  return method === "ACK" ? "INVITE" : method;
}

/**
 * §17.2.3: the server transaction a request belongs to.
 *
 * - RFC 3261 branch (starts with "z9hG4bK"): branch, sent-by and method
 *   (ACK as INVITE). A CANCEL has its own transaction.
 * - RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number, the
 *   whole top Via, and the method (ACK as INVITE); the To tag is compared
 *   separately (`toTag2543`), because an ACK carries the tag of our
 *   response while the INVITE did not.
 *
 * `asMethod` looks the request up as another method: the INVITE a CANCEL
 * cancels (§9.2: same key except the method).
 */
export function serverKey(request: SipRequest, asMethod?: string): string {
  const via = request.topVia;
  const method = transactionMethod(asMethod ?? request.method);
  const branch = via.branch;
  if (branch !== undefined && branch.startsWith(MAGIC_COOKIE)) return `3261\n${branch}\n${sentBy(via)}\n${method}`;
  return `2543\n${request.requestUri}\n${request.from.tag ?? ""}\n${request.callId}\n${request.cseq.seq}\n${via.toString()}\n${method}`;
}

/** True when the request uses RFC 2543 matching (no magic cookie). */
export function isRfc2543(request: SipRequest): boolean {
  return !(request.topVia.branch ?? "").startsWith(MAGIC_COOKIE);
}
