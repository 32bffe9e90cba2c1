// RFC 3261 §17.1.2 non-INVITE client transaction.
//
//   Trying ──1xx──► Proceeding ──200-699──► Completed ──Timer K──► Terminated
//     │  Timer E: retransmit (unreliable), T1, 2T1 … capped at T2; T2 in Proceeding
//     │  Timer F (64*T1): 408 to the TU (from Trying or Proceeding)
//     └──200-699──► Completed
//
// Timer K is T4 on unreliable transports (to absorb retransmitted
// responses) and zero on reliable ones.
import type { SipRequest, SipResponse } from "sip-parser-ts";
import type { Destination } from "../transport/protocol.ts";
import { ClientTransaction } from "./client-transaction.ts";
import type { TransactionContext } from "./transaction-context.ts";

export class NonInviteClientTransaction extends ClientTransaction {
  private reliable = false;

  constructor(request: SipRequest, destination: Destination, ctx: TransactionContext) {
    super(request, destination, ctx, "trying");
    if (request.method === "INVITE" || request.method === "ACK") throw new TypeError(`NonInviteClientTransaction is not for ${request.method}`);
  }

  start(): void {
    const { t1, t64 } = this.ctx.timers;
    this.timerSet.set("F", t64, () => {
      if (this.stateValue === "trying" || this.stateValue === "proceeding") this.timedOut("F");
    });
    this.transmit((reliable) => {
      this.reliable = reliable;
      if (!reliable && (this.stateValue === "trying" || this.stateValue === "proceeding")) this.armTimerE(t1);
    });
  }

  private armTimerE(interval: number): void {
    this.timerSet.set("E", interval, () => {
      if (this.stateValue !== "trying" && this.stateValue !== "proceeding") return;
      this.retransmit();
      const { t2 } = this.ctx.timers;
      this.armTimerE(this.stateValue === "proceeding" ? t2 : Math.min(2 * interval, t2));
    });
  }

  receiveResponse(response: SipResponse): void {
    switch (this.stateValue) {
      case "trying":
      case "proceeding":
        if (response.status < 200) {
          this.stateValue = "proceeding";
          this.passUp(response);
        } else {
          this.stateValue = "completed";
          this.timerSet.clearAll();
          this.passUp(response);
          this.after("K", this.reliable ? 0 : this.ctx.timers.t4, () => this.terminate());
        }
        break;
      case "completed":
        this.ctx.counters.retransmissionsReceived.responses++;
        break;
      default:
        break;
    }
  }
}
