// What the UserAgent DO makes of a WebSocket frame before SIP logic sees
// it (keep-alive, the head of an oversized message, the upgrade's location)
// and the log line of every SIP message it receives.
import { parseMessage, SipRequest, type SipResponse } from "sip-parser-ts";
import { logEvent } from "../log.ts";
import type { ClientLocation } from "./flow-headers.ts";

/** One log line per SIP message a DO receives (issue 3): what it is and where from, never its credentials. */
export function logMessage(aor: string, msg: SipRequest | SipResponse, from: string): void {
  let cseq: string | undefined;
  try {
    const c = msg.cseq;
    cseq = `${c.seq} ${c.method}`;
  } catch {
    cseq = undefined;
  }
  logEvent("sip-in", {
    aor,
    call_id: safeCallId(msg),
    ...(msg instanceof SipRequest ? { method: msg.method } : { status: msg.status }),
    cseq,
    from,
  });
}

/** Blank frames: RFC 5626 §4.4.1 keep-alives (CRLFCRLF ping, CRLF pong); kept out of the parser (PITFALLS 14). */
export function isKeepAlive(text: string): boolean {
  if (text.length === 0 || text.length > 8) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 13 && c !== 10) return false;
  }
  return true;
}

/**
 * The header block of an oversized message, parsed on its own so that it can
 * be answered 513 (RFC 3261 §21.5.14): the parser refuses the whole message
 * before framing it.
 */
export function headOf(text: string): SipRequest | undefined {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0 || end > 16_384) return undefined;
  const head = text.slice(0, end).replace(/\r\n(content-length|l)[ \t]*:[^\r]*/gi, "");
  try {
    const msg = parseMessage(head + "\r\nContent-Length: 0\r\n\r\n");
    return msg instanceof SipRequest ? msg : undefined;
  } catch {
    return undefined;
  }
}

export function parseLocation(header: string | null): ClientLocation {
  if (header === null) return {};
  try {
    const v = JSON.parse(header) as unknown;
    return typeof v === "object" && v !== null ? (v as ClientLocation) : {};
  } catch {
    return {};
  }
}

export function safeCallId(msg: SipRequest | SipResponse): string | undefined {
  try {
    return msg.callId;
  } catch {
    return undefined;
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
