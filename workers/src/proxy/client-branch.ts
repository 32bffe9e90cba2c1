import { createRequest, parseMessage, type SipRequest, type SipResponse } from "sip-parser-ts";
import type { ClientBranch } from "./proxy-transaction.ts";

/**
 * The messages a client branch sends (RFC 3261 §16.6, §9.1, §17.1.1.3).
 */

/**
 * The copy of a request for one branch (§16.6): `base` is the request with
 * the changes common to every branch already made (Max-Forwards, our Route
 * removed, credentials removed), serialized once. Per branch only the
 * Request-URI (item 2), our Via (item 8, topmost) and our Record-Route
 * (item 4, topmost) differ. Re-framing `base` is cheap (the parser is lazy)
 * and keeps each header's lines together.
 */
export function branchCopy(base: string, requestUri: string | undefined, via: string, recordRoute: string | undefined): string {
  const copy = parseMessage(base) as SipRequest;
  if (requestUri !== undefined) copy.setUri(requestUri);
  copy.prepend("Via", via);
  if (recordRoute !== undefined) copy.prepend("Record-Route", recordRoute);
  return copy.toString();
}

/** The same request with another SDP body (a phone branch's offer in a mixed fork, proxy-media.ts). */
export function withSdpBody(base: string, sdp: string): string {
  return (parseMessage(base) as SipRequest).setBody(sdp, "application/sdp").toString();
}

/**
 * §9.1: a CANCEL for a branch has the Request-URI, Call-ID, To, From, CSeq
 * number and Route of the request it cancels, and one Via: the branch's own,
 * so the next hop matches it to its server transaction.
 */
export function cancelRequest(invite: SipRequest, b: ClientBranch, via: string): string {
  return hopRequest("CANCEL", invite, b, invite.get("To")!, via);
}

/**
 * §17.1.1.3: the ACK a client transaction sends for a non-2xx final
 * response: the INVITE's Request-URI, From, Call-ID, CSeq number and Route,
 * the response's To (with the UAS's tag), and the branch's Via.
 */
export function ackRequest(invite: SipRequest, b: ClientBranch, res: SipResponse, via: string): string {
  return hopRequest("ACK", invite, b, res.get("To")!, via);
}

/** A CANCEL or ACK that goes where a branch's INVITE went, with its CSeq number. */
function hopRequest(method: "CANCEL" | "ACK", invite: SipRequest, b: ClientBranch, to: string, via: string): string {
  return createRequest({
    method,
    uri: b.requestUri,
    from: invite.get("From")!,
    to,
    callId: invite.callId,
    cseq: invite.cseq.seq,
    via,
    maxForwards: 70,
    headers: invite.getAll("Route").map((r): [string, string] => ["Route", r]),
  }).toString();
}
