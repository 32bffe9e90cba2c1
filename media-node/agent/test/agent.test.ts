import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../../../packages/sipedge/src/stack/ports.ts";
import { acceptsNewCalls, parseMediaNode } from "../../../workers/src/media/media-node-record.ts";
import type { MediaAgent } from "../src/agent.ts";
import { parsePrometheusText, sampleValue } from "./support/prometheus-text.ts";
import {
  agentConfig,
  postNg,
  rtpengineCommandCounts,
  startTestAgent,
  startTestDynalite,
  startTestRtpengine,
  TEST_SECRET,
  type RtpengineProcess,
} from "./support/media-stack.ts";
import { chromiumOffer, sipAnswer } from "./support/sdp-fixtures.ts";

// Real rtpengine (media ports 33000-33099), real dynalite, the agent in-process.
let rtpengine: RtpengineProcess;
let dynalite: Awaited<ReturnType<typeof startTestDynalite>>;
let agent: MediaAgent;
let callSeq = 0;

beforeAll(async () => {
  [rtpengine, dynalite] = await Promise.all([startTestRtpengine(33000, 33099), startTestDynalite()]);
  agent = await startTestAgent(
    agentConfig({ SIPEDGE_RTPENGINE_NG: `127.0.0.1:${rtpengine.ng.port}`, SIPEDGE_DYNAMODB_ENDPOINT: dynalite.endpoint }),
    dynalite.client,
  );
});

afterAll(async () => {
  await agent?.close();
  await Promise.all([rtpengine?.stop(), dynalite?.stop()]);
});

function newCall(): { "call-id": string; "from-tag": string } {
  return { "call-id": `agent-test-${process.pid}-${++callSeq}`, "from-tag": `ft-${callSeq}` };
}

/** A browser→SIP offer as the edge sends it (the full profile is tested in workers/test/media). */
function offer(call: { "call-id": string; "from-tag": string }) {
  return { command: "offer", ...call, sdp: chromiumOffer(), ICE: "remove", DTLS: "off", "transport-protocol": "RTP/AVP", "rtcp-mux": ["demux"] };
}

async function row(): Promise<Record<string, string> | undefined> {
  const out = await dynalite.client.send(new GetItemCommand({ TableName: "media_nodes", Key: { id: { S: "node-test-1" } }, ConsistentRead: true }));
  if (!out.Item) return undefined;
  return Object.fromEntries(Object.entries(out.Item).map(([k, v]) => [k, v.S ?? v.N ?? ""]));
}

async function setStoredState(state: string): Promise<void> {
  await dynalite.client.send(
    new UpdateItemCommand({
      TableName: "media_nodes",
      Key: { id: { S: "node-test-1" } },
      UpdateExpression: "SET #s = :s",
      ExpressionAttributeNames: { "#s": "state" },
      ExpressionAttributeValues: { ":s": { S: state } },
    }),
  );
}

describe("POST /ng relays signed requests to rtpengine", () => {
  it("answers /healthz when rtpengine answers ping", async () => {
    const res = await fetch(`${agent.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", rtpengine: "pong", node_id: "node-test-1", state: "active" });
  });

  it("runs ping, offer, answer, delete and leaves no session behind (PITFALLS 18)", async () => {
    expect(await postNg(agent.url, { command: "ping" })).toEqual({ status: 200, json: { result: "pong" } });
    const call = newCall();
    const o = await postNg(agent.url, offer(call));
    expect(o.status).toBe(200);
    expect(o.json.result).toBe("ok");
    expect(o.json.sdp).toMatch(/^m=audio 330\d\d RTP\/AVP /m);
    const a = await postNg(agent.url, { command: "answer", ...call, "to-tag": "tt-1", sdp: sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }]) });
    expect(a.json.result).toBe("ok");
    expect(a.json.sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0/m);
    const list = await postNg(agent.url, { command: "list" });
    expect(list.json.calls).toContain(call["call-id"]);
    const d = await postNg(agent.url, { command: "delete", ...call, "delete-delay": 0 });
    expect(d.json.result).toBe("ok");
    expect((await postNg(agent.url, { command: "list" })).json.calls).not.toContain(call["call-id"]);
  });

  it("passes rtpengine's own errors through as 200 with result error", async () => {
    const r = await postNg(agent.url, { command: "answer", ...newCall(), "to-tag": "x", sdp: sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }]) });
    expect(r).toEqual({ status: 200, json: { result: "error", "error-reason": "Unknown call-id" } });
  });

  it("refuses unsigned, badly signed, stale and replayed requests with 401; rtpengine never sees them", async () => {
    const before = await rtpengineCommandCounts(rtpengine.ng);
    const body = JSON.stringify(offer(newCall()));
    const unsigned = await fetch(`${agent.url}/ng`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: "unauthorized", reason: "missing" });
    expect(await postNg(agent.url, null, { rawBody: body, secret: "wrong-secret-0123456789-0123456789-xx" })).toEqual({ status: 401, json: { error: "unauthorized", reason: "bad-signature" } });
    expect(await postNg(agent.url, null, { rawBody: body, timestamp: Date.now() - 31_000 })).toEqual({ status: 401, json: { error: "unauthorized", reason: "stale" } });
    expect(await postNg(agent.url, null, { rawBody: body, timestamp: Date.now() + 31_000 })).toEqual({ status: 401, json: { error: "unauthorized", reason: "stale" } });
    expect(await postNg(agent.url, null, { rawBody: body, headers: { "x-sipedge-signature": "sha256=abc" } })).toEqual({ status: 401, json: { error: "unauthorized", reason: "malformed" } });
    const after = await rtpengineCommandCounts(rtpengine.ng);
    expect(after.offer).toBe(before.offer);

    // A captured request sent again: the first copy goes through, the second does not.
    const ts = Date.now();
    const first = await postNg(agent.url, null, { rawBody: body, timestamp: ts });
    expect(first.json.result).toBe("ok");
    const replay = await postNg(agent.url, null, { rawBody: body, timestamp: ts });
    expect(replay).toEqual({ status: 401, json: { error: "unauthorized", reason: "replayed" } });
    expect((await rtpengineCommandCounts(rtpengine.ng)).offer).toBe(before.offer! + 1);
    const call = JSON.parse(body) as { "call-id": string; "from-tag": string };
    await postNg(agent.url, { command: "delete", "call-id": call["call-id"], "from-tag": call["from-tag"], "delete-delay": 0 });
  });

  it("refuses oversized, non-JSON and non-ng bodies", async () => {
    const big = JSON.stringify({ command: "ping", pad: "x".repeat(70 * 1024) });
    expect((await postNg(agent.url, null, { rawBody: big })).status).toBe(413);
    expect(await postNg(agent.url, null, { rawBody: "{not json" })).toEqual({ status: 400, json: { error: "bad-request", reason: "the body is not JSON" } });
    expect((await postNg(agent.url, { command: "offer", "delete-delay": 1.5 })).json.reason).toMatch(/whole numbers/);
    expect((await postNg(agent.url, { command: "offer", flags: [true] })).json.reason).toMatch(/flags\[0\]: boolean has no ng/);
    expect((await postNg(agent.url, ["ping"])).json.reason).toMatch(/JSON object/);
    expect((await fetch(`${agent.url}/ng`)).status).toBe(405);
    expect((await fetch(`${agent.url}/nope`)).status).toBe(404);
  });
});

describe("heartbeat into media_nodes", () => {
  it("writes the node's row and follows its session count", async () => {
    await waitUntil("the heartbeat row", async () => (await row()) !== undefined, 5000);
    const r = (await row())!;
    expect(r).toMatchObject({
      id: "node-test-1",
      region: "eu-central-1",
      public_address: "127.0.0.2",
      private_address: "127.0.0.1",
      ng_url: "http://127.0.0.1:2280/ng",
      capacity: "100",
      state: "active",
    });
    const now = Date.now();
    expect(Math.abs(Number(r.heartbeat_at) - now)).toBeLessThan(5000);
    expect(Number(r.expires_at)).toBeGreaterThan(now / 1000);
    expect(Number(r.expires_at)).toBeLessThanOrEqual(Math.ceil((now + 5000) / 1000) + 1);

    // The edge's reader takes the row as the agent wrote it.
    const item = (await dynalite.client.send(new GetItemCommand({ TableName: "media_nodes", Key: { id: { S: "node-test-1" } } }))).Item!;
    const node = parseMediaNode(unmarshall(item));
    expect(node).toMatchObject({ id: "node-test-1", region: "eu-central-1", publicAddress: "127.0.0.2", ngUrl: "http://127.0.0.1:2280/ng", capacity: 100, state: "active" });
    expect(acceptsNewCalls(node!, Date.now())).toBe(true);
    expect(acceptsNewCalls(node!, node!.expiresAt * 1000 + 1)).toBe(false);

    const call = newCall();
    await postNg(agent.url, offer(call));
    await waitUntil("sessions = 1 in the row", async () => (await row())?.sessions === "1", 5000);
    // load = max(sessions / capacity, media ports in use / ports configured): 1/100 or 3 ports of 100.
    expect(Number((await row())!.load)).toBeGreaterThanOrEqual(0.01);
    expect(Number((await row())!.load)).toBeLessThanOrEqual(0.05);
    await postNg(agent.url, { command: "delete", ...call, "delete-delay": 0 });
    await waitUntil("sessions = 0 in the row", async () => (await row())?.sessions === "0", 5000);
  });

  it("honours an operator's drain: no new calls, existing calls go on, state is not overwritten", async () => {
    const existing = newCall();
    expect((await postNg(agent.url, offer(existing))).json.result).toBe("ok");
    await setStoredState("draining");
    await waitUntil("the agent to see draining", async () => agent.state === "draining", 5000);

    expect((await postNg(agent.url, offer(newCall()))).json).toEqual({ result: "error", "error-reason": "Node is draining" });
    // A re-INVITE of a call the node holds is a new offer and goes through (PITFALLS 10).
    expect((await postNg(agent.url, offer(existing))).json.result).toBe("ok");
    expect((await postNg(agent.url, { command: "delete", ...existing, "delete-delay": 0 })).json.result).toBe("ok");

    const beats = agent.metrics.heartbeats.get({ result: "ok" });
    await waitUntil("two more heartbeats", async () => agent.metrics.heartbeats.get({ result: "ok" }) >= beats + 2, 5000);
    expect((await row())!.state).toBe("draining");

    await setStoredState("active");
    await waitUntil("the agent to see active", async () => agent.state === "active", 5000);
    const fresh = newCall();
    expect((await postNg(agent.url, offer(fresh))).json.result).toBe("ok");
    await postNg(agent.url, { command: "delete", ...fresh, "delete-delay": 0 });
  });
});

describe("GET /metrics", () => {
  it("is valid Prometheus text with ng, auth, latency and rtpengine figures", async () => {
    await postNg(agent.url, { command: "ping" }, { secret: "not-the-secret-0123456789-0123456789" });
    const res = await fetch(`${agent.url}/metrics`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).not.toContain(TEST_SECRET);
    const samples = parsePrometheusText(text);
    expect(sampleValue(samples, "sipedge_agent_ng_requests_total", { command: "offer", result: "ok" })).toBeGreaterThanOrEqual(3);
    expect(sampleValue(samples, "sipedge_agent_ng_requests_total", { command: "offer", result: "draining" })).toBe(1);
    expect(sampleValue(samples, "sipedge_agent_auth_failures_total", { reason: "bad-signature" })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(samples, "sipedge_agent_auth_failures_total", { reason: "replayed" })).toBe(1);
    expect(sampleValue(samples, "sipedge_agent_ng_request_duration_seconds_count", { command: "offer" })).toBeGreaterThanOrEqual(3);
    expect(sampleValue(samples, "sipedge_agent_capacity")).toBe(100);
    expect(sampleValue(samples, "sipedge_agent_state", { state: "active" })).toBe(1);
    expect(sampleValue(samples, "rtpengine_sessions", { kind: "total" })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, "rtpengine_managedsessions_total")).toBeGreaterThanOrEqual(3);
    expect(sampleValue(samples, "rtpengine_ng_commands_total", { command: "offer" })).toBeGreaterThanOrEqual(3);
    expect(sampleValue(samples, "sipedge_agent_http_requests_total", { route: "ng", status: "401" })).toBeGreaterThanOrEqual(5);
  });
});
