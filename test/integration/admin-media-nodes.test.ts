import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dynamoClientFor } from "../../packages/sipedge/src/stack/dynalite.ts";
import { LOCAL_MEDIA_REGION } from "../../packages/sipedge/src/stack/stack.ts";
import { adminFetch, eventually } from "../harness/admin.ts";
import { sipedge } from "../harness/sipedge-cli.ts";
import "../harness/stack-info.ts";

/**
 * The operator's side of drain (issue 4) against the real stack: the admin
 * API writes `state` into the `media_nodes` row in dynalite, the stack's
 * real media agent (`local-1`) follows it at its next heartbeat (every 5 s)
 * and says so on its own /healthz, and the edge's /healthz counts the node
 * as not taking new calls. Other test files place calls through local-1, so
 * whatever happens here it is left active, and seen active by its agent.
 */
const stack = inject("stack");
const NODE = "local-1";
const TABLE = "media_nodes";
/** A few agent heartbeats (5 s apart): how long the agent may take to follow the row. */
const AGENT_FOLLOWS_MS = 20_000;
const target = ["--edge", stack.edgeUrl, "--token", stack.secrets.ADMIN_TOKEN];

let dynamo: DynamoDBClient;

async function storedRow(id: string): Promise<Record<string, unknown> | undefined> {
  const out = await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: id } }, ConsistentRead: true }));
  return out.Item === undefined ? undefined : unmarshall(out.Item);
}

async function agentHealth(): Promise<{ httpStatus: number; status?: string; state?: string; node_id?: string }> {
  const res = await fetch(new URL("/healthz", stack.mediaAgentUrl));
  return { httpStatus: res.status, ...((await res.json()) as { status?: string; state?: string; node_id?: string }) };
}

interface EdgeRegionHealth {
  live: number;
  accepting: number;
  draining: number;
}

async function edgeLocalRegion(): Promise<EdgeRegionHealth | undefined> {
  const res = await fetch(`${stack.edgeUrl}/healthz`);
  return ((await res.json()) as { media: { regions: Record<string, EdgeRegionHealth> } }).media.regions[LOCAL_MEDIA_REGION];
}

const agentSays = (state: string) => eventually(agentHealth, (h) => h.state === state, AGENT_FOLLOWS_MS, `the agent's /healthz to say ${state}`);

beforeAll(() => {
  dynamo = dynamoClientFor(stack.dynamoEndpoint);
});

afterAll(async () => {
  try {
    const activatedAt = Date.now();
    const r = await adminFetch(stack, "POST", `/v1/media-nodes/${NODE}/activate`);
    if (r.status !== 200) {
      // The API is what is under test here: if it broke, put the row back directly.
      await dynamo.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: { S: NODE } },
          UpdateExpression: "SET #s = :s",
          ExpressionAttributeNames: { "#s": "state" },
          ExpressionAttributeValues: { ":s": { S: "active" } },
        }),
      );
    }
    // A heartbeat stamped after the activation read the row after it, so the
    // agent cannot still be acting on an older "draining" when it says active.
    await eventually(() => storedRow(NODE), (row) => Number(row?.heartbeat_at) > activatedAt, AGENT_FOLLOWS_MS, "a heartbeat after the activation");
    await agentSays("active");
  } finally {
    dynamo.destroy();
  }
});

describe("admin API /v1/media-nodes", () => {
  it("needs the bearer token: 401 with the JSON error shape, and an unauthenticated drain changes nothing", async () => {
    const none = await adminFetch(stack, "GET", "/v1/media-nodes", undefined, null);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("unauthorized");
    const wrong = await adminFetch(stack, "POST", `/v1/media-nodes/${NODE}/drain`, undefined, "not-the-token");
    expect(wrong.status).toBe(401);
    expect(typeof wrong.json.error.message).toBe("string");
    expect((await adminFetch(stack, "GET", `/v1/media-nodes/${NODE}`, undefined, null)).status).toBe(401);
    expect((await storedRow(NODE))?.state).toBe("active");
  });

  it("lists the stack's node live in its region, with the agent's figures", async () => {
    const list = await adminFetch(stack, "GET", "/v1/media-nodes");
    expect(list.status).toBe(200);
    const local = (list.json.media_nodes as Array<{ id: string }>).find((n) => n.id === NODE);
    expect(local).toMatchObject({
      id: NODE,
      region: LOCAL_MEDIA_REGION,
      state: "active",
      live: true,
      accepting: true,
      capacity: 500,
      ng_url: stack.mediaAgentUrl,
      addresses: { public: "127.0.0.1", private: "127.0.0.1" },
    });
    const view = local as unknown as { sessions: number; load: number; heartbeat_age_s: number; heartbeat_at: string; expires_at: string };
    expect(view.sessions).toBeGreaterThanOrEqual(0);
    expect(view.load).toBeGreaterThanOrEqual(0);
    expect(view.heartbeat_age_s).toBeLessThan(60);
    expect(Date.parse(view.expires_at)).toBeGreaterThan(Date.parse(view.heartbeat_at));

    const one = await adminFetch(stack, "GET", `/v1/media-nodes/${NODE}`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: NODE, region: LOCAL_MEDIA_REGION, state: "active", live: true });
  });

  it("drain: the row says draining, the agent follows within a few heartbeats and keeps it, the edge stops counting the node as accepting; activate undoes it", async () => {
    const drainedAt = Date.now();
    const drain = await adminFetch(stack, "POST", `/v1/media-nodes/${NODE}/drain`);
    expect(drain.status).toBe(200);
    expect(drain.json).toMatchObject({ id: NODE, state: "draining", previous_state: "active", live: true, accepting: false, reason: "draining" });
    expect((await storedRow(NODE))?.state).toBe("draining");
    expect((await adminFetch(stack, "GET", `/v1/media-nodes/${NODE}`)).json).toMatchObject({ state: "draining", accepting: false });

    // The edge's own view: live, not accepting (the isolate's node cache was dropped by the drain).
    expect(await eventually(edgeLocalRegion, (r) => r?.draining === 1, 10_000, "the edge's /healthz to count local-1 draining")).toMatchObject({ live: 1, accepting: 0, draining: 1 });

    const health = await agentSays("draining");
    expect(health).toMatchObject({ httpStatus: 200, status: "ok", node_id: NODE });
    // A heartbeat written after the drain kept the operator's state (if_not_exists).
    const row = await eventually(() => storedRow(NODE), (r) => Number(r?.heartbeat_at) > drainedAt, AGENT_FOLLOWS_MS, "a heartbeat after the drain");
    expect(row?.state).toBe("draining");

    // Idempotent: draining a draining node succeeds and says so.
    const again = await adminFetch(stack, "POST", `/v1/media-nodes/${NODE}/drain`);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ state: "draining", previous_state: "draining" });

    const activate = await adminFetch(stack, "POST", `/v1/media-nodes/${NODE}/activate`);
    expect(activate.status).toBe(200);
    expect(activate.json).toMatchObject({ id: NODE, state: "active", previous_state: "draining", accepting: true });
    expect((await storedRow(NODE))?.state).toBe("active");
    expect(await eventually(edgeLocalRegion, (r) => r?.accepting === 1, 10_000, "the edge's /healthz to count local-1 accepting")).toMatchObject({ live: 1, draining: 0 });
    await agentSays("active");
    expect((await adminFetch(stack, "POST", `/v1/media-nodes/${NODE}/activate`)).json).toMatchObject({ state: "active", previous_state: "active" });
  });

  it("an unknown id is 404 for show, drain and activate, and no row is created; a malformed id is 400", async () => {
    const unknown = `no-such-node-${Math.random().toString(36).slice(2, 8)}`;
    for (const [method, path] of [
      ["GET", `/v1/media-nodes/${unknown}`],
      ["POST", `/v1/media-nodes/${unknown}/drain`],
      ["POST", `/v1/media-nodes/${unknown}/activate`],
    ] as const) {
      const r = await adminFetch(stack, method, path);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json.error).toMatchObject({ code: "not_found" });
      expect(r.json.error.message).toContain(unknown);
    }
    expect(await storedRow(unknown)).toBeUndefined();

    const bad = await adminFetch(stack, "POST", "/v1/media-nodes/bad%20id/drain");
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("invalid_node_id");
    const noSuchMethod = await fetch(`${stack.edgeUrl}/v1/media-nodes/${NODE}`, { method: "DELETE", headers: { Authorization: `Bearer ${stack.secrets.ADMIN_TOKEN}` } });
    expect(noSuchMethod.status).toBe(404);
  });
});

describe("sipedge node …", { timeout: 120_000 }, () => {
  it("list and show, as text and JSON", async () => {
    const list = await sipedge(["node", "list", ...target]);
    expect(list.stderr).toBe("");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID +REGION +STATE +HEARTBEAT +NEW CALLS/);
    expect(list.stdout).toMatch(new RegExp(`\\n${NODE} +${LOCAL_MEDIA_REGION} +active +live +yes +\\d+/500 `));

    const json = await sipedge(["node", "list", "--json"], { SIPEDGE_URL: stack.edgeUrl, SIPEDGE_ADMIN_TOKEN: stack.secrets.ADMIN_TOKEN });
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as Array<{ id: string }>).find((n) => n.id === NODE)).toMatchObject({ region: LOCAL_MEDIA_REGION, live: true, state: "active" });

    const show = await sipedge(["node", "show", NODE, ...target]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`id         ${NODE}`);
    expect(show.stdout).toContain(`ng url     ${stack.mediaAgentUrl}`);
  });

  it("drain and activate change the row and say so", async () => {
    const drain = await sipedge(["node", "drain", NODE, ...target]);
    expect(drain.stderr).toBe("");
    expect(drain.code).toBe(0);
    expect(drain.stdout).toMatch(new RegExp(`^${NODE}: draining \\(was active\\): no new calls`));
    expect((await storedRow(NODE))?.state).toBe("draining");

    const show = await sipedge(["node", "show", NODE, "--json", ...target]);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: NODE, state: "draining", accepting: false });

    const activate = await sipedge(["node", "activate", NODE, "--json", ...target]);
    expect(activate.code).toBe(0);
    expect(JSON.parse(activate.stdout)).toMatchObject({ id: NODE, state: "active", previous_state: "draining" });
    expect((await storedRow(NODE))?.state).toBe("active");
    expect((await sipedge(["node", "activate", NODE, ...target])).stdout).toContain(`${NODE}: already active: takes new calls`);
  });

  it("usage mistakes exit 2 with a message; an unknown node exits 1 with the edge's 404", async () => {
    const noId = await sipedge(["node", "drain", ...target]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain("node drain needs a media node id");
    const badId = await sipedge(["node", "show", "a/b", ...target]);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('"a/b" is not a media node id');
    expect((await sipedge(["node", ...target])).stderr).toContain("node needs a subcommand");
    expect((await sipedge(["node", "frobnicate", ...target])).code).toBe(2);
    expect((await sipedge(["node", "list", "--bogus", ...target])).code).toBe(2);

    const unknown = await sipedge(["node", "drain", "no-such-node", ...target]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("404 not_found");

    const badToken = await sipedge(["node", "list", "--edge", stack.edgeUrl, "--token", "wrong"]);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain("401");
  });
});
