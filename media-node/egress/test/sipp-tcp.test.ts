import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeTcpPort } from "../../../packages/sipedge/src/stack/ports.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import type { Destination } from "../src/transport/protocol.ts";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import { SCENARIOS, type Sipp, runSipp, waitListening } from "./support/sipp.ts";
import { hangUp, placeCall, testUas } from "./support/test-ua.ts";

// The transaction layer against the real SIPp over TCP (-t t1: one
// connection), both ways. Reliable transport: no retransmission timers.

const runs: Sipp[] = [];
afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
});

function sipp(args: string[]): Sipp {
  const r = runSipp([...args, "-t", "t1"]);
  runs.push(r);
  return r;
}

const received = (s: Sipp, startsWith: string) => s.messages().filter((m) => m.direction === "received" && m.text.startsWith(startsWith));

describe("SIPp UAC → our UAS (TCP)", () => {
  let transport: SipTransportLayer;
  let tl: TransactionLayer;
  let uas: ReturnType<typeof testUas>;
  let port: number;

  beforeAll(async () => {
    transport = new SipTransportLayer({ udp: false, tcp: { host: "127.0.0.1", port: 0 } });
    tl = new TransactionLayer({ transport });
    await transport.start();
    port = transport.addresses().TCP!.port;
    uas = testUas(tl, `<sip:uas@127.0.0.1:${port};transport=tcp>`);
  });

  afterAll(async () => {
    tl?.close();
    await transport?.stop();
  });

  it("answers OPTIONS and takes calls over SIPp's one TCP connection", async () => {
    const options = sipp([`127.0.0.1:${port}`, "-sf", join(SCENARIOS, "uac-options.xml"), "-m", "2", "-p", String(await freeTcpPort())]);
    expect(await options.exited, options.errors()).toBe(0);
    // -l 1: one call at a time, so the order below is SIPp's, not the machine's load.
    const calls = sipp([`127.0.0.1:${port}`, "-sf", join(SCENARIOS, "uac-invite.xml"), "-m", "2", "-l", "1", "-p", String(await freeTcpPort())]);
    expect(await calls.exited, calls.errors()).toBe(0);
    expect(uas.seen).toEqual(["OPTIONS", "OPTIONS", "INVITE", "ACK", "BYE", "INVITE", "ACK", "BYE"]);
    expect(received(calls, "SIP/2.0 200")).toHaveLength(4);
    expect(tl.counters.retransmissionsSent).toEqual({ requests: 0, responses: 0, acks: 0 });
    expect(transport.counters.received.TCP).toBe(8);
    expect(transport.counters.connectionsOpened).toBe(2); // one per SIPp run
  });
});

describe("our UAC → SIPp UAS (TCP)", () => {
  let transport: SipTransportLayer;
  let tl: TransactionLayer;

  beforeAll(async () => {
    transport = new SipTransportLayer({ udp: false, tcp: { host: "127.0.0.1", port: 0 } });
    tl = new TransactionLayer({ transport, timers: { t1: 50 } });
    await transport.start();
  });

  afterAll(async () => {
    tl?.close();
    await transport?.stop();
  });

  it("calls SIPp: INVITE, 180, 200, ACK, BYE on one connection, nothing retransmitted", async () => {
    const sippPort = await freeTcpPort();
    const run = sipp(["-sf", join(SCENARIOS, "uas-answer.xml"), "-m", "1", "-p", String(sippPort)]);
    await waitListening(sippPort, "tcp", run);
    const dest: Destination = { transport: "TCP", host: "127.0.0.1", port: sippPort };
    const call = await placeCall(tl, dest, "tcp-call@egress-test");
    expect(call.responses.map((r) => r.status)).toEqual([180, 200]);
    expect(call.invite.transport).toBe("TCP");
    expect((await hangUp(tl, dest, call)).status).toBe(200);
    expect(await run.exited, run.errors()).toBe(0);
    expect(received(run, "INVITE ")).toHaveLength(1);
    expect(received(run, "ACK ")).toHaveLength(1);
    expect(received(run, "BYE ")).toHaveLength(1);
    expect(received(run, "INVITE ")[0]!.text).toContain(`Via: SIP/2.0/TCP 127.0.0.1:${transport.addresses().TCP!.port};branch=`);
    expect(tl.counters.retransmissionsSent.requests).toBe(0);
    expect(transport.counters.connectionsOpened).toBe(1);
  });
});
