import { SipParseError, SipRequest, SipResponse, createResponse, parseMessage } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";
import { base64urlDecode } from "./base64url.ts";
import { branchCopy, withSdpBody } from "./client-branch.ts";
import type { DialogSummary } from "./dialog.ts";
import { describeHop, flowHop, sameHop, userHop, type Hop } from "./hop.ts";
import { detectLoop, loopOf } from "./loop-detection.ts";
import { egressHop, egressLinkOf } from "./egress-hop.ts";
import { isPathFlow } from "./path-flow.ts";
import { consumeRoute, nextHopOf } from "./loose-routing.ts";
import { ProxyContext, errorText, safe, type Outgoing, type RouteInfo } from "./proxy-context.ts";
import { ProxyDialogs } from "./proxy-dialogs.ts";
import type { ProxyConfig, ProxyHost } from "./proxy-host.ts";
import { SIP_BRANCH_OFFER_HEADER } from "./proxy-media.ts";
import { TIMER_PREFIX, branchTimerKey, parseTimerKey } from "./proxy-timers.ts";
import type { ProxyTransaction } from "./proxy-transaction.ts";
import { statelessBranch, txBranch } from "./proxy-via.ts";
import { ResponseContext, firstTimer } from "./response-context.ts";
import { enforceMinSE } from "./session-timer.ts";
import { aorOfUri, isDomainUri } from "./uri-aor.ts";

/**
 * The proxy core of one UserAgent DO (RFC 3261 §16, transaction-stateful),
 * as pure logic over a ProxyHost. A call crosses two of them:
 *
 *   alice's flow ─► alice's DO (role "out") ─RPC─► bob's DO (role "in") ─► bob's flows
 *
 * Each DO adds its Via and, for dialog-creating requests, a Record-Route
 * with a flow token; the callee's DO forks to every live flow of its user.
 * Responses return by Via: our Via names the transaction and branch, the
 * transaction says where the request came from (response-context.ts).
 * Dialogs are proxy-dialogs.ts.
 *
 * Nothing lives in this object between calls but caches: every entry point
 * reads what it needs from the host's ProxyStore, so the DO can hibernate
 * (or be evicted) between any two messages. Within an entry point state is
 * written before anything is sent or awaited, so a message that arrives
 * while we await an RPC sees a consistent store.
 */
export class ProxyCore {
  private readonly ctx: ProxyContext;
  private readonly dialogs: ProxyDialogs;
  private readonly responses: ResponseContext;
  /**
   * INVITEs not stored yet because we are awaiting authentication or the
   * directory for them (server transaction key → cancelled?): a CANCEL
   * arriving meanwhile is answered 200 and the INVITE then gets 487 instead
   * of being forwarded. In memory only: it spans one awaiting entry point.
   */
  private readonly admitting = new Map<string, { canceled: boolean }>();

  constructor(host: ProxyHost, config: Partial<ProxyConfig> = {}) {
    this.ctx = new ProxyContext(host, config);
    this.dialogs = new ProxyDialogs(this.ctx);
    this.responses = new ResponseContext(this.ctx, this.dialogs);
    this.ctx.loopback = (text, excludeFlow) => this.loopback(text, excludeFlow);
  }

  /** Whether a timer key belongs to the proxy (the DO routes such firings to `onTimer`). */
  static ownsTimer(key: string): boolean {
    return key.startsWith(TIMER_PREFIX);
  }

  // ---- entry points ----------------------------------------------------------

  /** A request or response from one of this DO's own sockets (not REGISTER: that is the registrar's). */
  async onFlowMessage(flowId: string, msg: SipRequest | SipResponse): Promise<void> {
    try {
      if (msg instanceof SipRequest) await this.onRequest(msg, flowHop(flowId));
      else await this.responses.onResponse(msg, flowHop(flowId));
    } finally {
      await this.ctx.settleMedia();
    }
  }

  /** A request or response another user's DO passed to us by RPC (its `sendToUser(ourAor, text)`). */
  async onUserMessage(fromAor: string, message: SipRequest | SipResponse | string): Promise<void> {
    let msg: SipRequest | SipResponse;
    try {
      msg = typeof message === "string" ? parseMessage(message) : message;
    } catch (err) {
      this.ctx.log("rpc-message-unparsable", { from: fromAor, reason: errorText(err) });
      return;
    }
    try {
      if (msg instanceof SipRequest) await this.onRequest(msg, userHop(fromAor));
      else await this.responses.onResponse(msg, userHop(fromAor));
    } finally {
      await this.ctx.settleMedia();
    }
  }

  /** A timer the proxy set is due (keys start with `proxy:`). Idempotent: it re-checks the store. */
  async onTimer(key: string): Promise<void> {
    const t = parseTimerKey(key);
    if (t === undefined) return;
    try {
      if (t.kind === "branch") await this.responses.onTimer(t.txId, t.n);
      else await this.dialogs.onTimer(t.dialogId);
    } finally {
      await this.ctx.settleMedia();
    }
  }

  /**
   * A socket closed (PITFALLS 13): ringing requests from it are cancelled,
   * branches to it fail (PITFALLS 15), and every dialog our user had on it
   * is ended with a BYE to the other side.
   */
  async flowClosed(flowId: string): Promise<void> {
    try {
      await this.responses.flowClosed(flowId);
      await this.dialogs.flowClosed(flowId);
    } finally {
      await this.ctx.settleMedia();
    }
  }

  /**
   * A socket vanished without a close: the process restarted, and storage
   * names a flow no socket carries any more. Its transactions end as on a
   * close (ringing calls fail: their sockets cannot answer), but its dialogs
   * stay: the device may come back on a new socket (`ProxyHost.currentFlow`),
   * and calls must not all end because the edge restarted (a deploy). The
   * host calls `flowClosed` later if the device does not come back.
   */
  async flowLost(flowId: string): Promise<void> {
    try {
      await this.responses.flowClosed(flowId);
    } finally {
      await this.ctx.settleMedia();
    }
  }

  /** Every flow the stored transactions and dialogs name: for the host's check after a restart. */
  flowsInUse(): Set<string> {
    const flows = new Set<string>();
    for (const tx of this.ctx.store.listTransactions()) {
      if (tx.source.kind === "flow") flows.add(tx.source.flowId);
      for (const b of tx.branches) if (b.target.kind === "flow") flows.add(b.target.flowId);
    }
    for (const d of this.ctx.store.listDialogs()) flows.add(d.flowId);
    return flows;
  }

  /** The dialogs this user is in, for the admin API. */
  listDialogs(): DialogSummary[] {
    return this.dialogs.list();
  }

  // ---- requests --------------------------------------------------------------

  private async onRequest(req: SipRequest, source: Hop, excludeFlow?: string): Promise<void> {
    // Only a user's DO may hand a phone branch its offer (proxy-media.ts): not a socket, a phone or a carrier.
    if (source.kind === "flow" || egressLinkOf(source) !== undefined) req.remove(SIP_BRANCH_OFFER_HEADER);
    try {
      if (req.method === "ACK") return await this.onAck(req, source);
      if (req.method === "CANCEL") return await this.onCancel(req, source);
      const key = serverKey(req);
      // §17.2.3: a request matching a live server transaction is a
      // retransmission (rare: every hop here is reliable); it is absorbed.
      if (this.ctx.store.findTransaction(key) !== undefined) {
        this.ctx.log("request-retransmission", { call_id: req.callId, method: req.method });
        return;
      }
      await this.proxyRequest(req, source, key, excludeFlow);
    } catch (err) {
      await this.answerError(req, source, err);
    }
  }

  /** §16.3 validation, §16.4 Route, our admission rules, §16.5 targets, §16.6 forwarding. */
  private async proxyRequest(req: SipRequest, source: Hop, key: string, excludeFlow: string | undefined): Promise<void> {
    const uri = req.uri; // §16.3 step 1: a malformed Request-URI is a 400
    if (uri.scheme !== "sip" && uri.scheme !== "sips" && uri.scheme !== "tel") throw new SipError(416, "Unsupported URI Scheme");
    const maxForwards = req.maxForwards;
    if (maxForwards === 0) throw new SipError(483, "Too Many Hops"); // §16.3 step 3
    const role = source.kind === "flow" ? "out" : "in";
    const loop = loopOf(req, role);
    detectLoop(this.ctx, req, loop); // §16.3 step 4
    const proxyRequire = req.proxyRequire; // §16.3 step 5: we support no proxy extensions
    if (proxyRequire.length > 0) throw new SipError(420, "Bad Extension", [["Unsupported", proxyRequire.join(", ")]]);
    const inDialog = req.to.tag !== undefined;
    const route = consumeRoute(this.ctx, req); // §16.4
    const admission = { canceled: false };
    if (req.method === "INVITE") this.admitting.set(key, admission);
    let targets: Target[] | "answered";
    let media = false;
    try {
      if (source.kind === "flow") await this.admit(req, source.flowId);
      if (req.method === "INVITE" || req.method === "UPDATE") enforceMinSE(req, this.ctx.cfg.minSessionExpires);
      targets = await this.targets(req, source, route, inDialog, excludeFlow);
      if (targets !== "answered") {
        try {
          // A mixed fork (forkTargets): the media layer sees a browser as the target, and whether phones need an offer too.
          const phones = targets.some((t) => t.sipOffer === true);
          media = await this.offerMedia(req, source, (targets.find((t) => t.sipOffer !== true) ?? targets[0]!).hop, inDialog, phones);
          // No offer for the phones came (from the caller's DO or our media layer): they cannot take this SDP, only the browsers ring.
          if (phones && !req.has(SIP_BRANCH_OFFER_HEADER) && targets.some((t) => t.sipOffer !== true)) targets = targets.filter((t) => t.sipOffer !== true);
        } catch (err) {
          // Refused after routing (no media node, SDP refused): what routing counted (call-out limits) is released.
          if (!inDialog) this.ctx.callEnded(req.callId, { why: "refused" });
          throw err;
        }
      }
    } finally {
      this.admitting.delete(key);
    }
    if (targets === "answered") return;
    if (admission.canceled) {
      this.ctx.callEnded(req.callId, { why: "cancelled", status: 487 });
      throw new SipError(487, "Request Terminated", [], "cancelled-before-forwarding");
    }
    req.set("Max-Forwards", String(maxForwards === undefined ? 70 : maxForwards - 1)); // §16.6 step 3
    if (inDialog) this.dialogs.onRequest(req, source, targets[0]!.hop);
    await this.forward(req, source, key, role, loop, inDialog, targets, media);
  }

  /**
   * RFC 3264: an SDP offer in an INVITE, re-INVITE or UPDATE goes through
   * the media layer (proxy-media.ts), which may rewrite it or refuse the
   * call (503 when no media node serves). A request we pass to ourselves
   * (a user calling herself) was offered on its first pass already.
   */
  private async offerMedia(req: SipRequest, source: Hop, target: Hop, inDialog: boolean, phones: boolean): Promise<boolean> {
    const media = this.ctx.host.media;
    if (media === undefined || (req.method !== "INVITE" && req.method !== "UPDATE") || req.contentLength === 0) return false;
    if (source.kind === "user" && source.aor === this.ctx.aor) return false;
    return media.offer(req, { source, target, inDialog, ...(phones ? { phones } : {}) });
  }

  /**
   * Requests from our own sockets (ACK and CANCEL never get here): the
   * socket acts only as its own user (issue 3: "INVITE with another user's
   * From" is 403; in a dialog the From is the user's own URI too), and must
   * prove it (digest, 407) as the host decides. The credentials are removed
   * before forwarding: the callee must never see them (§22.3).
   */
  private async admit(req: SipRequest, flowId: string): Promise<void> {
    // In a dialog of our user's the From is whatever the dialog says (§12.2.1.1:
    // the callee's is the caller's To, a DID for a call from a trunk).
    const ownDialog = req.to.tag !== undefined && this.dialogs.isOwnInDialog(req);
    if (!ownDialog && aorOfUri(req.from.uri) !== this.ctx.aor) throw new SipError(403, "Forbidden", [], "from-is-not-this-user");
    // A legacy phone (path-flow.ts) has no socket to remember a digest on: in one of its
    // user's dialogs its request passes (the dialog's Call-ID and tags are the proof), else it is challenged.
    if (ownDialog && isPathFlow(flowId)) return;
    const outcome = await this.ctx.host.authenticate(req, flowId);
    if (!outcome.ok) throw outcome.error;
    req.remove("Proxy-Authorization");
  }

  /** §16.5: where the request goes. "answered" when we answered it ourselves (OPTIONS to the domain). */
  private async targets(
    req: SipRequest,
    source: Hop,
    route: RouteInfo,
    inDialog: boolean,
    excludeFlow: string | undefined,
  ): Promise<Target[] | "answered"> {
    // Loose routing (§16.4, §16.12): a Route left after ours names the next DO.
    if (route.next !== undefined) {
      const next = nextHopOf(route);
      if (next !== undefined) return [{ hop: next }];
      throw new SipError(404, "Not Found", [], "route-to-foreign-host");
    }
    // Our own Route, last in the set: its flow token names the socket (PITFALLS 5: never the Request-URI's `.invalid` host).
    if (route.popped !== undefined && !(source.kind === "flow" && source.flowId === route.popped.flowId)) {
      return [{ hop: flowHop(this.ctx.currentFlow(route.popped.flowId)), byFlowToken: true }];
    }
    if (isDomainUri(req.uri, (h) => this.ctx.isLocalDomain(h))) {
      if (req.method !== "OPTIONS") throw new SipError(405, "Method Not Allowed", [["Allow", ALLOW]]);
      const ok = createResponse(req, 200, "OK", { headers: [["Allow", ALLOW], ["Accept", "application/sdp"]] });
      await this.ctx.flush([{ to: source, text: ok.toString() }]);
      return "answered";
    }
    const aor = aorOfUri(req.uri);
    const local = aor !== undefined && this.ctx.isLocalDomain(aor.slice(aor.lastIndexOf("@") + 1)) ? aor : undefined;
    if (source.kind === "flow") {
      // A number ("+1555…", tel:, user=phone) is never a user name: to a trunk
      // through its egress proxy, if the policy lets it out (ARCHITECTURE.md "Browser to carrier").
      const trunk = this.ctx.host.routeToTrunk === undefined ? undefined : await this.ctx.host.routeToTrunk(req);
      if (trunk !== undefined) {
        for (const [name, value] of trunk.headers) req.append(name, value);
        return [{ hop: egressHop(trunk.linkId), requestUri: trunk.requestUri }];
      }
      if (local === undefined) throw new SipError(404, "Not Found", [], "not-a-local-user");
      return [{ hop: userHop(local) }];
    }
    if (inDialog) throw new SipError(481, "Call/Transaction Does Not Exist", [], "in-dialog-without-route");
    if (local !== this.ctx.aor) throw new SipError(404, "Not Found", [], "not-this-user");
    return this.forkTargets(excludeFlow, req.contentLength > 0);
  }

  /**
   * A request for our user: one branch per live flow (parallel forking,
   * §16.5, §16.6). With an SDP offer and both browsers and legacy phones
   * registered, one offer cannot be WebRTC for the ones and plain RTP for
   * the others: the phones are marked `sipOffer` and ring only if a plain-RTP
   * offer for them comes (from the caller's DO, or our own media layer for a
   * carrier's call; proxy-media.ts), else only the browsers do (proxyRequest).
   */
  private async forkTargets(excludeFlow: string | undefined, hasSdp: boolean): Promise<Target[]> {
    const flows = this.ctx.host.flows();
    const mixed = hasSdp && flows.some((f) => isPathFlow(f.flowId)) && flows.some((f) => !isPathFlow(f.flowId));
    const targets: Target[] = [];
    for (const f of flows) {
      // A user calling herself does not ring the tab she calls from.
      if (f.flowId !== excludeFlow) targets.push({ hop: flowHop(f.flowId), requestUri: f.contact, recordRouteFlow: f.flowId, ...(mixed && isPathFlow(f.flowId) ? { sipOffer: true as const } : {}) });
    }
    if (targets.length > 0) return targets;
    if (flows.length === 0 && !(await this.ctx.host.userExists(this.ctx.aor))) throw new SipError(404, "Not Found", [], "unknown-user");
    throw new SipError(480, "Temporarily Unavailable", [], "no-live-flow");
  }

  /**
   * §16.6: one copy per target, each with our Via (item 8) and for
   * dialog-creating requests our Record-Route (item 4), after the server
   * transaction and its branches are in the store.
   */
  private async forward(
    req: SipRequest,
    source: Hop,
    key: string,
    role: "out" | "in",
    loop: string,
    inDialog: boolean,
    targets: Target[],
    media: boolean,
  ): Promise<void> {
    const { ctx } = this;
    const now = ctx.now();
    // The phones' offer of a mixed fork goes to another DO as is, to sockets and phones only as a body.
    const sipOffer = req.get(SIP_BRANCH_OFFER_HEADER);
    if (targets.some((t) => t.hop.kind !== "user")) req.remove(SIP_BRANCH_OFFER_HEADER);
    const base = req.toString();
    const sipSdp = targets.some((t) => t.sipOffer) && sipOffer !== undefined ? base64urlDecode(sipOffer) : undefined;
    const sipBase = sipSdp === undefined ? undefined : withSdpBody(base, sipSdp);
    const tx: ProxyTransaction = {
      id: ctx.nextId(),
      key,
      method: req.method,
      role,
      source,
      loop,
      request: base,
      inDialog,
      createdAt: now,
      finalStatus: 0,
      canceled: false,
      branches: targets.map((t, n) => ({
        n,
        target: t.hop,
        requestUri: t.requestUri ?? req.requestUri,
        // A DO branch counts as proceeding from the start: that hop sends no
        // 100 (below), and the §9.1 gate for CANCEL is the RPC itself.
        state: t.hop.kind === "user" ? "proceeding" : "calling",
        status: 0,
        cancel: "no",
        timerAt: now + firstTimer(req.method, t.hop),
      })),
      best: null,
      challenges: [],
      ...(media ? { media: true as const } : {}),
      ...(sipBase !== undefined ? { sipOffer: true as const } : {}),
    };
    ctx.rememberRequest(tx.id, req);
    ctx.store.insertTransaction(tx);
    for (const b of tx.branches) ctx.host.setTimer(branchTimerKey(tx.id, b.n), b.timerAt);
    // §16.2, §17.2.1: 100 Trying for INVITE, to our own user. The DO-to-DO
    // hop carries none: it is reliable and the callee's DO always answers
    // (or our longer Timer C on that branch does: firstTimer).
    if (req.method === "INVITE" && source.kind === "flow") ctx.host.sendToFlow(source.flowId, createResponse(req, 100).toString());

    const recordRoute = RECORD_ROUTED.has(req.method) && !inDialog;
    const failed: Array<{ n: number; status: number; reason: string }> = [];
    const rpc: Array<{ n: number; aor: string; text: string }> = [];
    for (const b of tx.branches) {
      const t = targets[b.n]!;
      const rrFlow = source.kind === "flow" ? source.flowId : t.recordRouteFlow;
      const rr = recordRoute && rrFlow !== undefined ? ctx.recordRouteFor(rrFlow) : undefined;
      const text = branchCopy(t.sipOffer === true && sipBase !== undefined ? sipBase : base, t.requestUri, ctx.via(txBranch(loop, tx.id, b.n)), rr);
      if (b.target.kind === "user") {
        rpc.push({ n: b.n, aor: b.target.aor, text });
      } else if (!ctx.host.sendToFlow(b.target.flowId, text)) {
        // PITFALLS 15: a socket that is gone fails its branch at once; RFC 5626
        // §5.3: 430 when a flow token named it, so the UA knows its flow died.
        failed.push(t.byFlowToken === true ? { n: b.n, status: 430, reason: "Flow Failed" } : { n: b.n, status: 480, reason: "Temporarily Unavailable" });
      }
    }
    ctx.log("request-forwarded", {
      call_id: req.callId,
      method: req.method,
      role,
      from: describeHop(source),
      branches: tx.branches.map((b) => describeHop(b.target)).join(" "),
    });
    for (const { n, aor, text } of rpc) {
      this.responses.rpcStarted(tx.id, n);
      let ok = true;
      try {
        await ctx.deliver(aor, text, source.kind === "flow" ? source.flowId : undefined);
      } catch (err) {
        ok = false;
        ctx.log("rpc-failed", { call_id: req.callId, to: aor, error: errorText(err) });
        failed.push({ n, status: 503, reason: "Service Unavailable" }); // §16.9: a transport error counts as 503
      }
      await this.responses.rpcEnded(tx.id, n, ok);
    }
    for (const f of failed) {
      const current = ctx.store.getTransaction(tx.id);
      if (current !== undefined) await this.responses.complete(current, f.n, { status: f.status, reason: f.reason });
    }
  }

  /**
   * §16.10: a CANCEL is answered 200 by us, hop by hop, and cancels every
   * pending branch; the UASs answer the INVITE with 487, which travels back
   * as the final response.
   */
  private async onCancel(req: SipRequest, source: Hop): Promise<void> {
    const { ctx } = this;
    const key = serverKey(req);
    const ok: Outgoing = { to: source, text: createResponse(req, 200, "OK").toString() };
    const admission = this.admitting.get(key);
    if (admission !== undefined) {
      admission.canceled = true;
      await ctx.flush([ok]);
      return;
    }
    const tx = ctx.store.findTransaction(key);
    if (tx === undefined || tx.method !== "INVITE" || !sameHop(tx.source, source)) {
      throw new SipError(481, "Call/Transaction Does Not Exist", [], "cancel-without-transaction");
    }
    const out: Outgoing[] = [ok];
    if (tx.finalStatus === 0 && !tx.canceled) {
      tx.canceled = true;
      this.responses.cancelAll(tx, out);
      ctx.store.updateTransaction(tx);
      ctx.log("request-cancelled", { call_id: req.callId, from: describeHop(source) });
    }
    await ctx.flush(out);
  }

  /**
   * ACK. For a 2xx it is its own transaction and follows the route set
   * (§13.2.2.4), forwarded statelessly (§16.11) like any in-dialog request.
   * An ACK that carries no Route of ours is the ACK for a non-2xx final
   * response: hop by hop, it ends at the server transaction here (§17.2.1),
   * because every dialog through us was Record-Routed by us.
   */
  private async onAck(req: SipRequest, source: Hop): Promise<void> {
    const { ctx } = this;
    const route = consumeRoute(ctx, req);
    let to: Hop | undefined;
    if (route.next !== undefined) to = nextHopOf(route);
    else if (route.popped !== undefined && !(source.kind === "flow" && source.flowId === route.popped.flowId)) {
      to = flowHop(ctx.currentFlow(route.popped.flowId));
    }
    if (to === undefined) return;
    const maxForwards = req.maxForwards;
    if (maxForwards === 0) return;
    req.set("Max-Forwards", String(maxForwards === undefined ? 70 : maxForwards - 1));
    req.prepend("Via", ctx.via(statelessBranch(loopOf(req, source.kind === "flow" ? "out" : "in"), ctx.nextId())));
    await ctx.flush([{ to, text: req.toString() }]);
  }

  /** Answers a request we refuse, where it came from. A SipError becomes its response (STYLE.md point 4). */
  private async answerError(req: SipRequest, source: Hop, err: unknown): Promise<void> {
    const { ctx } = this;
    let status = 500;
    let reason = "Server Internal Error";
    let headers: Array<[string, string]> = [];
    let why: string | undefined;
    if (err instanceof SipError) {
      ({ status, reason } = err);
      headers = err.headers.map(([n, v]): [string, string] => [n, v]);
      why = err.why;
    } else if (err instanceof SipParseError) {
      ({ status, reason } = err);
    } else {
      ctx.log("proxy-error", { method: req.method, error: errorText(err), stack: err instanceof Error ? err.stack : undefined });
    }
    ctx.log("request-refused", { call_id: safe(() => req.callId), method: req.method, status, why, from: describeHop(source) });
    if (req.method === "ACK") return;
    let text: string;
    try {
      text = createResponse(req, status, reason, { headers }).toString();
    } catch (e) {
      ctx.log("response-not-buildable", { error: errorText(e) });
      return;
    }
    await ctx.flush([{ to: source, text }]);
  }

  /** A message for our own AOR (a user calling herself): processed here, no RPC. */
  private async loopback(text: string, excludeFlow: string | undefined): Promise<void> {
    const msg = parseMessage(text);
    if (msg instanceof SipRequest) await this.onRequest(msg, userHop(this.ctx.aor), excludeFlow);
    else await this.responses.onResponse(msg, userHop(this.ctx.aor));
  }
}

interface Target {
  hop: Hop;
  /** A new Request-URI (a binding's Contact) or, when absent, the request's own. */
  requestUri?: string;
  /** The flow our Record-Route names on this branch (role "in": the branch's socket). */
  recordRouteFlow?: string;
  /** The flow came from a flow token in a Route (in-dialog), not from a binding. */
  byFlowToken?: boolean;
  /** A phone in a mixed fork: it gets the caller DO's plain-RTP offer as its body (proxy-media.ts). */
  sipOffer?: true;
}

/** Methods whose Record-Route matters: they create dialogs (§12, RFC 6665 §4.1, RFC 3515). */
const RECORD_ROUTED = new Set(["INVITE", "SUBSCRIBE", "REFER", "NOTIFY"]);

export const ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, REFER, NOTIFY, SUBSCRIBE, REGISTER";

/** §17.2.3: a server transaction is the top Via's branch and sent-by (RFC 2543 peers without a branch: Call-ID, tag, CSeq). */
function serverKey(req: SipRequest): string {
  const v = req.topVia;
  const sentBy = `${v.host.toLowerCase()}:${v.port ?? ""}`;
  const branch = v.branch;
  if (branch !== undefined && branch.startsWith("z9hG4bK")) return `${branch}|${sentBy}`;
  return `2543|${req.callId}|${req.from.tag ?? ""}|${req.cseq.seq}|${sentBy}`;
}
