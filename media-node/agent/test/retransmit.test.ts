import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MediaAgent } from "../src/agent.ts";
import {
  agentConfig,
  ngDirect,
  postNg,
  rtpengineCommandCounts,
  startLossyUdpRelay,
  startTestAgent,
  startTestDynalite,
  startTestRtpengine,
  type LossyUdpRelay,
  type RtpengineProcess,
} from "./support/media-stack.ts";
import { chromiumOffer } from "./support/sdp-fixtures.ts";

// The agent talks to rtpengine through a relay on loopback that loses
// datagrams on demand. Retransmission after 100 ms, then doubling; 600 ms in total.
let rtpengine: RtpengineProcess;
let dynalite: Awaited<ReturnType<typeof startTestDynalite>>;
let relay: LossyUdpRelay;
let agent: MediaAgent;

beforeAll(async () => {
  [rtpengine, dynalite] = await Promise.all([startTestRtpengine(33100, 33199), startTestDynalite()]);
  relay = await startLossyUdpRelay(rtpengine.ng);
  agent = await startTestAgent(
    agentConfig({
      SIPEDGE_RTPENGINE_NG: `127.0.0.1:${relay.port}`,
      SIPEDGE_DYNAMODB_ENDPOINT: dynalite.endpoint,
      SIPEDGE_HEARTBEAT_INTERVAL_MS: "60000",
      SIPEDGE_NG_RETRANSMIT_MS: "100",
      SIPEDGE_NG_TIMEOUT_MS: "600",
    }),
    dynalite.client,
  );
});

afterAll(async () => {
  await agent?.close();
  relay?.close();
  await Promise.all([rtpengine?.stop(), dynalite?.stop()]);
});

const call = (n: number) => ({ "call-id": `retransmit-${process.pid}-${n}`, "from-tag": `ft-${n}` });
const offer = (n: number) => ({ command: "offer", ...call(n), sdp: chromiumOffer(), ICE: "remove", DTLS: "off", "transport-protocol": "RTP/AVP" });

describe("ng over UDP: lost datagrams", () => {
  it("retransmits a lost request with the same cookie", async () => {
    const before = await rtpengineCommandCounts(rtpengine.ng);
    relay.dropRequests(1, /7:command5:offer/);
    const t0 = performance.now();
    const r = await postNg(agent.url, offer(1));
    expect(r.json.result).toBe("ok");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    expect(relay.droppedRequests).toBe(1);
    expect(agent.metrics.retransmissions.get({ command: "offer" })).toBe(1);
    expect((await rtpengineCommandCounts(rtpengine.ng)).offer).toBe(before.offer! + 1);
    await ngDirect(rtpengine.ng, { command: "delete", ...call(1), "delete-delay": 0 });
  });

  it("gets rtpengine's cached reply when the reply was lost: the offer is processed once", async () => {
    const before = await rtpengineCommandCounts(rtpengine.ng);
    relay.dropReplies(1, /6:result2:ok/);
    const r = await postNg(agent.url, offer(2));
    expect(r.json.result).toBe("ok");
    expect(relay.droppedReplies).toBe(1);
    expect(agent.metrics.retransmissions.get({ command: "offer" })).toBe(2);
    // A new cookie would have made rtpengine process a second offer.
    expect((await rtpengineCommandCounts(rtpengine.ng)).offer).toBe(before.offer! + 1);
    await ngDirect(rtpengine.ng, { command: "delete", ...call(2), "delete-delay": 0 });
  });

  it("gives up after the total timeout with 504, and /healthz says 503 while rtpengine is unreachable", async () => {
    relay.dropRequests(1000);
    const t0 = performance.now();
    const r = await postNg(agent.url, { command: "ping" });
    const took = performance.now() - t0;
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ error: "rtpengine-timeout" });
    expect(took).toBeGreaterThanOrEqual(590);
    expect(took).toBeLessThan(1100);
    expect(agent.metrics.retransmissions.get({ command: "ping" })).toBe(2); // at 100 and 300 ms; the next would be at 700
    const h = await fetch(`${agent.url}/healthz`);
    expect(h.status).toBe(503);
    expect(await h.json()).toMatchObject({ status: "unavailable" });
    relay.dropRequests(0);
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
  });
});
