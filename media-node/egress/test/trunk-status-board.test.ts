import { describe, expect, it } from "vitest";
import { silentLogger } from "../src/log.ts";
import type { TrunkStatus } from "../src/trunks/egress-trunk.ts";
import { TrunkStatusBoard } from "../src/trunks/trunk-status-board.ts";
import { ManualClock } from "./support/manual-clock.ts";
import { T0, flush } from "./support/trunk-fixtures.ts";

// The board merges what registration, health checks and main.ts report into
// one TrunkStatus per trunk, and writes it one at a time, latest first.

interface PendingWrite {
  trunkId: string;
  status: TrunkStatus;
  resolve: () => void;
  reject: (e: Error) => void;
}

function setup() {
  const clock = new ManualClock();
  const calls: PendingWrite[] = [];
  const board = new TrunkStatusBoard({
    sink: (trunkId, status) => new Promise<void>((resolve, reject) => calls.push({ trunkId, status, resolve, reject })),
    clock,
    logger: silentLogger,
    wallClock: () => T0 + clock.now(),
    retryMs: 5_000,
  });
  return { clock, calls, board };
}

const up = { host: "192.0.2.30", port: 5060, transport: "udp" as const, up: true, checked_at: "2026-01-01T00:00:00.000Z" };

describe("trunk status board", () => {
  it("writes the parts together: gateways, registration and the link fields", async () => {
    const { calls, board } = setup();
    board.setGateways("carrier", [up]);
    calls[0]!.resolve();
    await flush();
    board.setRegistration("carrier", { state: "registered", expires_at: "2026-01-01T01:00:00.000Z", updated_at: "2026-01-01T00:00:00.000Z" });
    calls[1]!.resolve();
    await flush();
    board.setLink("carrier", { link_connected: true, active_calls: 2 });
    calls[2]!.resolve();
    await board.idle();
    expect(calls.map((c) => c.trunkId)).toEqual(["carrier", "carrier", "carrier"]);
    expect(calls[2]!.status).toEqual({
      updated_at: new Date(T0).toISOString(),
      gateways: [up],
      registration: { state: "registered", expires_at: "2026-01-01T01:00:00.000Z", updated_at: "2026-01-01T00:00:00.000Z" },
      link_connected: true,
      active_calls: 2,
    });
    board.setRegistration("carrier", undefined);
    calls[3]!.resolve();
    await board.idle();
    expect(calls[3]!.status.registration).toBeUndefined();
    expect(board.counters).toEqual({ writes: 4, writeFailures: 0 });
  });

  it("keeps one write per trunk in flight and then writes only the latest state", async () => {
    const { calls, board } = setup();
    board.setGateways("a", [up]);
    board.setGateways("b", [up]);
    board.setGateways("a", [{ ...up, up: false }]);
    board.setGateways("a", [{ ...up, up: true }, { ...up, host: "192.0.2.31" }]);
    expect(calls.map((c) => c.trunkId)).toEqual(["a", "b"]);
    calls[0]!.resolve();
    await flush();
    // The two changes made during the first write: one write, of the last.
    expect(calls.map((c) => c.trunkId)).toEqual(["a", "b", "a"]);
    expect(calls[2]!.status.gateways.map((g) => g.host)).toEqual(["192.0.2.30", "192.0.2.31"]);
    let idle = false;
    void board.idle().then(() => (idle = true));
    calls[1]!.resolve();
    await flush();
    expect(idle).toBe(false);
    calls[2]!.resolve();
    await flush();
    expect(idle).toBe(true);
  });

  it("writes again after a failure, later, unless a newer change came first", async () => {
    const { clock, calls, board } = setup();
    board.setGateways("carrier", [up]);
    calls[0]!.reject(new Error("edge link down"));
    await flush();
    expect(calls).toHaveLength(1);
    clock.advance(4_999);
    await flush();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(calls).toHaveLength(2);
    calls[1]!.reject(new Error("still down"));
    await flush();
    // A change before the retry is written at once (and carries everything).
    board.setRegistration("carrier", { state: "registering", updated_at: "x" });
    expect(calls).toHaveLength(3);
    expect(calls[2]!.status).toMatchObject({ gateways: [up], registration: { state: "registering" } });
    calls[2]!.resolve();
    await board.idle();
    clock.advance(60_000);
    await flush();
    expect(calls).toHaveLength(3);
    expect(board.counters).toEqual({ writes: 3, writeFailures: 2 });
  });

  it("drops pending retries on stop", async () => {
    const { clock, calls, board } = setup();
    board.setGateways("carrier", [up]);
    calls[0]!.reject(new Error("down"));
    await flush();
    board.stop();
    await board.idle();
    clock.advance(60_000);
    await flush();
    expect(calls).toHaveLength(1);
    expect(clock.size).toBe(0);
  });
});
