/**
 * Transports of the SIP side (RFC 3261 §18): UDP is unreliable, TCP and TLS
 * are reliable streams. The transaction layer only needs to know which kind
 * a message went over (§17.1.1.2: retransmission timers only on unreliable
 * transports).
 */
export type TransportProtocol = "UDP" | "TCP" | "TLS";

export const PROTOCOLS: readonly TransportProtocol[] = ["UDP", "TCP", "TLS"];

export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== "UDP";
}

/** §18.2.2 / §19.1.2: 5060 for UDP and TCP, 5061 for TLS. */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === "TLS" ? 5061 : 5060;
}

export function asProtocol(s: string): TransportProtocol | undefined {
  const t = s.toUpperCase();
  return t === "UDP" || t === "TCP" || t === "TLS" ? t : undefined;
}

/** Where to send a request: an address resolved by the caller (RFC 3263 lookups happen above). */
export interface Destination {
  transport: TransportProtocol;
  host: string;
  port: number;
  /**
   * §18.1.1: a UDP request over the MTU limit goes over TCP when the
   * destination accepts TCP. Default true; a refused or unanswered TCP
   * connection falls back to UDP (§18.1.1: "SHOULD retry the request, using
   * UDP"). Set false for a peer known to speak UDP only.
   */
  tcp?: boolean;
}

/** Where a received message came from, and the connection it came on (streams). */
export interface MessageSource {
  transport: TransportProtocol;
  address: string;
  port: number;
  /** Our listener's address the message arrived at. */
  local: { address: string; port: number };
  /** The stream connection it arrived on; responses go back on it while it is open (§18.2.2). */
  connectionId?: string;
}

export function describeSource(s: { transport: TransportProtocol; address: string; port: number }): string {
  const host = s.address.includes(":") ? `[${s.address}]` : s.address;
  return `${s.transport.toLowerCase()}:${host}:${s.port}`;
}
