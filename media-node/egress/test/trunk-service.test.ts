import { describe, expect, it } from "vitest";
import type { TrunkDirectory } from "../../../workers/src/directory/trunks.ts";
import type { TrunkRecord } from "../../../workers/src/trunks/index.ts";
import { Registry } from "../../agent/src/metrics.ts";
import type { EgressContext, GatewayHealth as ProxyGatewayHealth } from "../src/egress-service.ts";
import { TrunkService } from "../src/trunk-service.ts";
import type { SipTransportLayer } from "../src/transport/sip-transport-layer.ts";
import type { TrunkStatus } from "../src/trunks/egress-trunk.ts";
import { CHALLENGE, advance, distinct, flush, gateway, reply, trunk, trunkSetup } from "./support/trunk-fixtures.ts";

// The wiring of registration and health checks into the egress
// (egress-service.ts): the context's transaction layer, trunk list,
// directory and metrics registry. The directory is a recorder here (the
// DynamoDB side is TrunkDirectory's, tested at the edge).

function record(extra: Partial<TrunkRecord> = {}): TrunkRecord {
  return { ...trunk(), name: "Carrier", egress: "egress-1", allowed_sources: [], prefixes: [""], caller_id: { mode: "subscriber" }, created_at: "x", updated_at: "x", ...extra } as TrunkRecord;
}

function setup(initial: TrunkRecord[] | Error) {
  const s = trunkSetup();
  let list: TrunkRecord[] | Error = initial;
  const statuses: Array<{ id: string; status: TrunkStatus }> = [];
  let proxyHealth: ProxyGatewayHealth | undefined;
  const metrics = new Registry();
  const read = async (): Promise<readonly TrunkRecord[]> => {
    if (list instanceof Error) throw list;
    return list;
  };
  const ctx: EgressContext = {
    egressId: "egress-1",
    transactions: s.transactions,
    transport: {} as SipTransportLayer,
    // Only trunks() is the service's; the rest of the source (the proxy's) answers the same.
    trunks: { trunks: read, trunksAfterMiss: read, reload: read } as unknown as EgressContext["trunks"],
    directory: {
      setStatus: async (id: string, status: TrunkStatus) => {
        statuses.push({ id, status });
        return true;
      },
    } as unknown as TrunkDirectory,
    metrics,
    logger: s.logger,
    localAddress: (t) => (t === "UDP" ? { host: "203.0.113.10", port: 5070 } : undefined),
    setGatewayHealth: (h) => (proxyHealth = h),
  };
  const service = new TrunkService({ clock: s.clock, trunkPollMs: 30_000, health: { intervalMs: 60_000, failuresToDown: 1 }, registration: { backoffBaseMs: 10_000 } });
  return { ...s, ctx, service, statuses, metrics, setList: (l: TrunkRecord[] | Error) => (list = l), proxyHealth: () => proxyHealth };
}

describe("trunk service (registration + health checks in the egress)", () => {
  it("starts both on the context's trunks, feeds the proxy's gateway health, the directory and /metrics; stops with un-REGISTER", async () => {
    const t = setup([record({ gateways: [gateway("192.0.2.30"), gateway("192.0.2.31", { priority: 20 })] })]);
    await t.service.start(t.ctx);
    await flush();
    expect(distinct(t.transport, "OPTIONS").map((o) => o.host).sort()).toEqual(["192.0.2.30", "192.0.2.31"]);
    const register = distinct(t.transport, "REGISTER")[0]!.request;
    expect(register.get("Contact")).toBe("<sip:trunk-user@203.0.113.10:5070>");

    // 192.0.2.31 fails its check (K = 1 here): the proxy stops using it.
    const options31 = distinct(t.transport, "OPTIONS").find((o) => o.host === "192.0.2.31")!.request;
    const options30 = distinct(t.transport, "OPTIONS").find((o) => o.host === "192.0.2.30")!.request;
    reply(t.transport, options31, 503);
    reply(t.transport, options30, 200);
    reply(t.transport, register, 401, [["WWW-Authenticate", CHALLENGE]]);
    await flush();
    reply(t.transport, distinct(t.transport, "REGISTER").at(-1)!.request, 200);
    await flush();
    await t.service.board!.idle();
    expect(t.proxyHealth()!.isLive(record(), gateway("192.0.2.31"))).toBe(false);
    expect(t.proxyHealth()!.isLive(record(), gateway("192.0.2.30"))).toBe(true);
    const last = t.statuses.at(-1)!;
    expect(last.id).toBe("carrier");
    expect(last.status.registration?.state).toBe("registered");
    expect(last.status.gateways.map((g) => [g.host, g.up])).toEqual([["192.0.2.30", true], ["192.0.2.31", false]]);
    const scraped = t.metrics.render();
    expect(scraped).toContain("sipedge_egress_gateway_options_total 2");
    expect(scraped).toContain('sipedge_egress_gateway_options_failures_total{cause="503"} 1');
    expect(scraped).toContain('sipedge_egress_gateway_up{gateway="192.0.2.31:5060;transport=udp"} 0');
    expect(scraped).toContain('sipedge_egress_registration_state{trunk="carrier",state="registered"} 1');
    expect(scraped).toContain("sipedge_egress_register_challenges_answered_total 1");

    const stopping = t.service.stop();
    await flush();
    const un = distinct(t.transport, "REGISTER").at(-1)!.request;
    expect(un.get("Expires")).toBe("0");
    reply(t.transport, un, 200);
    await stopping;
    expect(t.statuses.at(-1)!.status.registration?.state).toBe("unregistered");
  });

  it("reads the trunk list again every poll interval: a trunk disabled un-REGISTERs, one added registers", async () => {
    const t = setup([record()]);
    await t.service.start(t.ctx);
    await flush();
    reply(t.transport, distinct(t.transport, "REGISTER")[0]!.request, 200);
    await flush();
    t.setList([record({ enabled: false }), record({ id: "second", gateways: [gateway("192.0.2.40")] })]);
    await advance(t.clock, 30_000, 5_000);
    const sent = distinct(t.transport, "REGISTER").slice(1).map((r) => [r.host, r.request.get("Expires")]);
    expect(sent).toEqual(expect.arrayContaining([["192.0.2.30", "0"], ["192.0.2.40", "3600"]]));
    expect(t.service.health!.view().map((v) => v.gateway)).toEqual(["192.0.2.40:5060;transport=udp"]);
  });

  it("starts with no trunks when the directory cannot be read, and picks them up at the next poll", async () => {
    const t = setup(new Error("dynamo unreachable"));
    await t.service.start(t.ctx);
    expect(t.events().some((e) => e.event === "trunks-read-failed" && e.error === "dynamo unreachable")).toBe(true);
    expect(distinct(t.transport, "REGISTER")).toHaveLength(0);
    t.setList([record()]);
    await advance(t.clock, 30_000, 5_000);
    expect(distinct(t.transport, "REGISTER")).toHaveLength(1);
    expect(distinct(t.transport, "OPTIONS")).toHaveLength(1);
  });

  it("refuses to start without a SIP transport to register over", async () => {
    const t = setup([record()]);
    await expect(t.service.start({ ...t.ctx, localAddress: () => undefined })).rejects.toThrow("trunks: the egress listens on no SIP transport");
  });
});
