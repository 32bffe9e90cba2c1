import { describe, expect, it } from "vitest";
import type { MediaNode } from "../../src/media/media-node-record.ts";
import { parseMediaRegions } from "../../src/media/media-regions.ts";
import { NoMediaNodeError, penaltyKindOf, withMediaNode } from "../../src/media/node-failover.ts";
import { NodePenalties } from "../../src/media/node-penalties.ts";
import { chooseNode, rankNodes } from "../../src/media/node-selection.ts";
import { NgCapacityError, NgError, NgTimeoutError, NgTransportError } from "../../src/media/ng-errors.ts";
import { SipError } from "../../src/sip-error.ts";

/**
 * Media node choice (ARCHITECTURE.md "Choosing a media node"; PITFALLS 25):
 * pure logic on made-up rows. The real table, agents and rtpengine are in
 * test/integration/media-nodes.test.ts.
 */
const NOW = 1_800_000_000_000;
const REGIONS = parseMediaRegions("eu-central-1:50.11:8.68,us-east-1:38.9:-77.04,ap-southeast-1:1.35:103.82");
const FRANKFURT = { lat: 50.11, lon: 8.68 };
const NEW_YORK = { lat: 40.71, lon: -74.0 };
const SINGAPORE = { lat: 1.29, lon: 103.85 };

function node(id: string, region: string, over: Partial<MediaNode> = {}): MediaNode {
  return {
    id,
    region,
    publicAddress: "203.0.113.1",
    privateAddress: "10.0.0.1",
    ngUrl: `https://${id}.example/ng`,
    capacity: 100,
    sessions: 0,
    load: 0,
    state: "active",
    heartbeatAt: NOW - 1000,
    expiresAt: Math.ceil((NOW + 14_000) / 1000),
    ...over,
  };
}

const ids = (nodes: MediaNode[]): string[] => nodes.map((n) => n.id);
const silent = (): void => undefined;

describe("region order", () => {
  const fleet = [node("fra-1", "eu-central-1"), node("iad-1", "us-east-1"), node("sin-1", "ap-southeast-1")];

  it("puts the region nearest the browser first, then the others by great-circle distance", () => {
    expect(ids(chooseNode(fleet, FRANKFURT, NOW, new NodePenalties(), REGIONS))).toEqual(["fra-1", "iad-1", "sin-1"]);
    expect(ids(chooseNode(fleet, NEW_YORK, NOW, new NodePenalties(), REGIONS))).toEqual(["iad-1", "fra-1", "sin-1"]);
    expect(ids(chooseNode(fleet, SINGAPORE, NOW, new NodePenalties(), REGIONS))).toEqual(["sin-1", "fra-1", "iad-1"]);
  });

  it("without a location, keeps the order of MEDIA_REGIONS", () => {
    expect(ids(chooseNode([...fleet].reverse(), undefined, NOW, new NodePenalties(), REGIONS))).toEqual(["fra-1", "iad-1", "sin-1"]);
  });

  it("puts a region missing from MEDIA_REGIONS after every known one, and still offers it", () => {
    const nodes = [node("x-1", "unlisted", { load: 0 }), node("sin-1", "ap-southeast-1", { load: 0.9 })];
    expect(ids(chooseNode(nodes, FRANKFURT, NOW, new NodePenalties(), REGIONS))).toEqual(["sin-1", "x-1"]);
  });

  it("with an empty MEDIA_REGIONS, ranks every node by load alone", () => {
    const nodes = [node("x-1", "unlisted", { load: 0 }), node("sin-1", "ap-southeast-1", { load: 0.9 })];
    expect(ids(chooseNode(nodes, FRANKFURT, NOW, new NodePenalties(), []))).toEqual(["x-1", "sin-1"]);
  });
});

describe("within a region", () => {
  it("prefers the least loaded live node, ties broken by sessions/capacity then id", () => {
    const nodes = [
      node("fra-a", "eu-central-1", { load: 0.5, sessions: 50 }),
      node("fra-b", "eu-central-1", { load: 0.1, sessions: 10 }),
      node("fra-c", "eu-central-1", { load: 0.1, sessions: 5 }),
      node("fra-d", "eu-central-1", { load: 0.1, sessions: 5 }),
      node("iad-a", "us-east-1", { load: 0 }),
    ];
    expect(ids(chooseNode(nodes, FRANKFURT, NOW, new NodePenalties(), REGIONS))).toEqual(["fra-c", "fra-d", "fra-b", "fra-a", "iad-a"]);
  });

  it("a less loaded node in a farther region comes after every node of the nearer one", () => {
    const nodes = [node("fra-busy", "eu-central-1", { load: 0.95, sessions: 95 }), node("iad-idle", "us-east-1")];
    expect(ids(chooseNode(nodes, FRANKFURT, NOW, new NodePenalties(), REGIONS))).toEqual(["fra-busy", "iad-idle"]);
  });
});

describe("nodes that get no new call", () => {
  const nodes = [
    node("expired", "eu-central-1", { expiresAt: Math.floor(NOW / 1000) - 1 }),
    node("old-heartbeat", "eu-central-1", { heartbeatAt: NOW - 61_000 }),
    node("draining", "eu-central-1", { state: "draining" }),
    node("full", "eu-central-1", { sessions: 100, load: 1 }),
    node("ports-gone", "eu-central-1", { sessions: 3, load: 1 }),
    node("good", "us-east-1", { load: 0.7, sessions: 70 }),
  ];

  it("skips stale (expires_at passed, or heartbeat too old), draining and full nodes, and says why", () => {
    const r = rankNodes(nodes, FRANKFURT, NOW, new NodePenalties(), REGIONS);
    expect(ids(r.candidates)).toEqual(["good"]);
    expect(Object.fromEntries(r.skipped.map((s) => [s.id, s.reason]))).toEqual({
      expired: "stale",
      "old-heartbeat": "stale",
      draining: "draining",
      full: "full",
      "ports-gone": "full",
    });
  });

  it("never offers a draining node, even when nothing else is left", () => {
    const r = rankNodes([node("draining", "eu-central-1", { state: "draining" })], FRANKFURT, NOW, new NodePenalties(), REGIONS);
    expect(r.candidates).toEqual([]);
  });
});

describe("penalties", () => {
  it("skip a node that timed out for 60 s and one that was full for 10 s by default, then offer them again", () => {
    const penalties = new NodePenalties();
    // The fleet as its heartbeats show it at time t (always alive).
    const fleetAt = (t: number): MediaNode[] =>
      [node("fra-1", "eu-central-1"), node("fra-2", "eu-central-1", { load: 0.2 }), node("iad-1", "us-east-1")].map((n) => ({ ...n, heartbeatAt: t - 1000, expiresAt: Math.ceil((t + 14_000) / 1000) }));
    penalties.penalise("fra-1", "timeout", NOW);
    penalties.penalise("fra-2", "capacity", NOW);
    expect(ids(chooseNode(fleetAt(NOW + 1), FRANKFURT, NOW + 1, penalties, REGIONS))).toEqual(["iad-1"]);
    expect(ids(chooseNode(fleetAt(NOW + 9_999), FRANKFURT, NOW + 9_999, penalties, REGIONS))).toEqual(["iad-1"]);
    expect(ids(chooseNode(fleetAt(NOW + 10_000), FRANKFURT, NOW + 10_000, penalties, REGIONS))).toEqual(["fra-2", "iad-1"]);
    expect(ids(chooseNode(fleetAt(NOW + 60_000), FRANKFURT, NOW + 60_000, penalties, REGIONS))).toEqual(["fra-1", "fra-2", "iad-1"]);
    expect(penalties.active(NOW + 60_000)).toEqual([]);
  });

  it("durations are configurable, and a shorter penalty never cuts a longer one short", () => {
    const penalties = new NodePenalties({ timeoutMs: 5_000, capacityMs: 1_000 });
    penalties.penalise("n", "timeout", NOW);
    penalties.penalise("n", "capacity", NOW + 100);
    expect(penalties.get("n", NOW + 4_999)?.kind).toBe("timeout");
    expect(penalties.isPenalised("n", NOW + 5_000)).toBe(false);
  });

  it("when every usable node is penalised, offers them anyway, soonest-back first (aggressive redetection); redetect:false refuses", () => {
    const penalties = new NodePenalties();
    const nodes = [node("fra-1", "eu-central-1"), node("iad-1", "us-east-1")];
    penalties.penalise("fra-1", "timeout", NOW);
    penalties.penalise("iad-1", "capacity", NOW);
    const r = rankNodes(nodes, FRANKFURT, NOW + 1, penalties, REGIONS);
    expect(r.redetecting).toBe(true);
    expect(ids(r.candidates)).toEqual(["iad-1", "fra-1"]);
    expect(rankNodes(nodes, FRANKFURT, NOW + 1, penalties, REGIONS, { redetect: false }).candidates).toEqual([]);
  });
});

describe("withMediaNode: failover", () => {
  const fleet = [node("fra-1", "eu-central-1"), node("fra-2", "eu-central-1", { load: 0.3 }), node("iad-1", "us-east-1")];

  it("tries candidates in order: a timeout, a capacity error and an unreachable agent each move on and penalise that node", async () => {
    const penalties = new NodePenalties();
    const errors: Record<string, Error> = {
      "fra-1": new NgTimeoutError("offer", "no answer within 3500 ms"),
      "fra-2": new NgCapacityError("offer", "rtpengine: Ran out of ports"),
    };
    const tried: string[] = [];
    const logged: string[] = [];
    const served = await withMediaNode(
      chooseNode(fleet, FRANKFURT, NOW, penalties, REGIONS),
      async (n) => {
        tried.push(n.id);
        const e = errors[n.id];
        if (e) throw e;
        return `sdp from ${n.id}`;
      },
      { penalties, now: () => NOW, log: (event) => void logged.push(event) },
    );
    expect(tried).toEqual(["fra-1", "fra-2", "iad-1"]);
    expect(served.node.id).toBe("iad-1");
    expect(served.value).toBe("sdp from iad-1");
    expect(served.failures.map((f) => [f.nodeId, f.kind])).toEqual([
      ["fra-1", "timeout"],
      ["fra-2", "capacity"],
    ]);
    expect(logged).toEqual(["media-node-failover", "media-node-failover"]);
    expect(penalties.get("fra-1", NOW)?.until).toBe(NOW + 60_000);
    expect(penalties.get("fra-2", NOW)?.until).toBe(NOW + 10_000);
    // The next call goes straight to the node that served: no failed attempt.
    expect(ids(chooseNode(fleet, FRANKFURT, NOW + 1000, penalties, REGIONS))).toEqual(["iad-1"]);
  });

  it("an error another node would repeat (rtpengine refused the SDP) fails the call at once, penalising nobody", async () => {
    const penalties = new NodePenalties();
    const refused = new NgError("offer", "rtpengine: Failed to parse SDP");
    const tried: string[] = [];
    await expect(
      withMediaNode(
        fleet,
        async (n) => {
          tried.push(n.id);
          throw refused;
        },
        { penalties, now: () => NOW, log: silent },
      ),
    ).rejects.toBe(refused);
    expect(tried).toEqual(["fra-1"]);
    expect(penalties.active(NOW)).toEqual([]);
  });

  it("tries at most maxAttempts nodes (default 3)", async () => {
    const many = ["a", "b", "c", "d"].map((id) => node(id, "eu-central-1"));
    const tried: string[] = [];
    const err = await withMediaNode(
      many,
      async (n) => {
        tried.push(n.id);
        throw new NgTransportError("offer", "connection refused");
      },
      { penalties: new NodePenalties(), now: () => NOW, log: silent },
    ).catch((e: unknown) => e);
    expect(tried).toEqual(["a", "b", "c"]);
    expect(err).toBeInstanceOf(NoMediaNodeError);
    expect((err as NoMediaNodeError).why).toContain("not tried: 1");
  });

  it("a node that answers again is forgiven", async () => {
    const penalties = new NodePenalties();
    penalties.penalise("fra-1", "timeout", NOW);
    await withMediaNode([fleet[0]!], async () => "ok", { penalties, now: () => NOW, log: silent });
    expect(penalties.isPenalised("fra-1", NOW)).toBe(false);
  });

  it("classifies ng errors: failover ones by kind, others not at all", () => {
    expect(penaltyKindOf(new NgTimeoutError("offer", "x"))).toBe("timeout");
    expect(penaltyKindOf(new NgCapacityError("offer", "x"))).toBe("capacity");
    expect(penaltyKindOf(new NgTransportError("offer", "x", 502))).toBe("unreachable");
    expect(penaltyKindOf(new NgError("offer", "x"))).toBeUndefined();
    expect(penaltyKindOf(new Error("x"))).toBeUndefined();
  });
});

describe("no media node", () => {
  it("is a 503 with Retry-After until the first penalty ends, naming what failed and what was skipped", async () => {
    const penalties = new NodePenalties();
    const nodes = [node("fra-1", "eu-central-1"), node("fra-drain", "eu-central-1", { state: "draining" }), node("iad-1", "us-east-1")];
    const r = rankNodes(nodes, FRANKFURT, NOW, penalties, REGIONS);
    const logged: Array<[string, Record<string, unknown>]> = [];
    const err = await withMediaNode(
      r.candidates,
      async (n) => {
        throw n.id === "fra-1" ? new NgTimeoutError("offer", "no answer") : new NgCapacityError("offer", "rtpengine: Parallel session limit reached");
      },
      { penalties, now: () => NOW, skipped: r.skipped, log: (e, f) => void logged.push([e, f]) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoMediaNodeError);
    expect(err).toBeInstanceOf(SipError);
    const e = err as NoMediaNodeError;
    expect(e.status).toBe(503);
    expect(e.headers).toEqual([["Retry-After", "10"]]);
    expect(e.retryAfterS).toBe(10);
    expect(e.why).toContain("fra-1 (timeout: no answer)");
    expect(e.why).toContain("iad-1 (capacity: rtpengine: Parallel session limit reached)");
    expect(e.why).toContain("fra-drain (draining)");
    expect(logged.at(-1)?.[0]).toBe("media-node-none");
    expect(logged.at(-1)?.[1].why).toBe(e.why);
  });

  it("with no node at all: 503, Retry-After 30, 'no media node in media_nodes'", async () => {
    const err = (await withMediaNode([], async () => "never", { penalties: new NodePenalties(), now: () => NOW, log: silent }).catch((e: unknown) => e)) as NoMediaNodeError;
    expect(err).toBeInstanceOf(NoMediaNodeError);
    expect(err.retryAfterS).toBe(30);
    expect(err.why).toBe("no media node in media_nodes");
  });
});
