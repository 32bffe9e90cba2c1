import { describe, expect, it } from "vitest";
import type { MediaNodeView } from "../../../workers/src/media/media-node-status.ts";
import { nodeDetails, nodeTable, stateChangeLine } from "../src/node-commands.ts";

/** How `sipedge node …` prints what the admin API answers (the commands themselves run against the stack in test/integration). */
const live: MediaNodeView = {
  id: "local-1",
  region: "local",
  state: "active",
  live: true,
  accepting: true,
  sessions: 3,
  capacity: 500,
  load: 0.006,
  ng_url: "http://127.0.0.1:8790/ng",
  addresses: { public: "127.0.0.1", private: "127.0.0.1" },
  heartbeat_at: "2027-01-15T08:00:00.000Z",
  heartbeat_age_s: 2,
  expires_at: "2027-01-15T08:00:15.000Z",
};
const drained: MediaNodeView = { ...live, id: "eu-central-1-b", region: "eu-central-1", state: "draining", accepting: false, reason: "draining", sessions: 1 };
const dead: MediaNodeView = { ...live, id: "old", live: false, accepting: false, reason: "stale", heartbeat_age_s: 3600 };

describe("node list table", () => {
  it("aligns a header and one row per node; the last column is not padded", () => {
    const lines = nodeTable([live, drained, dead, { id: "junk", malformed: true, live: false, accepting: false, message: "m" }]);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe("ID              REGION        STATE     HEARTBEAT  NEW CALLS      SESSIONS  LOAD  LAST SEEN  NG URL");
    expect(lines[1]).toBe("local-1         local         active    live       yes            3/500     1%    2s ago     http://127.0.0.1:8790/ng");
    expect(lines[2]).toContain("eu-central-1-b  eu-central-1  draining  live       no (draining)");
    expect(lines[3]).toContain("old             local         active    expired    no (stale)");
    expect(lines[4]).toMatch(/^junk +- +- +malformed +no +- +- +- +-$/);
  });
});

describe("node show", () => {
  it("says every figure on its own line", () => {
    expect(nodeDetails(drained)).toEqual([
      "id         eu-central-1-b",
      "region     eu-central-1",
      "state      draining",
      "heartbeat  live, last 2s ago (2027-01-15T08:00:00.000Z; row expires 2027-01-15T08:00:15.000Z)",
      "new calls  no (draining)",
      "sessions   1 of 500, load 1%",
      "ng url     http://127.0.0.1:8790/ng",
      "addresses  public 127.0.0.1, private 127.0.0.1",
    ]);
  });
});

describe("node drain / activate", () => {
  it("says the change, or that there was none, and what it means for calls", () => {
    expect(stateChangeLine(drained, "active")).toBe("eu-central-1-b: draining (was active): no new calls; its 1 call continues");
    expect(stateChangeLine({ ...drained, sessions: 4 }, "draining")).toBe("eu-central-1-b: already draining: no new calls; its 4 calls continue");
    expect(stateChangeLine(live, "draining")).toBe("local-1: active (was draining): takes new calls");
    expect(stateChangeLine(dead, null)).toBe("old: active (was unset): takes new calls; its heartbeat has expired (is its agent running?)");
  });
});
