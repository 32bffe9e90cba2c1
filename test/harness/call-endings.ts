import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "./media-stub.ts";
import { remoteTarget, request, routeSet, type IncomingCall, type OutgoingCall, type SipPhone } from "./sip-phone.ts";
import type { SipMessageText } from "./sip-ws-client.ts";

/**
 * Every way a browser-to-browser call ends (issue 4, "No leaks"; PITFALLS
 * 13, 15, 18), played by two raw SipPhones with real Chromium SDP: a call is
 * set up to the point its ending starts from (ringing or talking), so a test
 * can look at rtpengine while it is up, then ended. Each ending says what the
 * CDR of the call should hold (workers/src/media/call-media.ts `cdrOf`).
 */
export const CALL_ENDINGS = [
  "caller-bye",
  "callee-bye",
  "cancel-while-ringing",
  "callee-rejects-486",
  "callee-rejects-603",
  "caller-drops-while-ringing",
  "caller-drops-mid-call",
  "callee-drops-mid-call",
] as const;
export type CallEnding = (typeof CALL_ENDINGS)[number];

/** What the owning DO should write into `cdrs` for a call ended this way. */
export interface ExpectedCdr {
  end_reason: string;
  answered: boolean;
  status?: number;
  ended_by?: string;
}

export const EXPECTED_CDR: Record<CallEnding, ExpectedCdr> = {
  "caller-bye": { end_reason: "bye", answered: true, ended_by: "caller" },
  "callee-bye": { end_reason: "bye", answered: true, ended_by: "callee" },
  // The final response upstream decides (response-context.ts): a CANCELled INVITE ends with 487.
  "cancel-while-ringing": { end_reason: "rejected", answered: false, status: 487 },
  "callee-rejects-486": { end_reason: "rejected", answered: false, status: 486 },
  "callee-rejects-603": { end_reason: "rejected", answered: false, status: 603 },
  // The caller's DO cancels the ringing branch (§16.10) and the 487 ends the transaction.
  "caller-drops-while-ringing": { end_reason: "rejected", answered: false, status: 487 },
  // The caller's own DO sees its socket close (PITFALLS 13).
  "caller-drops-mid-call": { end_reason: "flow-closed", answered: true },
  // The callee's DO ends the dialog and its BYE reaches the caller's DO, which owns the media.
  "callee-drops-mid-call": { end_reason: "bye", answered: true, ended_by: "callee" },
};

export function isAnswered(ending: CallEnding): boolean {
  return EXPECTED_CDR[ending].answered;
}

/** A call set up as far as its ending needs: ringing (180) or talking (200, ACKed both ways). */
export interface CallUnderWay {
  ending: CallEnding;
  call: OutgoingCall;
  incoming: IncomingCall;
  caller: SipPhone;
  callee: SipPhone;
  /** The 200 the caller got (talking calls only): it carries rtpengine's SDP. */
  ok?: SipMessageText;
}

export async function setUpCall(caller: SipPhone, callee: SipPhone, ending: CallEnding, timeoutMs = 10_000): Promise<CallUnderWay> {
  const call = await caller.call(callee.aor, { sdp: CHROMIUM_OFFER });
  const incoming = await callee.incoming(timeoutMs, (m) => m.includes(call.callId));
  incoming.reply(180);
  await call.response(180, timeoutMs);
  if (!isAnswered(ending)) return { ending, call, incoming, caller, callee };
  incoming.reply(200, { sdp: CHROMIUM_ANSWER });
  const ok = await call.answered(timeoutMs);
  await incoming.ack(timeoutMs);
  return { ending, call, incoming, caller, callee, ok };
}

/** Ends the call the way it was set up to end; resolves once both phones saw the end. */
export async function endCall(c: CallUnderWay, timeoutMs = 10_000): Promise<void> {
  const { call, incoming, caller, callee } = c;
  const byeTo = (phone: SipPhone): Promise<void> =>
    phone.nextRequest("BYE", timeoutMs, (m) => m.includes(call.callId)).then((bye) => void phone.respond(bye, 200));
  const calleeIsCancelled = async (): Promise<void> => {
    callee.respond(await incoming.request("CANCEL", timeoutMs), 200);
    incoming.reply(487);
    await incoming.ack(timeoutMs); // the edge's ACK to the 487 (§17.1.1.3)
  };
  const callerGetsFinal = async (status: number): Promise<void> => {
    const res = await call.final(timeoutMs);
    if (res.status !== status) throw new Error(`${call.callId} (${c.ending}): expected ${status}, got ${res.status} ${res.reason}`);
    call.ackFailure(res);
  };
  switch (c.ending) {
    case "caller-bye": {
      const bye = call.bye();
      await byeTo(callee);
      expectStatus(await bye, 200, c);
      return;
    }
    case "callee-bye": {
      const bye = incoming.bye();
      await byeTo(caller);
      expectStatus(await bye, 200, c);
      return;
    }
    case "cancel-while-ringing": {
      expectStatus(await call.cancel(), 200, c);
      await Promise.all([calleeIsCancelled(), callerGetsFinal(487)]);
      return;
    }
    case "callee-rejects-486":
    case "callee-rejects-603": {
      const status = c.ending === "callee-rejects-486" ? 486 : 603;
      incoming.reply(status);
      await Promise.all([incoming.ack(timeoutMs), callerGetsFinal(status)]);
      return;
    }
    case "caller-drops-while-ringing":
      caller.client.ws.terminate(); // no close frame: the TCP connection just goes (1006)
      await calleeIsCancelled();
      return;
    case "caller-drops-mid-call":
      caller.client.ws.terminate();
      await byeTo(callee);
      return;
    case "callee-drops-mid-call":
      callee.client.ws.terminate();
      await byeTo(caller);
      return;
  }
}

/**
 * A re-INVITE from the caller with a new offer (RFC 3264 §8.4 hold: the
 * caller's streams `sendonly`), answered by the callee `recvonly`, and its
 * ACK (RFC 3261 §14.1). Returns what the callee received and the caller's 200.
 */
export async function holdByCaller(c: Pick<CallUnderWay, "call" | "incoming" | "callee">, timeoutMs = 10_000): Promise<{ reinvite: SipMessageText; ok: SipMessageText }> {
  const { call, incoming, callee } = c;
  const offer = CHROMIUM_OFFER.replace(/a=sendrecv/g, "a=sendonly");
  const pending = call.inDialog("INVITE", { headers: [`Contact: <${call.phone.contact}>`, "Content-Type: application/sdp"], body: offer });
  const reinvite = await incoming.request("INVITE", timeoutMs);
  callee.respond(reinvite, 200, {
    headers: [`Contact: <${callee.contact}>`, "Content-Type: application/sdp"],
    body: CHROMIUM_ANSWER.replace(/a=sendrecv/g, "a=recvonly"),
  });
  const ok = await pending;
  if (ok.status !== 200) throw new Error(`re-INVITE of ${call.callId}: ${ok.status} ${ok.reason}`);
  const cseq = Number(ok.header("CSeq")!.split(/\s+/)[0]);
  call.phone.client.send(
    request({
      method: "ACK",
      uri: remoteTarget(call.ok!),
      via: call.phone.via(),
      from: call.from,
      to: call.ok!.header("To")!,
      callId: call.callId,
      cseq,
      cseqMethod: "ACK",
      headers: routeSet(call.ok!, "caller").map((r) => `Route: ${r}`),
    }),
  );
  await incoming.request("ACK", timeoutMs);
  return { reinvite, ok };
}

/** The media ports (`m=audio <port>`) of an SDP body: rtpengine's, once the edge anchored it. */
export function audioPorts(text: string): number[] {
  return [...text.matchAll(/^m=audio (\d+) /gm)].map((m) => Number(m[1]));
}

function expectStatus(res: SipMessageText, status: number, c: CallUnderWay): void {
  if (res.status !== status) throw new Error(`${c.call.callId} (${c.ending}): expected ${status}, got ${res.status} ${res.reason}`);
}
