import type { SipRequest, SipResponse } from "sip-parser-ts";
import type { Hop } from "./hop.ts";

/**
 * A user on browsers *and* legacy phones (a ring-all fork with one SDP
 * offer): the DO that anchors the call — the caller's, or the callee's own
 * for a carrier's call — offers for both kinds of device at once (rtpengine
 * `via-branch`, one offer per kind) and puts the phones' plain-RTP offer in
 * this header, base64url; the forking DO gives it to the phone branches as
 * their body and the request's own body to the browsers. Only a user's DO
 * sets it: the proxy core removes it from every request a socket, a phone
 * or a carrier sends.
 */
export const SIP_BRANCH_OFFER_HEADER = "X-Sipedge-Sip-Offer";
/**
 * On a response from a phone branch of such a fork, set by the forking DO
 * (and removed from what sockets send, and before a response leaves for a
 * socket or carrier): the anchoring DO answers it as the phones' branch.
 */
export const SIP_BRANCH_ANSWER_HEADER = "X-Sipedge-Sip-Answer";

/**
 * What the proxy core asks of the media layer (ARCHITECTURE.md "Who owns
 * media"), when the host has one: the SDP of a call passes through it at
 * the points RFC 3264's offer/answer model puts it, and the core tells it
 * when a call is over. The core knows nothing of nodes or ng; the host's
 * implementation (media/call-media.ts) decides whether this DO owns the
 * call's media and what to do.
 *
 * Every method may rewrite the message's body in place; `offer` may throw
 * a SipError (503 with Retry-After when no media node can serve), which
 * the core answers like any refusal.
 */
export interface ProxyMedia {
  /**
   * A request with a body is about to be forwarded from `source` to
   * `target`: an initial INVITE, or a re-INVITE/UPDATE (RFC 3311) in a
   * dialog. Resolves true when the media layer took the offer, so the core
   * marks the transaction and passes its responses to `answer`. `phones`:
   * this DO's fork also rings legacy phones, which ring only if the media
   * layer puts their own offer in SIP_BRANCH_OFFER_HEADER.
   */
  offer(req: SipRequest, route: { source: Hop; target: Hop; inDialog: boolean; phones?: boolean }): Promise<boolean>;
  /** A 18x or 2xx with a body to a request `offer` took (`req` is that request). */
  answer(res: SipResponse, req: SipRequest): Promise<void>;
  /**
   * The call is over: its initial INVITE got a final non-2xx (`status`), or
   * its dialog ended (`why`: bye, flow-closed, session-expired, …). Never
   * throws; the core does not wait for the media layer's clean-up longer
   * than one entry point (`ProxyContext.settleMedia`).
   */
  end(callId: string, how: { why: string; status?: number; by?: string }): Promise<void>;
}
