// The egress's link to the edge (ARCHITECTURE.md "Browser to carrier",
// "Carrier to browser"): one WebSocket to `${edge}/egress/${id}` with
// subprotocol `sip` (RFC 7118), authenticated by a token signed with the
// egress secret (workers/src/egress/egress-token.ts), a new one for every
// attempt (the edge refuses a nonce it has seen). One SIP message per text
// frame. The edge holds the socket in its EgressLink Durable Object; a
// newer connection with the same id replaces an older one.
//
// Keep-alive (RFC 5626 §4.4.1 over the WebSocket, PITFALLS 14): every
// `keepaliveMs` we send CRLFCRLF, which the edge answers with CRLF without
// waking the DO; a link that stays silent for a whole interval after a ping
// is dead (a half-open TCP connection): it is closed and dialed again.
import WebSocket from "ws";
import { signEgressToken } from "../../../../workers/src/egress/egress-token.ts";
import type { Logger } from "../log.ts";
import { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelay } from "./backoff.ts";

export type LinkState = "connecting" | "up" | "down" | "stopped";

export interface EdgeLinkOptions {
  /** The edge's base URL (http(s):// or ws(s)://); the link dials `<base>/egress/<id>`. */
  edgeUrl: string;
  linkId: string;
  secret: string;
  logger: Logger;
  /** CRLFCRLF ping interval; 0 for none. */
  keepaliveMs: number;
  backoff?: BackoffPolicy;
  /** Give up an opening handshake after this long. */
  handshakeTimeoutMs?: number;
  random?: () => number;
}

export interface LinkCounters {
  /** Connections that opened. */
  connects: number;
  /** Attempts that failed before opening (refused, unreachable, 401, …). */
  failedAttempts: number;
  /** Open connections that closed. */
  disconnects: number;
  framesIn: number;
  framesOut: number;
  /** Connections closed because a keep-alive went unanswered. */
  keepaliveTimeouts: number;
}

/** A link that has stayed up this long counts as healthy: the next failure starts the backoff from the beginning. */
const STABLE_MS = 10_000;

export class EdgeLink {
  readonly url: string;
  readonly counters: LinkCounters = { connects: 0, failedAttempts: 0, disconnects: 0, framesIn: 0, framesOut: 0, keepaliveTimeouts: 0 };
  private stateValue: LinkState = "down";
  private ws: WebSocket | undefined;
  private attempt = 0;
  private openedAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private heardSincePing = true;
  private frameHandler: (text: string) => void = () => undefined;
  private readonly stateHandlers: Array<(state: LinkState) => void> = [];

  constructor(private readonly opts: EdgeLinkOptions) {
    this.url = linkUrl(opts.edgeUrl, opts.linkId);
  }

  get state(): LinkState {
    return this.stateValue;
  }

  /** When the link next tries, roughly (for Retry-After while it is down), in ms from now. */
  get retryInMs(): number {
    return this.stateValue === "up" ? 0 : backoffDelay(this.attempt, this.opts.backoff ?? DEFAULT_BACKOFF, () => 1);
  }

  /** Every SIP frame from the edge (keep-alives are handled here). */
  onFrame(handler: (text: string) => void): void {
    this.frameHandler = handler;
  }

  onStateChange(handler: (state: LinkState) => void): void {
    this.stateHandlers.push(handler);
  }

  start(): void {
    if (this.stateValue === "stopped" || this.ws !== undefined) return;
    this.connect();
  }

  /** Sends one SIP message; false when the link is not up (the caller answers 503). */
  send(text: string): boolean {
    const ws = this.ws;
    if (this.stateValue !== "up" || ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    this.counters.framesOut++;
    return true;
  }

  /** Closes the link for good (shutdown): 1001 Going Away. */
  async stop(): Promise<void> {
    this.setState("stopped");
    clearTimeout(this.retryTimer);
    clearInterval(this.keepaliveTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      ws.once("close", () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(1001, "egress stopping");
    });
  }

  private connect(): void {
    const { linkId, secret, logger } = this.opts;
    this.setState("connecting");
    // A fresh token (nonce) for every attempt: the edge refuses a reused one with 401.
    const token = signEgressToken(secret, linkId, Date.now());
    const ws = new WebSocket(this.url, "sip", {
      headers: { Authorization: `Bearer ${token}` },
      handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
      perMessageDeflate: false,
    });
    this.ws = ws;
    let opened = false;
    ws.on("open", () => {
      opened = true;
      this.openedAt = Date.now();
      this.counters.connects++;
      this.heardSincePing = true;
      this.armKeepalive(ws);
      this.setState("up");
    });
    ws.on("message", (data, isBinary) => {
      this.heardSincePing = true;
      const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
      if (text === "\r\n\r\n") {
        // The edge's ping (RFC 5626 §4.4.1): answer with CRLF.
        ws.send("\r\n");
        return;
      }
      if (text.trim() === "") return; // our ping's pong
      this.counters.framesIn++;
      this.frameHandler(text);
    });
    ws.on("error", (err) => {
      // Followed by "close"; a refused upgrade says its HTTP status here ("Unexpected server response: 401").
      logger.warn("link-error", { link: linkId, error: err.message });
    });
    ws.on("close", (code, reasonBytes) => {
      clearInterval(this.keepaliveTimer);
      if (this.ws === ws) this.ws = undefined;
      if (this.stateValue === "stopped") return;
      const reason = reasonBytes.toString().slice(0, 100);
      if (opened) {
        this.counters.disconnects++;
        if (Date.now() - this.openedAt >= STABLE_MS) this.attempt = 0;
      } else {
        this.counters.failedAttempts++;
      }
      const delay = backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF, this.opts.random);
      logger.warn("link-down", { link: linkId, code, reason, was_open: opened, retry_in_ms: delay });
      this.setState("down");
      this.retryTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private armKeepalive(ws: WebSocket): void {
    clearInterval(this.keepaliveTimer);
    if (this.opts.keepaliveMs <= 0) return;
    this.keepaliveTimer = setInterval(() => {
      if (!this.heardSincePing) {
        this.counters.keepaliveTimeouts++;
        this.opts.logger.warn("link-keepalive-timeout", { link: this.opts.linkId, silent_ms: this.opts.keepaliveMs });
        ws.terminate();
        return;
      }
      this.heardSincePing = false;
      if (ws.readyState === WebSocket.OPEN) ws.send("\r\n\r\n");
    }, this.opts.keepaliveMs);
    this.keepaliveTimer.unref();
  }

  private setState(state: LinkState): void {
    if (state === this.stateValue) return;
    const from = this.stateValue;
    this.stateValue = state;
    this.opts.logger.info("link-state", { link: this.opts.linkId, from, to: state, url: this.url });
    for (const h of this.stateHandlers) h(state);
  }
}

/** `<edge>/egress/<id>` as a WebSocket URL (http → ws, https → wss). */
export function linkUrl(edgeUrl: string, linkId: string): string {
  const u = new URL(edgeUrl);
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/egress/${encodeURIComponent(linkId)}`;
  u.search = "";
  u.hash = "";
  return u.toString();
}
