// RFC 3261 §17.2.2 non-INVITE server transaction.
//
//   Trying ──1xx──► Proceeding ──200-699──► Completed ──Timer J──► Terminated
//     └──200-699──► Completed
//
// A retransmitted request is absorbed in Trying and answered with the last
// response in Proceeding and Completed. Timer J is 64*T1 on unreliable
// transports and zero on reliable ones.
import type { SipRequest, SipResponse } from "sip-parser-ts";
import type { MessageSource } from "../transport/protocol.ts";
import { type MatchedRequest, ServerTransaction } from "./server-transaction.ts";
import type { TransactionContext } from "./transaction-context.ts";

export class NonInviteServerTransaction extends ServerTransaction {
  constructor(request: SipRequest, source: MessageSource, key: string, ctx: TransactionContext) {
    super(request, source, key, ctx, "trying");
    if (request.method === "INVITE" || request.method === "ACK") throw new TypeError(`NonInviteServerTransaction is not for ${request.method}`);
  }

  send(response: SipResponse): void {
    if (this.stateValue !== "trying" && this.stateValue !== "proceeding") return this.refuse(String(response.status));
    this.lastResponse = response;
    this.transmit(response);
    if (response.status < 200) {
      this.stateValue = "proceeding";
    } else {
      this.stateValue = "completed";
      this.after("J", this.reliable ? 0 : this.ctx.timers.t64, () => this.terminate());
    }
  }

  receiveRequest(_request: SipRequest): MatchedRequest {
    this.ctx.counters.retransmissionsReceived.requests++;
    if (this.stateValue !== "trying" && this.lastResponse !== undefined) this.retransmit(this.lastResponse);
    return "absorbed";
  }
}
