import { parseMessage, type SipResponse } from "sip-parser-ts";
import { challengeHeaderFor, isBetterFinal, upstreamStatus } from "./best-response.ts";
import { ackRequest, cancelRequest } from "./client-branch.ts";
import { egressLinkOf } from "./egress-hop.ts";
import { describeHop, sameHop, type Hop } from "./hop.ts";
import { isPathFlow } from "./path-flow.ts";
import { errorText, safe, type Outgoing, type ProxyContext } from "./proxy-context.ts";
import type { ProxyDialogs } from "./proxy-dialogs.ts";
import { SIP_BRANCH_ANSWER_HEADER } from "./proxy-media.ts";
import { CANCEL_WAIT_MS, TIMER_B_MS, TIMER_C_MS, TIMER_F_MS, TIMER_M_MS, branchTimerKey } from "./proxy-timers.ts";
import { isPending, type ClientBranch, type ProxyTransaction } from "./proxy-transaction.ts";
import { decodeViaAor, parseOurBranch, txBranch } from "./proxy-via.ts";

/** A branch's final response: received (`res`, our Via removed) or synthesized (`reason`). */
export interface FinalResponse {
  status: number;
  reason?: string;
  res?: SipResponse;
}

/**
 * The response context of RFC 3261 §16.7 over the stored transactions: the
 * client branches' responses (§16.7 steps 1-10), their timers (B, C §16.8,
 * F, M of RFC 6026, the wait after CANCEL) and cancelling them (§9.1,
 * §16.10). Every step reads the transaction from the store and writes it
 * back before it sends anything.
 */
export class ResponseContext {
  /**
   * Branches to another DO whose RPC has not returned yet (`txId:n`), and
   * those of them a CANCEL was wanted for meanwhile. Only in memory, and
   * rightly so: while an RPC is pending the DO is awake, and after an
   * eviction nothing is in flight any more.
   */
  private readonly inFlight = new Set<string>();
  private readonly cancelWanted = new Set<string>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly dialogs: ProxyDialogs,
  ) {}

  /** §16.7 steps 1-3: find the branch by our Via (it must come from where the branch went), drop our Via. */
  async onResponse(res: SipResponse, from: Hop): Promise<void> {
    const { ctx } = this;
    let ours;
    let method: string;
    try {
      const top = res.topVia;
      method = res.cseq.method;
      const ua = top.params.get("ua");
      if (ua !== ctx.uaParam && decodeViaAor(ua) !== ctx.aor) {
        ctx.log("response-not-ours", { from: describeHop(from) });
        return;
      }
      ours = parseOurBranch(top.branch);
    } catch (err) {
      ctx.log("response-unparsable", { from: describeHop(from), reason: errorText(err) });
      return;
    }
    if (ours === undefined || ours.kind === "stateless") return;
    // The answer to a request we originated ourselves (a BYE on socket close or expiry): nothing waits for it.
    if (ours.kind === "local") {
      ctx.log("local-request-answered", { call_id: safe(() => res.callId), status: res.status, method });
      return;
    }
    const tx = ctx.store.getTransaction(ours.txId);
    const b = tx?.branches[ours.n];
    // §16.7 step 1 would forward a response without a context statelessly;
    // we drop it: a response must come from the hop its branch went to, so
    // nobody can inject one into another user's socket.
    if (tx === undefined || b === undefined || !sameHop(b.target, from)) {
      ctx.log("response-without-transaction", { call_id: safe(() => res.callId), status: res.status, from: describeHop(from) });
      return;
    }
    if (method === "CANCEL") return; // the answer to our CANCEL (§9.1): the INVITE's own final response is what matters
    if (method !== tx.method) return;
    res.removeFirst("Via"); // §16.7 step 3
    if (from.kind === "flow") {
      res.remove(SIP_BRANCH_ANSWER_HEADER); // only we say a response is a phone's (proxy-media.ts)
      if (tx.sipOffer === true && isPathFlow(from.flowId)) res.set(SIP_BRANCH_ANSWER_HEADER, "1");
    }
    let current: ProxyTransaction | undefined = tx;
    if (tx.media === true && ctx.host.media !== undefined && res.status > 100 && res.status < 300 && res.contentLength > 0) {
      // RFC 3264 §4: the SDP answer goes through the media layer; other
      // messages may be handled meanwhile, so the transaction is read anew.
      await ctx.host.media.answer(res, ctx.requestOf(tx));
      current = ctx.store.getTransaction(tx.id);
    }
    // The marker goes on to a caller's DO only (proxy-media.ts); no socket, phone or carrier sees it.
    if (tx.source.kind !== "user" || egressLinkOf(tx.source) !== undefined) res.remove(SIP_BRANCH_ANSWER_HEADER);
    const branch = current?.branches[ours.n];
    if (current === undefined || branch === undefined) return;
    if (res.status < 200) await this.provisional(current, branch, res);
    else await this.complete(current, branch.n, { status: res.status, res });
  }

  /** §16.7 steps 2 and 5: a provisional response resets Timer C and, other than 100, goes upstream. */
  private async provisional(tx: ProxyTransaction, b: ClientBranch, res: SipResponse): Promise<void> {
    if (!isPending(b) || tx.method !== "INVITE") return; // RFC 4320 §4.1: no 1xx upstream for non-INVITE
    const { ctx } = this;
    const wasCalling = b.state === "calling";
    b.state = "proceeding";
    const out: Outgoing[] = [];
    if (b.cancel === "wanted") {
      this.cancel(tx, b, out);
    } else if (b.cancel === "no" && (res.status > 100 || wasCalling)) {
      b.timerAt = ctx.now() + timerC(b.target); // §16.8: 101-199 reset Timer C; the first response ends Timer B
      ctx.host.setTimer(branchTimerKey(tx.id, b.n), b.timerAt);
    }
    // Written only when the state changed: a stored timerAt that lags the
    // timer table is harmless (the timer fires at the moved time and finds
    // the stored one due), and a 180 after a 100 then costs no write.
    if (wasCalling || out.length > 0) {
      b.status = res.status;
      ctx.store.updateTransaction(tx);
    }
    if (res.status > 100 && tx.finalStatus === 0) out.push({ to: tx.source, text: res.toString() });
    await ctx.flush(out);
  }

  /**
   * A branch's final response, received or synthesized (408 on timeout, 480
   * for a gone socket, 430 for a gone flow-token flow, 503 when the RPC
   * failed). §16.7 steps 4-10: 2xx go upstream at once and cancel the other
   * branches; 6xx cancel the others; other finals compete for "best"; when
   * no branch is pending the best one goes upstream.
   */
  async complete(tx: ProxyTransaction, n: number, final: FinalResponse): Promise<void> {
    const { ctx } = this;
    const b = tx.branches[n];
    if (b === undefined) return;
    const status = final.status;
    const out: Outgoing[] = [];
    if (!isPending(b)) {
      // §16.7 step 5: every 2xx to an INVITE goes upstream, also more of
      // them on a branch already accepted (forks behind the next DO, a
      // repeated 2xx): the UAC ACKs and BYEs extras (PITFALLS 15).
      if (final.res !== undefined && status < 300 && tx.method === "INVITE" && b.state === "accepted") {
        this.dialogs.on2xx(tx, b, final.res);
        await ctx.flush([{ to: tx.source, text: final.res.toString() }]);
      }
      return;
    }
    b.state = "completed";
    b.status = status;
    if (b.timerAt !== 0) {
      ctx.host.clearTimer(branchTimerKey(tx.id, b.n));
      b.timerAt = 0;
    }
    const text = final.res?.toString() ?? ctx.synthesize(tx, status, final.reason);
    if (status < 300) {
      if (tx.method === "INVITE") {
        if (final.res !== undefined && b.target.kind === "user") {
          // RFC 6026 §7.2 Timer M: the next DO may fork, and more 2xx may
          // follow from its other branches. A socket's branch needs none:
          // the other sockets are branches of ours, pending until they answer.
          b.state = "accepted";
          b.timerAt = ctx.now() + TIMER_M_MS;
          ctx.host.setTimer(branchTimerKey(tx.id, b.n), b.timerAt);
        }
        out.push({ to: tx.source, text });
        if (tx.finalStatus === 0) tx.finalStatus = status;
        if (final.res !== undefined) this.dialogs.on2xx(tx, b, final.res);
        this.cancelAll(tx, out); // §16.7 step 10
      } else if (tx.finalStatus === 0) {
        tx.finalStatus = status;
        out.push({ to: tx.source, text });
        if (final.res !== undefined && tx.inDialog && tx.method === "UPDATE") this.dialogs.on2xx(tx, b, final.res);
      }
    } else {
      if (tx.method === "INVITE" && status >= 600) this.cancelAll(tx, out); // §16.7 step 5
      if (final.res !== undefined && challengeHeaderFor(status) !== undefined) {
        for (const name of CHALLENGE_HEADERS) for (const v of final.res.getAll(name)) tx.challenges.push([name, v]);
      }
      if (isBetterFinal(status, tx.best?.status)) tx.best = { status, text, synthesized: final.res === undefined };
      // §17.1.1.3: our client transaction ACKs a non-2xx final. Toward a
      // socket, and toward an egress proxy (its INVITE server transaction
      // waits for the ACK); the DO-to-DO hop has no retransmissions to stop.
      if (tx.method === "INVITE" && final.res !== undefined && (b.target.kind === "flow" || egressLinkOf(b.target) !== undefined)) {
        out.push({ to: b.target, text: ackRequest(ctx.requestOf(tx), b, final.res, ctx.via(txBranch(tx.loop, tx.id, b.n))) });
      }
      if (tx.inDialog && (status === 481 || status === 408)) this.dialogs.onFailure(tx); // §12.2.1.2
    }
    if (!tx.branches.some(isPending) && tx.finalStatus === 0 && tx.best !== null) {
      const upstream = this.bestUpstream(tx);
      if (upstream !== undefined) out.push({ to: tx.source, text: upstream.text });
      tx.finalStatus = upstream?.status ?? tx.best.status;
      ctx.log("request-completed", { call_id: safe(() => ctx.requestOf(tx).callId), method: tx.method, status: tx.finalStatus });
      // No dialog came of it: the media the INVITE's offer reserved is freed (ARCHITECTURE.md "Who owns media").
      if (tx.method === "INVITE" && !tx.inDialog) ctx.callEnded(ctx.requestOf(tx).callId, { why: "rejected", status: tx.finalStatus });
    }
    this.saveOrDelete(tx);
    await ctx.flush(out);
  }

  /** §16.10: upstream cancelled (a CANCEL, or the caller's socket closed): every pending branch. */
  cancelAll(tx: ProxyTransaction, out: Outgoing[]): void {
    for (const b of tx.branches) this.cancel(tx, b, out);
  }

  /**
   * Cancels a pending branch (§9.1): at once if it is known to have the
   * request, else as soon as it answers provisionally or its RPC returns
   * (`wanted`). A cancelled branch gets CANCEL_WAIT_MS to send its final.
   */
  private cancel(tx: ProxyTransaction, b: ClientBranch, out: Outgoing[]): void {
    if (!isPending(b) || b.cancel === "sent" || tx.method !== "INVITE") return;
    const flight = `${tx.id}:${b.n}`;
    if (b.state === "calling" || this.inFlight.has(flight)) {
      b.cancel = "wanted";
      if (this.inFlight.has(flight)) this.cancelWanted.add(flight);
      return;
    }
    const { ctx } = this;
    b.cancel = "sent";
    b.timerAt = ctx.now() + CANCEL_WAIT_MS;
    ctx.host.setTimer(branchTimerKey(tx.id, b.n), b.timerAt);
    out.push({ to: b.target, text: cancelRequest(ctx.requestOf(tx), b, ctx.via(txBranch(tx.loop, tx.id, b.n))) });
  }

  /** The RPC carrying a branch's request is under way. */
  rpcStarted(txId: string, n: number): void {
    this.inFlight.add(`${txId}:${n}`);
  }

  /**
   * The other DO has the request (or the RPC failed). That stands in for the
   * 100 Trying we do not send on that hop: a CANCEL wanted meanwhile goes now
   * (§9.1 forbids a CANCEL before the request is known to have arrived, and
   * one RPC may overtake another).
   */
  async rpcEnded(txId: string, n: number, ok: boolean): Promise<void> {
    const flight = `${txId}:${n}`;
    this.inFlight.delete(flight);
    if (!this.cancelWanted.delete(flight) || !ok) return;
    const tx = this.ctx.store.getTransaction(txId);
    const b = tx?.branches[n];
    if (tx === undefined || b === undefined || b.cancel !== "wanted" || !isPending(b)) return;
    const out: Outgoing[] = [];
    this.cancel(tx, b, out);
    this.ctx.store.updateTransaction(tx);
    await this.ctx.flush(out);
  }

  /** A branch's timer: Timer M over, Timer C (§16.8), or B/F/post-CANCEL timeout ("as if 408"). */
  async onTimer(txId: string, n: number): Promise<void> {
    const { ctx } = this;
    const tx = ctx.store.getTransaction(txId);
    const b = tx?.branches[n];
    if (tx === undefined || b === undefined || b.state === "completed" || b.timerAt === 0 || b.timerAt > ctx.now()) return;
    if (b.state === "accepted") {
      b.state = "completed"; // Timer M is over: no more 2xx are expected on this branch
      b.timerAt = 0;
      this.saveOrDelete(tx);
      return;
    }
    if (tx.method === "INVITE" && b.state === "proceeding" && b.cancel === "no") {
      // §16.8: Timer C on a branch that answered provisionally: CANCEL it; its 487 (or our 408 later) settles it.
      const out: Outgoing[] = [];
      this.cancel(tx, b, out);
      ctx.store.updateTransaction(tx);
      ctx.log("timer-c-fired", { call_id: safe(() => ctx.requestOf(tx).callId), branch: describeHop(b.target) });
      await ctx.flush(out);
      return;
    }
    await this.complete(tx, n, { status: 408, reason: "Request Timeout" });
  }

  /**
   * A socket closed: requests our user sent on it and still ringing are
   * cancelled (§16.10 without anyone to answer), and branches that went to it
   * fail as 480 (PITFALLS 15).
   */
  async flowClosed(flowId: string): Promise<void> {
    const { ctx } = this;
    const out: Outgoing[] = [];
    const failed: Array<[string, number]> = [];
    for (const tx of ctx.store.listTransactions()) {
      if (tx.source.kind === "flow" && tx.source.flowId === flowId && tx.method === "INVITE" && tx.finalStatus === 0 && !tx.canceled) {
        tx.canceled = true;
        this.cancelAll(tx, out);
        ctx.store.updateTransaction(tx);
      }
      for (const b of tx.branches) {
        if (b.target.kind === "flow" && b.target.flowId === flowId && isPending(b)) failed.push([tx.id, b.n]);
      }
    }
    await ctx.flush(out);
    for (const [id, n] of failed) {
      const tx = ctx.store.getTransaction(id);
      if (tx !== undefined) await this.complete(tx, n, { status: 480, reason: "Temporarily Unavailable" });
    }
  }

  /** A transaction lives while a branch is pending or accepted (Timer M), then it is gone. */
  private saveOrDelete(tx: ProxyTransaction): void {
    if (tx.branches.every((x) => x.state === "completed")) {
      this.ctx.store.deleteTransaction(tx.id);
      this.ctx.forgetRequest(tx.id);
    } else {
      this.ctx.store.updateTransaction(tx);
    }
  }

  /** §16.7 steps 6-7: the chosen final non-2xx as sent upstream; undefined when nothing may be sent. */
  private bestUpstream(tx: ProxyTransaction): { status: number; text: string } | undefined {
    const best = tx.best!;
    // RFC 4320 §4.2: never a 408 to a non-INVITE; the UAC times out on its own.
    if (tx.method !== "INVITE" && best.synthesized && best.status === 408) return undefined;
    const status = upstreamStatus(best.status);
    if (status !== best.status) return { status, text: this.ctx.synthesize(tx, status) };
    if (challengeHeaderFor(best.status) === undefined || tx.challenges.length === 0) return { status, text: best.text };
    // §16.7 step 7: every challenge of every 401/407 goes into the one forwarded.
    const res = parseMessage(best.text) as SipResponse;
    const have = new Set(CHALLENGE_HEADERS.flatMap((name) => res.getAll(name).map((v) => name + ":" + v)));
    for (const [name, v] of tx.challenges) {
      if (!have.has(name + ":" + v)) {
        res.append(name, v);
        have.add(name + ":" + v);
      }
    }
    return { status, text: res.toString() };
  }
}

const CHALLENGE_HEADERS = ["WWW-Authenticate", "Proxy-Authenticate"];

/** Extra time on a branch to another DO: that DO runs its own Timer C and post-CANCEL wait first, and answers. */
const DO_BRANCH_MARGIN_MS = 5_000;

/** Timer B/F for a socket; for another DO, long enough that its own timers answer first. */
export function firstTimer(method: string, hop: Hop): number {
  if (method !== "INVITE") return TIMER_F_MS + (hop.kind === "user" ? DO_BRANCH_MARGIN_MS : 0);
  return hop.kind === "user" ? timerC(hop) : TIMER_B_MS;
}

function timerC(hop: Hop): number {
  return hop.kind === "user" ? TIMER_C_MS + CANCEL_WAIT_MS + DO_BRANCH_MARGIN_MS : TIMER_C_MS;
}
