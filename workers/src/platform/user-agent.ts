import { DurableObject } from "cloudflare:workers";
import { parseMessage, parseNameAddr, randomToken, SipParseError, SipRequest, SipResponse, SipUri } from "sip-parser-ts";
import { parseAor, type Aor } from "../aor.ts";
import { Authenticator, LEGACY_PHONE_ALGORITHMS, NONCE_MAX_AGE_MS, type AuthKind, type Authenticated } from "../auth/authenticator.ts";
import { LoginLimiter } from "../auth/login-limiter.ts";
import { readConfig } from "../config.ts";
import { SubscriberDirectory } from "../directory/subscribers.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { MEDIA_MIGRATIONS } from "../media/media-session.ts";
import { CALL_COUNTER_MIGRATIONS } from "../trunks/index.ts";
import { EGRESS_HOP_PREFIX } from "../proxy/egress-hop.ts";
import { isPathFlow, parsePathFlow, PHONE_HEADER, pathFlowId } from "../proxy/path-flow.ts";
import type { EgressLink } from "./egress-link.ts";
import { ALLOW, PROXY_MIGRATIONS, ProxyCore } from "../proxy/index.ts";
import { registerRequestOf } from "../registrar/register-request.ts";
import { Registrar } from "../registrar/registrar.ts";
import { SipError } from "../sip-error.ts";
import { errorResponse, respond } from "../sip-responses.ts";
import { dialogView, registrationView, type DialogView, type RegistrationView } from "./admin-views.ts";
import { callMediaFor } from "./call-media-host.ts";
import type { AnswerKinds } from "../media/call-media.ts";
import { trunkRouterFor } from "./trunk-routing-host.ts";
import { attachFlow, flowOf, newFlowId, type Flow } from "./flow.ts";
import { FLOW_HEADERS } from "./flow-headers.ts";
import { FlowRecovery } from "./flow-recovery.ts";
import { LostFlows } from "./lost-flows.ts";
import type { DeliverFrom, DeliverResult, MessageSource } from "./message-source.ts";
import { DurableProxyHost, PROXY_TIMER_KIND } from "./proxy-host-adapter.ts";
import { migrate, USER_AGENT_MIGRATIONS } from "./schema.ts";
import { errorText, headOf, isKeepAlive, logMessage, parseLocation, safeCallId } from "./sip-frames.ts";
import { SqliteBindingStore } from "./sqlite-binding-store.ts";
import { SqliteFailureStore } from "./sqlite-failure-store.ts";
import { SqliteNonceCounts } from "./sqlite-nonce-counts.ts";
import { SubscriberCache } from "./subscriber-cache.ts";
import { TimerTable } from "./timer-table.ts";

const MIGRATIONS = [...USER_AGENT_MIGRATIONS, ...PROXY_MIGRATIONS, ...MEDIA_MIGRATIONS, ...CALL_COUNTER_MIGRATIONS];
const BINDING_EXPIRY_TIMER = "registrar:expiry";
const BINDING_EXPIRY_KIND = "binding-expiry";
/** WebSocket close code we use when the subscriber is disabled or deleted (4000–4999: application codes). */
const CLOSE_SUBSCRIBER_GONE = 4403;

/**
 * One per AOR (ARCHITECTURE.md): holds the user's WebSockets with the
 * Hibernation API, and is their registrar (RFC 3261 §10, RFC 5626) and,
 * through the proxy core (proxy/), their proxy (RFC 3261 §16). This class
 * is the platform layer: it turns sockets, RPC and the alarm into calls of
 * the logic below (registrar, auth, proxy), which import nothing from
 * `cloudflare:*`; platform/proxy-host-adapter.ts is the proxy's view of it.
 *
 * Hibernation re-runs the constructor, so every entry point first awaits
 * `ready()` (PartyServer's `ensureInitialized`; STYLE.md). No entry point
 * throws: a failure is logged and, where someone waits, answered.
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
  private lostFlows!: LostFlows;
  /** The proxy core, once the AOR is known: rebuilt on every wake-up, all its state is in SQLite. */
  private proxy: ProxyCore | undefined;
  /** Flows a restart took away (flow-recovery.ts), once the AOR is known. */
  private flowRecovery: FlowRecovery | undefined;
  /** Failing the transactions of flows lost to a restart; entry points wait for it. */
  private recovery: Promise<void> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // RFC 5626 §4.4.1 CRLFCRLF keep-alives are answered with CRLF by the
    // runtime without waking the DO (PLATFORM.md; PITFALLS 14).
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("\r\n\r\n", "\r\n"));
  }

  /** Schema, state restore, wiring, and (first time after a restart) recovery of lost flows. Cheap after the first call. */
  protected async ready(aorHint?: string): Promise<void> {
    this.ensureInitialized(aorHint);
    if (this.recovery !== undefined) await this.recovery;
  }

  private ensureInitialized(aorHint?: string): void {
    if (!this.initialized) {
      const sql = this.ctx.storage.sql;
      migrate(sql, MIGRATIONS);
      const stored = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'aor'").toArray()[0]?.value;
      if (stored !== undefined) this.aor = parseAor(stored);
      this.bindings = new SqliteBindingStore(sql, this.ctx.storage);
      this.registrar = new Registrar(this.bindings);
      this.timers = new TimerTable(sql, this.ctx.storage);
      this.timers.on(BINDING_EXPIRY_KIND, () => this.expireBindings());
      this.timers.on(PROXY_TIMER_KIND, (key) => this.proxy?.onTimer(key));
      this.subscribers = new SubscriberCache(sql, () => new SubscriberDirectory(readConfig(this.env)));
      this.authenticator = new Authenticator({
        secret: this.env.NONCE_SECRET ?? "",
        credentials: this.subscribers,
        nonceCounts: new SqliteNonceCounts(sql, NONCE_MAX_AGE_MS),
        limiter: new LoginLimiter(new SqliteFailureStore(sql)),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      });
      this.lostFlows = new LostFlows(sql);
      this.initialized = true;
    }
    if (this.aor === undefined && aorHint !== undefined) {
      const aor = parseAor(aorHint);
      // Only the name this DO was created from (the Worker and other DOs
      // derive the id from the AOR): a wrong hint must not rename it.
      if (aor !== undefined && this.env.USER_AGENT.idFromName(aor.aor).equals(this.ctx.id)) {
        this.aor = aor;
        this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('aor', ?)", aor.aor);
      }
    }
    if (this.aor !== undefined && this.proxy === undefined) this.startProxy(this.aor);
  }

  /** Builds the proxy core over this DO (the ProxyHost is proxy-host-adapter.ts), then looks for flows a restart took away. */
  private startProxy(aor: Aor): void {
    const secret = this.env.NONCE_SECRET ?? "";
    let domains: string[];
    try {
      domains = readConfig(this.env).domains;
    } catch (err) {
      logEvent("config-error", { aor: aor.aor, message: errorText(err) }, "error");
      return;
    }
    if (secret === "") {
      // Flow tokens would be forgeable (RFC 5626 §5.2): no proxying without the secret.
      logEvent("config-error", { aor: aor.aor, setting: "NONCE_SECRET", message: "not set: calls are refused" }, "error");
      return;
    }
    this.proxy = new ProxyCore(
      new DurableProxyHost({
        aor,
        domains,
        secret,
        sql: this.ctx.storage.sql,
        socket: (flowId) => this.socket(flowId),
        sendToPath: (flowId, text) => this.sendToPath(flowId, text),
        bindings: this.bindings,
        lostFlows: this.lostFlows,
        timers: this.timers,
        // Another user's DO, or an egress proxy's link (proxy/egress-hop.ts): both speak `deliver`.
        userAgent: (target) =>
          target.startsWith(EGRESS_HOP_PREFIX)
            ? this.env.EGRESS_LINK.get(this.env.EGRESS_LINK.idFromName(target.slice(EGRESS_HOP_PREFIX.length)))
            : this.env.USER_AGENT.get(this.env.USER_AGENT.idFromName(target)),
        userExists: (target) => this.userExists(target),
        authenticateOnFlow: (req, flowId) => this.authenticateOnFlow(req, "proxy", flowId),
        dialogStored: () => this.flowRecovery?.armWatch(),
        trunks: trunkRouterFor(this.env, this.ctx.storage.sql, aor),
        media: callMediaFor(this.env, this.ctx.storage.sql, (flowId) => {
          const ws = this.ctx.getWebSockets(flowId)[0];
          return ws === undefined ? undefined : flowOf(ws)?.location;
        }, (work) => this.ctx.waitUntil(work), (target) => this.answerKindsOf(target)),
      }),
    );
    this.flowRecovery = new FlowRecovery({
      sql: this.ctx.storage.sql,
      timers: this.timers,
      lostFlows: this.lostFlows,
      // A legacy phone's flow has no socket to lose: it lives as long as its binding (proxy/path-flow.ts).
      hasSocket: (flowId) => isPathFlow(flowId) || this.ctx.getWebSockets(flowId).length > 0,
      closeFlow: (flowId, how) => this.closeFlow(flowId, how),
      graceSetting: this.env.LOST_FLOW_GRACE_S,
      aor: aor.aor,
    });
    this.recovery = this.flowRecovery.findLost(this.proxy)?.finally(() => {
      this.recovery = undefined;
    });
  }

  /** The open WebSocket of a flow. */
  private socket(flowId: string): WebSocket | undefined {
    const ws = this.ctx.getWebSockets(flowId)[0];
    return ws !== undefined && ws.readyState === WebSocket.READY_STATE_OPEN ? ws : undefined;
  }

  // ---------------------------------------------------------------- sockets

  /** The WebSocket upgrade the Worker hands over (http/sip-websocket.ts has checked it). */
  override async fetch(request: Request): Promise<Response> {
    try {
      await this.ready(request.headers.get(FLOW_HEADERS.aor) ?? undefined);
    } catch (err) {
      logEvent("do-init-failed", { message: errorText(err) }, "error");
      return new Response("internal error\n", { status: 500 });
    }
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
      await this.ready();
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
      logMessage(this.aor.aor, msg, `flow:${flow.id}`);
      const source: MessageSource = { kind: "flow", flow, ws };
      if (msg instanceof SipRequest && (msg.method === "REGISTER" || (msg.method === "OPTIONS" && this.isForDomain(msg)))) {
        await this.answerLocally(msg, source);
      } else if (this.proxy !== undefined) {
        // RFC 3261 §16: everything else is the proxy's, requests and responses alike.
        await this.proxy.onFlowMessage(flow.id, msg);
      } else if (msg instanceof SipRequest && msg.method !== "ACK") {
        this.refuse(msg, source, new SipError(503, "Service Unavailable", [], "proxy-not-configured"));
      }
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
      await this.ready();
      const flow = flowOf(ws);
      if (flow === undefined) return;
      await this.closeFlow(flow.id, how, detail);
    } catch (err) {
      logEvent("flow-close-failed", { aor: this.aor?.aor, message: errorText(err) }, "error");
    }
  }

  /**
   * A flow is gone: its bindings go with it (PITFALLS 13, 15), then the
   * proxy ends what lived on it: ringing requests cancelled, branches to it
   * failed, dialogs ended with a BYE to the other side (PITFALLS 5, 13).
   * Flows it had adopted after a restart (lost-flows.ts) go with it.
   * Idempotent (a close and an error may both arrive).
   */
  private async closeFlow(flowId: string, how: string, detail: Record<string, string | number> = {}): Promise<void> {
    const adopted = this.lostFlows.takeAdopted(flowId);
    this.lostFlows.forget(flowId);
    let removed = this.bindings.removeFlow(flowId).length;
    for (const lost of adopted) removed += this.bindings.removeFlow(lost).length;
    this.ctx.storage.sql.exec("DELETE FROM auth_failures WHERE scope = ?", `flow:${flowId}`);
    logEvent("flow-closed", { aor: this.aor?.aor, flow: flowId, how, bindings_removed: removed, adopted: adopted.length, ...detail });
    if (this.proxy === undefined) return;
    for (const f of [flowId, ...adopted]) await this.proxy.flowClosed(f);
  }

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

  /** What the platform answers itself: REGISTER, and OPTIONS to the domain (no digest: it reveals nothing). */
  private async answerLocally(req: SipRequest, source: MessageSource): Promise<void> {
    try {
      if (req.method === "REGISTER") await this.onRegister(req, source);
      else this.send(source, respond(req, 200, "OK", [["Allow", ALLOW], ["Accept", "application/sdp"], ["Supported", "outbound, path"]], this.toTag));
    } catch (err) {
      let sipErr: SipError;
      if (err instanceof SipError) sipErr = err;
      else if (err instanceof SipParseError) sipErr = new SipError(err.status, err.reason, [], "malformed-header");
      else {
        logEvent("request-failed", { aor: this.aor?.aor, call_id: safeCallId(req), method: req.method, message: errorText(err) }, "error");
        sipErr = new SipError(500, "Server Internal Error");
      }
      this.refuse(req, source, sipErr);
    }
  }

  /** Answers a request with a SipError (STYLE.md point 4) and logs the refusal. */
  private refuse(req: SipRequest, source: MessageSource, sipErr: SipError): void {
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
      flow: source.flow.id,
    });
  }

  /** Sends on the socket a message came from. */
  protected send(source: MessageSource, msg: SipRequest | SipResponse | string): void {
    const text = typeof msg === "string" ? msg : msg.toString();
    if (source.kind === "flow") source.ws.send(text);
    else if (!this.sendToPath(source.flow.id, text)) throw new Error("not a legacy phone's flow");
  }

  /**
   * Sends to a legacy phone's flow through its egress (proxy/path-flow.ts):
   * a request gets the flow's Route first. The RPC is not awaited (the
   * proxy core's sends are synchronous, like a socket's); calls on one stub
   * arrive in order, and what the egress refuses is logged, the transaction
   * timers do the rest.
   */
  private sendToPath(flowId: string, text: string): boolean {
    const path = parsePathFlow(flowId);
    if (path === undefined) return false;
    const out = text.startsWith("SIP/2.0 ") ? text : withRoute(text, path.route);
    const link = EGRESS_HOP_PREFIX + path.linkId;
    const delivery = this.egressStub(path.linkId)
      .deliver(link, out, { kind: "user", aor: this.aor?.aor ?? "" })
      .then(
        (r) => {
          if (!r.accepted) logEvent("phone-send-refused", { aor: this.aor?.aor, egress: path.linkId, why: r.why }, "warn");
        },
        (err: unknown) => logEvent("phone-send-failed", { aor: this.aor?.aor, egress: path.linkId, message: errorText(err) }, "error"),
      );
    this.ctx.waitUntil(delivery);
    return true;
  }

  private readonly egressStubs = new Map<string, DurableObjectStub<EgressLink>>();
  private egressStub(linkId: string): DurableObjectStub<EgressLink> {
    let stub = this.egressStubs.get(linkId);
    if (stub === undefined) {
      stub = this.env.EGRESS_LINK.get(this.env.EGRESS_LINK.idFromName(linkId));
      this.egressStubs.set(linkId, stub);
    }
    return stub;
  }

  /**
   * RPC: SIP from another DO (a user's UserAgent, or an EgressLink).
   * `to` is the AOR the caller meant: a DO woken by RPC alone does not know
   * its name otherwise. Never throws: a refusal is the result, and the
   * caller's proxy counts it as a failed hop.
   */
  async deliver(to: string, message: string, from: DeliverFrom): Promise<DeliverResult> {
    try {
      await this.ready(to);
      if (this.aor?.aor !== to) return this.refuseDelivery(to, from, "not-this-aor");
      if (this.proxy === undefined) return this.refuseDelivery(to, from, "proxy-not-configured");
      // A user's DO names itself by its AOR, an egress link as `egress:<id>` (proxy/egress-hop.ts); nothing else may send.
      const sender = from.aor;
      if (sender === undefined || (from.kind === "egress") !== sender.startsWith(EGRESS_HOP_PREFIX)) return this.refuseDelivery(to, from, "sender-not-supported");
      let msg: SipRequest | SipResponse;
      try {
        msg = parseMessage(message);
      } catch (err) {
        return this.refuseDelivery(to, from, `unparsable: ${errorText(err)}`);
      }
      logMessage(this.aor.aor, msg, `user:${sender}`);
      const phone = from.kind === "egress" ? phoneFlowOf(msg, sender.slice(EGRESS_HOP_PREFIX.length)) : undefined;
      if (phone === undefined) await this.proxy.onUserMessage(sender, msg);
      else await this.onPhoneMessage(phone, msg);
    } catch (err) {
      // The message did arrive; what failed is logged here, the core answers what it can.
      logEvent("deliver-failed", { aor: this.aor?.aor, from: from.aor ?? from.kind, message: errorText(err) }, "error");
    }
    return { accepted: true };
  }

  /**
   * SIP from one of our user's legacy phones, through an egress (issue 5;
   * proxy/path-flow.ts): the same as from one of our sockets. REGISTER and
   * OPTIONS to the domain are answered here, the rest is the proxy's.
   */
  private async onPhoneMessage(flowId: string, msg: SipRequest | SipResponse): Promise<void> {
    if (msg instanceof SipRequest && (msg.method === "REGISTER" || (msg.method === "OPTIONS" && this.isForDomain(msg)))) {
      await this.answerLocally(msg, phoneSource(flowId, msg));
    } else {
      await this.proxy!.onFlowMessage(flowId, msg);
    }
  }

  private refuseDelivery(to: string, from: DeliverFrom, why: string): DeliverResult {
    logEvent("deliver-refused", { aor: this.aor?.aor, to, from: from.aor ?? from.kind, why }, "warn");
    return { accepted: false, why };
  }

  /** Is this request addressed to the domain itself (no user part)? */
  protected isForDomain(req: SipRequest): boolean {
    const uri = req.uri;
    return uri instanceof SipUri && uri.user === undefined && this.aor !== undefined && uri.host.toLowerCase() === this.aor.domain;
  }

  /**
   * Digest authentication of this AOR's own UA: `www` → 401 (REGISTER),
   * `proxy` → 407 (requests the proxy challenges). Throws the SipError to
   * answer. A socket that passes is marked, so the proxy need not challenge
   * its in-dialog requests (proxy-host-adapter.ts).
   */
  async authenticateRequest(req: SipRequest, kind: AuthKind, source: MessageSource): Promise<Authenticated> {
    if (this.aor === undefined) throw new SipError(500, "Server Internal Error");
    const { flow } = source;
    const scopes = [`flow:${flow.id}`, ...(flow.ip !== undefined ? [`src:${flow.ip}`] : [])];
    const auth = await this.authenticator.authenticate(req, kind, { aor: this.aor, nowMs: Date.now(), scopes, ...(source.kind === "path" ? { algorithms: LEGACY_PHONE_ALGORITHMS } : {}) });
    if (source.kind === "flow" && flow.authenticated !== true) {
      flow.authenticated = true;
      attachFlow(source.ws, flow);
    }
    return auth;
  }

  /** authenticateRequest for a request that came on one of our flows, known by id (the proxy core's ProxyHost.authenticate). */
  async authenticateOnFlow(req: SipRequest, kind: AuthKind, flowId: string): Promise<Authenticated> {
    if (isPathFlow(flowId)) return this.authenticateRequest(req, kind, phoneSource(flowId, req));
    const ws = this.ctx.getWebSockets(flowId)[0];
    const flow = ws === undefined ? undefined : flowOf(ws);
    if (ws === undefined || flow === undefined) throw new SipError(403, "Forbidden - Connection gone", [], "flow-gone");
    return this.authenticateRequest(req, kind, { kind: "flow", flow, ws });
  }

  /** Whether a subscriber exists and is enabled: 404 or 480 for a request that finds no flow (§16.5). */
  private async userExists(aor: string): Promise<boolean> {
    const record = aor === this.aor?.aor ? await this.subscribers.get(aor) : await new SubscriberDirectory(readConfig(this.env)).get(aor);
    return record !== undefined && record.enabled !== false;
  }

  // -------------------------------------------------------------- registrar

  /** REGISTER (RFC 3261 §10.3), only over this AOR's own sockets. */
  private async onRegister(req: SipRequest, source: MessageSource): Promise<void> {
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
    // The same device back on a new socket after a restart carries its lost flow's dialogs (lost-flows.ts).
    const adopted = this.lostFlows.adopt(result.replacedFlows, source.flow.id);
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
      ...(adopted > 0 ? { adopted_lost_flows: adopted } : {}),
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
      await this.ready();
      await this.timers.fire(Date.now());
    } catch (err) {
      logEvent("alarm-failed", { aor: this.aor?.aor, message: errorText(err) }, "error");
      throw err; // the runtime retries the alarm
    }
  }

  // -------------------------------------------------------------- admin RPC

  /** RPC from the admin API: the subscriber changed in the directory. Disabling or deleting takes effect at once. */
  async subscriberChanged(aor: string, change: "created" | "updated" | "disabled" | "deleted"): Promise<void> {
    await this.ready(aor);
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

  /** What `aor` answers on now: ours from our bindings, another's by RPC (media/call-media.ts). */
  private async answerKindsOf(aor: string): Promise<AnswerKinds> {
    if (aor === this.aor?.aor) return this.answerKinds(aor);
    return this.env.USER_AGENT.get(this.env.USER_AGENT.idFromName(aor)).answerKinds(aor);
  }

  /**
   * RPC from a caller's DO, before it anchors a call to this user: whether
   * it has live browser sockets and legacy phones (proxy/path-flow.ts). Only
   * phones: the call is anchored for plain RTP; both: for each kind, one
   * offer per kind (proxy/proxy-media.ts).
   */
  async answerKinds(aor: string): Promise<AnswerKinds> {
    await this.ready(aor);
    const kinds: AnswerKinds = { browsers: false, phones: false };
    for (const b of this.bindings.list(Date.now())) {
      if (isPathFlow(b.flowId)) kinds.phones = true;
      else if (this.socket(b.flowId) !== undefined) kinds.browsers = true;
    }
    return kinds;
  }

  /** RPC from the admin API: the AOR's current bindings. */
  async registrations(aor: string): Promise<RegistrationView[]> {
    await this.ready(aor);
    const now = Date.now();
    const connected = new Map<string, Flow>();
    for (const ws of this.ctx.getWebSockets()) {
      const f = flowOf(ws);
      if (f !== undefined) connected.set(f.id, f);
    }
    return this.bindings.list(now).map((b) => registrationView(b, now, connected.get(b.flowId)));
  }

  /** RPC from the admin API: the dialogs the AOR's user is in. */
  async dialogs(aor: string): Promise<DialogView[]> {
    await this.ready(aor);
    if (this.proxy === undefined) return [];
    return this.proxy.listDialogs().map((d) => dialogView(d, this.socket(d.flowId) !== undefined || this.lostFlows.successorOf(d.flowId) !== undefined));
  }
}

/**
 * The legacy phone's flow a message from an egress is from (its
 * X-Sipedge-Phone, removed here), or undefined for a carrier's message.
 */
function phoneFlowOf(msg: SipRequest | SipResponse, linkId: string): string | undefined {
  const marked = msg.get(PHONE_HEADER);
  if (marked === undefined) return undefined;
  msg.remove(PHONE_HEADER);
  let route: string;
  try {
    route = parseNameAddr(marked).uri.toString();
  } catch {
    return undefined;
  }
  return pathFlowId({ linkId, route });
}

/**
 * A legacy phone's flow as a MessageSource, with the address the phone sent
 * from (its Via below the egress's: `received`, which the egress stamps when
 * the sent-by differs, RFC 3581; else the sent-by) so failed logins lock that
 * source out like a browser's IP (auth/login-limiter.ts), whatever port it
 * moves to.
 */
function phoneSource(flowId: string, req: SipRequest): MessageSource {
  let ip: string | undefined;
  try {
    const via = req.vias[1];
    ip = via === undefined ? undefined : (via.received ?? via.host).replace(/^\[|\]$/g, "");
  } catch {
    ip = undefined;
  }
  return { kind: "path", flow: { id: flowId, connectedAt: 0, location: {}, ...(ip !== undefined ? { ip } : {}) } };
}

/** A request with `route` as its first Route (RFC 3327 §5.3: the Path, preloaded). */
function withRoute(text: string, route: string): string {
  const req = parseMessage(text) as SipRequest;
  req.prepend("Route", `<${route}>`);
  return req.toString();
}
