import { DurableObject } from "cloudflare:workers";
import { parseMessage, randomToken, SipParseError, SipRequest, SipResponse, SipUri } from "sip-parser-ts";
import { parseAor, type Aor } from "../aor.ts";
import { Authenticator, NONCE_MAX_AGE_MS, type AuthKind, type Authenticated } from "../auth/authenticator.ts";
import { LoginLimiter } from "../auth/login-limiter.ts";
import { readConfig } from "../config.ts";
import { SubscriberDirectory } from "../directory/subscribers.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import type { Binding } from "../registrar/binding.ts";
import { registerRequestOf } from "../registrar/register-request.ts";
import { Registrar } from "../registrar/registrar.ts";
import { SipError } from "../sip-error.ts";
import { errorResponse, respond } from "../sip-responses.ts";
import { attachFlow, flowOf, newFlowId, type Flow } from "./flow.ts";
import { FLOW_HEADERS, type ClientLocation } from "./flow-headers.ts";
import type { DeliverFrom, MessageSource } from "./message-source.ts";
import { migrate, USER_AGENT_MIGRATIONS } from "./schema.ts";
import { SqliteBindingStore } from "./sqlite-binding-store.ts";
import { SqliteFailureStore } from "./sqlite-failure-store.ts";
import { SqliteNonceCounts } from "./sqlite-nonce-counts.ts";
import { SubscriberCache } from "./subscriber-cache.ts";
import { TimerTable } from "./timer-table.ts";

/** Methods we name in Allow (RFC 3261 §20.5) when answering OPTIONS to the domain. */
const ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, REFER, NOTIFY, SUBSCRIBE";
const BINDING_EXPIRY_TIMER = "registrar:expiry";
const BINDING_EXPIRY_KIND = "binding-expiry";
/** WebSocket close code we use when the subscriber is disabled or deleted (4000–4999: application codes). */
const CLOSE_SUBSCRIBER_GONE = 4403;

/** What the admin API shows of a binding. */
export interface RegistrationView {
  contact: string;
  instance?: string;
  reg_id?: number;
  flow_id: string;
  flow_connected: boolean;
  outbound: boolean;
  expires_in: number;
  expires_at: string;
  registered_at: string;
  q?: number;
  call_id: string;
  cseq: number;
  user_agent?: string;
  location?: ClientLocation;
}

/**
 * One per AOR (ARCHITECTURE.md): holds the user's WebSockets with the
 * Hibernation API, and is their registrar (RFC 3261 §10, RFC 5626) and, with
 * the proxy core, their proxy. This class is the platform layer: it turns
 * sockets, RPC and the alarm into calls of the logic below (registrar, auth,
 * proxy), which import nothing from `cloudflare:*`.
 *
 * Hibernation re-runs the constructor, so every entry point first calls
 * `ensureInitialized()` (PartyServer's pattern; STYLE.md).
 */
export class UserAgent extends DurableObject<Env> {
  private initialized = false;
  /** This DO's AOR, known from the first upgrade or RPC and kept in `meta`. */
  protected aor: Aor | undefined;
  /** The To tag of our own final responses (RFC 3261 §8.2.6.2): one per DO instance is enough. */
  protected readonly toTag = randomToken(10);
  protected bindings!: SqliteBindingStore;
  protected registrar!: Registrar;
  protected timers!: TimerTable;
  protected subscribers!: SubscriberCache;
  private authenticator!: Authenticator;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // RFC 5626 §4.4.1 CRLFCRLF keep-alives are answered with CRLF by the
    // runtime without waking the DO (PLATFORM.md; PITFALLS 14).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("\r\n\r\n", "\r\n"));
  }

  /** Schema, state restore, wiring. Cheap after the first call. */
  protected ensureInitialized(aorHint?: string): void {
    if (!this.initialized) {
      const sql = this.ctx.storage.sql;
      migrate(sql, USER_AGENT_MIGRATIONS);
      const stored = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'aor'").toArray()[0]?.value;
      if (stored !== undefined) this.aor = parseAor(stored);
      this.bindings = new SqliteBindingStore(sql, this.ctx.storage);
      this.registrar = new Registrar(this.bindings);
      this.timers = new TimerTable(sql, this.ctx.storage);
      this.timers.on(BINDING_EXPIRY_KIND, () => this.expireBindings());
      this.subscribers = new SubscriberCache(sql, () => new SubscriberDirectory(readConfig(this.env)));
      this.authenticator = new Authenticator({
        secret: this.env.NONCE_SECRET ?? "",
        credentials: this.subscribers,
        nonceCounts: new SqliteNonceCounts(sql, NONCE_MAX_AGE_MS),
        limiter: new LoginLimiter(new SqliteFailureStore(sql)),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      });
      this.initialized = true;
    }
    if (this.aor === undefined && aorHint !== undefined) {
      const aor = parseAor(aorHint);
      if (aor !== undefined) {
        this.aor = aor;
        this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('aor', ?)", aor.aor);
      }
    }
  }

  // ---------------------------------------------------------------- sockets

  /** The WebSocket upgrade the Worker hands over (http/sip-websocket.ts has checked it). */
  override async fetch(request: Request): Promise<Response> {
    this.ensureInitialized(request.headers.get(FLOW_HEADERS.aor) ?? undefined);
    if (this.aor === undefined) return new Response("no AOR\n", { status: 400 });
    if ((request.headers.get("Upgrade") ?? "").toLowerCase() !== "websocket") return new Response("WebSocket upgrade expected\n", { status: 426 });
    const flow: Flow = { id: newFlowId(), connectedAt: Date.now(), location: parseLocation(request.headers.get(FLOW_HEADERS.location)) };
    const ip = request.headers.get(FLOW_HEADERS.clientIp);
    if (ip !== null) flow.ip = ip;
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    this.ctx.acceptWebSocket(server, [flow.id]);
    attachFlow(server, flow);
    logEvent("flow-opened", { aor: this.aor.aor, flow: flow.id, ip: flow.ip, colo: flow.location.colo });
    // The DO itself must echo the subprotocol, or browsers drop the socket (PLATFORM.md; RFC 7118 §4).
    return new Response(null, { status: 101, webSocket: client, headers: { "Sec-WebSocket-Protocol": "sip" } });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      this.ensureInitialized();
      const flow = flowOf(ws);
      if (flow === undefined || this.aor === undefined) {
        ws.close(1011, "flow state lost");
        return;
      }
      const text = typeof message === "string" ? message : new TextDecoder().decode(message);
      if (isKeepAlive(text)) {
        // The runtime answers an exact CRLFCRLF frame itself; other blank frames land here. CRLF alone is a pong.
        if (text === "\r\n\r\n") ws.send("\r\n");
        return;
      }
      let msg: SipRequest | SipResponse;
      try {
        msg = parseMessage(text);
      } catch (err) {
        this.answerUnparsable(ws, flow, err, text);
        return;
      }
      const source: MessageSource = { kind: "flow", flow, ws };
      if (msg instanceof SipRequest) await this.handleRequest(msg, source);
      else await this.handleResponse(msg, source);
    } catch (err) {
      // Never throw out of a socket handler: the DO must keep serving (issue 3).
      logEvent("ws-message-failed", { aor: this.aor?.aor, message: errorText(err) }, "error");
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // Complete the closing handshake (RFC 6455 §5.5.1), or the client waits for its own timeout.
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason.slice(0, 100));
    } catch {
      // already closed
    }
    await this.flowEnded(ws, "close", { code, reason: reason.slice(0, 100) });
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    await this.flowEnded(ws, "error", { message: errorText(error) });
  }

  private async flowEnded(ws: WebSocket, how: string, detail: Record<string, string | number>): Promise<void> {
    try {
      this.ensureInitialized();
      const flow = flowOf(ws);
      if (flow === undefined) return;
      await this.closeFlow(flow.id, how, detail);
    } catch (err) {
      logEvent("flow-close-failed", { aor: this.aor?.aor, message: errorText(err) }, "error");
    }
  }

  /** A flow is gone: its bindings go with it (PITFALLS 13, 15), then the proxy's hook. Idempotent. */
  private async closeFlow(flowId: string, how: string, detail: Record<string, string | number> = {}): Promise<void> {
    const removed = this.bindings.removeFlow(flowId);
    this.ctx.storage.sql.exec("DELETE FROM auth_failures WHERE scope = ?", `flow:${flowId}`);
    logEvent("flow-closed", { aor: this.aor?.aor, flow: flowId, how, bindings_removed: removed.length, ...detail });
    await this.onFlowClosed(flowId);
  }

  /**
   * PROXY HOOK: a flow (socket) closed or failed. Its bindings are already
   * removed; the proxy core ends the dialogs that lived on it (BYE to the
   * other side; PITFALLS 5, 13).
   */
  protected async onFlowClosed(_flowId: string): Promise<void> {}

  /** A frame that is not one SIP message: 400/513 if we can tell whom to answer, else dropped. */
  private answerUnparsable(ws: WebSocket, flow: Flow, err: unknown, text: string): void {
    if (!(err instanceof SipParseError)) {
      logEvent("frame-dropped", { aor: this.aor?.aor, flow: flow.id, why: errorText(err) }, "warn");
      return;
    }
    const partial = err.partial ?? (err.status === 513 ? headOf(text) : undefined);
    if (partial instanceof SipRequest && partial.method !== "ACK") {
      try {
        ws.send(respond(partial, err.status, err.reason, [], this.toTag).toString());
        logEvent("sip-refused", { aor: this.aor?.aor, flow: flow.id, call_id: safeCallId(partial), status: err.status, reason: err.reason });
        return;
      } catch (inner) {
        // The partial message lacks what a response needs (Via, Call-ID, …): drop it.
        logEvent("frame-dropped", { aor: this.aor?.aor, flow: flow.id, why: err.reason, detail: errorText(inner) }, "warn");
        return;
      }
    }
    logEvent("frame-dropped", { aor: this.aor?.aor, flow: flow.id, why: err.reason }, "warn");
  }

  // ------------------------------------------------------------- SIP layer

  /** Dispatches a request by method; a SipError anywhere below becomes its response here. */
  protected async handleRequest(req: SipRequest, source: MessageSource): Promise<void> {
    try {
      if (req.method === "REGISTER" && source.kind === "flow") {
        await this.onRegister(req, source);
      } else if (req.method === "OPTIONS" && this.isForDomain(req)) {
        this.send(source, respond(req, 200, "OK", [["Allow", ALLOW], ["Accept", "application/sdp"], ["Supported", "outbound, path"]], this.toTag));
      } else {
        await this.proxyRequest(req, source);
      }
    } catch (err) {
      if (req.method === "ACK") return; // never answered (RFC 3261 §17.2.1)
      let sipErr: SipError;
      if (err instanceof SipError) sipErr = err;
      else if (err instanceof SipParseError) sipErr = new SipError(err.status, err.reason, [], "malformed-header");
      else {
        logEvent("request-failed", { aor: this.aor?.aor, call_id: safeCallId(req), method: req.method, message: errorText(err) }, "error");
        sipErr = new SipError(500, "Server Internal Error");
      }
      try {
        this.send(source, errorResponse(req, sipErr, this.toTag));
      } catch (sendErr) {
        logEvent("response-failed", { aor: this.aor?.aor, call_id: safeCallId(req), message: errorText(sendErr) }, "error");
        return;
      }
      logEvent("sip-refused", {
        aor: this.aor?.aor,
        call_id: safeCallId(req),
        method: req.method,
        status: sipErr.status,
        reason: sipErr.reason,
        why: sipErr.why,
        flow: source.kind === "flow" ? source.flow.id : undefined,
      });
    }
  }

  /**
   * PROXY HOOK: every request that is not a REGISTER or an OPTIONS to the
   * domain (RFC 3261 §16). Until the proxy core lands: 501.
   */
  protected async proxyRequest(req: SipRequest, _source: MessageSource): Promise<void> {
    if (req.method === "ACK") return;
    throw new SipError(501, "Not Implemented");
  }

  /** PROXY HOOK: a response arrived (from a socket or by RPC). Until the proxy core lands: dropped. */
  protected async handleResponse(res: SipResponse, source: MessageSource): Promise<void> {
    logEvent("sip-response-dropped", { aor: this.aor?.aor, call_id: safeCallId(res), status: res.status, from: source.kind });
  }

  /** Sends a message where `source` is: its socket, or back by RPC to the DO it came from. */
  protected send(source: MessageSource, msg: SipRequest | SipResponse | string): void {
    const text = typeof msg === "string" ? msg : msg.toString();
    if (source.kind === "flow") {
      source.ws.send(text);
    } else if (source.kind === "user" && source.aor !== undefined) {
      const stub = this.env.USER_AGENT.get(this.env.USER_AGENT.idFromName(source.aor));
      this.ctx.waitUntil(stub.deliver(text, { kind: "user", ...(this.aor !== undefined ? { aor: this.aor.aor } : {}) }));
    } else {
      logEvent("send-unroutable", { aor: this.aor?.aor, to: source.kind }, "warn");
    }
  }

  /** Sends to one of this AOR's flows by id; false if that socket is gone. Routing by flow, never by Contact host (PITFALLS 5). */
  protected sendToFlow(flowId: string, text: string): boolean {
    const ws = this.ctx.getWebSockets(flowId)[0];
    if (ws === undefined) return false;
    try {
      ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * RPC: SIP from another DO (a user's UserAgent or an EgressLink). The proxy
   * core routes it; until then requests get 501 (sent back by RPC).
   */
  async deliver(message: string, from: DeliverFrom): Promise<void> {
    this.ensureInitialized();
    let msg: SipRequest | SipResponse;
    try {
      msg = parseMessage(message);
    } catch (err) {
      logEvent("deliver-unparsable", { aor: this.aor?.aor, from: from.aor ?? from.kind, why: errorText(err) }, "warn");
      return;
    }
    const source: MessageSource = from.kind === "user" && from.aor !== undefined ? { kind: "user", aor: from.aor } : { kind: "egress" };
    if (msg instanceof SipRequest) await this.handleRequest(msg, source);
    else await this.handleResponse(msg, source);
  }

  /** Is this request addressed to the domain itself (no user part)? */
  protected isForDomain(req: SipRequest): boolean {
    const uri = req.uri;
    return uri instanceof SipUri && uri.user === undefined && this.aor !== undefined && uri.host.toLowerCase() === this.aor.domain;
  }

  /**
   * Digest authentication of this AOR's own UA: `www` → 401 (REGISTER),
   * `proxy` → 407 (INVITE and other requests the proxy challenges). Throws
   * the SipError to answer. For the proxy core.
   */
  async authenticateRequest(req: SipRequest, kind: AuthKind, source: MessageSource): Promise<Authenticated> {
    if (this.aor === undefined) throw new SipError(500, "Server Internal Error");
    const scopes = source.kind === "flow" ? [`flow:${source.flow.id}`, ...(source.flow.ip !== undefined ? [`src:${source.flow.ip}`] : [])] : [];
    return this.authenticator.authenticate(req, kind, { aor: this.aor, nowMs: Date.now(), scopes });
  }

  /** authenticateRequest for a request that came on one of our flows, known by id (the proxy core's ProxyHost.authenticate). */
  async authenticateOnFlow(req: SipRequest, kind: AuthKind, flowId: string): Promise<Authenticated> {
    const ws = this.ctx.getWebSockets(flowId)[0];
    const flow = ws === undefined ? undefined : flowOf(ws);
    if (ws === undefined || flow === undefined) throw new SipError(403, "Forbidden - Connection gone", [], "flow-gone");
    return this.authenticateRequest(req, kind, { kind: "flow", flow, ws });
  }

  // -------------------------------------------------------------- registrar

  /** REGISTER (RFC 3261 §10.3), only over this AOR's own sockets. */
  private async onRegister(req: SipRequest, source: Extract<MessageSource, { kind: "flow" }>): Promise<void> {
    const aor = this.aor!;
    // Step 1: the Request-URI names our domain.
    const ruri = req.uri;
    if (!(ruri instanceof SipUri) || ruri.host.toLowerCase() !== aor.domain) {
      throw new SipError(404, "Not Found - Domain not served here", [], "request-uri-domain");
    }
    // Step 5, before authenticating: this socket speaks for one AOR only.
    const to = req.to.uri;
    if (!(to instanceof SipUri) || to.user !== aor.user || to.host.toLowerCase() !== aor.domain) {
      throw new SipError(403, "Forbidden - To is not this connection's AOR", [], "to-not-aor");
    }
    const view = registerRequestOf(req); // validates the Contacts (400) before we spend a challenge
    this.registrar.checkRequire(view); // step 2
    const auth = await this.authenticateRequest(req, "www", source); // steps 3–4
    const nowMs = Date.now();
    const result = this.registrar.register(view, { flowId: source.flow.id, nowMs });
    const next = this.bindings.nextExpiry();
    if (next !== undefined) this.timers.scheduleNoLaterThan(BINDING_EXPIRY_TIMER, next, BINDING_EXPIRY_KIND);
    this.send(source, respond(req, 200, "OK", result.headers, this.toTag));
    logEvent("register", {
      aor: aor.aor,
      call_id: view.callId,
      flow: source.flow.id,
      algorithm: auth.algorithm,
      added: result.added,
      refreshed: result.refreshed,
      removed: result.removed,
      bindings: result.bindings.length,
      outbound: result.outbound,
    });
  }

  /** Timer: drops expired bindings and re-arms at the next expiry (idempotent). */
  private expireBindings(): void {
    const removed = this.bindings.removeExpired(Date.now());
    if (removed > 0) logEvent("bindings-expired", { aor: this.aor?.aor, removed });
    const next = this.bindings.nextExpiry();
    if (next !== undefined) this.timers.schedule(BINDING_EXPIRY_TIMER, next, BINDING_EXPIRY_KIND);
  }

  override async alarm(): Promise<void> {
    try {
      this.ensureInitialized();
      await this.timers.fire(Date.now());
    } catch (err) {
      logEvent("alarm-failed", { aor: this.aor?.aor, message: errorText(err) }, "error");
      throw err; // the runtime retries the alarm
    }
  }

  // -------------------------------------------------------------- admin RPC

  /** RPC from the admin API: the subscriber changed in the directory. Disabling or deleting takes effect at once. */
  async subscriberChanged(aor: string, change: "created" | "updated" | "disabled" | "deleted"): Promise<void> {
    this.ensureInitialized(aor);
    this.subscribers.invalidate();
    if (change === "disabled" || change === "deleted") {
      const sockets = this.ctx.getWebSockets();
      for (const ws of sockets) {
        const flow = flowOf(ws);
        try {
          ws.close(CLOSE_SUBSCRIBER_GONE, `subscriber ${change}`);
        } catch {
          // already closing
        }
        if (flow !== undefined) await this.closeFlow(flow.id, change);
      }
      const removed = this.bindings.removeAll();
      logEvent("subscriber-refused-now", { aor, change, sockets_closed: sockets.length, bindings_removed: removed.length });
    } else {
      logEvent("subscriber-cache-dropped", { aor, change });
    }
  }

  /** RPC from the admin API: the AOR's current bindings. */
  async registrations(aor: string): Promise<RegistrationView[]> {
    this.ensureInitialized(aor);
    const now = Date.now();
    const connected = new Map<string, Flow>();
    for (const ws of this.ctx.getWebSockets()) {
      const f = flowOf(ws);
      if (f !== undefined) connected.set(f.id, f);
    }
    return this.bindings.list(now).map((b) => registrationView(b, now, connected.get(b.flowId)));
  }

  /** RPC from the admin API: the AOR's active dialogs. PROXY HOOK: empty until the proxy core stores dialogs. */
  async dialogs(aor: string): Promise<unknown[]> {
    this.ensureInitialized(aor);
    return [];
  }
}

function registrationView(b: Binding, now: number, flow: Flow | undefined): RegistrationView {
  return {
    contact: b.uri,
    ...(b.instance !== undefined ? { instance: b.instance } : {}),
    ...(b.regId !== undefined ? { reg_id: b.regId } : {}),
    flow_id: b.flowId,
    flow_connected: flow !== undefined,
    outbound: b.outbound,
    expires_in: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
    expires_at: new Date(b.expiresAt).toISOString(),
    registered_at: new Date(b.registeredAt).toISOString(),
    ...(b.q !== undefined ? { q: b.q } : {}),
    call_id: b.callId,
    cseq: b.cseq,
    ...(b.userAgent !== undefined ? { user_agent: b.userAgent } : {}),
    ...(flow !== undefined ? { location: flow.location } : {}),
  };
}

/** Blank frames: RFC 5626 §4.4.1 keep-alives (CRLFCRLF ping, CRLF pong); kept out of the parser (PITFALLS 14). */
function isKeepAlive(text: string): boolean {
  if (text.length === 0 || text.length > 8) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 13 && c !== 10) return false;
  }
  return true;
}

/**
 * The header block of an oversized message, parsed on its own so that it can
 * be answered 513 (RFC 3261 §21.5.14): the parser refuses the whole message
 * before framing it.
 */
function headOf(text: string): SipRequest | undefined {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0 || end > 16_384) return undefined;
  const head = text.slice(0, end).replace(/\r\n(content-length|l)[ \t]*:[^\r]*/gi, "");
  try {
    const msg = parseMessage(head + "\r\nContent-Length: 0\r\n\r\n");
    return msg instanceof SipRequest ? msg : undefined;
  } catch {
    return undefined;
  }
}

function parseLocation(header: string | null): ClientLocation {
  if (header === null) return {};
  try {
    const v = JSON.parse(header) as unknown;
    return typeof v === "object" && v !== null ? (v as ClientLocation) : {};
  } catch {
    return {};
  }
}

function safeCallId(msg: SipRequest | SipResponse): string | undefined {
  try {
    return msg.callId;
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
