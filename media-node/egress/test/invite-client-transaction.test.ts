import type { SipRequest, SipResponse } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import type { InviteClientTransaction } from "../src/transaction/invite-client-transaction.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import type { Destination } from "../src/transport/protocol.ts";
import { ManualClock } from "./support/manual-clock.ts";
import { answer, outgoing } from "./support/messages.ts";
import { RecordingTransport, settle, udpSource } from "./support/recording-transport.ts";

const UDP: Destination = { transport: "UDP", host: "192.0.2.20", port: 5062 };
const TCP: Destination = { transport: "TCP", host: "192.0.2.20", port: 5062 };

function setup(timers = {}) {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const layer = new TransactionLayer({ transport, clock, timers });
  return { clock, transport, layer };
}

async function invite(layer: TransactionLayer, dest = UDP, extra: Array<[string, string]> = []) {
  const responses: SipResponse[] = [];
  const tx = layer.sendInvite(outgoing("INVITE", extra), dest, { onResponse: (r) => responses.push(r) });
  await settle();
  return { tx, responses };
}

describe("INVITE client transaction (RFC 3261 §17.1.1)", () => {
  it("retransmits on Timer A at T1, 2T1, 4T1 … over UDP and gives the TU 408 on Timer B (64*T1)", async () => {
    const { clock, transport, layer } = setup();
    const { tx, responses } = await invite(layer);
    const sendTimes = () => transport.requests("INVITE").map((s) => s.at);
    for (let i = 0; i < 40; i++) {
      clock.advance(1000);
      await settle();
    }
    // Timer A doubles (no T2 cap for INVITE): 0, 500, 1500, 3500, 7500, 15500, 31500; Timer B at 32000.
    expect(sendTimes()).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    const texts = new Set(transport.requests("INVITE").map((s) => s.text));
    expect(texts.size).toBe(1); // every retransmission is the same request, same branch
    expect(responses.map((r) => r.status)).toEqual([408]);
    expect((await tx.final).status).toBe(408);
    expect(tx.failure).toBe("timeout");
    expect(tx.state).toBe("terminated");
    expect(layer.counters.timeouts.client).toBe(1);
    expect(layer.counters.retransmissionsSent.requests).toBe(6);
    expect(layer.size.client).toBe(0);
    expect(layer.counters.active.client).toBe(0);
  });

  it("has no Timer A on a reliable transport, but Timer B still times it out", async () => {
    const { clock, transport, layer } = setup();
    const { tx } = await invite(layer, TCP);
    clock.advance(31_999);
    await settle();
    expect(transport.requests("INVITE")).toHaveLength(1);
    expect(tx.state).toBe("calling");
    clock.advance(1);
    expect((await tx.final).status).toBe(408);
  });

  it("stays on the transport a large request actually used (TCP): no retransmissions", async () => {
    const { clock, transport, layer } = setup();
    transport.useTransport = "TCP";
    const { tx } = await invite(layer, UDP);
    expect(tx.transport).toBe("TCP");
    expect(tx.target.transport).toBe("TCP");
    clock.advance(10_000);
    await settle();
    expect(transport.requests("INVITE")).toHaveLength(1);
    expect(transport.requests("INVITE")[0]!.message.topVia.transport).toBe("TCP");
  });

  it("stops retransmitting on a provisional response and Timer B no longer applies (Proceeding)", async () => {
    const { clock, transport, layer } = setup();
    const { tx, responses } = await invite(layer);
    clock.advance(600);
    await settle();
    tx.receiveResponse(answer(tx.request, 180));
    expect(tx.state).toBe("proceeding");
    clock.advance(60_000);
    await settle();
    expect(transport.requests("INVITE")).toHaveLength(2);
    expect(tx.state).toBe("proceeding");
    expect(responses.map((r) => r.status)).toEqual([180]);
  });

  it("ACKs a non-2xx final itself (§17.1.1.3), again for each retransmission, and ends after Timer D", async () => {
    const { clock, transport, layer } = setup();
    const { tx, responses } = await invite(layer, UDP, [["Route", "<sip:proxy.example.com;lr>"]]);
    const busy = answer(tx.request, 486, "callee-tag");
    layer.receive(busy, udpSource());
    await settle();
    expect(tx.state).toBe("completed");
    expect(responses.map((r) => r.status)).toEqual([486]);
    const acks = transport.requests("ACK");
    expect(acks).toHaveLength(1);
    const ack = acks[0]!.message as SipRequest;
    const inv = tx.request;
    expect(ack.requestUri).toBe(inv.requestUri);
    expect(ack.callId).toBe(inv.callId);
    expect(ack.get("From")).toBe(inv.get("From"));
    expect(ack.to.tag).toBe("callee-tag");
    expect(ack.cseq).toEqual({ seq: inv.cseq.seq, method: "ACK" });
    expect(ack.getAll("Via")).toEqual([inv.topVia.toString()]);
    expect(ack.getAll("Route")).toEqual(["<sip:proxy.example.com;lr>"]);
    // The retransmitted 486 is absorbed and ACKed again; the TU sees it once.
    layer.receive(answer(tx.request, 486, "callee-tag"), udpSource());
    await settle();
    expect(transport.requests("ACK")).toHaveLength(2);
    expect(responses).toHaveLength(1);
    expect(layer.counters.retransmissionsSent.acks).toBe(1);
    expect(layer.counters.retransmissionsReceived.responses).toBe(1);
    clock.advance(31_999);
    expect(tx.state).toBe("completed");
    clock.advance(1);
    expect(tx.state).toBe("terminated");
    expect((await tx.final).status).toBe(486);
  });

  it("ends at once after a non-2xx on a reliable transport (Timer D = 0)", async () => {
    const { transport, layer } = setup();
    const { tx } = await invite(layer, TCP);
    layer.receive(answer(tx.request, 503), udpSource());
    await settle();
    expect(transport.requests("ACK")).toHaveLength(1);
    expect(tx.state).toBe("terminated");
  });

  it("RFC 6026: a 2xx leads to Accepted, further 2xx reach the TU, the ACK is not the transaction's, Timer M ends it", async () => {
    const { clock, transport, layer } = setup();
    const { tx, responses } = await invite(layer);
    layer.receive(answer(tx.request, 200, "fork-1"), udpSource());
    expect(tx.state).toBe("accepted");
    layer.receive(answer(tx.request, 200, "fork-1"), udpSource());
    layer.receive(answer(tx.request, 200, "fork-2"), udpSource());
    layer.receive(answer(tx.request, 486, "fork-3"), udpSource());
    await settle();
    expect(responses.map((r) => `${r.status}/${r.to.tag}`)).toEqual(["200/fork-1", "200/fork-1", "200/fork-2"]);
    expect(transport.requests("ACK")).toHaveLength(0);
    expect((await tx.final).to.tag).toBe("fork-1");
    clock.advance(32_000);
    await settle();
    expect(tx.state).toBe("terminated");
    expect(transport.requests("INVITE")).toHaveLength(1);
    // After Timer M a 2xx is a stray for the core.
    const strays: SipResponse[] = [];
    layer.onStrayResponse((r) => strays.push(r));
    layer.receive(answer(tx.request, 200, "fork-1"), udpSource());
    expect(strays).toHaveLength(1);
    expect(layer.counters.strayResponses).toBe(1);
  });

  it("turns a transport failure into 503 for the TU (§8.1.3.1)", async () => {
    const { transport, layer } = setup();
    transport.failWith = "ECONNREFUSED";
    const { tx, responses } = await invite(layer, TCP);
    expect(responses.map((r) => r.status)).toEqual([503]);
    expect(tx.failure).toBe("transport-error");
    expect(tx.state).toBe("terminated");
    expect(layer.counters.transportErrors).toBe(1);
  });

  it("holds a CANCEL until a provisional arrives (§9.1), then sends it with the INVITE's branch", async () => {
    const { transport, layer } = setup();
    const { tx, responses } = await invite(layer);
    const cancelled = tx.cancel();
    await settle();
    expect(transport.requests("CANCEL")).toHaveLength(0);
    layer.receive(answer(tx.request, 180, "t"), udpSource());
    await settle();
    const cancels = transport.requests("CANCEL");
    expect(cancels).toHaveLength(1);
    const cancel = cancels[0]!.message as SipRequest;
    expect(cancel.topVia.branch).toBe(tx.branch);
    expect(cancel.getAll("Via")).toHaveLength(1);
    expect(cancel.cseq).toEqual({ seq: tx.request.cseq.seq, method: "CANCEL" });
    expect(cancel.to.tag).toBeUndefined();
    expect(cancels[0]!.destination).toMatchObject({ transport: "UDP", host: "192.0.2.20", port: 5062 });
    // The CANCEL's 200 matches the CANCEL transaction, not the INVITE (§17.1.3: CSeq method).
    layer.receive(answer(cancel, 200, "t"), udpSource());
    expect((await cancelled)?.status).toBe(200);
    expect(tx.state).toBe("proceeding");
    layer.receive(answer(tx.request, 487, "t"), udpSource());
    await settle();
    expect(responses.map((r) => r.status)).toEqual([180, 487]);
    expect(transport.requests("ACK")).toHaveLength(1);
  });

  it("does not send a CANCEL when the final response comes first", async () => {
    const { transport, layer } = setup();
    const { tx } = await invite(layer);
    const cancelled = tx.cancel();
    layer.receive(answer(tx.request, 200), udpSource());
    expect(await cancelled).toBeUndefined();
    expect(transport.requests("CANCEL")).toHaveLength(0);
    expect(await tx.cancel()).toBeUndefined();
  });

  it("retransmits the CANCEL on Timer E like any non-INVITE (UDP)", async () => {
    const { clock, transport, layer } = setup({ t1: 100 });
    const { tx } = await invite(layer);
    layer.receive(answer(tx.request, 100), udpSource());
    void tx.cancel();
    await settle();
    clock.advance(100);
    await settle();
    expect(transport.requests("CANCEL")).toHaveLength(2);
    expect(tx.cancelTransaction?.state).toBe("trying");
  });

  it("close() resolves waiting transactions with a local 503", async () => {
    const { layer } = setup();
    const { tx } = await invite(layer);
    layer.close();
    expect((await tx.final).status).toBe(503);
    expect(layer.size.client).toBe(0);
  });

  it("refuses ACK and CANCEL through sendRequest", () => {
    const { layer } = setup();
    expect(() => layer.sendRequest(outgoing("ACK"), UDP)).toThrow(/sendAck/);
    expect(() => layer.sendRequest(outgoing("CANCEL"), UDP)).toThrow(/cancel\(\)/);
  });

  it("adds its Via with branch and rport, or the branch asked for", async () => {
    const { layer } = setup();
    const tx = layer.sendRequest(outgoing("INVITE"), UDP, { branch: "z9hG4bK-chosen" }) as InviteClientTransaction;
    await settle();
    expect(tx.branch).toBe("z9hG4bK-chosen");
    expect(tx.request.topVia.rport).toBe(true);
    // §17.1.3 matches by branch and method: a second transaction with both the same could not be told apart.
    expect(() => layer.sendRequest(outgoing("INVITE"), UDP, { branch: "z9hG4bK-chosen" })).toThrow(/exists already/);
  });
});

describe("ACK for a 2xx (§13.2.2.4)", () => {
  it("goes out without a transaction, with a new branch, and again unchanged on resend", async () => {
    const { transport, layer } = setup();
    const { tx } = await invite(layer);
    layer.receive(answer(tx.request, 200), udpSource());
    const ack = outgoing("ACK");
    await layer.sendAck(ack, UDP);
    await layer.sendAck(ack, UDP, { resend: true });
    const acks = transport.requests("ACK");
    expect(acks).toHaveLength(2);
    expect(acks[0]!.text).toBe(acks[1]!.text);
    expect(ack.getAll("Via")).toHaveLength(1);
    expect(ack.topVia.branch).not.toBe(tx.branch);
    expect(layer.size.client).toBe(1); // only the INVITE's, in Accepted
  });
});
