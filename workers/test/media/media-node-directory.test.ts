import { describe, expect, it } from "vitest";
import { MediaNodeDirectory } from "../../src/directory/media-nodes.ts";
import { NodePenalties } from "../../src/media/node-penalties.ts";
import { withNearestMediaNode } from "../../src/media/media-node-pool.ts";
import { NoMediaNodeError } from "../../src/media/node-failover.ts";

/** The isolate cache over `media_nodes` (a scripted source; the real table is in test/integration/media-nodes.test.ts). */
const NOW = 1_800_000_000_000;

function row(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    region: "local",
    public_address: "127.0.0.1",
    private_address: "127.0.0.1",
    ng_url: `http://127.0.0.1:1/${id}`,
    capacity: 10,
    sessions: 0,
    load: 0,
    state: "active",
    heartbeat_at: NOW,
    expires_at: Math.ceil(NOW / 1000) + 15,
    ...over,
  };
}

function scripted(rows: () => Record<string, unknown>[]): { source: () => Promise<Record<string, unknown>[]>; reads: () => number; fail: (err?: Error) => void } {
  let reads = 0;
  let failure: Error | undefined;
  return {
    source: async () => {
      reads++;
      if (failure) throw failure;
      return rows();
    },
    reads: () => reads,
    fail: (err) => void (failure = err),
  };
}

const silent = (): void => undefined;

describe("MediaNodeDirectory", () => {
  it("reads the table once per cache period (5 s by default), then again", async () => {
    let t = NOW;
    const s = scripted(() => [row("a")]);
    const d = new MediaNodeDirectory(s.source, { now: () => t, log: silent });
    expect((await d.nodes()).map((n) => n.id)).toEqual(["a"]);
    t += 4_999;
    await d.nodes();
    expect(s.reads()).toBe(1);
    t += 1;
    await d.nodes();
    expect(s.reads()).toBe(2);
  });

  it("skips malformed rows, logging them once per read", async () => {
    const logged: Array<[string, unknown]> = [];
    const d = new MediaNodeDirectory(scripted(() => [row("good"), row("no-url", { ng_url: "" }), { id: "junk" }]).source, { now: () => NOW, log: (e, f) => void logged.push([e, f]) });
    expect((await d.nodes()).map((n) => n.id)).toEqual(["good"]);
    expect(logged).toEqual([["media-node-row-malformed", { ids: ["no-url", "junk"], count: 2 }]]);
  });

  it("keeps serving the last list for a while when DynamoDB fails, then gives up", async () => {
    let t = NOW;
    const s = scripted(() => [row("a")]);
    const d = new MediaNodeDirectory(s.source, { now: () => t, log: silent, staleIfErrorMs: 60_000 });
    await d.nodes();
    s.fail(new Error("dynamodb down"));
    t += 30_000;
    expect((await d.nodes()).map((n) => n.id)).toEqual(["a"]);
    t += 30_000;
    await expect(d.nodes()).rejects.toThrow("dynamodb down");
  });

  it("invalidate() makes the next read go to the table, and a read in flight then does not refill the cache (an operator's drain)", async () => {
    let state = "active";
    let release: (() => void) | undefined;
    let reads = 0;
    const source = async (): Promise<Record<string, unknown>[]> => {
      reads++;
      const seen = state;
      if (reads === 2) await new Promise<void>((r) => (release = r));
      return [row("a", { state: seen })];
    };
    const d = new MediaNodeDirectory(source, { now: () => NOW, log: silent });
    expect((await d.nodes())[0]?.state).toBe("active");
    d.invalidate();
    const inFlight = d.nodes(); // has read the row (synchronously) before the drain below
    state = "draining";
    d.invalidate();
    release!();
    expect((await inFlight)[0]?.state).toBe("active");
    expect((await d.nodes())[0]?.state).toBe("draining");
    expect(reads).toBe(3);
  });

  it("counts a call placed on a node until the next read, so one cache period's calls spread out", async () => {
    const d = new MediaNodeDirectory(scripted(() => [row("a", { sessions: 1, load: 0.1 }), row("b", { sessions: 1, load: 0.1 })]).source, { now: () => NOW, log: silent });
    const pool = { directory: d, penalties: new NodePenalties(), regions: [], now: () => NOW };
    const placed: string[] = [];
    for (let i = 0; i < 4; i++) placed.push((await withNearestMediaNode(pool, undefined, async (n) => n.id)).node.id);
    expect(placed).toEqual(["a", "b", "a", "b"]);
  });

  it("a directory that cannot be read is a NoMediaNodeError (503), not a crash", async () => {
    const s = scripted(() => []);
    s.fail(new Error("connect ECONNREFUSED"));
    const pool = { directory: new MediaNodeDirectory(s.source, { now: () => NOW, log: silent }), penalties: new NodePenalties(), regions: [], now: () => NOW };
    const err = await withNearestMediaNode(pool, undefined, async () => "x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoMediaNodeError);
    expect((err as NoMediaNodeError).why).toContain("media_nodes cannot be read: connect ECONNREFUSED");
  });
});
