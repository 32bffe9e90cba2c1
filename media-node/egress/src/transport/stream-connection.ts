// One TCP or TLS connection carrying SIP (RFC 3261 §18.3): messages framed
// by Content-Length with sip-parser-ts's StreamFramer, RFC 5626 §4.4.1
// keep-alives answered (a CRLFCRLF ping gets a CRLF pong), closed when idle.
import type { Socket } from "node:net";
import { type ParseLimits, type SipParseError, StreamFramer } from "sip-parser-ts";
import type { Clock, TimerHandle } from "../clock.ts";
import type { TransportProtocol } from "./protocol.ts";
import { TransportError } from "./transport-error.ts";

export interface StreamConnectionEvents {
  message(data: Uint8Array, conn: StreamConnection): void;
  /** The stream cannot be framed any more; the connection is closed after this. */
  framingError(err: SipParseError, conn: StreamConnection): void;
  keepAlive(conn: StreamConnection): void;
  closed(conn: StreamConnection, reason: string): void;
}

const CRLF = new Uint8Array([13, 10]);

let nextId = 0;

export class StreamConnection {
  readonly id: string;
  readonly remote: { address: string; port: number };
  readonly local: { address: string; port: number };
  private readonly framer: StreamFramer;
  private lastActivity: number;
  private idleTimer: TimerHandle | undefined;
  private isClosed = false;

  constructor(
    readonly protocol: Exclude<TransportProtocol, "UDP">,
    readonly direction: "inbound" | "outbound",
    private readonly socket: Socket,
    private readonly events: StreamConnectionEvents,
    private readonly clock: Clock,
    private readonly idleTimeoutMs: number,
    limits?: Partial<ParseLimits>,
  ) {
    this.id = `${protocol.toLowerCase()}-${++nextId}`;
    this.remote = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    this.local = { address: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.framer = new StreamFramer(limits);
    this.lastActivity = clock.now();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => this.shutdown(`error: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    socket.on("close", () => this.shutdown("closed by peer"));
    this.armIdleTimer(idleTimeoutMs);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(data: Uint8Array): Promise<void> {
    const target = `${this.remote.address}:${this.remote.port}`;
    if (this.isClosed) return Promise.reject(new TransportError(this.protocol, target, "ECONNRESET", `${this.protocol} connection to ${target} is closed`));
    this.lastActivity = this.clock.now();
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(TransportError.from(this.protocol, target, err)) : resolve()));
    });
  }

  close(reason = "closed locally"): void {
    this.shutdown(reason);
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.lastActivity = this.clock.now();
    this.framer.push(chunk);
    for (let e = this.framer.next(); e !== undefined; e = this.framer.next()) {
      if ("message" in e) {
        this.events.message(e.message, this);
      } else if ("keepAlive" in e) {
        // RFC 5626 §4.4.1: answer a CRLFCRLF ping with a CRLF pong.
        this.socket.write(CRLF);
        this.events.keepAlive(this);
      } else if ("error" in e) {
        this.events.framingError(e.error, this);
        this.shutdown(`framing error: ${e.error.reason}`);
        return;
      }
      // A pong ({ pong }) needs nothing beyond the activity it shows.
      if (this.isClosed) return;
    }
  }

  /** The idle timer fires, then re-arms itself for what is left if there was traffic meanwhile. */
  private armIdleTimer(ms: number): void {
    if (this.idleTimeoutMs <= 0) return;
    this.idleTimer = this.clock.setTimeout(() => {
      const idle = this.clock.now() - this.lastActivity;
      if (idle >= this.idleTimeoutMs) this.shutdown("idle");
      else this.armIdleTimer(this.idleTimeoutMs - idle);
    }, ms);
  }

  private shutdown(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer);
    // end() lets what is written go out first; destroy() if the peer is gone.
    if (reason === "idle" || reason === "closed locally") this.socket.end();
    else this.socket.destroy();
    this.events.closed(this, reason);
  }
}
