import { describe, expect, it } from "vitest";
import { MEDIA_NODE_ID, mediaNodeView, mediaNodeViews } from "../../src/media/media-node-status.ts";

/** The operator's view of a `media_nodes` row (GET /v1/media-nodes): liveness judged as the node choice judges it. */
const NOW = 1_800_000_000_000;

function row(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    region: "eu-central-1",
    public_address: "198.51.100.7",
    private_address: "10.0.0.7",
    ng_url: `https://${id}.example/ng`,
    capacity: 500,
    sessions: 12,
    load: 0.024,
    state: "active",
    heartbeat_at: NOW - 2_500,
    expires_at: Math.ceil((NOW - 2_500 + 15_000) / 1000),
    ...over,
  };
}

describe("mediaNodeView", () => {
  it("shows a live active node as accepting, with its figures, addresses and heartbeat age", () => {
    expect(mediaNodeView(row("m1"), NOW)).toEqual({
      id: "m1",
      region: "eu-central-1",
      state: "active",
      live: true,
      accepting: true,
      sessions: 12,
      capacity: 500,
      load: 0.024,
      ng_url: "https://m1.example/ng",
      addresses: { public: "198.51.100.7", private: "10.0.0.7" },
      heartbeat_at: new Date(NOW - 2_500).toISOString(),
      heartbeat_age_s: 2,
      expires_at: new Date(Math.ceil((NOW + 12_500) / 1000) * 1000).toISOString(),
    });
  });

  it("a draining node is live and not accepting; the stored state is shown as written, a typo counts as draining", () => {
    expect(mediaNodeView(row("m1", { state: "draining" }), NOW)).toMatchObject({ state: "draining", live: true, accepting: false, reason: "draining" });
    expect(mediaNodeView(row("m1", { state: "drainig" }), NOW)).toMatchObject({ state: "drainig", live: true, accepting: false, reason: "draining" });
  });

  it("an expired row (expires_at passed, or a heartbeat over 60 s old) is not live", () => {
    expect(mediaNodeView(row("m1", { expires_at: Math.floor(NOW / 1000) }), NOW)).toMatchObject({ live: false, accepting: false, reason: "stale" });
    expect(mediaNodeView(row("m1", { heartbeat_at: NOW - 61_000, expires_at: Math.ceil(NOW / 1000) + 600 }), NOW)).toMatchObject({ live: false, reason: "stale", heartbeat_age_s: 61 });
  });

  it("a full node is live and not accepting", () => {
    expect(mediaNodeView(row("m1", { sessions: 500, load: 1 }), NOW)).toMatchObject({ live: true, accepting: false, reason: "full" });
  });

  it("a malformed row is shown as such, with its id and stored state, never guessed", () => {
    expect(mediaNodeView({ id: "half", state: "draining" }, NOW)).toMatchObject({ id: "half", malformed: true, live: false, accepting: false, state: "draining" });
    expect(mediaNodeView({}, NOW)).toMatchObject({ id: "?", malformed: true });
  });

  it("lists every row by region, then id", () => {
    const views = mediaNodeViews([row("b", { region: "us-east-1" }), row("z"), row("a"), { id: "junk" }], NOW);
    expect(views.map((v) => v.id)).toEqual(["junk", "a", "z", "b"]);
  });
});

describe("MEDIA_NODE_ID", () => {
  it("accepts what an agent's --node-id accepts and nothing else", () => {
    for (const ok of ["local-1", "eu-central-1.a", "N_7", "x".repeat(64)]) expect(MEDIA_NODE_ID.test(ok)).toBe(true);
    for (const bad of ["", "-lead", ".hidden", "a b", "a/b", "x".repeat(65), "ü"]) expect(MEDIA_NODE_ID.test(bad)).toBe(false);
  });
});
