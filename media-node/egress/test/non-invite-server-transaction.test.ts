import type { SipResponse } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import type { ServerTransaction } from "../src/transaction/server-transaction.ts";
import { TransactionStateError } from "../src/transaction/transaction-errors.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import { ManualClock } from "./support/manual-clock.ts";
import { incoming } from "./support/messages.ts";
import { RecordingTransport, settle, tcpSource, udpSource } from "./support/recording-transport.ts";

function setup() {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const layer = new TransactionLayer({ transport, clock });
  const txs: ServerTransaction[] = [];
  layer.onRequest((_r, tx) => {
    if (tx) txs.push(tx);
  });
  return { clock, transport, layer, txs };
}

const statuses = (t: RecordingTransport) => t.responses().map((s) => (s.message as SipResponse).status);

describe("non-INVITE server transaction (RFC 3261 §17.2.2)", () => {
  it("absorbs retransmissions in Trying, answers them with the last response after, and ends after Timer J", async () => {
    const { clock, transport, layer, txs } = setup();
    const req = () => incoming("REGISTER", { branch: "z9hG4bK-reg" });
    layer.receive(req(), udpSource());
    layer.receive(req(), udpSource());
    expect(statuses(transport)).toEqual([]);
    const tx = txs[0]!;
    tx.respond(100);
    layer.receive(req(), udpSource());
    expect(tx.state).toBe("proceeding");
    tx.respond(200);
    layer.receive(req(), udpSource());
    await settle();
    expect(statuses(transport)).toEqual([100, 100, 200, 200]);
    expect(txs).toHaveLength(1);
    expect(layer.counters.retransmissionsReceived.requests).toBe(3);
    expect(() => tx.respond(500)).toThrow(TransactionStateError);
    clock.advance(31_999);
    expect(tx.state).toBe("completed");
    clock.advance(1); // Timer J = 64*T1
    expect(tx.state).toBe("terminated");
    // A late retransmission is a new request.
    layer.receive(req(), udpSource());
    expect(txs).toHaveLength(2);
  });

  it("ends at once on a reliable transport (Timer J = 0)", () => {
    const { layer, txs } = setup();
    layer.receive(incoming("OPTIONS", { via: "SIP/2.0/TCP 192.0.2.20:40000;branch=z9hG4bK-o" }), tcpSource());
    txs[0]!.respond(200);
    expect(txs[0]!.state).toBe("terminated");
    expect(layer.counters.active.server).toBe(0);
    expect(layer.counters.server).toEqual({ OPTIONS: 1 });
  });

  it("uses one To tag for all its responses and keeps an existing one", () => {
    const { transport, layer, txs } = setup();
    layer.receive(incoming("SUBSCRIBE"), udpSource());
    txs[0]!.respond(100);
    const ok = txs[0]!.respond(202);
    expect(ok.to.tag).toBe(txs[0]!.toTag);
    layer.receive(incoming("BYE", { toTag: "dialog-tag" }), udpSource());
    expect(txs[1]!.respond(200).to.tag).toBe("dialog-tag");
    expect(transport.responses()).toHaveLength(3);
  });
});
