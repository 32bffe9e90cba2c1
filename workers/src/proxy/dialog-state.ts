import { createRequest, type SipRequest, type SipResponse } from "sip-parser-ts";
import { dialogId, type Dialog, type DialogEnd } from "./dialog.ts";
import { negotiatedInterval } from "./session-timer.ts";
import { aorOfUri } from "./uri-aor.ts";

/**
 * Dialog state changes as pure functions over the Dialog record (RFC 3261
 * §12); the proxy core stores the results and arms the timers.
 */

/** §12.1: a 2xx to an initial INVITE creates the dialog; undefined if the 2xx lacks what a dialog needs. */
export function dialogFrom2xx(a: {
  side: Dialog["side"];
  invite: SipRequest;
  ok: SipResponse;
  flowId: string;
  now: number;
  maxLifetimeMs: number;
}): Dialog | undefined {
  const { invite, ok } = a;
  const fromTag = invite.from.tag;
  const toTag = ok.to.tag;
  if (fromTag === undefined || toTag === undefined) return undefined;
  const callId = invite.callId;
  const interval = negotiatedInterval(ok);
  return {
    id: dialogId(a.side, callId, fromTag, toTag),
    side: a.side,
    callId,
    fromTag,
    toTag,
    caller: {
      aor: aorOfUri(invite.from.uri) ?? invite.from.uri.toString(),
      nameAddr: invite.get("From")!,
      contact: firstContact(invite) ?? "",
      cseq: invite.cseq.seq,
    },
    callee: {
      aor: aorOfUri(ok.to.uri) ?? ok.to.uri.toString(),
      nameAddr: ok.get("To")!,
      contact: firstContact(ok) ?? "",
      cseq: 0,
    },
    recordRoute: ok.getAll("Record-Route"),
    flowId: a.flowId,
    createdAt: a.now,
    lastActivityAt: a.now,
    sessionExpires: interval,
    sessionExpiresAt: interval > 0 ? a.now + interval * 1000 : 0,
    maxLifetimeAt: a.now + a.maxLifetimeMs,
  };
}

/** The two ids a dialog of ours may have for an in-dialog message (we do not know yet which end sent it). */
export function candidateDialogIds(callId: string, fromTag: string, toTag: string, ourUserSent: boolean): [string, string] {
  return [
    // the caller sent it: its From tag is the caller's
    dialogId(ourUserSent ? "caller" : "callee", callId, fromTag, toTag),
    // the callee sent it
    dialogId(ourUserSent ? "callee" : "caller", callId, toTag, fromTag),
  ];
}

/** Which end sent a request with this From tag. */
export function senderOf(d: Dialog, fromTag: string | undefined): "caller" | "callee" {
  return fromTag === d.fromTag ? "caller" : "callee";
}

/**
 * An in-dialog request passed (§12.2): its sender's CSeq (so a BYE we may
 * send for it later is in order, §12.2.1.1), the activity time, and for a
 * target refresh (re-INVITE, UPDATE) the sender's new Contact (§12.2.2).
 */
export function noteRequest(d: Dialog, req: SipRequest, now: number): void {
  const end = endOf(d, senderOf(d, req.from.tag));
  end.cseq = Math.max(end.cseq, req.cseq.seq);
  d.lastActivityAt = now;
  if (req.method === "INVITE" || req.method === "UPDATE") end.contact = firstContact(req) ?? end.contact;
}

/**
 * A 2xx to a re-INVITE or UPDATE: the answerer's new Contact (§12.2.1.2) and
 * the session timer restarted with the interval the 2xx states (RFC 4028
 * §10: a refresh without Session-Expires in the 2xx turns the timer off).
 */
export function noteRefresh(d: Dialog, ok: SipResponse, requestSender: "caller" | "callee", now: number): void {
  const answerer = endOf(d, requestSender === "caller" ? "callee" : "caller");
  answerer.contact = firstContact(ok) ?? answerer.contact;
  const interval = negotiatedInterval(ok);
  d.sessionExpires = interval;
  d.sessionExpiresAt = interval > 0 ? now + interval * 1000 : 0;
  d.lastActivityAt = now;
}

/**
 * A BYE on behalf of one end (`sender`) to the other, as its UA would send
 * it (§15.1.1): From/To with the dialog's tags, the next CSeq, Request-URI
 * the other end's Contact. With `withRoute` it carries the sender's route
 * set (§12.2.1.1; the caller's is the reverse of the Record-Route), so it
 * follows the same DOs as every other in-dialog request.
 */
export function byeRequest(d: Dialog, sender: "caller" | "callee", via: string, reason: string, withRoute: boolean): string {
  const from = endOf(d, sender);
  const to = endOf(d, sender === "caller" ? "callee" : "caller");
  from.cseq += 1;
  const routes = !withRoute ? [] : sender === "caller" ? [...d.recordRoute].reverse() : d.recordRoute;
  return createRequest({
    method: "BYE",
    uri: to.contact,
    from: from.nameAddr,
    to: to.nameAddr,
    callId: d.callId,
    cseq: from.cseq,
    via,
    maxForwards: 70,
    headers: [...routes.map((r): [string, string] => ["Route", r]), ["Reason", reason]],
  }).toString();
}

export function endOf(d: Dialog, which: "caller" | "callee"): DialogEnd {
  return which === "caller" ? d.caller : d.callee;
}

function firstContact(msg: SipRequest | SipResponse): string | undefined {
  try {
    const contacts = msg.contacts;
    return contacts === "*" || contacts.length === 0 ? undefined : contacts[0]!.uri.toString();
  } catch {
    return undefined;
  }
}
