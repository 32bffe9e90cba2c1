import { type SipRequest, type SipResponse, createRequest, createResponse, parseMessage } from "sip-parser-ts";

let n = 0;

/** A request as a UAC would build it, without our Via (the transaction layer adds it). */
export function outgoing(method: string, extra: Array<[string, string]> = []): SipRequest {
  n++;
  return createRequest({
    method,
    uri: "sip:bob@192.0.2.20:5062",
    from: "<sip:alice@example.com>;tag=ft" + n,
    to: "<sip:bob@example.com>",
    callId: `call-${n}@test`,
    cseq: 1,
    headers: extra,
  });
}

/** A response from the peer to a request we sent (its Via is ours). */
export function answer(request: SipRequest, status: number, toTag = "peer-tag"): SipResponse {
  return createResponse(request, status, undefined, { toTag });
}

/** A request as received from a peer at 192.0.2.20:5062. */
export function incoming(method: string, opts: { branch?: string; cseq?: number; toTag?: string; callId?: string; via?: string } = {}): SipRequest {
  const branch = opts.branch ?? "z9hG4bK-in-" + ++n;
  const via = opts.via ?? `SIP/2.0/UDP 192.0.2.20:5062;branch=${branch}`;
  const cseqMethod = method;
  return parseMessage(
    `${method} sip:alice@192.0.2.10 SIP/2.0\r\n` +
      `Via: ${via}\r\n` +
      "Max-Forwards: 70\r\n" +
      "From: <sip:bob@example.com>;tag=in-from\r\n" +
      `To: <sip:alice@example.com>${opts.toTag === undefined ? "" : ";tag=" + opts.toTag}\r\n` +
      `Call-ID: ${opts.callId ?? "in-call@test"}\r\n` +
      `CSeq: ${opts.cseq ?? 1} ${cseqMethod}\r\n` +
      "Content-Length: 0\r\n\r\n",
  ) as SipRequest;
}
