// Reading a received message (RFC 3261 §18.1.2, §18.2.1) before the
// transaction layer sees it: parse it, and check now everything the
// transaction layer and §18.2.2 will read (top Via, CSeq, Call-ID, From, To,
// the Request-URI), so a malformed value is answered here with 400 instead
// of throwing later. Never throws.
import { type ParseLimits, SipParseError, SipRequest, type SipResponse, createResponse, parseMessage } from "sip-parser-ts";

export type Inbound =
  | { ok: true; message: SipRequest | SipResponse }
  | {
      ok: false;
      /** Status and reason of the answer (400 Bad Request - Malformed Via, 505, 513). */
      status: number;
      reason: string;
      /** The answer to send back to the source, when one could be built (never to ACK, never to a response). */
      answer: SipResponse | undefined;
      /** What the message was, as far as we could tell, for the log. */
      method?: string;
    };

export function readInbound(bytes: Uint8Array | string, limits?: Partial<ParseLimits>): Inbound {
  let msg: SipRequest | SipResponse;
  try {
    msg = parseMessage(bytes, limits);
  } catch (e) {
    return reject(e, undefined);
  }
  try {
    checkEssentials(msg);
  } catch (e) {
    return reject(e, msg);
  }
  // §21.5.7: a version we do not speak; only requests can be answered.
  if (msg.version !== "SIP/2.0") {
    return msg instanceof SipRequest ? rejection(msg, 505, "Version Not Supported") : { ok: false, status: 505, reason: "Version Not Supported", answer: undefined };
  }
  return { ok: true, message: msg };
}

/** Touches each accessor the lower layers rely on; throws SipParseError on a malformed one. */
function checkEssentials(msg: SipRequest | SipResponse): void {
  const via = msg.topVia;
  void via.branch;
  void via.rport;
  void msg.cseq;
  void msg.callId;
  void msg.from;
  void msg.to;
  if (msg instanceof SipRequest) void msg.uri;
}

function reject(e: unknown, parsed: SipRequest | SipResponse | undefined): Inbound {
  const err = e instanceof SipParseError ? e : new SipParseError(400, "Bad Request");
  const msg = parsed ?? err.partial;
  if (msg instanceof SipRequest) return rejection(msg as SipRequest, err.status, err.reason);
  return { ok: false, status: err.status, reason: err.reason, answer: undefined };
}

function rejection(req: SipRequest, status: number, reason: string): Inbound {
  const method = req.method;
  // §17.1.1.3/§8.2.6: an ACK is never answered.
  if (method === "ACK") return { ok: false, status, reason, answer: undefined, method };
  let answer: SipResponse | undefined;
  try {
    // createResponse copies Via, From, To, Call-ID and CSeq as received; it
    // throws when one it needs (the To, for its tag) cannot be read.
    answer = createResponse(req, status, reason);
  } catch {
    answer = undefined;
  }
  return { ok: false, status, reason, answer, method };
}
