// Trunks as the egress sees them: the edge's trunk records
// (workers/src/trunks/trunk.ts, pure types and helpers shared with the edge)
// reduced to what registration and health checks read, and the SIP
// addresses made from them.
import type { Gateway, Trunk, TrunkStatus } from "../../../../workers/src/trunks/trunk.ts";
import type { Destination, TransportProtocol } from "../transport/protocol.ts";
import { hostReference } from "../transport/via-stamp.ts";

export { gatewayKey, type Gateway, type GatewayStatus, type RegistrationStatus, type Trunk, type TrunkCredentials, type TrunkStatus } from "../../../../workers/src/trunks/trunk.ts";
export { orderGateways } from "../../../../workers/src/trunks/trunk-selection.ts";

/** The fields of a trunk record the egress's registration and health checks use (a full TrunkRecord will do). */
export type EgressTrunk = Pick<Trunk, "id" | "enabled" | "gateways" | "credentials" | "register" | "register_expires">;

/**
 * Where carriers reach this egress: the host it advertises (the transport
 * layer's `advertise`, a public address behind 1:1 NAT) and the port it
 * listens on per transport. Our Contact in REGISTER and the From of
 * OPTIONS are made from it.
 */
export interface PublicSipAddress {
  host: string;
  ports: Partial<Record<TransportProtocol, number>>;
}

/**
 * Receives a trunk's status whenever it changes (main.ts passes it on to
 * TrunkDirectory.setStatus at the edge). A rejection is logged and the
 * write retried (trunk-status-board.ts).
 */
export type TrunkStatusSink = (trunkId: string, status: TrunkStatus) => Promise<unknown>;

export function gatewayProtocol(g: Pick<Gateway, "transport">): TransportProtocol {
  return g.transport === "udp" ? "UDP" : g.transport === "tcp" ? "TCP" : "TLS";
}

/** The address the transport layer sends a gateway's requests to (no RFC 3263 lookups: host and port are the trunk's). */
export function gatewayDestination(g: Pick<Gateway, "host" | "port" | "transport">): Destination {
  return { transport: gatewayProtocol(g), host: g.host, port: g.port };
}

/**
 * The gateway as a SIP URI: `sip:[user@]host:port[;transport=tcp|tls]`. UDP
 * needs no transport parameter (§19.1.1 default); TLS is `sip:` with
 * `transport=tls` rather than `sips:`, which would demand TLS on every hop
 * behind the gateway too (§26.2.2), more than a carrier's edge promises.
 */
export function gatewayUri(g: Pick<Gateway, "host" | "port" | "transport">, user?: string): string {
  const userPart = user === undefined ? "" : `${escapeUser(user)}@`;
  const params = g.transport === "udp" ? "" : `;transport=${g.transport}`;
  return `sip:${userPart}${hostReference(g.host)}:${g.port}${params}`;
}

/** Characters that may stand unescaped in a SIP URI user part (RFC 3261 §25.1: unreserved / user-unreserved). */
const USER_CHARS = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]$/;

/** A user name as a URI user part: every other character %HH-escaped as UTF-8 (§19.1.2). */
export function escapeUser(user: string): string {
  let out = "";
  for (const ch of user) {
    if (USER_CHARS.test(ch)) out += ch;
    else for (const b of new TextEncoder().encode(ch)) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
