// Media benchmark: WebRTC call setups (ng offer + answer + delete) against a
// real rtpengine 10.5, two ways:
//
//   direct   bencode over UDP straight to rtpengine's ng port, as Kamailio's
//            rtpengine module does (the agent's own NgUdpChannel, in this process)
//   agent    the edge's path: NgClient (HMAC-signed fetch, JSON) → the media
//            agent (its own process, `tsx media-node/agent/src/main.ts`) →
//            UDP ng → rtpengine
//
// Each setup is the browser-to-sip profile (workers/src/media/profiles.ts):
// the real Chromium offer, a PCMU answer from the SIP side, `delete` with
// `delete-delay: 0`; the SDP fix-ups the edge applies are included in the
// agent path. Sequentially and with 8 and 32 setups in flight. Reported:
// setups/s, setup latency p50/p99, and the agent's added latency (agent p50
// minus direct p50 at the same concurrency), plus the CPU rtpengine and the
// agent spent per setup (from /proc).
//
//   npx tsx test/bench/media.ts [--calls 1000] [--warmup 100] [--profile browser-to-sip]
//   npm run bench -- media
//
// Loopback only; media ports 33000-33999 (not `npm start`'s 30000-30999 nor
// the integration stack's 31000-31999). Exits 0: it reports.

import { spawn } from "node:child_process";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LOCAL_AWS } from "../../packages/sipedge/src/stack/dynalite.ts";
import { pipeLines } from "../../packages/sipedge/src/stack/log.ts";
import { freeTcpPort, waitUntil } from "../../packages/sipedge/src/stack/ports.ts";
import { stopChild } from "../../packages/sipedge/src/stack/stack.ts";
import { NgUdpChannel, type NgDict } from "../../media-node/agent/src/ng-udp-channel.ts";
import { startTestDynalite, startTestRtpengine, TEST_SECRET } from "../../media-node/agent/test/support/media-stack.ts";
import { chromiumOffer, sipAnswer } from "../../media-node/agent/test/support/sdp-fixtures.ts";
import { NgClient } from "../../workers/src/media/ng-client.ts";
import { answerCommand, deleteCommand, fixupSdp, offerCommand, type MediaLeg } from "../../workers/src/media/profiles.ts";

const ROOT = join(import.meta.dirname, "..", "..");

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const CALLS = Number(option("calls", process.env.BENCH_MEDIA_CALLS ?? "1000"));
const WARMUP = Number(option("warmup", "100"));
const LEG = option("profile", "browser-to-sip") as MediaLeg;
const CONCURRENCY = [1, 8, 32];

/** CPU seconds a process and its descendants use (utime + stime from /proc; tsx runs the agent in a child node). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  let total = (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  let children = "";
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  } catch {
    // no children file: no children counted
  }
  for (const child of children.split(" ").filter((c) => c !== "")) total += cpuSeconds(Number(child));
  return total;
}

/**
 * A `fetch` over node:http with a keep-alive pool. Node 20's own fetch
 * (undici) costs ~1.2 ms more per request than node:http on this machine;
 * the edge runs on workerd, whose fetch is native, so the bench shows the
 * agent path with both clients.
 */
const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const nodeHttpFetch: typeof fetch = (input, init) =>
  new Promise((resolve, reject) => {
    const url = new URL(String(input));
    const body = init?.body as Uint8Array;
    const headers = { ...(init?.headers as Record<string, string>), "content-length": String(body.length) };
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: init?.method ?? "GET", headers, agent: keepAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });

type Send = (command: string, dict: NgDict) => Promise<Record<string, unknown>>;

const offerSdp = chromiumOffer();
const answerSdp = sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }, { pt: 126, rtpmap: "telephone-event/8000" }]);
let callSeq = 0;

async function setup(send: Send, fixups: boolean): Promise<void> {
  const n = ++callSeq;
  const call = { callId: `bench-${process.pid}-${n}`, fromTag: `f${n}`, toTag: `t${n}` };
  const o = await send("offer", offerCommand(LEG, call, offerSdp));
  if (o.result !== "ok") throw new Error(`offer: ${JSON.stringify(o)}`);
  if (fixups) fixupSdp(LEG, "offer", o.sdp as string);
  const a = await send("answer", answerCommand(LEG, call, answerSdp));
  if (a.result !== "ok") throw new Error(`answer: ${JSON.stringify(a)}`);
  if (fixups) fixupSdp(LEG, "answer", a.sdp as string);
  const d = await send("delete", deleteCommand(call));
  if (d.result !== "ok") throw new Error(`delete: ${JSON.stringify(d)}`);
}

interface Run {
  path: string;
  concurrency: number;
  setupsPerSecond: number;
  p50: number;
  p99: number;
  rtpengineCpuMs: number;
  agentCpuMs: number | undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(path: string, send: Send, fixups: boolean, concurrency: number, rtpenginePid: number, agentPid?: number): Promise<Run> {
  for (let i = 0; i < WARMUP; i++) await setup(send, fixups);
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = cpuSeconds(rtpenginePid);
  const agent0 = agentPid !== undefined ? cpuSeconds(agentPid) : 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < CALLS) {
        next++;
        const s = performance.now();
        await setup(send, fixups);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    path,
    concurrency,
    setupsPerSecond: CALLS / wall,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rtpengineCpuMs: ((cpuSeconds(rtpenginePid) - cpu0) * 1000) / CALLS,
    agentCpuMs: agentPid !== undefined ? ((cpuSeconds(agentPid) - agent0) * 1000) / CALLS : undefined,
  };
}

async function main(): Promise<void> {
  const [rtpengine, dynalite] = await Promise.all([startTestRtpengine(33000, 33999), startTestDynalite()]);
  const agentLog: string[] = [];
  const listen = `http://127.0.0.1:${await freeTcpPort()}`;
  const agentProcess = spawn(join(ROOT, "node_modules", ".bin", "tsx"), ["src/main.ts"], {
    cwd: join(ROOT, "media-node", "agent"),
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      SIPEDGE_NG_SECRET: TEST_SECRET,
      SIPEDGE_AGENT_LISTEN: listen.slice("http://".length),
      SIPEDGE_RTPENGINE_NG: `127.0.0.1:${rtpengine.ng.port}`,
      SIPEDGE_NODE_ID: "bench-1",
      SIPEDGE_REGION: "local",
      SIPEDGE_PUBLIC_ADDRESS: "127.0.0.1",
      SIPEDGE_PRIVATE_ADDRESS: "127.0.0.1",
      SIPEDGE_NG_URL: `${listen}/ng`,
      SIPEDGE_CAPACITY: "100000",
      SIPEDGE_DYNAMODB_ENDPOINT: dynalite.endpoint,
      SIPEDGE_DYNAMODB_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.secretAccessKey,
      SIPEDGE_LOG_LEVEL: "warn",
    },
  });
  pipeLines(agentProcess.stdout, (l) => agentLog.push(l));
  pipeLines(agentProcess.stderr, (l) => agentLog.push(l));
  await waitUntil("media agent", async () => (await fetch(`${listen}/healthz`)).status === 200, 15_000, agentProcess).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${agentLog.join("\n")}`);
  });

  const direct = new NgUdpChannel({ ...rtpengine.ng, timeoutMs: 5000, retransmitMs: 2000 });
  await direct.open();
  const sendDirect: Send = (command, dict) => direct.request({ ...dict, command });
  const client = new NgClient({ url: `${listen}/ng`, secret: TEST_SECRET, timeoutMs: 10_000 });
  const sendAgent: Send = (command, dict) => client.request(command, dict);
  const clientHttp = new NgClient({ url: `${listen}/ng`, secret: TEST_SECRET, timeoutMs: 10_000, fetch: nodeHttpFetch });
  const sendAgentHttp: Send = (command, dict) => clientHttp.request(command, dict);

  const runs: Run[] = [];
  try {
    for (const c of CONCURRENCY) {
      runs.push(await measure("direct UDP", sendDirect, false, c, rtpengine.process.pid!));
      runs.push(await measure("agent", sendAgent, true, c, rtpengine.process.pid!, agentProcess.pid));
      runs.push(await measure("agent/http", sendAgentHttp, true, c, rtpengine.process.pid!, agentProcess.pid));
    }
    const leftover = await direct.request({ command: "list" });
    if (Array.isArray(leftover.calls) && leftover.calls.length > 0) throw new Error(`${leftover.calls.length} sessions left in rtpengine`);
  } finally {
    client.close();
    clientHttp.close();
    keepAlive.destroy();
    direct.close();
    await stopChild(agentProcess);
    await Promise.all([rtpengine.stop(), dynalite.stop()]);
  }

  const ms = (n: number) => n.toFixed(2).padStart(7);
  process.stdout.write(`\nMedia setups (${LEG}: offer + answer + delete), ${CALLS} per run after ${WARMUP} warm-up, rtpengine 10.5 userspace, loopback\n\n`);
  process.stdout.write(`path         in flight  setups/s   p50 ms   p99 ms  added p50  rtpengine CPU/setup  agent CPU/setup\n`);
  for (const r of runs) {
    const base = runs.find((x) => x.path === "direct UDP" && x.concurrency === r.concurrency)!;
    const added = r.path !== "direct UDP" ? ms(r.p50 - base.p50) : "      -";
    process.stdout.write(
      `${r.path.padEnd(12)} ${String(r.concurrency).padStart(9)} ${r.setupsPerSecond.toFixed(0).padStart(9)} ${ms(r.p50)}  ${ms(r.p99)}  ${added.padStart(9)}  ${(r.rtpengineCpuMs.toFixed(2) + " ms").padStart(19)}  ${r.agentCpuMs !== undefined ? (r.agentCpuMs.toFixed(2) + " ms").padStart(15) : "              -"}\n`,
    );
  }
  process.stdout.write(
    `\nagent: NgClient with Node's fetch (undici); agent/http: the same NgClient with a node:http keep-alive fetch (closer to workerd's native fetch).\n` +
      `added p50: the path's median minus the direct path's at the same concurrency (signing, HTTP, JSON<->bencode, the SDP fix-ups, the agent's hop).\n` +
      `CPU per setup from /proc; this bench process (the client side) is not counted. Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${cpus().length} cores.\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
