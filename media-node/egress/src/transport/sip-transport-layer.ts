// The transport layer of the egress's SIP side (RFC 3261 §18): UDP, TCP and
// TLS listeners, Via sent-by on what we send (§18.1.1), received/rport on
// what we receive (§18.2.1, RFC 3581), responses routed back by Via
// (§18.2.2), large UDP requests moved to TCP (§18.1.1, PITFALLS 17), and
// malformed input answered with 400 or dropped, never a crash.
import { readFile } from "node:fs/promises";
import type { ParseLimits, SipRequest, SipResponse } from "sip-parser-ts";
import { type Clock, systemClock } from "../clock.ts";
import { type TransportCounters, newTransportCounters, snapshot } from "../counters.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { TransactionTransport } from "../transaction/transaction-transport.ts";
import { messageFields } from "../message-fields.ts";
import { type Inbound, readInbound } from "./inbound.ts";
import { type Destination, type MessageSource, type TransportProtocol, defaultPort, describeSource, isReliable } from "./protocol.ts";
import { responseTarget } from "./response-route.ts";
import type { StreamConnection } from "./stream-connection.ts";
import { StreamListener, type TlsOptions } from "./stream-listener.ts";
import { isStunMessage, stunBindingResponse } from "./stun.ts";
import { TransportError } from "./transport-error.ts";
import { UdpListener } from "./udp-listener.ts";
import { bareHost, markReceived, stampSentBy } from "./via-stamp.ts";

export interface ListenerConfig {
  /** Address to bind (default 127.0.0.1; use 0.0.0.0 with `advertise` on a VM). */
  host?: string;
  /** Default 5060 (UDP, TCP) or 5061 (TLS); 0 lets the kernel choose. */
  port?: number;
}

export interface TlsListenerConfig extends ListenerConfig {
  /** PEM files of our certificate chain and key. */
  certFile: string;
  keyFile: string;
  /** PEM file of CAs trusted when we dial TLS peers (default: the system store). */
  caFile?: string;
  /** Check peers' certificates when we dial (default true). */
  rejectUnauthorized?: boolean;
}

export interface SipTransportConfig {
  /** The UDP listener; false for none. */
  udp?: ListenerConfig | false;
  /** The TCP listener; false for none (then large UDP requests cannot move to TCP). */
  tcp?: ListenerConfig | false;
  /** The TLS listener, when a certificate and key are given. */
  tls?: TlsListenerConfig | false;
  /**
   * The host put into the sent-by of our Via: the address peers reach us
   * at (a VM's public address behind 1:1 NAT). Default: each listener's
   * bound address; required when binding a wildcard address.
   */
  advertise?: string;
  /** §18.1.1: UDP requests larger than this go over TCP (default 1300). */
  udpMtuLimit?: number;
  /** Close stream connections idle this long (default 300000; 0 never). */
  idleTimeoutMs?: number;
  /** Give up dialing TCP/TLS after this long (default 5000). */
  connectTimeoutMs?: number;
  limits?: Partial<ParseLimits>;
}

export type MessageHandler = (message: SipRequest | SipResponse, source: MessageSource) => void;

const CRLFCRLF = new TextEncoder().encode("\r\n\r\n");
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

export class SipTransportLayer implements TransactionTransport {
  readonly counters: TransportCounters = newTransportCounters();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private handler: MessageHandler | undefined;
  private udp: UdpListener | undefined;
  private tcp: StreamListener | undefined;
  private tls: StreamListener | undefined;
  private readonly sentBy = new Map<TransportProtocol, { host: string; port: number }>();
  private readonly mtuLimit: number;

  constructor(
    private readonly config: SipTransportConfig = {},
    deps: { logger?: Logger; clock?: Clock } = {},
  ) {
    this.logger = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    this.mtuLimit = config.udpMtuLimit ?? 1300;
    for (const [name, l] of [["udp", config.udp], ["tcp", config.tcp], ["tls", config.tls]] as const) {
      if (l && WILDCARDS.has(l.host ?? "") && config.advertise === undefined) {
        throw new TypeError(`the ${name} listener binds ${l.host}: set \`advertise\` to the address peers reach this host at (it goes into Via sent-by)`);
      }
    }
  }

  /** Where received messages go (the transaction layer). */
  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** Opens the listeners. Throws a clear error for a port in use or an unreadable certificate. */
  async start(): Promise<void> {
    const c = this.config;
    const idleTimeoutMs = c.idleTimeoutMs ?? 300_000;
    const connectTimeoutMs = c.connectTimeoutMs ?? 5_000;
    const streamEvents = (protocol: "TCP" | "TLS") => ({
      message: (data: Uint8Array, conn: StreamConnection) => this.receive(readInbound(data, c.limits), this.streamSource(protocol, conn), conn),
      framingError: (err: { status: number; reason: string }, conn: StreamConnection) => {
        this.counters.malformedDropped++;
        this.logger.warn("sip-malformed", { source: describeSource({ transport: protocol, ...conn.remote }), status: err.status, reason: err.reason, answered: false, connection: "closed" });
      },
      keepAlive: () => {
        this.counters.keepAlivesAnswered++;
      },
      opened: (conn: StreamConnection) => {
        this.counters.connectionsOpened++;
        this.logger.debug("connection-open", { id: conn.id, direction: conn.direction, remote: describeSource({ transport: protocol, ...conn.remote }) });
      },
      closed: (conn: StreamConnection, reason: string) => {
        this.counters.connectionsClosed++;
        this.logger.debug("connection-close", { id: conn.id, remote: describeSource({ transport: protocol, ...conn.remote }), reason });
      },
    });
    try {
      if (c.udp !== false) {
        const host = c.udp?.host ?? "127.0.0.1";
        this.udp = new UdpListener({ host, port: c.udp?.port ?? 5060 }, (data, from) => this.receiveDatagram(data, from), (err) =>
          this.logger.warn("udp-socket-error", { error: err.message }),
        );
        await this.listen("UDP", () => this.udp!.listen());
      }
      if (c.tcp !== false) {
        this.tcp = new StreamListener({ protocol: "TCP", host: c.tcp?.host ?? "127.0.0.1", port: c.tcp?.port ?? 5060, idleTimeoutMs, connectTimeoutMs, limits: c.limits }, streamEvents("TCP"), this.clock);
        await this.listen("TCP", () => this.tcp!.listen());
      }
      if (c.tls) {
        const tls = await readTlsFiles(c.tls);
        this.tls = new StreamListener({ protocol: "TLS", host: c.tls.host ?? "127.0.0.1", port: c.tls.port ?? 5061, tls, idleTimeoutMs, connectTimeoutMs, limits: c.limits }, streamEvents("TLS"), this.clock);
        await this.listen("TLS", () => this.tls!.listen());
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.tls?.close()]);
    this.udp = this.tcp = this.tls = undefined;
  }

  /** The bound address of each listener (ports chosen by the kernel when 0 was asked). */
  addresses(): Partial<Record<TransportProtocol, { address: string; port: number }>> {
    const out: Partial<Record<TransportProtocol, { address: string; port: number }>> = {};
    if (this.udp?.address) out.UDP = this.udp.address;
    if (this.tcp?.address) out.TCP = this.tcp.address;
    if (this.tls?.address) out.TLS = this.tls.address;
    return out;
  }

  /** Open TCP and TLS connections. */
  connectionCount(): { TCP: number; TLS: number } {
    return { TCP: this.tcp?.size ?? 0, TLS: this.tls?.size ?? 0 };
  }

  snapshot(): TransportCounters {
    return snapshot(this.counters);
  }

  /**
   * Sends a request whose top Via is ours: stamps its sent-by and transport
   * (§18.1.1) and sends it. A UDP request larger than `udpMtuLimit` goes
   * over TCP when we listen on TCP and the destination allows it (§18.1.1,
   * PITFALLS 17); if that connection fails it is retried over UDP. Resolves
   * with the transport used; rejects with TransportError.
   */
  async sendRequest(request: SipRequest, destination: Destination): Promise<TransportProtocol> {
    const { host, port } = destination;
    if (destination.transport === "UDP" && this.tcp !== undefined && destination.tcp !== false) {
      this.stamp(request, "UDP");
      if (request.toBytes().length > this.mtuLimit) {
        this.stamp(request, "TCP");
        try {
          await this.sendBytes("TCP", request.toBytes(), host, port);
          this.counters.largeRequestsOverTcp++;
          this.logOut(request, "TCP", host, port);
          return "TCP";
        } catch (e) {
          if (!(e instanceof TransportError)) throw e;
          this.counters.tcpFallbacksToUdp++;
          this.logger.info("tcp-fallback-to-udp", { target: `${host}:${port}`, code: e.code, ...messageFields(request) });
        }
      }
    }
    this.stamp(request, destination.transport);
    await this.sendBytes(destination.transport, request.toBytes(), host, port);
    this.logOut(request, destination.transport, host, port);
    return destination.transport;
  }

  /**
   * Sends a response where its top Via says (§18.2.2): on the connection
   * the request came on while it is open, else to `received`/`rport` or the
   * sent-by. Rejects with TransportError.
   */
  async sendResponse(response: SipResponse, source?: MessageSource): Promise<void> {
    const target = responseTarget(response.topVia, source);
    if (target === undefined) {
      this.counters.sendErrors++;
      throw new TransportError("UDP", response.topVia.host, "EPROTONOSUPPORT", `no transport for Via ${response.topVia.transport}`);
    }
    const bytes = response.toBytes();
    if (target.connectionId !== undefined) {
      const conn = this.streams(target.transport)?.connection(target.connectionId);
      if (conn !== undefined) {
        await this.write(conn, bytes);
        this.logOut(response, target.transport, conn.remote.address, conn.remote.port);
        return;
      }
    }
    await this.sendBytes(target.transport, bytes, target.host, target.port);
    this.logOut(response, target.transport, target.host, target.port);
  }

  /**
   * A CRLFCRLF keep-alive (RFC 5626 §4.4.1's ping, which phones and NATs
   * take on any transport): keeps a legacy phone's NAT binding open so
   * calls reach it (issue 5). Rejects with TransportError.
   */
  async sendKeepAlive(destination: Destination): Promise<void> {
    await this.sendBytes(destination.transport, CRLFCRLF, destination.host, destination.port);
  }

  /** True when a Via's sent-by is one we put into requests (§18.1.2). */
  isOurSentBy(via: { transport: string; host: string; port: number | undefined }): boolean {
    for (const [transport, s] of this.sentBy) {
      if (via.transport !== transport) continue;
      if (bareHost(via.host) === bareHost(s.host) && (via.port ?? defaultPort(transport)) === s.port) return true;
    }
    return false;
  }

  // ---- receiving -------------------------------------------------------------

  private receiveDatagram(data: Uint8Array, from: { address: string; port: number }): void {
    // CRLF keep-alives over UDP: nothing to answer (RFC 5626 uses STUN on UDP).
    if (isBlank(data)) return;
    if (isStunMessage(data)) {
      const response = stunBindingResponse(data, from);
      if (response === undefined) return;
      this.counters.stunBindingsAnswered++;
      this.udp?.send(response, from.address, from.port).catch((err: unknown) => {
        this.counters.sendErrors++;
        this.logger.info("stun-send-failed", { target: `${from.address}:${from.port}`, error: (err as Error).message });
      });
      return;
    }
    const local = this.udp?.address ?? { address: "", port: 0 };
    this.receive(readInbound(data, this.config.limits), { transport: "UDP", address: from.address, port: from.port, local });
  }

  private streamSource(protocol: "TCP" | "TLS", conn: StreamConnection): MessageSource {
    return { transport: protocol, address: conn.remote.address, port: conn.remote.port, local: conn.local, connectionId: conn.id };
  }

  private receive(inbound: Inbound, source: MessageSource, conn?: StreamConnection): void {
    if (!inbound.ok) {
      this.rejectMalformed(inbound, source, conn);
      return;
    }
    const msg = inbound.message;
    this.counters.received[source.transport]++;
    if ("method" in msg) {
      markReceived(msg, source);
    } else if (!this.isOurSentBy(msg.topVia)) {
      // §18.1.2: a response whose top Via is not ours was misrouted.
      this.counters.misroutedResponses++;
      this.logger.info("sip-misrouted-response", { source: describeSource(source), ...messageFields(msg) });
      return;
    }
    this.logger.debug("sip-in", { source: describeSource(source), ...messageFields(msg) });
    try {
      this.handler?.(msg, source);
    } catch (e) {
      this.logger.error("sip-handler-error", { source: describeSource(source), error: e instanceof Error ? e.message : String(e), ...messageFields(msg) });
    }
  }

  /** 400 (or 505, 513) back to where it came from when an answer could be built; else dropped. */
  private rejectMalformed(inbound: Extract<Inbound, { ok: false }>, source: MessageSource, conn?: StreamConnection): void {
    const answer = inbound.answer;
    const fields = { source: describeSource(source), status: inbound.status, reason: inbound.reason, method: inbound.method, answered: answer !== undefined };
    if (answer === undefined) {
      this.counters.malformedDropped++;
      this.logger.info("sip-malformed", fields);
      return;
    }
    this.counters.malformedAnswered++;
    this.logger.info("sip-malformed", fields);
    // Straight back to the packet's source: the Via may be what was malformed.
    const bytes = answer.toBytes();
    const sent = conn !== undefined ? this.write(conn, bytes) : this.sendBytes("UDP", bytes, source.address, source.port);
    sent.catch((e) => this.logger.info("sip-malformed-answer-failed", { source: describeSource(source), error: e instanceof Error ? e.message : String(e) }));
  }

  // ---- sending ---------------------------------------------------------------

  private stamp(request: SipRequest, transport: TransportProtocol): void {
    const s = this.sentBy.get(transport);
    if (s === undefined) throw new TransportError(transport, "-", "EPROTONOSUPPORT", `no ${transport} listener to send from`);
    stampSentBy(request, transport, s.host, s.port);
  }

  private streams(transport: TransportProtocol): StreamListener | undefined {
    return transport === "TCP" ? this.tcp : transport === "TLS" ? this.tls : undefined;
  }

  private async sendBytes(transport: TransportProtocol, bytes: Uint8Array, host: string, port: number): Promise<void> {
    try {
      if (transport === "UDP") {
        if (this.udp === undefined) throw new TransportError("UDP", `${host}:${port}`, "EPROTONOSUPPORT", "no UDP listener");
        await this.udp.send(bytes, bareHost(host), port);
        this.counters.sent.UDP++;
        return;
      }
      const streams = this.streams(transport);
      if (streams === undefined) throw new TransportError(transport, `${host}:${port}`, "EPROTONOSUPPORT", `no ${transport} listener`);
      const conn = await streams.connectionTo(host, port);
      await this.write(conn, bytes);
    } catch (e) {
      this.counters.sendErrors++;
      const err = TransportError.from(transport, `${host}:${port}`, e);
      this.logger.info("sip-send-failed", { transport, target: err.target, code: err.code });
      throw err;
    }
  }

  private async write(conn: StreamConnection, bytes: Uint8Array): Promise<void> {
    await conn.write(bytes);
    this.counters.sent[conn.protocol]++;
  }

  private async listen(transport: TransportProtocol, open: () => Promise<{ address: string; port: number }>): Promise<void> {
    let bound: { address: string; port: number };
    try {
      bound = await open();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const cfg = transport === "UDP" ? this.config.udp : transport === "TCP" ? this.config.tcp : this.config.tls;
      const where = `${(cfg && cfg.host) ?? "127.0.0.1"}:${(cfg && cfg.port) ?? defaultPort(transport)}`;
      if (err.code === "EADDRINUSE") throw new Error(`SIP ${transport} port ${where} is already in use: stop what holds it or choose another port`);
      if (err.code === "EACCES") throw new Error(`SIP ${transport} port ${where} needs privileges (ports below 1024): run as root or choose a port above 1023`);
      throw new Error(`cannot listen for SIP over ${transport} on ${where}: ${err.message}`);
    }
    this.sentBy.set(transport, { host: this.config.advertise ?? bound.address, port: bound.port });
    this.logger.info("sip-listening", { transport, address: bound.address, port: bound.port, reliable: isReliable(transport) });
  }

  private logOut(msg: SipRequest | SipResponse, transport: TransportProtocol, host: string, port: number): void {
    this.logger.debug("sip-out", { target: describeSource({ transport, address: host, port }), ...messageFields(msg) });
  }
}

async function readTlsFiles(c: TlsListenerConfig): Promise<TlsOptions> {
  const read = async (what: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new Error(`cannot read the TLS ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const tls: TlsOptions = { cert: await read("certificate", c.certFile), key: await read("key", c.keyFile) };
  if (c.caFile !== undefined) tls.ca = await read("CA", c.caFile);
  if (c.rejectUnauthorized === false) tls.rejectUnauthorized = false;
  return tls;
}

function isBlank(data: Uint8Array): boolean {
  for (const b of data) if (b !== 13 && b !== 10) return false;
  return true;
}
