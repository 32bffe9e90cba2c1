import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeTcpPort, freeUdpPort } from "../../../packages/sipedge/src/stack/ports.ts";
import { systemClock } from "../src/clock.ts";
import { GatewayHealth } from "../src/gateway-health.ts";
import { jsonLogger } from "../src/log.ts";
import { TransactionLayer } from "../src/transaction/transaction-layer.ts";
import { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import { TrunkRegistrations } from "../src/trunk-registration.ts";
import type { EgressTrunk } from "../src/trunks/egress-trunk.ts";
import { TrunkStatusBoard } from "../src/trunks/trunk-status-board.ts";
import { SCENARIOS, type Sipp, runSipp, waitListening } from "./support/sipp.ts";
import type { StatusWrite } from "./support/trunk-fixtures.ts";
import { gateway, trunk } from "./support/trunk-fixtures.ts";
import { waitFor } from "./support/wait.ts";

// Registration and OPTIONS health checks against the real SIPp
// (/usr/bin/sipp) on loopback, over real UDP and TCP sockets and the real
// clock, with short timers (T1 = 20–100 ms, intervals of 100 ms, grants of
// 2 s). Assertions count what SIPp saw and the states we reached, never
// how long anything took.

const runs: Sipp[] = [];
function sipp(args: string[]): Sipp {
  const r = runSipp(args);
  runs.push(r);
  return r;
}

let transport: SipTransportLayer;
let udpPort: number;
let tcpPort: number;
const lines: string[] = [];
const logger = jsonLogger("debug", (l) => lines.push(l));

beforeAll(async () => {
  transport = new SipTransportLayer({ udp: { host: "127.0.0.1", port: 0 }, tcp: { host: "127.0.0.1", port: 0 } }, { logger });
  await transport.start();
  udpPort = transport.addresses().UDP!.port;
  tcpPort = transport.addresses().TCP!.port;
});

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
  await transport?.stop();
});

function board(writes: StatusWrite[]): TrunkStatusBoard {
  return new TrunkStatusBoard({ sink: async (trunkId, status) => void writes.push({ trunkId, status }), clock: systemClock, logger });
}

/** REGISTERs SIPp received, retransmissions counted once (by CSeq). */
function registersSeen(run: Sipp): string[] {
  const cseqs = run
    .messages()
    .filter((m) => m.direction === "received" && m.text.startsWith("REGISTER "))
    .map((m) => /\r\nCSeq:\s*(\d+)/i.exec(m.text)?.[1] ?? "?");
  return [...new Set(cseqs)];
}

function registrations(t1: number, trunks: EgressTrunk[], extra: { backoffBaseMs?: number } = {}) {
  const transactions = new TransactionLayer({ transport, logger, timers: { t1 } });
  const writes: StatusWrite[] = [];
  const status = board(writes);
  const regs = new TrunkRegistrations({ transactions, clock: systemClock, logger, status, trunks, contact: { host: "127.0.0.1", ports: { UDP: udpPort, TCP: tcpPort } }, random: () => 0, ...extra });
  return { transactions, writes, status, regs };
}

describe("registration against a SIPp registrar", () => {
  it("answers the 401, and refreshes before the 2 s the registrar grants run out; un-REGISTERs on stop", async () => {
    const port = await freeUdpPort();
    const run = sipp(["-sf", join(SCENARIOS, "uas-registrar-challenge.xml"), "-m", "1", "-p", String(port)]);
    await waitListening(port, "udp", run);
    const { transactions, regs, status } = registrations(100, [trunk({ gateways: [gateway("127.0.0.1", { port })] })]);
    regs.start();
    // 1 unauthenticated, 1 with credentials, then refreshes: SIPp counts them.
    await waitFor("two refreshes at SIPp", () => registersSeen(run).length >= 4, 15_000);
    expect(regs.view()[0]).toMatchObject({ trunk_id: "carrier", phase: "registered", gateway: `127.0.0.1:${port};transport=udp` });
    // The Contact's expires=2 won over Expires: 30 (§10.2.4).
    expect(regs.view()[0]!.expires_in_s).toBeLessThanOrEqual(2);
    await regs.stop();
    expect(await run.exited, run.errors()).toBe(0);
    expect(registersSeen(run)).toEqual(["1", "2", "3", "4", "5"]);
    expect(regs.view()[0]!.phase).toBe("unregistered");
    expect(regs.counters).toMatchObject({ challengesAnswered: 1, registered: 3, refreshes: 2, unregistered: 1 });
    // (Wrong credentials would have taken the scenario's 403 branch, which fails the run.)
    await status.idle();
    expect(status.status("carrier")?.registration?.state).toBe("unregistered");
    transactions.close();
  });

  it("backs off when the registrar refuses (403), and says why in the trunk status", async () => {
    const port = await freeUdpPort();
    const run = sipp(["-sf", join(SCENARIOS, "uas-registrar-forbidden.xml"), "-m", "1", "-p", String(port)]);
    await waitListening(port, "udp", run);
    const { transactions, regs, status, writes } = registrations(100, [trunk({ gateways: [gateway("127.0.0.1", { port })] })], { backoffBaseMs: 600_000 });
    regs.start();
    await waitFor("backing off", () => regs.view()[0]?.phase === "backing-off", 10_000);
    expect(await run.exited, run.errors()).toBe(0);
    expect(registersSeen(run)).toEqual(["1", "2"]);
    expect(regs.view()[0]).toMatchObject({ failures: 1, last_error: `403 Forbidden from 127.0.0.1:${port};transport=udp` });
    await status.idle();
    expect(writes.at(-1)!.status.registration).toMatchObject({ state: "failed", last_error: expect.stringMatching(/^403 Forbidden from 127\.0\.0\.1:\d+;transport=udp; next try in \d+ s$/) });
    expect(lines.some((l) => l.includes('"registration-failed"') && l.includes("403 Forbidden"))).toBe(true);
    await regs.stop();
    transactions.close();
  });
});

describe("OPTIONS health checks against SIPp", () => {
  const fast = { intervalMs: 100, downIntervalMs: 50, failuresToDown: 2, successesToUp: 2 };
  const upDown = (writes: StatusWrite[]) => writes.map((w) => w.status.gateways.map((g) => (g.up ? "up" : "down")).join(","));

  it("UDP: up while SIPp answers, down after K unanswered OPTIONS once it is gone, up again when a SIPp answers", async () => {
    const port = await freeUdpPort();
    const g = gateway("127.0.0.1", { port });
    let run = sipp(["-sf", join(SCENARIOS, "uas-options.xml"), "-p", String(port)]);
    await waitListening(port, "udp", run);
    const transactions = new TransactionLayer({ transport, logger, timers: { t1: 20 } });
    const writes: StatusWrite[] = [];
    const health = new GatewayHealth({ transactions, clock: systemClock, logger, status: board(writes), trunks: [trunk({ gateways: [g] })], fromHost: "127.0.0.1", ...fast });
    health.start();
    await waitFor("gateway up", () => health.stateOf(g) === "up", 10_000);
    await waitFor("a few more OPTIONS at SIPp", () => run.messages().filter((m) => m.direction === "received" && m.text.startsWith("OPTIONS ")).length >= 3, 10_000);
    expect(health.stateOf(g)).toBe("up");

    await run.stop();
    // Nothing listens now: each OPTIONS times out (Timer F = 64*T1).
    await waitFor("gateway down", () => health.stateOf(g) === "down", 15_000);
    expect(health.counters.failures.timeout).toBeGreaterThanOrEqual(2);
    expect(health.view()[0]!.last_error).toBe("no response to OPTIONS (timeout)");

    run = sipp(["-sf", join(SCENARIOS, "uas-options.xml"), "-p", String(port)]);
    await waitListening(port, "udp", run);
    await waitFor("gateway up again", () => health.stateOf(g) === "up", 15_000);
    health.stop();
    expect(upDown(writes)).toEqual(["up", "down", "up"]);
    expect(health.counters).toMatchObject({ wentDown: 1, wentUp: 2 });
    expect(lines.filter((l) => l.includes('"gateway-down"'))).toHaveLength(1);
    transactions.close();
  });

  it("TCP: down after K refused connections while nobody listens, up after M answers once a SIPp does", async () => {
    const port = await freeTcpPort();
    const g = gateway("127.0.0.1", { port, transport: "tcp" });
    const transactions = new TransactionLayer({ transport, logger, timers: { t1: 20 } });
    const writes: StatusWrite[] = [];
    const health = new GatewayHealth({ transactions, clock: systemClock, logger, status: board(writes), trunks: [trunk({ gateways: [g] })], fromHost: "127.0.0.1", ...fast });
    health.start();
    await waitFor("gateway down", () => health.stateOf(g) === "down", 10_000);
    expect(health.view()[0]).toMatchObject({ last_error: "transport error" });
    expect(health.counters.failures["transport-error"]).toBeGreaterThanOrEqual(2);

    const run = sipp(["-sf", join(SCENARIOS, "uas-options.xml"), "-t", "t1", "-p", String(port)]);
    await waitListening(port, "tcp", run);
    await waitFor("gateway up", () => health.stateOf(g) === "up", 10_000);
    health.stop();
    expect(run.messages().filter((m) => m.direction === "received" && m.text.startsWith(`OPTIONS sip:127.0.0.1:${port};transport=tcp SIP/2.0`)).length).toBeGreaterThanOrEqual(2);
    expect(upDown(writes)).toEqual(["down", "up"]);
    transactions.close();
  });
});
