import type { ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createTables, startDynalite, type Dynalite } from "../../../../packages/sipedge/src/stack/dynalite.ts";
import type { Log } from "../../../../packages/sipedge/src/stack/log.ts";
import { freeTcpPort, freeUdpPort } from "../../../../packages/sipedge/src/stack/ports.ts";
import { startRtpengine } from "../../../../packages/sipedge/src/stack/rtpengine.ts";
import { stopChild } from "../../../../packages/sipedge/src/stack/stack.ts";
import { MediaAgent } from "../../src/agent.ts";
import { parseAgentConfig, type AgentConfig } from "../../src/config.ts";
import { silentLogger, type Logger } from "../../src/log.ts";
import { bdecode, bencode } from "../../src/bencode.ts";
import type { NgDict } from "../../src/ng-udp-channel.ts";
import { signNgBody } from "../../src/request-signature.ts";

/**
 * Real processes for the agent and profile tests (STYLE.md: tests that
 * matter run against the real thing): a userspace rtpengine on loopback
 * with the flags of `npm start` (packages/sipedge/src/stack/rtpengine.ts),
 * dynalite with the directory tables, and the agent in this process. Every
 * port comes from the kernel; each test file passes its own slice of the
 * 33000-33999 media port range so files running in parallel, `npm start`
 * (30000-30999) and the integration stack (31000-31999) never share ports.
 */
export const TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop";

export interface RtpengineProcess {
  ng: { host: string; port: number };
  process: ChildProcess;
  /** Every line rtpengine logged (to look for "Unknown dictionary key"). */
  lines: string[];
  stop(): Promise<void>;
}

function collecting(lines: string[], echo?: Log): Log {
  return (line) => {
    lines.push(line);
    echo?.(line);
  };
}

/** rtpengine with `npm start`'s flags, one interface. */
export async function startTestRtpengine(portMin: number, portMax: number): Promise<RtpengineProcess> {
  const lines: string[] = [];
  const ngPort = await freeUdpPort();
  const r = await startRtpengine({ host: "127.0.0.1", ngPort, portMin, portMax, log: collecting(lines) });
  return { ng: r.ngAddress, process: r.process, lines, stop: () => stopChild(r.process) };
}

/**
 * rtpengine with the same flags but a VM's interface pair (PITFALLS 2):
 * `internal/PRIVATE` and `external/PRIVATE!PUBLIC`, on loopback addresses.
 */
export async function startTestRtpengineWithInterfaces(interfaces: string[], portMin: number, portMax: number): Promise<RtpengineProcess> {
  const lines: string[] = [];
  const ngPort = await freeUdpPort();
  const r = await startRtpengine({ host: "127.0.0.1", ngPort, portMin, portMax, interfaces, log: collecting(lines) });
  return { ng: r.ngAddress, process: r.process, lines, stop: () => stopChild(r.process) };
}

export async function startTestDynalite(): Promise<Dynalite & { stop(): Promise<void> }> {
  const d = await startDynalite({ host: "127.0.0.1", port: await freeTcpPort(), log: () => undefined });
  await createTables(d.client);
  return { ...d, stop: () => stopChild(d.process) };
}

/** An agent configuration as an operator would write it, through the real parser. */
export function agentConfig(env: Record<string, string>, argv: string[] = []): AgentConfig {
  return parseAgentConfig(argv, {
    SIPEDGE_NG_SECRET: TEST_SECRET,
    SIPEDGE_AGENT_LISTEN: "127.0.0.1:0",
    SIPEDGE_NODE_ID: "node-test-1",
    SIPEDGE_REGION: "eu-central-1",
    SIPEDGE_PUBLIC_ADDRESS: "127.0.0.2",
    SIPEDGE_PRIVATE_ADDRESS: "127.0.0.1",
    SIPEDGE_NG_URL: "http://127.0.0.1:2280/ng",
    SIPEDGE_CAPACITY: "100",
    SIPEDGE_DYNAMODB_REGION: "us-east-1",
    SIPEDGE_HEARTBEAT_INTERVAL_MS: "200",
    SIPEDGE_NG_TIMEOUT_MS: "1000",
    SIPEDGE_NG_RETRANSMIT_MS: "100",
    ...env,
  });
}

export async function startTestAgent(config: AgentConfig, dynamo: DynamoDBClient, log: Logger = silentLogger): Promise<MediaAgent> {
  return MediaAgent.start(config, { dynamo, log });
}

/** A signed `POST /ng`, as the edge sends it. */
export async function postNg(
  agentUrl: string,
  dict: unknown,
  opts: { secret?: string; timestamp?: number; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = opts.rawBody ?? JSON.stringify(dict);
  const ts = String(opts.timestamp ?? Date.now());
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-sipedge-timestamp": ts,
    "x-sipedge-signature": signNgBody(opts.secret ?? TEST_SECRET, ts, Buffer.from(body)),
    ...opts.headers,
  };
  const res = await fetch(`${agentUrl}/ng`, { method: "POST", headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** One ng request straight to rtpengine over UDP (to observe it behind the agent's back). */
export function ngDirect(ng: { host: string; port: number }, dict: NgDict, timeoutMs = 2000): Promise<NgDict> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const cookie = `direct_${process.pid}_${Math.random().toString(36).slice(2)}`;
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`rtpengine did not answer ${String(dict.command)}`));
    }, timeoutMs);
    socket.on("message", (msg) => {
      const space = msg.indexOf(0x20);
      if (msg.toString("latin1", 0, space) !== cookie) return;
      clearTimeout(timer);
      socket.close();
      resolve(bdecode(msg.subarray(space + 1)) as NgDict);
    });
    socket.send(Buffer.concat([Buffer.from(cookie + " "), bencode(dict)]), ng.port, ng.host);
  });
}

/** How many of each ng command rtpengine itself has processed (controlstatistics). */
export async function rtpengineCommandCounts(ng: { host: string; port: number }): Promise<Record<string, number>> {
  const reply = await ngDirect(ng, { command: "statistics" });
  const control = (reply.statistics as NgDict).controlstatistics as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(control)) if (k.startsWith("total") && k.endsWith("count") && typeof v === "number") out[k.slice(5, -5)] = v;
  return out;
}

/**
 * A UDP hop between the agent and rtpengine on loopback that can lose
 * datagrams for real: `dropRequests(n, match)` drops the next n requests
 * whose text matches, `dropReplies(n)` the next n replies.
 */
export interface LossyUdpRelay {
  port: number;
  requests: number;
  droppedRequests: number;
  droppedReplies: number;
  dropRequests(n: number, match?: RegExp): void;
  dropReplies(n: number, match?: RegExp): void;
  close(): void;
}

export async function startLossyUdpRelay(target: { host: string; port: number }): Promise<LossyUdpRelay> {
  const front: Socket = createSocket("udp4");
  const back: Socket = createSocket("udp4");
  let agentAddr: { address: string; port: number } | undefined;
  let requestRule = { n: 0, match: /./s };
  let replyRule = { n: 0, match: /./s };
  const relay: LossyUdpRelay = {
    port: 0,
    requests: 0,
    droppedRequests: 0,
    droppedReplies: 0,
    dropRequests: (n, match = /./s) => void (requestRule = { n, match }),
    dropReplies: (n, match = /./s) => void (replyRule = { n, match }),
    close: () => {
      front.close();
      back.close();
    },
  };
  front.on("message", (msg, rinfo) => {
    agentAddr = rinfo;
    relay.requests++;
    if (requestRule.n > 0 && requestRule.match.test(msg.toString("latin1"))) {
      requestRule.n--;
      relay.droppedRequests++;
      return;
    }
    back.send(msg, target.port, target.host);
  });
  back.on("message", (msg) => {
    if (replyRule.n > 0 && replyRule.match.test(msg.toString("latin1"))) {
      replyRule.n--;
      relay.droppedReplies++;
      return;
    }
    if (agentAddr) front.send(msg, agentAddr.port, agentAddr.address);
  });
  await new Promise<void>((r) => back.bind({ address: "127.0.0.1", port: 0 }, () => r()));
  await new Promise<void>((r) => front.bind({ address: "127.0.0.1", port: 0 }, () => r()));
  relay.port = front.address().port;
  return relay;
}
