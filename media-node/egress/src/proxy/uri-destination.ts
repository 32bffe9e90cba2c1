import { SipUri, type Uri } from "sip-parser-ts";
import type { Gateway } from "../../../../workers/src/trunks/index.ts";
import { type Destination, asProtocol, defaultPort } from "../transport/protocol.ts";
import { bareHost } from "../transport/via-stamp.ts";

/**
 * Where a request goes on the carrier side when the next hop is a URI (the
 * next Route, else the Request-URI: §16.6 item 6-7), by RFC 3263 §4.1-4.2
 * without the DNS: the `transport` parameter, else TLS for a SIPS URI and
 * UDP otherwise; the port, else 5060/5061. Names are resolved by the
 * transport (dns.lookup). Undefined for what we cannot reach: another
 * scheme, an unknown transport, a `.invalid` host (RFC 7118 §5: a WebSocket
 * client's made-up name, PITFALLS 5), a `maddr` we do not follow.
 */
export function destinationOf(uri: Uri): Destination | undefined {
  if (!(uri instanceof SipUri)) return undefined;
  const param = uri.uriParam("transport");
  const transport = typeof param === "string" ? asProtocol(param) : uri.scheme === "sips" ? "TLS" : "UDP";
  if (transport === undefined) return undefined;
  const host = bareHost(uri.host);
  if (host === "" || host.endsWith(".invalid")) return undefined;
  return { transport, host, port: uri.port ?? defaultPort(transport) };
}

/** A trunk gateway as a destination. */
export function gatewayDestination(g: Pick<Gateway, "host" | "port" | "transport">): Destination {
  return { transport: g.transport === "tls" ? "TLS" : g.transport === "tcp" ? "TCP" : "UDP", host: g.host, port: g.port };
}

/**
 * The Request-URI of a call to a gateway: the dialled number (the user part
 * the edge chose, E.164) at the gateway's address, `user=phone` (RFC 3261
 * §19.1.6), and the transport when it is not UDP.
 */
export function gatewayRequestUri(user: string, g: Pick<Gateway, "host" | "port" | "transport">): string {
  const host = g.host.includes(":") ? `[${g.host}]` : g.host;
  const transport = g.transport === "udp" ? "" : `;transport=${g.transport}`;
  return `sip:${user}@${host}:${g.port};user=phone${transport}`;
}
