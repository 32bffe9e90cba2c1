// Via handling at the transport layer (RFC 3261 §18.1.1, §18.2.1, RFC 3581).
import { parseVia, type SipRequest, type Via } from "sip-parser-ts";
import type { MessageSource, TransportProtocol } from "./protocol.ts";

/** An address without the brackets of an IPv6 reference, lowercased: "[::1]" → "::1". */
export function bareHost(host: string): string {
  return (host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host).toLowerCase();
}

/** A host as it goes into a Via or URI: IPv6 in brackets. */
export function hostReference(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}

/** Replaces the top Via value, keeping the other values and their order. */
function replaceTopVia(msg: SipRequest, via: Via): void {
  msg.removeFirst("Via");
  msg.prepend("Via", via.toString());
}

/**
 * §18.1.1: "Before a request is sent, the client transport MUST insert a
 * value of the sent-by field into the Via header field", and if the
 * transport changes (a large request moved to TCP) "the value in the top
 * Via MUST be changed". Leaves the branch and other parameters alone.
 */
export function stampSentBy(request: SipRequest, transport: TransportProtocol, host: string, port: number): void {
  const top = request.topVia;
  const ref = hostReference(host);
  if (top.transport === transport && top.host === ref && top.port === port) return;
  const via = parseVia(top.toString());
  via.transport = transport;
  via.host = ref;
  via.port = port;
  replaceTopVia(request, via);
}

/**
 * The server side of Via (§18.2.1, RFC 3581 §4): a `received` parameter
 * when the sent-by host is not the packet's source address, and always
 * with `rport`, whose empty value becomes the source port. Responses then
 * find their way back through NAT (§18.2.2 with RFC 3581).
 */
export function markReceived(request: SipRequest, source: Pick<MessageSource, "address" | "port">): void {
  const top = request.topVia;
  const wantsRport = top.rport !== undefined;
  const differs = bareHost(top.host) !== bareHost(source.address);
  if (!wantsRport && !differs) return;
  const via = parseVia(top.toString());
  via.received = bareHost(source.address);
  if (wantsRport) via.rport = source.port;
  replaceTopVia(request, via);
}
