// RFC 3261 §17.1.1 INVITE client transaction, with RFC 6026's Accepted
// state (§7.2): a 2xx takes it to Accepted, where further 2xx (from other
// forks, or retransmitted) still reach the transaction user until Timer M.
//
//   Calling ──1xx──► Proceeding ──300-699──► Completed ──Timer D──► Terminated
//      │  Timer A: retransmit (unreliable), T1, 2T1, 4T1 …
//      │  Timer B (64*T1): 408 to the TU
//      └──2xx (from Calling or Proceeding)──► Accepted ──Timer M (64*T1)──► Terminated
//
// In Completed the transaction ACKs every non-2xx final it receives
// (§17.1.1.3); the ACK for a 2xx is the TU's (§13.2.2.4).
import type { SipRequest, SipResponse } from "sip-parser-ts";
import { messageFields } from "../message-fields.ts";
import type { Destination } from "../transport/protocol.ts";
import { ClientTransaction } from "./client-transaction.ts";
import { ackForNon2xx, cancelFor } from "./derived-requests.ts";
import type { NonInviteClientTransaction } from "./non-invite-client-transaction.ts";
import type { TransactionContext } from "./transaction-context.ts";

/** How the transaction layer starts the CANCEL's own non-INVITE transaction (§9.1). */
export type StartCancel = (cancel: SipRequest, destination: Destination) => NonInviteClientTransaction;

export class InviteClientTransaction extends ClientTransaction {
  private ack: SipRequest | undefined;
  private reliable = false;
  private cancelWanted: { reason: string | undefined; resolve: (r: SipResponse | undefined) => void } | undefined;
  private cancelTx: NonInviteClientTransaction | undefined;

  constructor(
    request: SipRequest,
    destination: Destination,
    ctx: TransactionContext,
    private readonly startCancel: StartCancel,
  ) {
    super(request, destination, ctx, "calling");
    if (request.method !== "INVITE") throw new TypeError("InviteClientTransaction is for INVITE");
  }

  start(): void {
    const { t1, t64 } = this.ctx.timers;
    this.timerSet.set("B", t64, () => {
      if (this.stateValue === "calling") this.timedOut("B");
    });
    this.transmit((reliable) => {
      this.reliable = reliable;
      // §17.1.1.2: Timer A only for unreliable transports.
      if (!reliable && this.stateValue === "calling") this.armTimerA(t1);
    });
  }

  private armTimerA(interval: number): void {
    this.timerSet.set("A", interval, () => {
      if (this.stateValue !== "calling") return;
      this.retransmit();
      this.armTimerA(interval * 2);
    });
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.stateValue) {
      case "calling":
      case "proceeding":
        if (status < 200) {
          this.stateValue = "proceeding";
          // Timer B guards the Calling state only.
          this.timerSet.clear("A");
          this.timerSet.clear("B");
          this.passUp(response);
          if (this.cancelWanted !== undefined) this.sendCancel();
        } else if (status < 300) {
          this.stateValue = "accepted";
          this.timerSet.clearAll();
          this.timerSet.set("M", this.ctx.timers.t64, () => this.terminate());
          this.passUp(response);
          this.settleCancelIfNotSent();
        } else {
          this.stateValue = "completed";
          this.timerSet.clearAll();
          this.ack = ackForNon2xx(this.request, response);
          this.sendAck();
          this.passUp(response);
          this.settleCancelIfNotSent();
          this.after("D", this.reliable ? 0 : this.ctx.timers.timerD, () => this.terminate());
        }
        break;
      case "accepted":
        // RFC 6026 §8.4: every 2xx goes to the TU (forks, retransmissions), the rest is absorbed.
        if (status >= 200 && status < 300) this.passUp(response);
        else this.ctx.counters.retransmissionsReceived.responses++;
        break;
      case "completed":
        if (status >= 300) {
          this.ctx.counters.retransmissionsReceived.responses++;
          this.ctx.counters.retransmissionsSent.acks++;
          this.sendAck();
        }
        break;
      default:
        break;
    }
  }

  /**
   * Cancels the INVITE (§9.1). Before any provisional response the CANCEL
   * waits for one ("MUST NOT be sent"); after a final response there is
   * nothing to cancel. Resolves with the CANCEL's final response, or
   * undefined when no CANCEL was sent.
   */
  cancel(reason?: string): Promise<SipResponse | undefined> {
    if (this.cancelTx !== undefined) return this.cancelTx.final;
    if (this.cancelWanted !== undefined || (this.stateValue !== "calling" && this.stateValue !== "proceeding")) {
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      this.cancelWanted = { reason, resolve };
      if (this.stateValue === "proceeding") this.sendCancel();
    });
  }

  /** The CANCEL's transaction, once sent. */
  get cancelTransaction(): NonInviteClientTransaction | undefined {
    return this.cancelTx;
  }

  private sendCancel(): void {
    const wanted = this.cancelWanted;
    if (wanted === undefined || this.cancelTx !== undefined) return;
    this.cancelWanted = undefined;
    // §9.1: to the same destination as the INVITE (and over the transport it used).
    this.cancelTx = this.startCancel(cancelFor(this.request, wanted.reason), this.destination);
    this.cancelTx.final.then(wanted.resolve);
  }

  private settleCancelIfNotSent(): void {
    const wanted = this.cancelWanted;
    this.cancelWanted = undefined;
    wanted?.resolve(undefined);
  }

  private sendAck(): void {
    const ack = this.ack;
    if (ack === undefined) return;
    this.ctx.transport.sendRequest(ack, this.destination).catch((err: unknown) => {
      this.ctx.logger.info("ack-send-failed", { ...messageFields(ack), error: err instanceof Error ? err.message : String(err) });
    });
  }

  protected override terminate(): void {
    this.settleCancelIfNotSent();
    super.terminate();
  }
}
