import { hmacSha256Hex, type SipRequest } from "sip-parser-ts";
import type { Aor } from "../aor.ts";
import type { Authenticated } from "../auth/authenticator.ts";
import { logEvent, type LogFields } from "../log.ts";
import { parseTimerKey, SqlProxyStore, type AuthOutcome, type FlowBinding, type ProxyHost, type ProxyMedia, type ProxyStore, type TokenSigner, type TrunkRoute } from "../proxy/index.ts";
import type { BindingStore } from "../registrar/binding.ts";
import { SipError } from "../sip-error.ts";
import { isPathFlow } from "../proxy/path-flow.ts";
import { flowOf } from "./flow.ts";
import type { LostFlows } from "./lost-flows.ts";
import type { DeliverFrom, DeliverResult } from "./message-source.ts";
import type { TimerTable } from "./timer-table.ts";

/** The timer-table kind of the proxy core's timers (keys start with `proxy:`). */
export const PROXY_TIMER_KIND = "proxy";

/**
 * How long a DO-to-DO hop may take before the branch counts as failed (503,
 * RFC 3261 §16.9). The other DO answers at once (it sends nothing it waits
 * for but its own RPCs), so this only bounds a wedged or crashed peer.
 */
const RPC_TIMEOUT_MS = 10_000;
const MAX_STUBS = 64;

/** What an RPC target looks like: another UserAgent DO's `deliver` (user-agent.ts). */
export interface DeliverTarget {
  deliver(to: string, message: string, from: DeliverFrom): Promise<DeliverResult>;
}

/** What the adapter needs of the UserAgent DO around it. */
export interface UserAgentParts {
  aor: Aor;
  /** Every SIP domain this edge serves, lowercased. */
  domains: readonly string[];
  /** NONCE_SECRET: the flow-token key is derived from it. */
  secret: string;
  sql: SqlStorage;
  /** The open WebSocket of a flow, if any. */
  socket(flowId: string): WebSocket | undefined;
  /** Sends to a legacy phone's flow through its egress (proxy/path-flow.ts); false for any other flow. */
  sendToPath(flowId: string, text: string): boolean;
  bindings: Pick<BindingStore, "list">;
  lostFlows: LostFlows;
  timers: TimerTable;
  /** The stub of another user's DO. */
  userAgent(aor: string): DeliverTarget;
  /** Whether a subscriber exists and is enabled (the DO's cache, then DynamoDB). */
  userExists(aor: string): Promise<boolean>;
  /** Digest (407) for a request on one of our flows; throws the SipError to answer. */
  authenticateOnFlow(req: SipRequest, flowId: string): Promise<Authenticated>;
  /** The core stored a dialog (it armed the dialog's timer): the DO keeps a watch on it (user-agent.ts). */
  dialogStored(): void;
  /** The calls' media (media/call-media.ts). */
  media?: ProxyMedia;
  /** Calls to numbers (platform/trunk-routing-host.ts). */
  trunks?: Pick<ProxyHost, "routeToTrunk" | "callEnded">;
}

/**
 * The ProxyHost (proxy/proxy-host.ts) over a UserAgent DO: the proxy core's
 * whole view of sockets, RPC, storage, timers and digest. Built on every
 * wake-up, with the core; nothing in it outlives the DO instance but what
 * is in SQLite.
 */
export class DurableProxyHost implements ProxyHost {
  readonly self: { aor: string; domain: string };
  readonly store: ProxyStore;
  readonly signer: TokenSigner;
  readonly media?: ProxyMedia;
  /** One stub per target AOR: calls on one stub arrive in order (the core relies on it). */
  private readonly stubs = new Map<string, DeliverTarget>();

  constructor(private readonly ua: UserAgentParts) {
    this.self = { aor: ua.aor.aor, domain: ua.aor.domain };
    this.store = new SqlProxyStore(ua.sql);
    this.signer = flowTokenSigner(ua.secret);
    if (ua.media !== undefined) this.media = ua.media;
  }

  now(): number {
    return Date.now();
  }

  isLocalDomain(host: string): boolean {
    return this.ua.domains.includes(host.toLowerCase());
  }

  /** Live sockets that carry a binding: one entry per flow, its most recently refreshed binding (§16.5). */
  flows(): FlowBinding[] {
    const byFlow = new Map<string, { contact: string; instance?: string; expiresAt: number }>();
    for (const b of this.ua.bindings.list(Date.now())) {
      const seen = byFlow.get(b.flowId);
      if (seen !== undefined && seen.expiresAt >= b.expiresAt) continue;
      // A socket's binding counts while the socket is open; a legacy phone's while it is registered (path-flow.ts).
      if (seen === undefined && this.ua.socket(b.flowId) === undefined && !isPathFlow(b.flowId)) continue;
      byFlow.set(b.flowId, { contact: b.uri, expiresAt: b.expiresAt, ...(b.instance !== undefined ? { instance: b.instance } : {}) });
    }
    return [...byFlow].map(([flowId, b]) => ({ flowId, contact: b.contact, ...(b.instance !== undefined ? { instance: b.instance } : {}) }));
  }

  sendToFlow(flowId: string, text: string): boolean {
    if (isPathFlow(flowId)) return this.ua.sendToPath(flowId, text);
    const ws = this.ua.socket(this.currentFlow(flowId));
    if (ws === undefined) return false;
    try {
      ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** A lost flow (process restart) whose device registered again is carried by its new socket (lost-flows.ts). */
  currentFlow(flowId: string): string {
    if (!this.ua.lostFlows.any || this.ua.socket(flowId) !== undefined) return flowId;
    return this.ua.lostFlows.successorOf(flowId) ?? flowId;
  }

  async sendToUser(aor: string, text: string): Promise<void> {
    let stub = this.stubs.get(aor);
    if (stub === undefined) {
      if (this.stubs.size >= MAX_STUBS) this.stubs.clear(); // a DO instance talks to few users; bound it anyway
      stub = this.ua.userAgent(aor);
      this.stubs.set(aor, stub);
    }
    const result = await withTimeout(stub.deliver(aor, text, { kind: "user", aor: this.self.aor }), RPC_TIMEOUT_MS, `RPC to ${aor}`);
    if (!result.accepted) throw new Error(`${aor} refused the message: ${result.why}`);
  }

  userExists(aor: string): Promise<boolean> {
    return this.ua.userExists(aor);
  }

  /**
   * Policy (issue 3): every out-of-dialog request is challenged (407), so no
   * unauthenticated call or MESSAGE leaves a user's DO. An in-dialog request
   * passes without a challenge when its socket has proven the password
   * before (a REGISTER or an earlier digest): that saves a round trip on
   * every BYE and re-INVITE, and the request can only reach a dialog through
   * the Route set, whose flow tokens carry our MAC (RFC 5626 §5.2).
   */
  async authenticate(req: SipRequest, flowId: string): Promise<AuthOutcome> {
    if (req.to.tag !== undefined) {
      const ws = this.ua.socket(flowId);
      if (ws !== undefined && flowOf(ws)?.authenticated === true) return { ok: true, user: this.ua.aor.user };
    }
    try {
      const auth = await this.ua.authenticateOnFlow(req, flowId);
      return { ok: true, user: auth.username };
    } catch (err) {
      if (err instanceof SipError) return { ok: false, error: err };
      throw err;
    }
  }

  setTimer(key: string, dueAt: number): void {
    this.ua.timers.schedule(key, dueAt, PROXY_TIMER_KIND);
    if (parseTimerKey(key)?.kind === "dialog") this.ua.dialogStored();
  }

  clearTimer(key: string): void {
    this.ua.timers.cancel(key);
  }

  routeToTrunk(req: SipRequest): Promise<TrunkRoute | undefined> {
    return this.ua.trunks?.routeToTrunk?.(req) ?? Promise.resolve(undefined);
  }

  callEnded(callId: string): void {
    this.ua.trunks?.callEnded?.(callId);
  }

  log(event: string, fields: Record<string, string | number | boolean | null | undefined>): void {
    logEvent(event, fields as LogFields, event === "proxy-error" || event === "rpc-failed" ? "error" : "info");
  }
}

/**
 * The flow-token MAC (proxy/flow-token.ts): HMAC-SHA-256 under a key derived
 * from NONCE_SECRET, so one secret serves every DO (each verifies tokens the
 * others minted) while a nonce and a token can never be confused.
 */
const signers = new Map<string, TokenSigner>();
export function flowTokenSigner(secret: string): TokenSigner {
  let signer = signers.get(secret);
  if (signer === undefined) {
    const key = hmacSha256Hex(secret, "sipedge flow-token key v1");
    signer = { sign: (data: string) => hmacSha256Hex(key, data) };
    signers.set(secret, signer);
  }
  return signer;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}
