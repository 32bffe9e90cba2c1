// Where a response goes (RFC 3261 §18.2.2, RFC 3581 §4).
import type { Via } from "sip-parser-ts";
import { asProtocol, defaultPort, isReliable, type MessageSource, type TransportProtocol } from "./protocol.ts";
import { bareHost } from "./via-stamp.ts";

export interface ResponseTarget {
  transport: TransportProtocol;
  host: string;
  port: number;
  /** Reliable transports: the connection the request came on, to be used while it is open. */
  connectionId?: string;
}

/**
 * The target of a response from its top Via (the request's top Via with our
 * `received`/`rport`), and the source of the request when we have it:
 *
 * - reliable: the connection the request arrived on; if it is gone, a new
 *   connection to `received` (else the sent-by host) at the sent-by port;
 * - `maddr`: that address, sent-by port or 5060;
 * - unreliable with `received`: that address, at `rport` when it has a
 *   value (RFC 3581 §4), else the sent-by port or 5060;
 * - otherwise the sent-by host and port.
 *
 * Undefined when the Via names a transport we do not have (WS, SCTP…).
 */
export function responseTarget(via: Via, source?: MessageSource): ResponseTarget | undefined {
  const transport = asProtocol(via.transport);
  if (transport === undefined) return undefined;
  const sentByPort = via.port ?? defaultPort(transport);
  if (isReliable(transport)) {
    const target: ResponseTarget = { transport, host: bareHost(via.received ?? via.host), port: sentByPort };
    if (source?.connectionId !== undefined && source.transport === transport) target.connectionId = source.connectionId;
    return target;
  }
  if (via.maddr !== undefined) return { transport, host: bareHost(via.maddr), port: sentByPort };
  const received = via.received;
  if (received !== undefined) {
    const rport = via.rport;
    return { transport, host: bareHost(received), port: typeof rport === "number" ? rport : sentByPort };
  }
  return { transport, host: bareHost(via.host), port: sentByPort };
}
