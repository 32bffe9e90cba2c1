// RFC 3261 §17.2.1 INVITE server transaction, with RFC 6026's Accepted
// state (§7.1): after a 2xx the transaction stays for Timer L (64*T1),
// absorbing retransmitted INVITEs and sending further 2xx the TU passes it
// (the TU retransmits its 2xx itself, §13.3.1.4).
//
//   Proceeding ──300-699──► Completed ──ACK──► Confirmed ──Timer I──► Terminated
//      │ 100 Trying after 200 ms       │ Timer G: resend final (unreliable), T1 … T2
//      │ if the TU has not answered    │ Timer H (64*T1): no ACK → TU told, Terminated
//      └──2xx──► Accepted ──Timer L──► Terminated
import type { SipRequest, SipResponse } from "sip-parser-ts";
import { createResponse } from "sip-parser-ts";
import type { MessageSource } from "../transport/protocol.ts";
import { type MatchedRequest, ServerTransaction } from "./server-transaction.ts";
import type { TransactionContext } from "./transaction-context.ts";

export class InviteServerTransaction extends ServerTransaction {
  private lastProvisional: SipResponse | undefined;

  constructor(request: SipRequest, source: MessageSource, key: string, ctx: TransactionContext) {
    super(request, source, key, ctx, "proceeding");
    if (request.method !== "INVITE") throw new TypeError("InviteServerTransaction is for INVITE");
    // §17.2.1: 100 Trying unless the TU answers within 200 ms.
    this.timerSet.set("Trying", ctx.timers.trying, () => {
      if (this.stateValue === "proceeding" && this.lastResponse === undefined) this.sendTrying();
    });
  }

  send(response: SipResponse): void {
    const status = response.status;
    switch (this.stateValue) {
      case "proceeding":
        this.timerSet.clear("Trying");
        this.lastResponse = response;
        if (status < 200) {
          this.lastProvisional = response;
          this.transmit(response);
        } else if (status < 300) {
          this.stateValue = "accepted";
          this.transmit(response);
          this.timerSet.set("L", this.ctx.timers.t64, () => this.terminate());
        } else {
          this.stateValue = "completed";
          this.transmit(response);
          if (!this.reliable) this.armTimerG(this.ctx.timers.t1);
          this.timerSet.set("H", this.ctx.timers.t64, () => {
            if (this.stateValue === "completed") this.fail("timeout", { timer: "H" });
          });
        }
        return;
      case "accepted":
        // RFC 6026 §7.1: 2xx from the TU (its retransmissions, or another fork's) go out.
        if (status >= 200 && status < 300) {
          this.lastResponse = response;
          this.transmit(response);
          return;
        }
        return this.refuse(`${status} after a 2xx`);
      default:
        return this.refuse(String(status));
    }
  }

  receiveRequest(request: SipRequest): MatchedRequest {
    if (request.method === "ACK") {
      if (this.stateValue === "completed") {
        this.stateValue = "confirmed";
        this.timerSet.clear("G");
        this.timerSet.clear("H");
        // Timer I: absorb ACK retransmissions for T4 (unreliable), none on reliable transports.
        this.after("I", this.reliable ? 0 : this.ctx.timers.t4, () => this.terminate());
        return "absorbed";
      }
      if (this.stateValue === "confirmed") {
        this.ctx.counters.retransmissionsReceived.requests++;
        return "absorbed";
      }
      // An ACK matching in Accepted acknowledges the 2xx: that is the TU's (RFC 6026 §7.1).
      return this.stateValue === "accepted" ? "to-tu" : "absorbed";
    }
    // A retransmitted INVITE.
    this.ctx.counters.retransmissionsReceived.requests++;
    if (this.stateValue === "proceeding") {
      // §17.2.1: resend the last provisional; with none yet, a 100 now tells the client to stop.
      if (this.lastProvisional !== undefined) this.retransmit(this.lastProvisional);
      else this.sendTrying();
    } else if (this.stateValue === "completed" && this.lastResponse !== undefined) {
      this.retransmit(this.lastResponse);
    }
    return "absorbed";
  }

  private sendTrying(): void {
    this.timerSet.clear("Trying");
    const trying = createResponse(this.request, 100, "Trying");
    this.lastProvisional = trying;
    this.transmit(trying);
  }

  private armTimerG(interval: number): void {
    this.timerSet.set("G", interval, () => {
      if (this.stateValue !== "completed" || this.lastResponse === undefined) return;
      this.retransmit(this.lastResponse);
      this.armTimerG(Math.min(2 * interval, this.ctx.timers.t2));
    });
  }
}
