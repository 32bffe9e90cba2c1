import { createServer, type Server, type Socket } from "node:net";
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { MediaAgent } from "../../media-node/agent/src/agent.ts";
import { agentConfig, startTestAgent, startTestRtpengine, type RtpengineProcess } from "../../media-node/agent/test/support/media-stack.ts";
import { dynamoClientFor, LOCAL_AWS } from "../../packages/sipedge/src/stack/dynalite.ts";
import { LOCAL_CF } from "../../packages/sipedge/src/stack/edge.ts";
import { freeTcpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { LOCAL_MEDIA_REGION } from "../../packages/sipedge/src/stack/stack.ts";
import { dynamoMediaNodeSource, MediaNodeDirectory } from "../../workers/src/directory/media-nodes.ts";
import type { MediaNode } from "../../workers/src/media/media-node-record.ts";
import { geoPointOf, parseMediaRegions } from "../../workers/src/media/media-regions.ts";
import { NgClient } from "../../workers/src/media/ng-client.ts";
import { withMediaNode } from "../../workers/src/media/node-failover.ts";
import { NodePenalties } from "../../workers/src/media/node-penalties.ts";
import { rankNodes } from "../../workers/src/media/node-selection.ts";
import "../harness/stack-info.ts";

/**
 * Media node choice against the real `media_nodes` table: the stack's media
 * agent heartbeats into dynalite (node `local-1`, region `local`), the edge's
 * directory reads it, and the chosen node answers a signed ng `ping` through
 * its agent to rtpengine. Failover is tested with rows that point at a closed
 * port and at a socket that never answers, and with a second real
 * agent+rtpengine pair in a second region whose rtpengine is then stopped
 * (ARCHITECTURE.md "Choosing a media node"; PITFALLS 25).
 */
const stack = inject("stack");
const here = geoPointOf(LOCAL_CF);
const TABLE = "media_nodes";
const silent = (): void => undefined;

let dynamo: DynamoDBClient;
const tableConfig = () => ({
  dynamo: { endpoint: stack.dynamoEndpoint, region: LOCAL_AWS.region, accessKeyId: LOCAL_AWS.accessKeyId, secretAccessKey: LOCAL_AWS.secretAccessKey },
  tables: { mediaNodes: TABLE },
});
/** A directory with no cache: every read sees the rows a test just wrote. */
const freshDirectory = (): MediaNodeDirectory => new MediaNodeDirectory(dynamoMediaNodeSource(tableConfig()), { cacheMs: 0, log: silent });

/** The first ng command of a call, reduced to a `ping`, through the node's agent (signed, as the edge sends it). */
async function ping(node: MediaNode, timeoutMs = 3000): Promise<string> {
  const client = new NgClient({ url: node.ngUrl, secret: stack.secrets.NG_SECRET, timeoutMs });
  try {
    return (await client.request("ping")).result;
  } finally {
    client.close();
  }
}

/** A row as an agent would write it, heartbeating now. */
function fakeRow(id: string, region: string, ngUrl: string): Record<string, unknown> {
  const now = Date.now();
  return {
    id,
    region,
    public_address: "127.0.0.1",
    private_address: "127.0.0.1",
    ng_url: ngUrl,
    capacity: 100,
    sessions: 0,
    load: 0,
    state: "active",
    heartbeat_at: now,
    expires_at: Math.ceil(now / 1000) + 60,
  };
}

const put = (row: Record<string, unknown>) => dynamo.send(new PutItemCommand({ TableName: TABLE, Item: marshall(row) }));
const remove = (id: string) => dynamo.send(new DeleteItemCommand({ TableName: TABLE, Key: { id: { S: id } } }));
const setState = (id: string, state: string) =>
  dynamo.send(
    new UpdateItemCommand({ TableName: TABLE, Key: { id: { S: id } }, UpdateExpression: "SET #s = :s", ExpressionAttributeNames: { "#s": "state" }, ExpressionAttributeValues: { ":s": { S: state } } }),
  );

beforeAll(() => {
  dynamo = dynamoClientFor(stack.dynamoEndpoint);
});

afterAll(() => {
  dynamo?.destroy();
});

describe("the real media_nodes table", () => {
  const regions = parseMediaRegions(`${LOCAL_MEDIA_REGION}:${LOCAL_CF.latitude}:${LOCAL_CF.longitude}`);

  it("the directory reads the local agent's heartbeat and the choice is the local node, which answers", async () => {
    const nodes = await freshDirectory().nodes();
    const local = nodes.find((n) => n.ngUrl === stack.mediaAgentUrl);
    expect(local).toMatchObject({ id: "local-1", region: LOCAL_MEDIA_REGION, state: "active", capacity: 500 });
    expect(local!.expiresAt * 1000).toBeGreaterThan(Date.now());

    const penalties = new NodePenalties();
    const ranking = rankNodes(nodes, here, Date.now(), penalties, regions);
    expect(ranking.candidates[0]?.id).toBe("local-1");
    const served = await withMediaNode(ranking.candidates, (n) => ping(n), { penalties, log: silent });
    expect([served.node.id, served.value, served.failures]).toEqual(["local-1", "pong", []]);
  });

  describe("with dead rows ahead of the live node", () => {
    let blackHole: Server;
    const held: Socket[] = [];

    beforeAll(async () => {
      // Accepts connections and never answers: the ng client times out.
      blackHole = createServer((s) => void held.push(s));
      await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", () => r()));
    });

    afterAll(async () => {
      for (const s of held) s.destroy();
      await new Promise((r) => blackHole.close(r));
      await Promise.all([remove("local-0-closed"), remove("local-0-silent")]);
    });

    it("fails over from a closed port and a silent agent to the live node within one attempt, penalising both", async () => {
      // A port nothing listens on: taken from the kernel and released at once.
      const closed = `http://127.0.0.1:${await freeTcpPort()}/ng`;
      const silentUrl = `http://127.0.0.1:${(blackHole.address() as { port: number }).port}/ng`;
      // Idle and in the same region: they sort ahead of local-1 (least loaded, then id).
      await put(fakeRow("local-0-closed", LOCAL_MEDIA_REGION, closed));
      await put(fakeRow("local-0-silent", LOCAL_MEDIA_REGION, silentUrl));

      const penalties = new NodePenalties();
      const ranking = rankNodes(await freshDirectory().nodes(), here, Date.now(), penalties, regions);
      expect(ranking.candidates.map((n) => n.id).slice(0, 3)).toEqual(["local-0-closed", "local-0-silent", "local-1"]);

      const served = await withMediaNode(ranking.candidates, (n) => ping(n, 500), { penalties, log: silent });
      expect(served.node.id).toBe("local-1");
      expect(served.value).toBe("pong");
      expect(served.failures.map((f) => [f.nodeId, f.kind])).toEqual([
        ["local-0-closed", "unreachable"],
        ["local-0-silent", "timeout"],
      ]);
      expect(penalties.isPenalised("local-0-closed", Date.now())).toBe(true);
      expect(penalties.get("local-0-silent", Date.now())?.kind).toBe("timeout");

      // The next call goes straight to the live node: no failed attempt.
      const next = rankNodes(await freshDirectory().nodes(), here, Date.now(), penalties, regions);
      expect(next.candidates[0]?.id).toBe("local-1");
      const again = await withMediaNode(next.candidates, (n) => ping(n), { penalties, log: silent });
      expect([again.node.id, again.failures]).toEqual(["local-1", []]);
    });
  });
});

describe("two real media nodes in two regions", () => {
  // The browser (LOCAL_CF, Frankfurt) is in region "near"; the stack's node
  // stands for a farther region here (Madrid), so the second pair is preferred.
  const regions = parseMediaRegions(`near:${LOCAL_CF.latitude}:${LOCAL_CF.longitude},${LOCAL_MEDIA_REGION}:40.42:-3.70`);
  let rtpengine: RtpengineProcess;
  let agent: MediaAgent;

  beforeAll(async () => {
    // Media ports 32100-32199: not npm start's, the integration stack's, nor the agent tests'.
    rtpengine = await startTestRtpengine(32100, 32199);
    const port = await freeTcpPort();
    agent = await startTestAgent(
      agentConfig({
        SIPEDGE_NG_SECRET: stack.secrets.NG_SECRET,
        SIPEDGE_NODE_ID: "near-1",
        SIPEDGE_REGION: "near",
        SIPEDGE_AGENT_LISTEN: `127.0.0.1:${port}`,
        SIPEDGE_NG_URL: `http://127.0.0.1:${port}/ng`,
        SIPEDGE_PUBLIC_ADDRESS: "127.0.0.1",
        SIPEDGE_RTPENGINE_NG: `127.0.0.1:${rtpengine.ng.port}`,
        SIPEDGE_DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
        // The row outlives a dead rtpengine for a while, as a real node's does (15 s).
        SIPEDGE_RECORD_TTL_MS: "30000",
      }),
      dynamo,
    );
  });

  afterAll(async () => {
    await agent?.close();
    await rtpengine?.stop();
    await remove("near-1");
  });

  it("the nearest region's node serves; a draining one gets no new call; when its rtpengine stops the call fails over to the other region, and the next call goes there directly", async () => {
    const penalties = new NodePenalties();
    const ids = (nodes: MediaNode[]): string[] => nodes.map((n) => n.id).filter((id) => id === "near-1" || id === "local-1");

    let ranking = rankNodes(await freshDirectory().nodes(), here, Date.now(), penalties, regions);
    expect(ids(ranking.candidates)).toEqual(["near-1", "local-1"]);
    let served = await withMediaNode(ranking.candidates, (n) => ping(n), { penalties, log: silent });
    expect([served.node.id, served.failures]).toEqual(["near-1", []]);

    // An operator drains near-1 (sipedge node drain): no new calls for it.
    await setState("near-1", "draining");
    ranking = rankNodes(await freshDirectory().nodes(), here, Date.now(), penalties, regions);
    expect(ids(ranking.candidates)).toEqual(["local-1"]);
    expect(ranking.skipped).toContainEqual({ id: "near-1", region: "near", reason: "draining" });
    await setState("near-1", "active");

    // near-1's rtpengine dies; its agent still answers HTTP and times out on the ng hop (504).
    await rtpengine.stop();
    ranking = rankNodes(await freshDirectory().nodes(), here, Date.now(), penalties, regions);
    expect(ids(ranking.candidates)).toEqual(["near-1", "local-1"]);
    served = await withMediaNode(ranking.candidates, (n) => ping(n), { penalties, log: silent });
    expect(served.node.id).toBe("local-1");
    expect(served.failures.map((f) => [f.nodeId, f.kind])).toEqual([["near-1", "timeout"]]);

    ranking = rankNodes(await freshDirectory().nodes(), here, Date.now(), penalties, regions);
    expect(ids(ranking.candidates)).toEqual(["local-1"]);
    served = await withMediaNode(ranking.candidates, (n) => ping(n), { penalties, log: silent });
    expect([served.node.id, served.failures]).toEqual(["local-1", []]);
  });
});

describe("GET /healthz reports the live media nodes", () => {
  it("counts the local node under its region, and stays ok", async () => {
    const res = await fetch(`${stack.edgeUrl}/healthz`);
    const body = (await res.json()) as { ok: boolean; media: { liveNodes: number; acceptingNodes: number; regions: Record<string, { live: number; accepting: number; draining: number; capacity: number }> } };
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.media.liveNodes).toBeGreaterThanOrEqual(1);
    expect(body.media.acceptingNodes).toBeGreaterThanOrEqual(1);
    expect(body.media.regions[LOCAL_MEDIA_REGION]).toMatchObject({ live: 1, accepting: 1, draining: 0, capacity: 500 });
  });
});
