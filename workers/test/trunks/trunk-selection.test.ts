import { describe, expect, it } from "vitest";
import { orderGateways, selectRoutes, trunksInOrder } from "../../src/trunks/trunk-selection.ts";
import type { Gateway } from "../../src/trunks/trunk.ts";
import { cycle, seeded, trunk } from "./fixtures.ts";

const route = (r: { trunk: { id: string }; gateway: Gateway }): string => `${r.trunk.id}/${r.gateway.host}`;

describe("selectRoutes", () => {
  it("longest prefix first, shorter matches (and the default route) after as failover", () => {
    const trunks = [trunk("default", { prefixes: [""] }), trunk("uk", { prefixes: ["+44"] }), trunk("london", { prefixes: ["+4420"] }), trunk("us", { prefixes: ["+1"] })];
    expect(selectRoutes(trunks, "+442079460000").map(route)).toEqual(["london/london.example", "uk/uk.example", "default/default.example"]);
    expect(selectRoutes(trunks, "+12125550123").map(route)).toEqual(["us/us.example", "default/default.example"]);
    expect(selectRoutes(trunks, "+33123456789").map(route)).toEqual(["default/default.example"]);
    expect(selectRoutes(trunks, "+442079460000")[0]!.prefix).toBe("+4420");
  });

  it("a trunk with no prefixes carries nothing out; none matching is an empty list", () => {
    expect(selectRoutes([trunk("inbound-only")], "+12125550123")).toEqual([]);
    expect(selectRoutes([trunk("uk", { prefixes: ["+44"] })], "+12125550123")).toEqual([]);
  });

  it("skips disabled trunks and gateways the egress reports down; a trunk with no live gateway is skipped", () => {
    const down = trunk("down", { prefixes: ["+1"] });
    down.status = { updated_at: "x", gateways: [{ host: "down.example", port: 5060, transport: "udp", up: false, checked_at: "x" }] };
    const half = trunk("half", { prefixes: ["+1"], gateways: [{ host: "a.example" }, { host: "b.example" }] });
    half.status = { updated_at: "x", gateways: [{ host: "a.example", port: 5060, transport: "udp", up: false, checked_at: "x" }, { host: "b.example", port: 5060, transport: "udp", up: true, checked_at: "x" }] };
    const off = trunk("off", { prefixes: ["+1"], enabled: false });
    expect(selectRoutes([down, half, off], "+12125550123").map(route)).toEqual(["half/b.example"]);
    // A custom liveness source wins over the stored status.
    expect(selectRoutes([down], "+12125550123", { isGatewayLive: () => true }).map(route)).toEqual(["down/down.example"]);
  });

  it("equal prefixes: lowest priority first, across trunks", () => {
    const a = trunk("a", { prefixes: ["+1"], gateways: [{ host: "a1.example", priority: 20 }, { host: "a2.example", priority: 5 }] });
    const b = trunk("b", { prefixes: ["+1"], gateways: [{ host: "b1.example", priority: 10 }] });
    expect(selectRoutes([a, b], "+12125550123", { random: cycle(0) }).map(route)).toEqual(["a/a2.example", "b/b1.example", "a/a1.example"]);
    expect(trunksInOrder(selectRoutes([a, b], "+12125550123", { random: cycle(0) })).map((t) => t.id)).toEqual(["a", "b"]);
  });

  it("equal priorities: weighted random with the injected source (RFC 2782)", () => {
    const t = trunk("w", { prefixes: [""], gateways: [{ host: "heavy.example", weight: 3 }, { host: "light.example", weight: 1 }] });
    // r = random * 4: [0, 3) lands on heavy, [3, 4) on light.
    expect(selectRoutes([t], "+12125550123", { random: cycle(0.5) }).map((r) => r.gateway.host)).toEqual(["heavy.example", "light.example"]);
    expect(selectRoutes([t], "+12125550123", { random: cycle(0.8) }).map((r) => r.gateway.host)).toEqual(["light.example", "heavy.example"]);
  });

  it("the weights give the shares over many calls (seeded, so it cannot flake)", () => {
    const t = trunk("w", { prefixes: [""], gateways: [{ host: "a.example", weight: 60 }, { host: "b.example", weight: 30 }, { host: "c.example", weight: 10 }] });
    const random = seeded(42);
    const firsts: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      const host = selectRoutes([t], "+1", { random })[0]!.gateway.host;
      firsts[host] = (firsts[host] ?? 0) + 1;
    }
    expect(firsts["a.example"]! / 10_000).toBeCloseTo(0.6, 1);
    expect(firsts["b.example"]! / 10_000).toBeCloseTo(0.3, 1);
    expect(firsts["c.example"]! / 10_000).toBeCloseTo(0.1, 1);
  });

  it("weight 0 only after the weighted gateways of its priority; all-zero is uniform", () => {
    const gw = (host: string, weight: number): Gateway => ({ host, port: 5060, transport: "udp", priority: 10, weight });
    for (const r of [0, 0.5, 0.999999]) {
      expect(orderGateways([gw("zero", 0), gw("one", 1)], cycle(r)).map((g) => g.host)).toEqual(["one", "zero"]);
    }
    expect(orderGateways([gw("x", 0), gw("y", 0)], cycle(0.75)).map((g) => g.host)).toEqual(["y", "x"]);
    expect(orderGateways([gw("x", 0), gw("y", 0)], cycle(0.1)).map((g) => g.host)).toEqual(["x", "y"]);
  });
});
