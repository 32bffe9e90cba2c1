/**
 * A dialog (RFC 3261 §12) as this DO's proxy sees it: created on a 2xx to an
 * INVITE (§12.1), refreshed by target refresh and RFC 4028 session refresh,
 * ended by BYE. Both DOs of a call keep one, each from its own user's side,
 * so either can still route the BYE, end the call when its user's socket
 * closes (PITFALLS 13) or when the session timer runs out (PITFALLS 19),
 * after any number of hibernations.
 */
export interface Dialog {
  /** `<side>|<Call-ID>|<from-tag>|<to-tag>`: the side is part of the key so a user may call herself. */
  id: string;
  /** Which end of the dialog this DO's user is. */
  side: "caller" | "callee";
  callId: string;
  /** The caller's (UAC's) tag: the From tag of the INVITE. */
  fromTag: string;
  /** The callee's (UAS's) tag: the To tag of the 2xx. */
  toTag: string;
  caller: DialogEnd;
  callee: DialogEnd;
  /**
   * Record-Route of the 2xx, top first (§12.1.1: the callee's route set;
   * the caller's is the reverse, §12.1.2). Entries are name-addr strings.
   */
  recordRoute: string[];
  /** Our user's flow (socket) in this dialog. */
  flowId: string;
  createdAt: number;
  lastActivityAt: number;
  /** RFC 4028: negotiated session interval in seconds, 0 when no session timer runs. */
  sessionExpires: number;
  /** When the session expires without a refresh, 0 when no session timer runs. */
  sessionExpiresAt: number;
  /** Hard limit on the call's duration (policy). */
  maxLifetimeAt: number;
}

/** One end of a dialog. */
export interface DialogEnd {
  /** `user@host` of its From/To URI. */
  aor: string;
  /** Its From (caller) or To (callee) header value, tag included. */
  nameAddr: string;
  /** Its remote target: the Contact URI it sent (§12.1), refreshed by re-INVITE/UPDATE (§12.2). */
  contact: string;
  /** The highest CSeq number seen from it, so a BYE we send for it is in order (§12.2.1.1). */
  cseq: number;
}

export function dialogId(side: Dialog["side"], callId: string, fromTag: string, toTag: string): string {
  return `${side}|${callId}|${fromTag}|${toTag}`;
}

/** The moment the DO must act on its own: session expiry or the lifetime limit, whichever is first. */
export function dialogDeadline(d: Dialog): number {
  return d.sessionExpiresAt > 0 ? Math.min(d.sessionExpiresAt, d.maxLifetimeAt) : d.maxLifetimeAt;
}

/** The admin API's view (issue 3: "read a user's ... active dialogs"). */
export interface DialogSummary {
  callId: string;
  side: Dialog["side"];
  caller: string;
  callee: string;
  flowId: string;
  createdAt: number;
  lastActivityAt: number;
  sessionExpires: number;
  expiresAt: number;
}

export function summarizeDialog(d: Dialog): DialogSummary {
  return {
    callId: d.callId,
    side: d.side,
    caller: d.caller.aor,
    callee: d.callee.aor,
    flowId: d.flowId,
    createdAt: d.createdAt,
    lastActivityAt: d.lastActivityAt,
    sessionExpires: d.sessionExpires,
    expiresAt: dialogDeadline(d),
  };
}
