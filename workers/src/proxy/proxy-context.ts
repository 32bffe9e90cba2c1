import { SipParseError, SipRequest, createResponse, parseMessage, randomToken } from "sip-parser-ts";
import type { FlowToken } from "./flow-token.ts";
import { type Hop } from "./hop.ts";
import { DEFAULT_PROXY_CONFIG, type ProxyConfig, type ProxyHost } from "./proxy-host.ts";
import type { ProxyStore } from "./proxy-store.ts";
import type { ProxyTransaction } from "./proxy-transaction.ts";
import { encodeViaAor, viaHead } from "./proxy-via.ts";
import { classifyRoute, recordRouteValue, type RouteEntry } from "./record-route.ts";

/** A message to send once the state it follows from is written. */
export interface Outgoing {
  to: Hop;
  text: string;
}

/** What §16.4 leaves of a request's Route: our own entry, removed, and the next hop's. */
export interface RouteInfo {
  /** Our own Route entry, removed: its flow token. */
  popped?: FlowToken;
  /** The Route entry now on top: the next hop. */
  next?: RouteEntry;
}

/**
 * What the parts of the proxy core share: the host, the configuration, our
 * identity on the wire (Via, Record-Route, ids) and sending. Its caches only
 * save work within one DO lifetime (parsed requests, verified flow tokens,
 * our Record-Route per flow); none is ever needed after hibernation.
 */
export class ProxyContext {
  readonly cfg: ProxyConfig;
  readonly store: ProxyStore;
  readonly aor: string;
  /** `;ua=<encoded aor>`: how our Via names this DO. */
  readonly uaSuffix: string;
  readonly uaParam: string;
  private readonly viaPrefix: string;
  private readonly parsed = new Map<string, SipRequest>();
  private readonly verifiedTokens = new Map<string, FlowToken>();
  private readonly recordRoutes = new Map<string, string>();
  /** Ids: random per instance, then a counter (unique among live transactions, no entropy spent per call). */
  private readonly idPrefix = randomToken(6);
  private idCounter = 0;
  /** Media clean-ups started during the current entry point (`callEnded`), awaited by `settleMedia`. */
  private readonly mediaEnding: Promise<void>[] = [];
  /** Set by the core: how a message for our own AOR is delivered (no RPC to ourselves). */
  loopback: (text: string, excludeFlow?: string) => Promise<void> = async () => {};

  constructor(
    readonly host: ProxyHost,
    config: Partial<ProxyConfig>,
  ) {
    this.cfg = { ...DEFAULT_PROXY_CONFIG, ...config };
    this.store = host.store;
    this.aor = host.self.aor;
    this.uaParam = encodeViaAor(host.self.aor);
    this.uaSuffix = ";ua=" + this.uaParam;
    this.viaPrefix = viaHead(host.self.domain);
  }

  now(): number {
    return this.host.now();
  }

  /** Our Via (proxy-via.ts) with this branch. */
  via(branch: string): string {
    return this.viaPrefix + branch + this.uaSuffix;
  }

  nextId(): string {
    return this.idPrefix + (this.idCounter++).toString(36);
  }

  /** Our Record-Route naming one of our flows (its HMAC computed once per flow). */
  recordRouteFor(flowId: string): string {
    let rr = this.recordRoutes.get(flowId);
    if (rr === undefined) {
      if (this.recordRoutes.size >= 256) this.recordRoutes.clear();
      rr = recordRouteValue(this.host.self.domain, { aor: this.aor, flowId }, this.host.signer);
      this.recordRoutes.set(flowId, rr);
    }
    return rr;
  }

  /** The live flow for a flow a token names (ProxyHost.currentFlow). */
  currentFlow(flowId: string): string {
    return this.host.currentFlow?.(flowId) ?? flowId;
  }

  isLocalDomain(host: string): boolean {
    return this.host.isLocalDomain(host);
  }

  classifyRoute(route: Parameters<typeof classifyRoute>[0]): RouteEntry {
    return classifyRoute(route, (h) => this.host.isLocalDomain(h), this.host.signer, this.verifiedTokens);
  }

  /** The stored request of a transaction, parsed once per DO lifetime. */
  requestOf(tx: ProxyTransaction): SipRequest {
    let req = this.parsed.get(tx.id);
    if (req === undefined) {
      if (this.parsed.size > 256) this.parsed.clear();
      req = parseMessage(tx.request) as SipRequest;
      this.parsed.set(tx.id, req);
    }
    return req;
  }

  rememberRequest(txId: string, req: SipRequest): void {
    this.parsed.set(txId, req);
  }

  forgetRequest(txId: string): void {
    this.parsed.delete(txId);
  }

  /** A response of our own to a transaction's request (408, 480, 500, ...). */
  synthesize(tx: ProxyTransaction, status: number, reason?: string): string {
    return createResponse(this.requestOf(tx), status, reason, { toTag: randomToken(10) }).toString();
  }

  /** Sends in order; a gone socket or a failed RPC is logged, never thrown (the state is already written). */
  async flush(out: Outgoing[]): Promise<void> {
    for (const o of out) {
      if (o.to.kind === "flow") {
        if (!this.host.sendToFlow(o.to.flowId, o.text)) this.log("flow-gone", { flow: o.to.flowId });
      } else {
        try {
          await this.deliver(o.to.aor, o.text);
        } catch (err) {
          this.log("rpc-failed", { to: o.to.aor, error: errorText(err) });
        }
      }
    }
  }

  /** To another DO by RPC, or to ourselves directly when the user is our own (a user calling herself). */
  deliver(aor: string, text: string, excludeFlow?: string): Promise<void> {
    return aor === this.aor ? this.loopback(text, excludeFlow) : this.host.sendToUser(aor, text);
  }

  /**
   * A call is over (its initial INVITE failed, or its dialog ended): the
   * media layer's clean-up (rtpengine `delete`, the CDR; proxy-media.ts
   * `end`) starts now, beside the SIP that ends the call, and the entry
   * point awaits it at its end (`settleMedia`); the host's own accounting
   * (call-out limits) is told at once. Both are idempotent.
   */
  callEnded(callId: string, how: { why: string; status?: number; by?: string }): void {
    this.host.callEnded?.(callId);
    const media = this.host.media;
    if (media === undefined) return;
    this.mediaEnding.push(media.end(callId, how).catch((err: unknown) => this.log("media-end-failed", { call_id: callId, error: errorText(err) })));
  }

  async settleMedia(): Promise<void> {
    while (this.mediaEnding.length > 0) await Promise.all(this.mediaEnding.splice(0));
  }

  log(event: string, fields: Record<string, string | number | boolean | null | undefined>): void {
    this.host.log(event, { aor: this.aor, ...fields });
  }
}

export function errorText(err: unknown): string {
  return err instanceof SipParseError ? err.reason : err instanceof Error ? err.message : String(err);
}

export function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
