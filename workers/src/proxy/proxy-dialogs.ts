import type { SipRequest, SipResponse } from "sip-parser-ts";
import { parseMessage, parseNameAddr, SipUri, type Uri } from "sip-parser-ts";
import { dialogDeadline, summarizeDialog, type Dialog, type DialogSummary } from "./dialog.ts";
import { byeRequest, candidateDialogIds, dialogFrom2xx, noteRefresh, noteRequest, senderOf } from "./dialog-state.ts";
import { flowHop, type Hop } from "./hop.ts";
import { consumeRoute, nextHopOf } from "./loose-routing.ts";
import { errorText, safe, type Outgoing, type ProxyContext } from "./proxy-context.ts";
import { dialogTimerKey } from "./proxy-timers.ts";
import type { ClientBranch, ProxyTransaction } from "./proxy-transaction.ts";
import { localBranch } from "./proxy-via.ts";

/**
 * The dialogs this DO's user is in (RFC 3261 §12), as the proxy keeps them:
 * created on a 2xx to an INVITE, refreshed by in-dialog requests and their
 * 2xx (RFC 4028 session refresh), ended by BYE, by a 481/408 to an
 * in-dialog request (§12.2.1.2), by the user's socket closing (PITFALLS 13),
 * or by the DO itself when the session timer or the lifetime runs out
 * (PITFALLS 19). Both DOs of a call keep one, each from its user's side.
 */
export class ProxyDialogs {
  constructor(private readonly ctx: ProxyContext) {}

  list(): DialogSummary[] {
    return this.ctx.store.listDialogs().map(summarizeDialog);
  }

  /** §12.1: a 2xx to an initial INVITE creates the dialog; to a re-INVITE/UPDATE it refreshes it. */
  on2xx(tx: ProxyTransaction, b: ClientBranch, res: SipResponse): void {
    const { ctx } = this;
    const now = ctx.now();
    if (tx.inDialog) {
      const d = this.find(res, tx.source.kind === "flow");
      if (d === undefined) return;
      noteRefresh(d, res, senderOf(d, safe(() => res.from.tag)), now);
      this.save(d);
      return;
    }
    // Our user's socket in this dialog: the caller's (role out) or the answering branch's (role in).
    const flowId = tx.source.kind === "flow" ? tx.source.flowId : b.target.kind === "flow" ? b.target.flowId : undefined;
    if (flowId === undefined) return;
    let d: Dialog | undefined;
    try {
      d = dialogFrom2xx({
        side: tx.role === "out" ? "caller" : "callee",
        invite: ctx.requestOf(tx),
        ok: res,
        flowId,
        now,
        maxLifetimeMs: ctx.cfg.maxDialogLifetimeMs,
      });
    } catch (err) {
      ctx.log("dialog-not-created", { reason: errorText(err) });
      return;
    }
    if (d === undefined || ctx.store.getDialog(d.id) !== undefined) return; // a repeated 2xx: the dialog exists
    this.save(d);
    ctx.log("dialog-created", { call_id: d.callId, side: d.side, caller: d.caller.aor, callee: d.callee.aor, session_expires: d.sessionExpires });
  }

  /** An in-dialog request (not ACK) passes from `source` to `target`: BYE ends the dialog (any BYE, §15), others refresh it. */
  onRequest(req: SipRequest, source: Hop, target: Hop): void {
    const ourUserSent = source.kind === "flow";
    if (!ourUserSent && target.kind !== "flow") return; // neither end is our user
    const d = this.find(req, ourUserSent);
    if (d === undefined) return;
    if (req.method === "BYE") {
      this.forget(d, "bye", senderOf(d, req.from.tag));
      return;
    }
    noteRequest(d, req, this.ctx.now());
    this.ctx.store.putDialog(d);
  }

  /** §12.2.1.2: a 481 or 408 to an in-dialog request ends the dialog. */
  onFailure(tx: ProxyTransaction): void {
    const d = this.find(this.ctx.requestOf(tx), tx.source.kind === "flow");
    if (d !== undefined) this.forget(d, "in-dialog-failure");
  }

  /** A dialog's timer: session expired or lifetime over, unless it was refreshed since. */
  async onTimer(dialogId: string): Promise<void> {
    const d = this.ctx.store.getDialog(dialogId);
    if (d === undefined) return;
    const due = this.due(d);
    if (due > this.ctx.now()) {
      this.ctx.host.setTimer(dialogTimerKey(d.id), due); // refreshed since: wait for the new deadline
      return;
    }
    await this.end(d, d.sessionExpiresAt > 0 && d.sessionExpiresAt <= d.maxLifetimeAt ? "session-expired" : "max-lifetime", true);
  }

  /** Our user's socket closed: every dialog on it ends with a BYE to the other side (PITFALLS 13). */
  async flowClosed(flowId: string): Promise<void> {
    for (const d of this.ctx.store.listDialogs()) {
      if (d.flowId === flowId) await this.end(d, "flow-closed", false);
    }
  }

  /**
   * Whether an in-dialog request our user sent belongs to one of our user's
   * dialogs and carries our user's own end of it as From (§12.2.1.1: the
   * caller's From, or the callee's To — a DID for a call from a trunk).
   */
  isOwnInDialog(req: SipRequest): boolean {
    const d = this.find(req, true);
    if (d === undefined) return false;
    const own = d.side === "caller" ? d.caller : d.callee;
    try {
      return partyKey(parseNameAddr(own.nameAddr).uri) === partyKey(req.from.uri);
    } catch {
      return false;
    }
  }

  private find(msg: SipRequest | SipResponse, ourUserSent: boolean): Dialog | undefined {
    const fromTag = msg.from.tag;
    const toTag = msg.to.tag;
    if (fromTag === undefined || toTag === undefined) return undefined;
    const [a, b] = candidateDialogIds(msg.callId, fromTag, toTag, ourUserSent);
    return this.ctx.store.getDialog(a) ?? this.ctx.store.getDialog(b);
  }

  private save(d: Dialog): void {
    this.ctx.store.putDialog(d);
    this.ctx.host.setTimer(dialogTimerKey(d.id), this.due(d));
  }

  private forget(d: Dialog, why: string, by?: string): void {
    this.ctx.store.deleteDialog(d.id);
    this.ctx.host.clearTimer(dialogTimerKey(d.id));
    this.ctx.log("dialog-ended", { call_id: d.callId, side: d.side, why, by });
    this.ctx.callEnded(d.callId, { why, ...(by !== undefined ? { by } : {}) });
  }

  /**
   * Ends a dialog the UAs did not end: BYE to the other side (through its
   * DO, as our user's UA would send it) and, unless our user's socket is
   * what went away, BYE to our user too (PITFALLS 5, 13, 19). The answers
   * come back to our "local" Via and are absorbed.
   */
  private async end(d: Dialog, why: "flow-closed" | "session-expired" | "max-lifetime", toOwnFlow: boolean): Promise<void> {
    const { ctx } = this;
    this.forget(d, why);
    const reason = REASONS[why];
    const out: Outgoing[] = [];
    if (toOwnFlow) {
      const peerSide = d.side === "caller" ? "callee" : "caller";
      out.push({ to: flowHop(d.flowId), text: byeRequest(d, peerSide, ctx.via(localBranch(ctx.nextId())), reason, false) });
    }
    const bye = parseMessage(byeRequest(d, d.side, ctx.via(localBranch(ctx.nextId())), reason, true)) as SipRequest;
    const route = consumeRoute(ctx, bye);
    const next = nextHopOf(route);
    if (next !== undefined) out.push({ to: next, text: bye.toString() });
    else ctx.log("bye-unroutable", { call_id: d.callId });
    await ctx.flush(out);
  }

  /**
   * When the DO acts on its own. The caller's DO waits a little longer, so
   * normally the callee's DO's BYE ends both and only one BYE reaches each UA.
   */
  private due(d: Dialog): number {
    return dialogDeadline(d) + this.ctx.cfg.sessionExpiryGraceMs + (d.side === "caller" ? CALLER_SIDE_DELAY_MS : 0);
  }
}

const CALLER_SIDE_DELAY_MS = 5_000;

/** A URI as a party of a dialog: user and host of a SIP URI (parameters aside), else the whole URI. */
function partyKey(uri: Uri): string {
  return uri instanceof SipUri ? `${uri.userDecoded ?? ""}@${uri.host.toLowerCase()}` : uri.toString();
}

/** RFC 3326 Reason for the BYEs we send on our own. */
const REASONS = {
  "flow-closed": 'SIP;cause=480;text="Connection closed"',
  "session-expired": 'SIP;cause=408;text="Session expired"',
  "max-lifetime": 'SIP;cause=408;text="Maximum call duration"',
} as const;
