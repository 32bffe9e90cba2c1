import type { SipRequest } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { GatewayHealth, type GatewayHealthOptions } from "../src/gateway-health.ts";
import type { EgressTrunk } from "../src/trunks/egress-trunk.ts";
import { T0, advance, distinct, flush, gateway, reply, trunk, trunkSetup } from "./support/trunk-fixtures.ts";

// OPTIONS health checks on the real transaction layer over a recording
// transport, time from a manual clock (T1 = 500 ms: a timeout is Timer F,
// 32 s).

function setup(trunks: EgressTrunk[] = [trunk()], options: Partial<GatewayHealthOptions> = {}) {
  const s = trunkSetup();
  const health = new GatewayHealth({
    transactions: s.transactions,
    clock: s.clock,
    logger: s.logger,
    status: s.board,
    trunks,
    fromHost: "203.0.113.10",
    intervalMs: 30_000,
    downIntervalMs: 10_000,
    failuresToDown: 3,
    successesToUp: 2,
    ...options,
  });
  const options_ = (host?: string) => distinct(s.transport, "OPTIONS").filter((o) => host === undefined || o.host === host);
  const lastTo = (host: string): SipRequest => options_(host).at(-1)!.request;
  const gatewayWrites = (trunkId = "carrier") => s.writes.filter((w) => w.trunkId === trunkId).map((w) => w.status.gateways.map((g) => `${g.host}:${g.up ? "up" : "down"}`).join(","));
  return { ...s, health, options: options_, lastTo, gatewayWrites };
}

describe("gateway health checks (OPTIONS)", () => {
  it("sends OPTIONS to the gateway itself every interval; the first answer marks it up", async () => {
    const t = setup();
    t.health.start();
    await flush();
    const first = t.lastTo("192.0.2.30");
    expect(first.requestUri).toBe("sip:192.0.2.30:5060");
    expect(first.get("To")).toBe("<sip:192.0.2.30:5060>");
    expect(first.from.uri.toString()).toBe("sip:sipedge-egress@203.0.113.10");
    expect(first.get("Max-Forwards")).toBe("70");
    expect(t.health.stateOf(gateway("192.0.2.30"))).toBe("unknown");
    expect(t.health.isUp(gateway("192.0.2.30"))).toBe(true);
    reply(t.transport, first, 200);
    await flush();
    expect(t.health.stateOf(gateway("192.0.2.30"))).toBe("up");
    await t.board.idle();
    expect(t.board.status("carrier")?.gateways).toEqual([{ host: "192.0.2.30", port: 5060, transport: "udp", up: true, checked_at: new Date(T0).toISOString() }]);
    // Then every 30 s from the last one sent, each answered.
    for (let i = 0; i < 3; i++) {
      await advance(t.clock, 30_000, 5_000);
      reply(t.transport, t.lastTo("192.0.2.30"), 200);
      await flush();
    }
    expect(t.options().map((o) => o.at)).toEqual([0, 30_000, 60_000, 90_000]);
    expect(new Set(t.options().map((o) => o.request.callId)).size).toBe(4);
    // Only the change was written.
    expect(t.gatewayWrites()).toEqual(["192.0.2.30:up"]);
    expect(t.health.counters).toMatchObject({ optionsSent: 4, answered: 4, wentUp: 1, wentDown: 0 });
  });

  it("counts any answer as alive: 404, 405, 501, 401, 483, 603", async () => {
    const statuses = [404, 405, 501, 401, 483, 603];
    const t = setup([trunk({ gateways: statuses.map((_, i) => gateway(`192.0.2.${40 + i}`)) })], { failuresToDown: 1 });
    t.health.start();
    await flush();
    statuses.forEach((status, i) => reply(t.transport, t.lastTo(`192.0.2.${40 + i}`), status));
    await flush();
    expect(t.health.snapshot().states).toEqual({ unknown: 0, up: 6, down: 0 });
  });

  it("marks a gateway down after K consecutive failures (timeout, 408, 503), probing faster meanwhile, and up after M answers", async () => {
    const t = setup();
    t.health.start();
    await flush();
    reply(t.transport, t.lastTo("192.0.2.30"), 200);
    await flush();
    // 1: no answer at all (Timer F, 32 s).
    await advance(t.clock, 30_000, 5_000);
    await advance(t.clock, 32_000, 500);
    expect(t.health.view()[0]).toMatchObject({ state: "up", consecutive_failures: 1, last_error: "no response to OPTIONS (timeout)" });
    // The timeout took longer than the interval: the next goes at once, then every 10 s while failing.
    const sent = t.options().map((o) => o.at);
    expect(sent.at(-1)).toBe(62_000);
    reply(t.transport, t.lastTo("192.0.2.30"), 408);
    await flush();
    expect(t.health.stateOf(gateway("192.0.2.30"))).toBe("up");
    await advance(t.clock, 10_000, 1_000);
    expect(t.options().at(-1)!.at).toBe(72_000);
    reply(t.transport, t.lastTo("192.0.2.30"), 503);
    await flush();
    expect(t.health.view()[0]).toMatchObject({ state: "down", consecutive_failures: 3, last_error: "503 Service Unavailable" });
    await t.board.idle();
    expect(t.board.status("carrier")?.gateways).toEqual([{ host: "192.0.2.30", port: 5060, transport: "udp", up: false, checked_at: new Date(T0 + 72_000).toISOString(), last_error: "503 Service Unavailable" }]);
    expect(t.events().filter((e) => e.event === "gateway-down")).toEqual([expect.objectContaining({ level: "warn", gateway: "192.0.2.30:5060;transport=udp", from: "up", trunks: ["carrier"], reason: "503 Service Unavailable" })]);
    expect(t.health.isUp(gateway("192.0.2.30"))).toBe(false);

    // Down: every 10 s; one answer is not enough, two are.
    await advance(t.clock, 10_000, 1_000);
    reply(t.transport, t.lastTo("192.0.2.30"), 200);
    await flush();
    expect(t.health.stateOf(gateway("192.0.2.30"))).toBe("down");
    await advance(t.clock, 10_000, 1_000);
    reply(t.transport, t.lastTo("192.0.2.30"), 200);
    await flush();
    expect(t.health.stateOf(gateway("192.0.2.30"))).toBe("up");
    expect(t.options().slice(-2).map((o) => o.at)).toEqual([82_000, 92_000]);
    expect(t.gatewayWrites()).toEqual(["192.0.2.30:up", "192.0.2.30:down", "192.0.2.30:up"]);
    expect(t.health.counters).toMatchObject({ failures: { timeout: 1, "408": 1, "503": 1, "transport-error": 0 }, wentDown: 1, wentUp: 2 });
    // Back up: the normal interval again.
    await advance(t.clock, 30_000, 1_000);
    expect(t.options().at(-1)!.at).toBe(122_000);
  });

  it("marks a gateway it cannot reach down from the start (transport errors); the status lists only gateways whose state is known", async () => {
    const t = setup([trunk({ gateways: [gateway("192.0.2.31"), gateway("192.0.2.32")] })]);
    t.health.start();
    await flush();
    reply(t.transport, t.lastTo("192.0.2.31"), 200);
    await flush();
    await t.board.idle();
    expect(t.gatewayWrites()).toEqual(["192.0.2.31:up"]); // 192.0.2.32 unknown: left out (counts as up at the edge)
    // From now on nothing can be sent: 192.0.2.32's retransmission (Timer E, 500 ms) is refused, then one try every 10 s.
    t.transport.failWith = "ECONNREFUSED";
    await advance(t.clock, 21_000, 500);
    expect(t.health.view().find((v) => v.gateway.startsWith("192.0.2.32"))).toMatchObject({ state: "down", consecutive_failures: 3, last_error: "transport error" });
    expect(t.health.counters.optionsSent).toBe(4); // 192.0.2.31 once; 192.0.2.32 at 0, 10 and 20 s (refused sends are not recorded)
    expect(t.health.stateOf(gateway("192.0.2.31"))).toBe("up");
    expect(t.gatewayWrites()).toEqual(["192.0.2.31:up", "192.0.2.31:up,192.0.2.32:down"]);
    expect(t.events().find((e) => e.event === "gateway-down")).toMatchObject({ from: "unknown", consecutive_failures: 3 });
    expect(t.health.counters.failures).toMatchObject({ timeout: 0, "transport-error": 3 });
  });

  it("probes a gateway shared by two trunks once and reports it to both", async () => {
    const shared = gateway("192.0.2.30");
    const t = setup([trunk({ id: "a", gateways: [shared] }), trunk({ id: "b", gateways: [shared, gateway("192.0.2.31")] }), trunk({ id: "off", enabled: false, gateways: [gateway("192.0.2.99")] })]);
    t.health.start();
    await flush();
    expect(t.options().map((o) => o.host).sort()).toEqual(["192.0.2.30", "192.0.2.31"]);
    reply(t.transport, t.lastTo("192.0.2.30"), 200);
    await flush();
    expect(t.gatewayWrites("a")).toEqual(["192.0.2.30:up"]);
    expect(t.gatewayWrites("b")).toEqual(["192.0.2.30:up"]);
    expect(t.health.view().map((v) => [v.gateway, v.trunks])).toEqual([
      ["192.0.2.30:5060;transport=udp", ["a", "b"]],
      ["192.0.2.31:5060;transport=udp", ["b"]],
    ]);
  });

  it("follows the trunk list: new gateways probed at once, dropped ones no more, a disabled trunk's list cleared", async () => {
    const t = setup();
    t.health.start();
    await flush();
    reply(t.transport, t.lastTo("192.0.2.30"), 200);
    await flush();
    t.clock.advance(5_000);
    t.health.update([trunk({ gateways: [gateway("192.0.2.31")] })]);
    await flush();
    expect(t.options("192.0.2.31").map((o) => o.at)).toEqual([5_000]);
    await t.board.idle();
    expect(t.board.status("carrier")?.gateways).toEqual([]);
    await advance(t.clock, 60_000, 5_000);
    expect(t.options("192.0.2.30")).toHaveLength(1);
    t.health.update([trunk({ enabled: false, gateways: [gateway("192.0.2.31")] })]);
    const n = t.options().length;
    await advance(t.clock, 120_000, 10_000);
    expect(t.options()).toHaveLength(n);
    expect(t.health.view()).toEqual([]);
    // A trunk added later that lists a gateway already known gets its state at once.
    const u = setup([trunk({ id: "a" })]);
    u.health.start();
    await flush();
    reply(u.transport, u.lastTo("192.0.2.30"), 200);
    await flush();
    u.health.update([trunk({ id: "a" }), trunk({ id: "b" })]);
    await u.board.idle();
    expect(u.gatewayWrites("b")).toEqual(["192.0.2.30:up"]);
  });

  it("stops: no more OPTIONS, and answers in flight are ignored", async () => {
    const t = setup();
    t.health.start();
    await flush();
    t.health.stop();
    reply(t.transport, t.lastTo("192.0.2.30"), 200);
    await advance(t.clock, 120_000, 10_000);
    expect(t.options()).toHaveLength(1);
    expect(t.health.stateOf(gateway("192.0.2.30"))).toBe("unknown");
    expect(t.clock.size).toBe(0);
  });

  it("refuses settings it cannot work with, saying what to change", () => {
    const s = trunkSetup();
    const base = { transactions: s.transactions, clock: s.clock, logger: s.logger, status: s.board, trunks: [], fromHost: "203.0.113.10" };
    expect(() => new GatewayHealth({ ...base, intervalMs: 0 })).toThrow("gateway health: intervalMs must be a positive number of milliseconds, got 0");
    expect(() => new GatewayHealth({ ...base, failuresToDown: 1.5 })).toThrow("gateway health: failuresToDown must be a whole number ≥ 1, got 1.5");
    expect(() => new GatewayHealth({ ...base, fromHost: " " })).toThrow(/fromHost/);
  });
});
