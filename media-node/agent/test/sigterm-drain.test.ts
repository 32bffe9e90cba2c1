import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_AWS } from "../../../packages/sipedge/src/stack/dynalite.ts";
import { pipeLines } from "../../../packages/sipedge/src/stack/log.ts";
import { waitUntil } from "../../../packages/sipedge/src/stack/ports.ts";
import { stopChild } from "../../../packages/sipedge/src/stack/stack.ts";
import { ngDirect, postNg, startTestDynalite, startTestRtpengine, TEST_SECRET, type RtpengineProcess } from "./support/media-stack.ts";
import { chromiumOffer } from "./support/sdp-fixtures.ts";

// The agent as systemd runs it: its own process (tsx src/main.ts), configured
// by environment, stopped by SIGTERM.
const AGENT_DIR = join(import.meta.dirname, "..");
const TSX = join(AGENT_DIR, "..", "..", "node_modules", ".bin", "tsx");

let rtpengine: RtpengineProcess;
let dynalite: Awaited<ReturnType<typeof startTestDynalite>>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [rtpengine, dynalite] = await Promise.all([startTestRtpengine(33200, 33299), startTestDynalite()]);
});

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 500)));
  await Promise.all([rtpengine?.stop(), dynalite?.stop()]);
});

interface AgentProcess {
  child: ChildProcess;
  url: string;
  events: Record<string, unknown>[];
  exited: Promise<number | null>;
}

async function spawnAgent(nodeId: string, extraEnv: Record<string, string> = {}): Promise<AgentProcess> {
  const child = spawn(TSX, ["src/main.ts"], {
    cwd: AGENT_DIR,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      SIPEDGE_NG_SECRET: TEST_SECRET,
      SIPEDGE_AGENT_LISTEN: "127.0.0.1:0",
      SIPEDGE_RTPENGINE_NG: `127.0.0.1:${rtpengine.ng.port}`,
      SIPEDGE_NODE_ID: nodeId,
      SIPEDGE_REGION: "eu-central-1",
      SIPEDGE_PUBLIC_ADDRESS: "127.0.0.2",
      SIPEDGE_PRIVATE_ADDRESS: "127.0.0.1",
      SIPEDGE_NG_URL: "http://127.0.0.1:2280/ng",
      SIPEDGE_CAPACITY: "50",
      SIPEDGE_DYNAMODB_ENDPOINT: dynalite.endpoint,
      SIPEDGE_DYNAMODB_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.secretAccessKey,
      SIPEDGE_HEARTBEAT_INTERVAL_MS: "150",
      ...extraEnv,
    },
  });
  children.push(child);
  const events: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  pipeLines(child.stdout, (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      stderr.push(line);
    }
  });
  pipeLines(child.stderr, (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await waitUntil(`agent ${nodeId} (${stderr.join(" | ")})`, async () => events.some((e) => e.event === "agent_started"), 15_000, child);
  const url = events.find((e) => e.event === "agent_started")!.url as string;
  return { child, url, events, exited };
}

async function row(id: string): Promise<Record<string, string> | undefined> {
  const out = await dynalite.client.send(new GetItemCommand({ TableName: "media_nodes", Key: { id: { S: id } }, ConsistentRead: true }));
  return out.Item ? Object.fromEntries(Object.entries(out.Item).map(([k, v]) => [k, v.S ?? v.N ?? ""])) : undefined;
}

const offer = (id: string) => ({ command: "offer", "call-id": id, "from-tag": "ft", sdp: chromiumOffer(), ICE: "remove", DTLS: "off", "transport-protocol": "RTP/AVP" });

describe("SIGTERM drains the node, then the agent exits", () => {
  it("marks the row draining, keeps serving its call, refuses new ones, and leaves when the last call ends", async () => {
    const a = await spawnAgent("node-sigterm-1");
    expect(a.events.find((e) => e.event === "agent_config")).not.toHaveProperty("secret");
    expect(JSON.stringify(a.events)).not.toContain(TEST_SECRET);

    const callId = `sigterm-${process.pid}-1`;
    expect((await postNg(a.url, offer(callId))).json.result).toBe("ok");
    await waitUntil("sessions = 1", async () => (await row("node-sigterm-1"))?.sessions === "1", 5000);

    a.child.kill("SIGTERM");
    await waitUntil("state = draining", async () => (await row("node-sigterm-1"))?.state === "draining", 5000);
    expect((await postNg(a.url, offer(`sigterm-${process.pid}-new`))).json).toEqual({ result: "error", "error-reason": "Node is draining" });
    expect(a.child.exitCode).toBeNull();

    expect((await postNg(a.url, { command: "delete", "call-id": callId, "from-tag": "ft", "delete-delay": 0 })).json.result).toBe("ok");
    expect(await a.exited).toBe(0);
    expect(await row("node-sigterm-1")).toBeUndefined();
    expect(a.events.find((e) => e.event === "drain_finished")).toMatchObject({ sessions_left: 0 });
  });

  it("stops at the drain timeout even if calls remain", async () => {
    const a = await spawnAgent("node-sigterm-2", { SIPEDGE_DRAIN_TIMEOUT_MS: "400" });
    const callId = `sigterm-${process.pid}-2`;
    expect((await postNg(a.url, offer(callId))).json.result).toBe("ok");
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect(a.events.find((e) => e.event === "drain_finished")).toMatchObject({ sessions_left: 1 });
    expect(await row("node-sigterm-2")).toBeUndefined();
    await ngDirect(rtpengine.ng, { command: "delete", "call-id": callId, "from-tag": "ft", "delete-delay": 0 });
  });

  it("exits 2 with every configuration problem listed", async () => {
    const child = spawn(TSX, ["src/main.ts", "--capacity=-1"], { cwd: AGENT_DIR, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH } });
    children.push(child);
    const err: string[] = [];
    pipeLines(child.stderr, (l) => err.push(l));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(/the ng secret is required[\s\S]*--node-id \(or SIPEDGE_NODE_ID\) is required[\s\S]*--capacity must be an integer/);
  });
});
