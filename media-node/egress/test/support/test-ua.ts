import { type SipRequest, type SipResponse, createRequest } from "sip-parser-ts";
import type { InviteClientTransaction } from "../../src/transaction/invite-client-transaction.ts";
import type { TransactionLayer } from "../../src/transaction/transaction-layer.ts";
import type { Destination } from "../../src/transport/protocol.ts";

/**
 * The tiny UAS of the SIPp tests, on the transaction layer: 200 to OPTIONS,
 * 180 then 200 to INVITE, 200 to BYE; it records what it saw.
 */
export function testUas(tl: TransactionLayer, contact: string): { seen: string[]; acks: SipRequest[] } {
  const seen: string[] = [];
  const acks: SipRequest[] = [];
  tl.onRequest((req, tx) => {
    seen.push(req.method);
    if (tx === undefined) {
      if (req.method === "ACK") acks.push(req);
      return;
    }
    if (req.method === "INVITE") {
      tx.respond(180);
      // Answer on the next turn, as a real UAS would after ringing.
      setImmediate(() => tx.respond(200, "OK", { headers: [["Contact", contact]] }));
    } else {
      tx.respond(200);
    }
  });
  return { seen, acks };
}

export interface Call {
  invite: InviteClientTransaction;
  responses: SipResponse[];
  final: SipResponse;
  ack?: SipRequest;
}

/** The test UAC: an INVITE, and the ACK for a 2xx (§13.2.2.4; the transaction ACKs non-2xx itself). */
export async function placeCall(tl: TransactionLayer, dest: Destination, callId: string): Promise<Call> {
  const target = `sip:service@127.0.0.1:${dest.port}`;
  const invite = createRequest({ method: "INVITE", uri: target, from: "<sip:egress@127.0.0.1>", to: `<${target}>`, callId, cseq: 1, contact: "<sip:egress@127.0.0.1>" });
  const responses: SipResponse[] = [];
  const tx = tl.sendInvite(invite, dest, { onResponse: (r) => responses.push(r) });
  const final = await tx.final;
  const call: Call = { invite: tx, responses, final };
  if (final.status >= 200 && final.status < 300) {
    const ack = createRequest({ method: "ACK", uri: target, from: invite.get("From")!, to: final.get("To")!, callId, cseq: invite.cseq.seq });
    await tl.sendAck(ack, { ...dest, transport: tx.transport ?? dest.transport });
    call.ack = ack;
  }
  return call;
}

/** BYE in the dialog a 2xx made (From/To with tags, next CSeq). */
export function hangUp(tl: TransactionLayer, dest: Destination, call: Call): Promise<SipResponse> {
  const target = `sip:service@127.0.0.1:${dest.port}`;
  const bye = createRequest({ method: "BYE", uri: target, from: call.invite.request.get("From")!, to: call.final.get("To")!, callId: call.invite.request.callId, cseq: 2 });
  return tl.sendRequest(bye, dest).final;
}
