import type { SipResponse } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import type { Destination } from "../src/transport/protocol.ts";
import { ManualClock } from "./support/manual-clock.ts";
import { answer, outgoing } from "./support/messages.ts";
import { RecordingTransport, settle, udpSource } from "./support/recording-transport.ts";

const UDP: Destination = { transport: "UDP", host: "192.0.2.20", port: 5062 };
const TLS: Destination = { transport: "TLS", host: "192.0.2.20", port: 5061 };

function setup() {
  const clock = new ManualClock();
  const transport = new RecordingTransport(clock);
  const layer = new TransactionLayer({ transport, clock });
  return { clock, transport, layer };
}

async function run(clock: ManualClock, ms: number, step = 250) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle();
  }
}

describe("non-INVITE client transaction (RFC 3261 §17.1.2)", () => {
  it("retransmits on Timer E doubling up to T2 and gives the TU 408 on Timer F", async () => {
    const { clock, transport, layer } = setup();
    const responses: SipResponse[] = [];
    const tx = layer.sendRequest(outgoing("OPTIONS"), UDP, { onResponse: (r) => responses.push(r) });
    await settle();
    await run(clock, 33_000);
    // E: 500, 1000, 2000, 4000, then T2 (4000) until F at 64*T1 = 32000.
    expect(transport.requests("OPTIONS").map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(responses.map((r) => r.status)).toEqual([408]);
    expect(tx.failure).toBe("timeout");
    expect(tx.state).toBe("terminated");
    expect(layer.counters.client).toEqual({ OPTIONS: 1 });
    expect(layer.counters.retransmissionsSent.requests).toBe(10);
  });

  it("retransmits every T2 once a provisional arrived (Proceeding)", async () => {
    const { clock, transport, layer } = setup();
    const tx = layer.sendRequest(outgoing("REGISTER"), UDP);
    await settle();
    layer.receive(answer(tx.request, 100), udpSource());
    expect(tx.state).toBe("proceeding");
    await run(clock, 13_000);
    // The pending E (500) fires, then every T2.
    expect(transport.requests("REGISTER").map((s) => s.at)).toEqual([0, 500, 4500, 8500, 12500]);
  });

  it("absorbs retransmitted finals in Completed and ends after Timer K (T4)", async () => {
    const { clock, transport, layer } = setup();
    const responses: SipResponse[] = [];
    const tx = layer.sendRequest(outgoing("OPTIONS"), UDP, { onResponse: (r) => responses.push(r) });
    await settle();
    layer.receive(answer(tx.request, 200), udpSource());
    layer.receive(answer(tx.request, 200), udpSource());
    expect(responses).toHaveLength(1);
    expect(tx.state).toBe("completed");
    expect(layer.counters.retransmissionsReceived.responses).toBe(1);
    await run(clock, 4_750);
    expect(tx.state).toBe("completed");
    await run(clock, 250);
    expect(tx.state).toBe("terminated");
    expect(transport.requests("OPTIONS")).toHaveLength(1 + 0); // the final came before Timer E
  });

  it("has no Timer E and no Timer K on a reliable transport", async () => {
    const { clock, transport, layer } = setup();
    const tx = layer.sendRequest(outgoing("OPTIONS"), TLS);
    await settle();
    await run(clock, 10_000);
    expect(transport.requests("OPTIONS")).toHaveLength(1);
    layer.receive(answer(tx.request, 404), udpSource());
    expect(tx.state).toBe("terminated");
    expect((await tx.final).status).toBe(404);
  });

  it("a response with another CSeq method does not match (§17.1.3)", async () => {
    const { layer } = setup();
    const tx = layer.sendRequest(outgoing("OPTIONS"), UDP);
    await settle();
    const wrong = answer(tx.request, 200);
    wrong.set("CSeq", `${tx.request.cseq.seq} INFO`);
    layer.receive(wrong, udpSource());
    expect(tx.state).toBe("trying");
    expect(layer.counters.strayResponses).toBe(1);
  });

  it("a transport failure on a retransmission is a 503 too", async () => {
    const { clock, transport, layer } = setup();
    const tx = layer.sendRequest(outgoing("OPTIONS"), UDP);
    await settle();
    transport.failWith = "EHOSTUNREACH";
    await run(clock, 500);
    expect((await tx.final).status).toBe(503);
    expect(tx.failure).toBe("transport-error");
  });
});
