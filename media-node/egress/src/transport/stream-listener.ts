// SIP over TCP and TLS (RFC 3261 §18.3, §26.2): a listening server and a
// pool of connections, one per remote address (§18.1.1: a client SHOULD
// reuse an open connection to the same destination; §18.2.2: responses go
// back on the connection the request came on).
import { type Server, type Socket, connect as tcpConnect, createServer as createTcpServer, isIP } from "node:net";
import { type SecureContextOptions, connect as tlsConnect, createServer as createTlsServer } from "node:tls";
import type { ParseLimits } from "sip-parser-ts";
import type { Clock } from "../clock.ts";
import { StreamConnection, type StreamConnectionEvents } from "./stream-connection.ts";
import { TransportError } from "./transport-error.ts";
import { bareHost } from "./via-stamp.ts";

export interface TlsOptions {
  /** PEM certificate chain and key of our listener (and client certificate when we dial). */
  cert: string | Buffer;
  key: string | Buffer;
  /** Trusted CAs for the peers we dial; the system store when omitted. */
  ca?: string | Buffer;
  /** Check the peer's certificate when we dial (default true). */
  rejectUnauthorized?: boolean;
}

export interface StreamListenerOptions {
  protocol: "TCP" | "TLS";
  host: string;
  port: number;
  tls?: TlsOptions;
  /** Close a connection with no traffic for this long (default 5 minutes; 0 never). */
  idleTimeoutMs: number;
  /** Give up dialing after this long (default 5 s). */
  connectTimeoutMs: number;
  limits?: Partial<ParseLimits>;
}

function poolKey(host: string, port: number): string {
  return `${bareHost(host)}|${port}`;
}

export class StreamListener {
  private server: Server | undefined;
  private bound: { address: string; port: number } | undefined;
  private readonly byId = new Map<string, StreamConnection>();
  /** Open connections and dials in progress, by remote address. */
  private readonly byRemote = new Map<string, StreamConnection | Promise<StreamConnection>>();

  constructor(
    private readonly options: StreamListenerOptions,
    private readonly events: Omit<StreamConnectionEvents, "closed"> & { opened(conn: StreamConnection): void; closed: StreamConnectionEvents["closed"] },
    private readonly clock: Clock,
  ) {
    if (options.protocol === "TLS" && options.tls === undefined) throw new TypeError("a TLS listener needs a certificate and key");
  }

  get protocol(): "TCP" | "TLS" {
    return this.options.protocol;
  }

  async listen(): Promise<{ address: string; port: number }> {
    const onSocket = (socket: Socket): void => {
      this.adopt(socket, "inbound");
    };
    const tls = this.options.tls;
    const server =
      this.options.protocol === "TLS" && tls !== undefined
        ? createTlsServer({ cert: tls.cert, key: tls.key }, onSocket)
        : createTcpServer(onSocket);
    // A failed TLS handshake or a reset before accept is the peer's problem, not ours.
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.options.host, port: this.options.port, exclusive: true }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", () => {});
    this.server = server;
    const a = server.address();
    this.bound = typeof a === "object" && a !== null ? { address: a.address, port: a.port } : { address: this.options.host, port: this.options.port };
    return this.bound;
  }

  get address(): { address: string; port: number } | undefined {
    return this.bound;
  }

  connection(id: string): StreamConnection | undefined {
    const c = this.byId.get(id);
    return c !== undefined && !c.closed ? c : undefined;
  }

  /** How many connections are open. */
  get size(): number {
    return this.byId.size;
  }

  /** The open connection to host:port, or a new one (dials in progress are shared). */
  connectionTo(host: string, port: number): Promise<StreamConnection> {
    const key = poolKey(host, port);
    const existing = this.byRemote.get(key);
    if (existing instanceof StreamConnection && !existing.closed) return Promise.resolve(existing);
    if (existing instanceof Promise) return existing;
    const dial = this.dial(host, port).finally(() => {
      if (this.byRemote.get(key) === dial) this.byRemote.delete(key);
    });
    this.byRemote.set(key, dial);
    return dial.then((conn) => {
      this.byRemote.set(key, conn);
      return conn;
    });
  }

  async close(): Promise<void> {
    for (const c of [...this.byId.values()]) c.close("listener closed");
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private dial(host: string, port: number): Promise<StreamConnection> {
    const protocol = this.options.protocol;
    const target = `${host}:${port}`;
    const tls = this.options.tls;
    return new Promise((resolve, reject) => {
      let socket: Socket;
      const ready = (): void => {
        this.clock.clearTimeout(timer);
        socket.off("error", failed);
        resolve(this.adopt(socket, "outbound"));
      };
      const failed = (err: Error): void => {
        this.clock.clearTimeout(timer);
        socket.destroy();
        reject(TransportError.from(protocol, target, err));
      };
      if (protocol === "TLS") {
        const opts: SecureContextOptions & { host: string; port: number; servername?: string; rejectUnauthorized?: boolean } = { host, port };
        if (tls !== undefined) {
          opts.cert = tls.cert;
          opts.key = tls.key;
        }
        if (tls?.ca !== undefined) opts.ca = tls.ca;
        if (tls?.rejectUnauthorized === false) opts.rejectUnauthorized = false;
        // SNI carries names only (RFC 6066 §3).
        if (isIP(bareHost(host)) === 0) opts.servername = host;
        socket = tlsConnect(opts, ready);
      } else {
        socket = tcpConnect({ host: bareHost(host), port }, ready);
      }
      socket.on("error", failed);
      const timer = this.clock.setTimeout(() => failed(Object.assign(new Error(`no connection within ${this.options.connectTimeoutMs} ms`), { code: "ETIMEDOUT" })), this.options.connectTimeoutMs);
    });
  }

  private adopt(socket: Socket, direction: "inbound" | "outbound"): StreamConnection {
    const conn = new StreamConnection(
      this.options.protocol,
      direction,
      socket,
      {
        message: this.events.message,
        framingError: this.events.framingError,
        keepAlive: this.events.keepAlive,
        closed: (c, reason) => {
          this.byId.delete(c.id);
          const key = poolKey(c.remote.address, c.remote.port);
          if (this.byRemote.get(key) === c) this.byRemote.delete(key);
          this.events.closed(c, reason);
        },
      },
      this.clock,
      this.options.idleTimeoutMs,
      this.options.limits,
    );
    this.byId.set(conn.id, conn);
    const key = poolKey(conn.remote.address, conn.remote.port);
    if (!(this.byRemote.get(key) instanceof Promise)) this.byRemote.set(key, conn);
    this.events.opened(conn);
    return conn;
  }
}
