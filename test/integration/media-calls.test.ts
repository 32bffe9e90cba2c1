import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dynamoClientFor } from "../../packages/sipedge/src/stack/dynalite.ts";
import { LOCAL_MEDIA_REGION } from "../../packages/sipedge/src/stack/stack.ts";
import { eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import { audioPorts, CALL_ENDINGS, endCall, EXPECTED_CDR, holdByCaller, setUpCall, type CallEnding, type CallUnderWay } from "../harness/call-endings.ts";
import { cdrOf, cdrTable, noRtpengineSessions, rtpengineCalls } from "../harness/media.ts";
import { agentFollows, setMediaNodeState, startMediaNodePair, type MediaNodePair } from "../harness/media-node-pair.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { SipPhone } from "../harness/sip-phone.ts";
import { statusOf, SipMessageText } from "../harness/sip-ws-client.ts";
import "../harness/stack-info.ts";

/**
 * Browser-to-browser calls anchored in rtpengine through the real edge
 * (issue 4 tests; ARCHITECTURE.md "Who owns media", "Choosing a media
 * node"): raw SIP phones with real Chromium SDP, the stack's rtpengine and
 * agent (`local-1`), and two more real agent+rtpengine pairs for drain and
 * failover. What is checked is what rtpengine itself lists and what the
 * owning DO wrote into `cdrs` — never the edge's own account.
 */
const stack = inject("stack");
const STACK_NODE = "local-1";
const AGENT_FOLLOWS_MS = 20_000;
let dynamo: DynamoDBClient;
const phones: SipPhone[] = [];

beforeAll(() => {
  dynamo = dynamoClientFor(stack.dynamoEndpoint);
  console.log(`[media-calls] stack logs in ${stack.logDir}`);
});

afterAll(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  dynamo?.destroy();
});

async function registered(user: { aor: string; password: string }): Promise<SipPhone> {
  const p = await SipPhone.open(stack.edgeUrl, user.aor, user.password);
  phones.push(p);
  const res = await p.register();
  if (res.status !== 200) throw new Error(`REGISTER ${user.aor}: ${res.status} ${res.reason}`);
  return p;
}

async function pair(): Promise<{ caller: SipPhone; callee: SipPhone }> {
  const [a, b] = await Promise.all([newSubscriber(stack, "caller"), newSubscriber(stack, "callee")]);
  const [caller, callee] = await Promise.all([registered(a), registered(b)]);
  return { caller, callee };
}

const isOpen = (p: SipPhone): boolean => p.client.ws.readyState === p.client.ws.OPEN;

/** The edge's view of media nodes (its cached list, as a call sees it), per region. */
async function edgeRegions(): Promise<Record<string, { live: number; accepting: number; draining: number }>> {
  const res = await fetch(`${stack.edgeUrl}/healthz`);
  return ((await res.json()) as { media: { regions: Record<string, { live: number; accepting: number; draining: number }> } }).media.regions;
}

/**
 * An INVITE with an offer and what came of it first: a final refusal to the
 * caller, or the callee ringing (the call then goes on; `refusal` still
 * resolves with the final non-2xx if one comes later).
 */
async function invite(caller: SipPhone, callee: SipPhone): Promise<{ refused?: SipMessageText; ringing?: CallUnderWay; refusal: Promise<SipMessageText> }> {
  const call = await caller.call(callee.aor, { sdp: CHROMIUM_OFFER });
  const refusal = caller.client
    .next((m) => m.startsWith("SIP/2.0 ") && m.includes(call.callId) && m.includes(`${call.inviteCSeq} INVITE`) && statusOf(m) >= 300, 15_000, `a refusal of ${call.callId}`)
    .then((t) => new SipMessageText(t));
  const rang = callee.incoming(15_000, (m) => m.includes(call.callId));
  refusal.catch(() => undefined);
  rang.catch(() => undefined);
  const first = await Promise.race([refusal.then((r) => ({ refused: r })), rang.then((incoming) => ({ incoming }))]);
  if ("refused" in first) {
    call.ackFailure(first.refused);
    return { refused: first.refused, refusal };
  }
  return { ringing: { ending: "caller-bye", call, incoming: first.incoming, caller, callee }, refusal };
}

/** Places calls until one is answered, then hangs it up: the node is taking calls again. Returns the CDR's node. */
async function untilACallWorks(timeoutMs = AGENT_FOLLOWS_MS): Promise<string> {
  const { caller, callee } = await pair();
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await invite(caller, callee);
    if (r.ringing !== undefined) {
      const c = r.ringing;
      c.incoming.reply(200, { sdp: CHROMIUM_ANSWER });
      await c.call.answered();
      await c.incoming.ack();
      await endCall(c);
      return (await cdrOf(stack, c.call.callId)).media_node;
    }
    if (Date.now() > until) throw new Error(`no call went through within ${timeoutMs} ms; last answer ${r.refused!.status} ${r.refused!.reason}`);
    await new Promise((resolve) => setTimeout(resolve, 200)); // poll interval, not a synchronisation
  }
}

describe("no leaks (PITFALLS 18): calls ended in every way leave no rtpengine session, and each has its CDR", () => {
  const LANES = 25;
  const BATCHES = 4;
  const total = LANES * BATCHES;

  it(`${total} calls in ${BATCHES} parallel batches of ${LANES}, ${CALL_ENDINGS.length} endings mixed`, async () => {
    const users = await Promise.all(Array.from({ length: LANES }, () => Promise.all([newSubscriber(stack, "caller"), newSubscriber(stack, "callee")])));
    const lanes = await Promise.all(users.map(async ([a, b]) => ({ a, b, caller: await registered(a), callee: await registered(b) })));
    const ended: Array<{ callId: string; ending: CallEnding; caller: string; callee: string }> = [];
    let mostListed = 0;
    const before = new Set(await rtpengineCalls(stack));

    for (let batch = 0; batch < BATCHES; batch++) {
      // A phone whose socket an ending dropped comes back as a new device.
      await Promise.all(
        lanes.map(async (l) => {
          if (!isOpen(l.caller)) l.caller = await registered(l.a);
          if (!isOpen(l.callee)) {
            l.callee = await registered(l.b);
            // The dropped socket's binding goes with it; until then the INVITE would fork to it too.
            await eventually(() => registrationsOf(stack, l.b.aor), (r) => r.length === 1, 5_000, `${l.b.aor} to have one binding`);
          }
        }),
      );
      const endings = lanes.map((_, i) => CALL_ENDINGS[(batch * LANES + i) % CALL_ENDINGS.length]!);
      const up = await Promise.all(lanes.map((l, i) => setUpCall(l.caller, l.callee, endings[i]!)));

      // While they ring or talk, rtpengine holds every one of them.
      const listed = await rtpengineCalls(stack);
      mostListed = Math.max(mostListed, listed.length);
      expect(up.map((c) => c.call.callId).filter((id) => !listed.includes(id))).toEqual([]);
      for (const c of up) {
        // The callee got rtpengine's offer, not the caller's (anchored: a port of the stack's range).
        const ours = (p: number): boolean => p >= stack.rtpPorts.min && p <= stack.rtpPorts.max;
        expect(audioPorts(c.incoming.invite.text).every(ours)).toBe(true);
        if (c.ok !== undefined) expect(audioPorts(c.ok.text).every(ours)).toBe(true);
      }

      await Promise.all(up.map((c) => endCall(c)));
      for (const c of up) ended.push({ callId: c.call.callId, ending: c.ending, caller: c.caller.aor, callee: c.callee.aor });
    }

    const callIds = ended.map((e) => e.callId);
    await noRtpengineSessions(stack, callIds, 15_000);
    // Nothing else either. Sessions another file left on purpose before this one
    // started (calls-restart.test.ts keeps calls across a restart for the grace
    // period) are not ours to judge; alone, this file starts with none.
    const left = await rtpengineCalls(stack);
    expect(left.filter((id) => !before.has(id))).toEqual([]);

    const cdrs = await Promise.all(ended.map((e) => cdrOf(stack, e.callId, 15_000)));
    const mismatches: unknown[] = [];
    ended.forEach((e, i) => {
      const cdr = cdrs[i]!;
      const want = EXPECTED_CDR[e.ending];
      const got = { end_reason: cdr.end_reason, answered: cdr.answered_at !== undefined, status: cdr.status, ended_by: cdr.ended_by, media_node: cdr.media_node, caller: cdr.caller, callee: cdr.callee };
      const expected = { end_reason: want.end_reason, answered: want.answered, status: want.status, ended_by: want.ended_by, media_node: STACK_NODE, caller: e.caller, callee: e.callee };
      if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push({ call_id: e.callId, ending: e.ending, got, expected });
    });
    expect(mismatches).toEqual([]);

    const byEnding = Object.fromEntries(CALL_ENDINGS.map((k) => [k, ended.filter((e) => e.ending === k).length]));
    console.log(
      `[media-calls] ${ended.length} calls (${ended.filter((e) => EXPECTED_CDR[e.ending].answered).length} answered), up to ${mostListed} sessions listed at once, ` +
        `${left.length} left in rtpengine (${before.size} before), ${cdrs.length} CDRs; by ending ${JSON.stringify(byEnding)}`,
    );
  });
});

describe(`with the stack's node (${STACK_NODE}) drained`, () => {
  let drainedAt = 0;

  beforeAll(async () => {
    drainedAt = await setMediaNodeState(stack, dynamo, STACK_NODE, "draining");
  });

  afterAll(async () => {
    // Other files place calls through local-1: back to active, seen active by
    // its agent, and a call through it works before this file ends.
    const activatedAt = await setMediaNodeState(stack, dynamo, STACK_NODE, "active");
    await agentFollows(dynamo, STACK_NODE, stack.mediaAgentUrl, "active", Math.max(activatedAt, drainedAt), AGENT_FOLLOWS_MS);
    expect(await untilACallWorks()).toBe(STACK_NODE);
  });

  it("no node can serve: the INVITE gets 503 with Retry-After, rtpengine holds nothing of it and no CDR is written", async () => {
    const { caller, callee } = await pair();
    // The edge may hold the node list for up to 5 s (MEDIA_NODES_CACHE_MS): ask until it refuses.
    let refused: SipMessageText | undefined;
    let callId = "";
    const until = Date.now() + 15_000;
    while (refused === undefined) {
      const r = await invite(caller, callee);
      if (r.refused !== undefined) {
        refused = r.refused;
        callId = refused.header("Call-ID")!;
        break;
      }
      // Still served from the old list: let this one go and ask again.
      const c = r.ringing!;
      c.incoming.reply(486);
      await c.incoming.ack();
      c.call.ackFailure(await r.refusal);
      if (Date.now() > until) throw new Error("the edge kept placing calls on a drained node for 15 s");
    }
    expect(refused.status).toBe(503);
    expect(refused.reason).toBe("No Media Node Available");
    const retryAfter = Number(refused.header("Retry-After"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(await rtpengineCalls(stack)).not.toContain(callId);
    await noRtpengineSessions(stack);
    expect(await cdrTable(stack).ofCall(callId)).toEqual([]);
  });

  describe("and two more real nodes: local-2 in the browser's region, far-1 in one not in MEDIA_REGIONS (ranked after it)", () => {
    let near: MediaNodePair | undefined;
    let far: MediaNodePair | undefined;

    beforeAll(async () => {
      // Media ports 32200-32399: not npm start's, the integration stack's, media-nodes.test.ts' nor the agent tests'.
      [near, far] = await Promise.all([
        startMediaNodePair(stack, dynamo, { id: "local-2", region: LOCAL_MEDIA_REGION, portMin: 32200, portMax: 32299 }),
        startMediaNodePair(stack, dynamo, { id: "far-1", region: "far", portMin: 32300, portMax: 32399 }),
      ]);
      // Drained again (it is already): the admin API drops the edge's cached node
      // list, so the new rows are seen at once rather than within 5 s.
      await setMediaNodeState(stack, dynamo, STACK_NODE, "draining");
      // The ranking is then local-2, far-1 (node-selection.ts: nearest region first, unlisted regions last), local-1 skipped (draining).
      await eventually(edgeRegions, (r) => r[LOCAL_MEDIA_REGION]?.accepting === 1 && r[LOCAL_MEDIA_REGION]?.draining === 1 && r["far"]?.accepting === 1, 10_000, "the edge to list local-2 and far-1");
    });

    afterAll(async () => {
      await Promise.allSettled([near?.close(), far?.close()]);
    });

    const onNode = (node: MediaNodePair, sdpText: string): boolean => audioPorts(sdpText).every((p) => p >= node.ports.min && p <= node.ports.max);

    it("a draining node gets no new call, while its call goes on: hold (re-INVITE) and BYE through it, and its CDR names it", async () => {
      const { caller, callee } = await pair();
      const first = await setUpCall(caller, callee, "caller-bye");
      expect(onNode(near!, first.incoming.invite.text)).toBe(true);
      expect(await near!.calls()).toContain(first.call.callId);

      const since = await setMediaNodeState(stack, dynamo, "local-2", "draining");
      await agentFollows(dynamo, "local-2", near!.ngUrl, "draining", since);
      await eventually(edgeRegions, (r) => r[LOCAL_MEDIA_REGION]?.accepting === 0, 10_000, "the edge to see local-2 draining");

      // A new call goes to the other node.
      const other = await pair();
      const second = await setUpCall(other.caller, other.callee, "callee-bye");
      expect(onNode(far!, second.incoming.invite.text)).toBe(true);
      expect(await near!.calls()).not.toContain(second.call.callId);
      expect(await far!.calls()).toContain(second.call.callId);
      await endCall(second);
      expect((await cdrOf(stack, second.call.callId)).media_node).toBe("far-1");

      // The call on the draining node goes on there: the hold re-offer is anchored by local-2.
      const hold = await holdByCaller(first);
      expect(hold.reinvite.text).toMatch(/a=sendonly/);
      expect(onNode(near!, hold.reinvite.text)).toBe(true);
      expect(onNode(near!, hold.ok.text)).toBe(true);
      expect(await near!.calls()).toContain(first.call.callId);
      await endCall(first);
      const cdr = await cdrOf(stack, first.call.callId);
      expect(cdr).toMatchObject({ media_node: "local-2", media_region: LOCAL_MEDIA_REGION, end_reason: "bye", ended_by: "caller" });
      await eventually(() => near!.calls(), (c) => !c.includes(first.call.callId), 5_000, "local-2 to drop the call");

      const back = await setMediaNodeState(stack, dynamo, "local-2", "active");
      await agentFollows(dynamo, "local-2", near!.ngUrl, "active", back);
      await eventually(edgeRegions, (r) => r[LOCAL_MEDIA_REGION]?.accepting === 1, 10_000, "the edge to see local-2 active");
    });

    it("local-2's rtpengine stops (its agent stays): the first call after fails over to far-1 and succeeds, every later call goes to far-1 with no failed attempt", async () => {
      const { caller, callee } = await pair();
      const before = await setUpCall(caller, callee, "caller-bye");
      expect(onNode(near!, before.incoming.invite.text)).toBe(true);
      await endCall(before);
      expect((await cdrOf(stack, before.call.callId)).media_node).toBe("local-2");

      const failoversBefore = failoverLines("local-2").length;
      await near!.rtpengine.stop();

      const CALLS = 6;
      const nodes: string[] = [];
      for (let i = 0; i < CALLS; i++) {
        const c = await setUpCall(caller, callee, i % 2 === 0 ? "caller-bye" : "callee-bye");
        expect(onNode(far!, c.incoming.invite.text)).toBe(true);
        await endCall(c);
        nodes.push((await cdrOf(stack, c.call.callId)).media_node);
      }
      expect(nodes).toEqual(Array.from({ length: CALLS }, () => "far-1"));

      // One timeout on local-2 (the first call), then it was skipped: the edge logged one failover.
      const lines = await eventually(async () => failoverLines("local-2").slice(failoversBefore), (l) => l.length >= 1, 5_000, "the edge's failover log line");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ node: "local-2", kind: "timeout" });
      expect(await far!.calls()).toEqual([]);
      console.log(`[media-calls] failover: ${CALLS} calls after local-2's rtpengine stopped, all answered on ${[...new Set(nodes)].join(",")}, ${lines.length} failover`);
    });
  });
});

/** The edge's `media-node-failover` log lines for one node (the stack's log dir). */
function failoverLines(node: string): Array<Record<string, unknown>> {
  const text = readFileSync(join(stack.logDir, "edge.log"), "utf8");
  return text
    .split("\n")
    .filter((l) => l.includes('"media-node-failover"'))
    .map((l) => JSON.parse(l.slice(l.indexOf("{"))) as Record<string, unknown>)
    .filter((e) => e.node === node);
}
