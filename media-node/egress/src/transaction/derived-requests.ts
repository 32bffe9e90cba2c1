// Requests a transaction builds from the one it sent: the ACK for a non-2xx
// final response (§17.1.1.3) and a CANCEL (§9.1).
import { type SipRequest, type SipResponse, parseMessage } from "sip-parser-ts";

/**
 * §17.1.1.3: Request-URI, Call-ID, From and CSeq number of the INVITE; the
 * To of the response (with its tag); one Via, the INVITE's top Via (so the
 * ACK matches the server transaction); the INVITE's Route header fields.
 */
export function ackForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  return derived(invite, "ACK", response.get("To") ?? "");
}

/**
 * §9.1: Request-URI, Call-ID, To, From and CSeq number of the request being
 * cancelled, tags included; one Via equal to its top Via (same branch); its
 * Route header fields; CSeq method CANCEL.
 */
export function cancelFor(invite: SipRequest, reason?: string): SipRequest {
  return derived(invite, "CANCEL", invite.get("To") ?? "", reason === undefined ? [] : [["Reason", reason]]);
}

function derived(invite: SipRequest, method: "ACK" | "CANCEL", to: string, extra: Array<[string, string]> = []): SipRequest {
  let text = `${method} ${invite.requestUri} SIP/2.0\r\n`;
  text += `Via: ${invite.topVia.toString()}\r\n`;
  for (const h of invite.headers) if (h.key === "route") text += `Route: ${h.value}\r\n`;
  // Our own hop-by-hop fields toward the edge (a legacy phone's X-Sipedge-Phone) follow the request like its Route.
  for (const h of invite.headers) if (h.key.startsWith("x-sipedge-")) text += `${h.key}: ${h.value}\r\n`;
  text += "Max-Forwards: 70\r\n";
  text += `From: ${invite.get("From") ?? ""}\r\n`;
  text += `To: ${to}\r\n`;
  text += `Call-ID: ${invite.callId}\r\n`;
  text += `CSeq: ${invite.cseq.seq} ${method}\r\n`;
  text += "Content-Length: 0\r\n\r\n";
  const req = parseMessage(text) as SipRequest;
  // append() refuses CR, LF and NUL: no header injection through `extra`.
  for (const [name, value] of extra) req.append(name, value);
  return req;
}
