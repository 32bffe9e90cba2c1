import type { SipResponse } from "sip-parser-ts";
import type { Logger } from "../log.ts";
import { messageFields } from "../message-fields.ts";
import type { ServerTransaction } from "../transaction/server-transaction.ts";
import { TransactionStateError } from "../transaction/transaction-errors.ts";
import { removeEdgeHeaders } from "./edge-headers.ts";

/**
 * §16.7 step 3 and 9: a response passed back through the server
 * transaction of the request it answers, without our Via, with the CSeq the
 * other side sent (trunk-auth.ts: the carrier side may be shifted), and
 * with no `X-Sipedge-*` field the far side made up. A 100 is hop by hop
 * (§16.7 step 2): never relayed, the server transaction sends its own.
 */
export function relayResponse(response: SipResponse, serverTx: ServerTransaction, opts: { cseq?: string; logger: Logger; mark?: [string, string] }): void {
  if (response.status === 100) return;
  response.removeFirst("Via");
  removeEdgeHeaders(response);
  // A legacy phone's response toward the edge says it is the phone's (egress-proxy.ts toPhone).
  if (opts.mark !== undefined) response.set(opts.mark[0], opts.mark[1]);
  if (opts.cseq !== undefined && response.get("CSeq") !== opts.cseq) response.set("CSeq", opts.cseq);
  try {
    serverTx.send(response);
  } catch (e) {
    // A response the server transaction no longer takes (a provisional after the final, a late failure after a 2xx).
    if (!(e instanceof TransactionStateError)) throw e;
    opts.logger.debug("response-not-relayed", { ...messageFields(response), state: e.state });
  }
}

/** Forwarding of one request, as a CANCEL finds it (§16.10): cancelled before or after its client transaction exists. */
export class Forwarding {
  canceled = false;
  private onCancel: (() => void) | undefined;

  /** What cancelling does once the request went out. */
  attach(onCancel: () => void): void {
    this.onCancel = onCancel;
    if (this.canceled) onCancel();
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.onCancel?.();
  }
}
