import { DeleteItemCommand, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { MediaAgent } from "../../media-node/agent/src/agent.ts";
import { agentConfig, startTestAgent, startTestRtpengineWithInterfaces, type RtpengineProcess } from "../../media-node/agent/test/support/media-stack.ts";
import { freeTcpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { NgClient } from "../../workers/src/media/ng-client.ts";
import { adminFetch, eventually } from "./admin.ts";
import type { StackInfo } from "./stack-info.ts";

/**
 * More media nodes beside the stack's own (`local-1`), for tests of node
 * choice in real calls: a real rtpengine with the stack's logical interface
 * pair (`internal`/`external` on loopback, as media/profiles.ts names them)
 * and its agent in this process, heartbeating into the stack's dynalite
 * under the stack's ng secret — the edge finds it as it finds any node.
 * And the operator's switch: a node's `state`, through the admin API.
 */
export const MEDIA_NODES_TABLE = "media_nodes";

export interface MediaNodePair {
  id: string;
  region: string;
  ngUrl: string;
  /** Media ports of this node's rtpengine: an SDP anchored here names one of them. */
  ports: { min: number; max: number };
  agent: MediaAgent;
  rtpengine: RtpengineProcess;
  /** Call-IDs the node's rtpengine holds, asked through its agent as the edge asks. */
  calls(): Promise<string[]>;
  /** Stops the agent and rtpengine (if still running) and removes the node's row. */
  close(): Promise<void>;
}

export async function startMediaNodePair(
  stack: StackInfo,
  dynamo: DynamoDBClient,
  o: { id: string; region: string; portMin: number; portMax: number; capacity?: number },
): Promise<MediaNodePair> {
  const rtpengine = await startTestRtpengineWithInterfaces(["internal/127.0.0.1", "external/127.0.0.1"], o.portMin, o.portMax);
  // A test that fails between here and the end must not leave rtpengine running.
  const killOnExit = (): void => void rtpengine.process.kill("SIGKILL");
  process.once("exit", killOnExit);
  let agent: MediaAgent;
  try {
    const port = await freeTcpPort();
    agent = await startTestAgent(
      agentConfig({
        SIPEDGE_NG_SECRET: stack.secrets.NG_SECRET,
        SIPEDGE_NODE_ID: o.id,
        SIPEDGE_REGION: o.region,
        SIPEDGE_AGENT_LISTEN: `127.0.0.1:${port}`,
        SIPEDGE_NG_URL: `http://127.0.0.1:${port}/ng`,
        SIPEDGE_PUBLIC_ADDRESS: "127.0.0.1",
        SIPEDGE_PRIVATE_ADDRESS: "127.0.0.1",
        SIPEDGE_RTPENGINE_NG: `127.0.0.1:${rtpengine.ng.port}`,
        SIPEDGE_DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
        SIPEDGE_CAPACITY: String(o.capacity ?? 100),
        // The row outlives a dead rtpengine for a while, as a real node's does (15 s):
        // the edge must learn of the death by timing out, not by the row going.
        SIPEDGE_RECORD_TTL_MS: "30000",
      }),
      dynamo,
    );
  } catch (err) {
    await rtpengine.stop();
    process.off("exit", killOnExit);
    throw err;
  }
  const ngUrl = agent.config.ngUrl;
  return {
    id: o.id,
    region: o.region,
    ngUrl,
    ports: { min: o.portMin, max: o.portMax },
    agent,
    rtpengine,
    calls: () => rtpengineCallsAt(ngUrl, stack.secrets.NG_SECRET),
    async close() {
      try {
        await agent.close();
        await rtpengine.stop();
      } finally {
        process.off("exit", killOnExit);
        await dynamo.send(new DeleteItemCommand({ TableName: MEDIA_NODES_TABLE, Key: { id: { S: o.id } } }));
      }
    },
  };
}

/** Call-IDs an agent's rtpengine holds (ng `list`, signed as the edge signs). */
export async function rtpengineCallsAt(ngUrl: string, secret: string): Promise<string[]> {
  const ng = new NgClient({ url: ngUrl, secret });
  try {
    const reply = await ng.request("list", { limit: 10_000 });
    return Array.isArray(reply.calls) ? (reply.calls as string[]) : [];
  } finally {
    ng.close();
  }
}

export async function mediaNodeRow(dynamo: DynamoDBClient, id: string): Promise<Record<string, unknown> | undefined> {
  const out = await dynamo.send(new GetItemCommand({ TableName: MEDIA_NODES_TABLE, Key: { id: { S: id } }, ConsistentRead: true }));
  return out.Item === undefined ? undefined : unmarshall(out.Item);
}

/**
 * Drains or activates a node as an operator does: `POST /v1/media-nodes/:id/drain|activate`
 * (which also drops the edge's cached node list). Should that API answer
 * anything but 200, the row's `state` is written directly — then the edge
 * sees it within its cache period (MEDIA_NODES_CACHE_MS, 5 s), so callers
 * poll for the effect. Resolves with the time the state was written.
 */
export async function setMediaNodeState(stack: StackInfo, dynamo: DynamoDBClient, id: string, state: "active" | "draining"): Promise<number> {
  const at = Date.now();
  const r = await adminFetch(stack, "POST", `/v1/media-nodes/${encodeURIComponent(id)}/${state === "draining" ? "drain" : "activate"}`).catch(() => ({ status: 0 }));
  if (r.status === 200) return at;
  await dynamo.send(
    new UpdateItemCommand({
      TableName: MEDIA_NODES_TABLE,
      Key: { id: { S: id } },
      UpdateExpression: "SET #s = :s",
      ConditionExpression: "attribute_exists(id)",
      ExpressionAttributeNames: { "#s": "state" },
      ExpressionAttributeValues: { ":s": { S: state } },
    }),
  );
  return at;
}

/**
 * Waits until a node's agent acts on the state written at `since`: a
 * heartbeat stamped after it read the row after it (media-node-record.ts:
 * the heartbeat returns the stored state), and the agent's /healthz says so.
 * An agent that has not seen a drain still takes new calls; one that has not
 * seen an activation refuses them ("Node is draining").
 */
export async function agentFollows(dynamo: DynamoDBClient, id: string, agentNgUrl: string, state: "active" | "draining", since: number, timeoutMs = 20_000): Promise<void> {
  await eventually(() => mediaNodeRow(dynamo, id), (row) => Number(row?.heartbeat_at) > since, timeoutMs, `a heartbeat of ${id} after its state was set`);
  await eventually(
    async () => ((await (await fetch(new URL("/healthz", agentNgUrl))).json()) as { state?: string }).state,
    (s) => s === state,
    timeoutMs,
    `${id}'s agent to say ${state}`,
  );
}
