import { SipRequest, type SipResponse } from "sip-parser-ts";
import type { LogFields } from "./log.ts";

/**
 * What a log line says about a SIP message: method or status, Call-ID,
 * CSeq and branch. Never the body, never a credential header. Values come
 * from already checked accessors; a malformed one is left out, not thrown.
 */
export function messageFields(msg: SipRequest | SipResponse): LogFields {
  const fields: LogFields = msg instanceof SipRequest ? { method: msg.method } : { status: msg.status };
  try {
    fields.call_id = msg.callId;
    const c = msg.cseq;
    fields.cseq = `${c.seq} ${c.method}`;
    fields.branch = msg.topVia.branch;
  } catch {
    // the fields read so far are enough
  }
  return fields;
}
