import type { SipRequest, SipResponse } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import type { InviteServerTransaction } from "../src/transaction/invite-server-transaction.ts";
import type { ServerTransaction } from "../src/transaction/server-transaction.ts";
import { TransactionStateError } from "../src/transaction/transaction-errors.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import type { MessageSource } from "../src/transport/protocol.ts";
import { ManualClock } from "./support/manual-clock.ts";
import { incoming } from "./support/messages.ts";
import { RecordingTransport, settle, tcpSource, udpSource } from "./support/recording-transport.ts";

function setup() {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const layer = new TransactionLayer({ transport, clock });
  const seen: Array<{ request: SipRequest; tx: ServerTransaction | undefined }> = [];
  let onTx: (tx: ServerTransaction) => void = () => {};
  layer.onRequest((request, tx) => {
    seen.push({ request, tx });
    if (tx !== undefined) onTx(tx);
  });
  return { clock, transport, layer, seen, answerWith: (f: (tx: ServerTransaction) => void) => (onTx = f) };
}

const statuses = (t: RecordingTransport) => t.responses().map((s) => (s.message as SipResponse).status);

describe("INVITE server transaction (RFC 3261 §17.2.1)", () => {
  it("sends 100 Trying after 200 ms when the TU has not answered", async () => {
    const { clock, transport, layer, seen } = setup();
    layer.receive(incoming("INVITE"), udpSource());
    clock.advance(199);
    expect(statuses(transport)).toEqual([]);
    clock.advance(1);
    await settle();
    expect(statuses(transport)).toEqual([100]);
    const trying = transport.responses(100)[0]!.message;
    expect(trying.to.tag).toBeUndefined(); // §8.2.6.2: no tag on 100
    expect(seen).toHaveLength(1);
  });

  it("sends no 100 when the TU answers within 200 ms", async () => {
    const { clock, transport, layer, answerWith } = setup();
    answerWith((tx) => tx.respond(180));
    layer.receive(incoming("INVITE"), udpSource());
    clock.advance(1_000);
    await settle();
    expect(statuses(transport)).toEqual([180]);
  });

  it("answers a retransmitted INVITE with the last provisional, without telling the TU again", async () => {
    const { transport, layer, seen, answerWith } = setup();
    answerWith((tx) => tx.respond(180));
    const inv = incoming("INVITE", { branch: "z9hG4bK-retrans" });
    layer.receive(inv, udpSource());
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-retrans" }), udpSource());
    await settle();
    expect(statuses(transport)).toEqual([180, 180]);
    expect(seen).toHaveLength(1);
    expect(layer.counters.retransmissionsReceived.requests).toBe(1);
    expect(layer.counters.retransmissionsSent.responses).toBe(1);
  });

  it("answers a retransmitted INVITE with 100 when nothing was sent yet", async () => {
    const { transport, layer } = setup();
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-r2" }), udpSource());
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-r2" }), udpSource());
    await settle();
    expect(statuses(transport)).toEqual([100]);
  });

  it("retransmits a non-2xx final on Timer G (T1 doubling to T2) until the ACK, then absorbs ACKs for Timer I", async () => {
    const { clock, transport, layer, seen, answerWith } = setup();
    let tx!: ServerTransaction;
    answerWith((t) => {
      tx = t;
      t.respond(486);
    });
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-g" }), udpSource());
    clock.advance(8_000);
    await settle();
    // G: 500, 1000, 2000, 4000 → sent at 0, 500, 1500, 3500, 7500.
    expect(transport.responses(486).map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500]);
    expect(tx.state).toBe("completed");
    // A retransmitted INVITE gets the final again.
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-g" }), udpSource());
    expect(transport.responses(486)).toHaveLength(6);
    layer.receive(incoming("ACK", { branch: "z9hG4bK-g", toTag: tx.toTag }), udpSource());
    expect(tx.state).toBe("confirmed");
    clock.advance(4_000);
    expect(transport.responses(486)).toHaveLength(6);
    layer.receive(incoming("ACK", { branch: "z9hG4bK-g", toTag: tx.toTag }), udpSource());
    expect(seen.map((s) => s.request.method)).toEqual(["INVITE"]); // ACKs absorbed
    clock.advance(1_000); // Timer I = T4 = 5 s
    expect(tx.state).toBe("terminated");
    expect(layer.size.server).toBe(0);
  });

  it("tells the TU when no ACK comes (Timer H, 64*T1)", async () => {
    const { clock, layer, answerWith } = setup();
    const failures: string[] = [];
    let tx!: ServerTransaction;
    answerWith((t) => {
      tx = t;
      t.onFailure((f) => failures.push(f));
      t.respond(404);
    });
    layer.receive(incoming("INVITE"), udpSource());
    clock.advance(31_999);
    expect(failures).toEqual([]);
    clock.advance(1);
    expect(failures).toEqual(["timeout"]);
    expect(tx.state).toBe("terminated");
    expect(layer.counters.timeouts.server).toBe(1);
  });

  it("has no Timer G on a reliable transport, and Timer I is zero", async () => {
    const { clock, transport, layer, answerWith } = setup();
    let tx!: ServerTransaction;
    answerWith((t) => {
      tx = t;
      t.respond(603);
    });
    const src: MessageSource = tcpSource();
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-tcp", via: "SIP/2.0/TCP 192.0.2.20:40000;branch=z9hG4bK-tcp" }), src);
    clock.advance(10_000);
    await settle();
    expect(transport.responses(603)).toHaveLength(1);
    expect(transport.responses(603)[0]!.source).toBe(src);
    layer.receive(incoming("ACK", { branch: "z9hG4bK-tcp", toTag: tx.toTag, via: "SIP/2.0/TCP 192.0.2.20:40000;branch=z9hG4bK-tcp" }), src);
    expect(tx.state).toBe("terminated");
  });

  it("RFC 6026: after a 2xx it absorbs INVITE retransmissions, sends the TU's 2xx retransmissions, and ends on Timer L", async () => {
    const { clock, transport, layer, seen, answerWith } = setup();
    let tx!: ServerTransaction;
    answerWith((t) => {
      tx = t;
      t.respond(180);
      t.respond(200);
    });
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-ok" }), udpSource());
    expect(tx.state).toBe("accepted");
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-ok" }), udpSource());
    tx.respond(200); // the UAS core's own 2xx retransmission (§13.3.1.4)
    await settle();
    expect(statuses(transport)).toEqual([180, 200, 200]);
    expect(transport.responses(180)[0]!.message.to.tag).toBe(transport.responses(200)[0]!.message.to.tag);
    expect(() => tx.respond(486)).toThrow(TransactionStateError);
    // The ACK for the 2xx has its own branch: it goes to the TU without a transaction.
    layer.receive(incoming("ACK", { branch: "z9hG4bK-ack2xx", toTag: tx.toTag }), udpSource());
    expect(seen.map((s) => [s.request.method, s.tx === undefined])).toEqual([
      ["INVITE", false],
      ["ACK", true],
    ]);
    clock.advance(32_000);
    expect(tx.state).toBe("terminated");
  });

  it("tells the TU when a response cannot be sent (§17.2.4)", async () => {
    const { transport, layer, answerWith } = setup();
    const failures: string[] = [];
    answerWith((t) => {
      t.onFailure((f) => failures.push(f));
      transport.failWith = "ECONNREFUSED";
      t.respond(200);
    });
    layer.receive(incoming("INVITE"), udpSource());
    await settle();
    expect(failures).toEqual(["transport-error"]);
    expect(layer.counters.transportErrors).toBe(1);
  });

  it("finds the INVITE a CANCEL cancels (§9.2), and the CANCEL has a transaction of its own", async () => {
    const { layer, seen } = setup();
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-c" }), udpSource());
    const cancel = incoming("CANCEL", { branch: "z9hG4bK-c" });
    layer.receive(cancel, udpSource());
    const cancelTx = seen[1]!.tx!;
    expect(cancelTx.method).toBe("CANCEL");
    const invTx = layer.findInviteFor(cancel) as InviteServerTransaction;
    expect(invTx.request.method).toBe("INVITE");
    expect(invTx).toBe(seen[0]!.tx);
    expect(layer.findInviteFor(incoming("CANCEL", { branch: "z9hG4bK-other" }))).toBeUndefined();
  });

  it("matches by branch and sent-by: the same branch from another sent-by is another transaction (§17.2.3)", async () => {
    const { layer, seen } = setup();
    layer.receive(incoming("INVITE", { branch: "z9hG4bK-same" }), udpSource());
    layer.receive(incoming("INVITE", { via: "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-same" }), udpSource("192.0.2.99", 5060));
    expect(seen.filter((s) => s.tx !== undefined)).toHaveLength(2);
  });

  it("RFC 2543 fallback: matches a retransmission, the ACK by our To tag, and a CANCEL", async () => {
    const { transport, layer, seen, answerWith } = setup();
    const via = "SIP/2.0/UDP 192.0.2.30:5060";
    let tx!: ServerTransaction;
    answerWith((t) => {
      if (t.method !== "INVITE") return;
      tx = t;
      t.respond(480);
    });
    layer.receive(incoming("INVITE", { via, callId: "old@2543" }), udpSource());
    layer.receive(incoming("INVITE", { via, callId: "old@2543" }), udpSource());
    expect(seen).toHaveLength(1);
    expect(statuses(transport)).toEqual([480, 480]);
    // An ACK with another To tag is not this transaction's: it goes to the TU.
    layer.receive(incoming("ACK", { via, callId: "old@2543", toTag: "someone-else" }), udpSource());
    expect(seen).toHaveLength(2);
    expect(tx.state).toBe("completed");
    layer.receive(incoming("ACK", { via, callId: "old@2543", toTag: tx.toTag }), udpSource());
    expect(tx.state).toBe("confirmed");
    expect(layer.findInviteFor(incoming("CANCEL", { via, callId: "old@2543" }))).toBe(tx);
    expect(layer.findInviteFor(incoming("CANCEL", { via, callId: "other@2543" }))).toBeUndefined();
  });

  it("answers 500 when the TU throws or there is no TU, and never throws itself", async () => {
    const { transport, layer, answerWith } = setup();
    answerWith(() => {
      throw new Error("boom");
    });
    expect(() => layer.receive(incoming("INVITE"), udpSource())).not.toThrow();
    await settle();
    expect(statuses(transport)).toEqual([500]);
    const clock = new ManualClock();
    const t2 = new RecordingTransport(clock);
    const bare = new TransactionLayer({ transport: t2, clock });
    bare.receive(incoming("OPTIONS"), udpSource());
    await settle();
    expect(statuses(t2)).toEqual([500]);
  });
});
