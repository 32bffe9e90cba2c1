// The library's one error type (README "One error type"). It carries the SIP
// answer it should become, as drachtio-srf's SipError does: `status` and a
// `reason` fit for a Reason-Phrase (RFC 3261 §21.4.1 for 400, §21.5.14 for
// 513). Callers turn it into a response without inventing wording of their own
// (STYLE "What this means for sipedge" 4).

import type { SipMessage } from "./message.ts";

export class SipParseError extends Error {
  override readonly name = "SipParseError";
  readonly status: 400 | 513;
  readonly reason: string;
  /**
   * The message as framed so far, when its start line and header block were
   * readable: enough to answer it with a 400 (RFC 3261 §8.2.6 needs Via,
   * From, To, Call-ID and CSeq from it). Undefined when the error came from
   * an accessor of an already parsed message.
   */
  partial?: SipMessage;

  constructor(status: 400 | 513, reason: string, partial?: SipMessage) {
    // Malformed input is an everyday event, not a bug: a stack trace would
    // cost more than parsing the message, and says nothing the reason does
    // not. V8 captures one in Error's constructor unless told not to.
    const v8 = Error as { stackTraceLimit?: number };
    const limit = v8.stackTraceLimit;
    if (limit !== undefined) v8.stackTraceLimit = 0;
    try {
      super(reason);
    } finally {
      if (limit !== undefined) v8.stackTraceLimit = limit;
    }
    this.status = status;
    this.reason = reason;
    if (partial !== undefined) this.partial = partial;
  }
}

/** 400 naming what was malformed: "Bad Request - Malformed Via". */
export function malformed(what: string): SipParseError {
  return new SipParseError(400, "Bad Request - Malformed " + what);
}

export function badRequest(detail: string): SipParseError {
  return new SipParseError(400, "Bad Request - " + detail);
}
