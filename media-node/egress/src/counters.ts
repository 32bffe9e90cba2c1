import type { TransportProtocol } from "./transport/protocol.ts";

/**
 * Counters as plain objects, for the /metrics endpoint that comes later.
 * Each layer owns and increments its own; readers take `snapshot…()` copies.
 */
export interface TransportCounters {
  /** SIP messages received (keep-alives not included). */
  received: Record<TransportProtocol, number>;
  /** SIP messages sent, retransmissions included. */
  sent: Record<TransportProtocol, number>;
  /** Malformed requests answered with 400 (or 505, 513). */
  malformedAnswered: number;
  /** Malformed messages no answer could be built for (or responses): dropped. */
  malformedDropped: number;
  /** RFC 5626 §4.4.1 CRLFCRLF pings answered with CRLF on streams. */
  keepAlivesAnswered: number;
  /** RFC 5626 §8 STUN Binding requests (UDP keep-alives) answered. */
  stunBindingsAnswered: number;
  connectionsOpened: number;
  connectionsClosed: number;
  /** RFC 3261 §18.1.1: UDP requests over the MTU limit sent over TCP instead. */
  largeRequestsOverTcp: number;
  /** … and those whose TCP connection failed, retried over UDP. */
  tcpFallbacksToUdp: number;
  /** §18.1.2: responses whose top Via sent-by is not ours, discarded. */
  misroutedResponses: number;
  /** Sends that failed (socket error, refused, reset, timed out). */
  sendErrors: number;
}

export function newTransportCounters(): TransportCounters {
  return {
    received: { UDP: 0, TCP: 0, TLS: 0 },
    sent: { UDP: 0, TCP: 0, TLS: 0 },
    malformedAnswered: 0,
    malformedDropped: 0,
    keepAlivesAnswered: 0,
    stunBindingsAnswered: 0,
    connectionsOpened: 0,
    connectionsClosed: 0,
    largeRequestsOverTcp: 0,
    tcpFallbacksToUdp: 0,
    misroutedResponses: 0,
    sendErrors: 0,
  };
}

export interface TransactionCounters {
  /** Client transactions created, by method. */
  client: Record<string, number>;
  /** Server transactions created, by method. */
  server: Record<string, number>;
  /** Transactions alive now. */
  active: { client: number; server: number };
  /** What we sent again: requests (Timers A, E), responses (Timer G, and answers to a retransmitted request), ACKs (to a retransmitted non-2xx final). */
  retransmissionsSent: { requests: number; responses: number; acks: number };
  /** Retransmissions received and absorbed by a transaction. */
  retransmissionsReceived: { requests: number; responses: number };
  /** Timer B/F (client: no final response) and Timer H (server: no ACK). */
  timeouts: { client: number; server: number };
  /** Transport failures reported to the transaction user as 503 (§8.1.3.1) or as a server-side failure (§17.2.4). */
  transportErrors: number;
  /** Responses that matched no client transaction (passed to the core). */
  strayResponses: number;
}

export function newTransactionCounters(): TransactionCounters {
  return {
    client: {},
    server: {},
    active: { client: 0, server: 0 },
    retransmissionsSent: { requests: 0, responses: 0, acks: 0 },
    retransmissionsReceived: { requests: 0, responses: 0 },
    timeouts: { client: 0, server: 0 },
    transportErrors: 0,
    strayResponses: 0,
  };
}

/** A deep copy, safe to hand out. */
export function snapshot<T>(counters: T): T {
  return structuredClone(counters);
}
