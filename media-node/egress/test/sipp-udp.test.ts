import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeUdpPort } from "../../../packages/sipedge/src/stack/ports.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import type { Destination } from "../src/transport/protocol.ts";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import { SCENARIOS, type Sipp, runSipp, waitListening } from "./support/sipp.ts";
import { placeCall, testUas } from "./support/test-ua.ts";

// The transaction layer against the real SIPp (/usr/bin/sipp) over UDP on
// loopback: SIPp as UAC against our test UAS, and SIPp as UAS for our
// client transactions (answering, answering late, never answering).

const runs: Sipp[] = [];
afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
});

function sipp(args: string[]): Sipp {
  const r = runSipp(args);
  runs.push(r);
  return r;
}

const received = (s: Sipp, startsWith: string) => s.messages().filter((m) => m.direction === "received" && m.text.startsWith(startsWith));

describe("SIPp UAC → our UAS (UDP)", () => {
  let transport: SipTransportLayer;
  let tl: TransactionLayer;
  let uas: ReturnType<typeof testUas>;
  let port: number;

  beforeAll(async () => {
    transport = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: false });
    tl = new TransactionLayer({ transport });
    await transport.start();
    port = transport.addresses().UDP!.port;
    uas = testUas(tl, `<sip:uas@127.0.0.1:${port}>`);
  });

  afterAll(async () => {
    tl?.close();
    await transport?.stop();
  });

  it("answers SIPp's OPTIONS, with rport and received in the Via SIPp gets back", async () => {
    const run = sipp([`127.0.0.1:${port}`, "-sf", join(SCENARIOS, "uac-options.xml"), "-m", "3", "-p", String(await freeUdpPort())]);
    const code = await run.exited;
    expect(code, run.errors()).toBe(0);
    expect(uas.seen.filter((m) => m === "OPTIONS")).toHaveLength(3);
    expect(received(run, "SIP/2.0 200")).toHaveLength(3);
    expect(tl.counters.server.OPTIONS).toBe(3);
  });

  it("takes SIPp's calls: INVITE (180, 200), ACK to the TU, BYE", async () => {
    // -l 1: one call at a time, so the second INVITE waits for the first BYE
    // (SIPp's default 10 calls/s overlaps them when the machine is busy).
    const run = sipp([`127.0.0.1:${port}`, "-sf", join(SCENARIOS, "uac-invite.xml"), "-m", "2", "-l", "1", "-p", String(await freeUdpPort())]);
    const code = await run.exited;
    expect(code, run.errors()).toBe(0);
    expect(uas.seen.filter((m) => m !== "OPTIONS")).toEqual(["INVITE", "ACK", "BYE", "INVITE", "ACK", "BYE"]);
    expect(uas.acks).toHaveLength(2);
    expect(tl.counters.server).toMatchObject({ INVITE: 2, BYE: 2 });
    expect(received(run, "SIP/2.0 180")).toHaveLength(2);
  });
});

describe("our UAC → SIPp UAS (UDP)", () => {
  let transport: SipTransportLayer;

  beforeAll(async () => {
    transport = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: false });
    await transport.start();
  });

  afterAll(async () => {
    await transport?.stop();
  });

  it("retransmits the INVITE SIPp drops, doubling the interval (Timer A), until SIPp answers", async () => {
    const tl = new TransactionLayer({ transport, timers: { t1: 200 } });
    const sippPort = await freeUdpPort();
    const run = sipp(["-sf", join(SCENARIOS, "uas-drop-first-invite.xml"), "-m", "1", "-p", String(sippPort)]);
    await waitListening(sippPort, "udp", run);
    const dest: Destination = { transport: "UDP", host: "127.0.0.1", port: sippPort };
    const call = await placeCall(tl, dest, "drop-first@egress-test");
    expect(call.final.status).toBe(200);
    expect(await run.exited, run.errors()).toBe(0);
    const invites = received(run, "INVITE ");
    // 0, 200, 600, 1400 ms within SIPp's 2200 ms of silence (the next would be at 3000): doubling.
    // A fixed T1 interval would have put 11 INVITEs there.
    expect(invites).toHaveLength(4);
    expect(new Set(invites.map((m) => m.text)).size).toBe(1); // the same request, same branch
    expect(tl.counters.retransmissionsSent.requests).toBe(3);
    expect(received(run, "ACK ")).toHaveLength(1);
    tl.close();
  });

  it("gives the TU 408 when SIPp never answers (Timer B = 64*T1, T1 = 20 ms)", async () => {
    const tl = new TransactionLayer({ transport, timers: { t1: 20 } });
    const sippPort = await freeUdpPort();
    const run = sipp(["-sf", join(SCENARIOS, "uas-never-answers.xml"), "-m", "1", "-p", String(sippPort)]);
    await waitListening(sippPort, "udp", run);
    const call = await placeCall(tl, { transport: "UDP", host: "127.0.0.1", port: sippPort }, "never@egress-test");
    expect(call.final.status).toBe(408);
    expect(call.invite.failure).toBe("timeout");
    expect(call.responses.map((r) => r.status)).toEqual([408]);
    expect(tl.counters.timeouts.client).toBe(1);
    expect(await run.exited, run.errors()).toBe(0);
    // Every INVITE SIPp saw was ours: the first and each Timer A retransmission.
    const invites = received(run, "INVITE ");
    expect(invites.length).toBe(1 + tl.counters.retransmissionsSent.requests);
    expect(invites.length).toBeGreaterThanOrEqual(6);
    tl.close();
  });
});
