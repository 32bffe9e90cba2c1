// Media benchmark: WebRTC call setups (ng offer + answer + delete) against a
// real rtpengine 10.5, three ways:
//
//   direct      bencode over UDP straight to rtpengine's ng port, as Kamailio's
//               rtpengine module does (the agent's own NgUdpChannel, in this process)
//   agent       a minimal signed HTTP client in this process (support/http-lane.ts:
//               one keep-alive connection per setup in flight, node:crypto HMAC)
//               → the media agent (its own process, `tsx media-node/agent/src/main.ts`)
//               → UDP ng → rtpengine. What the agent alone adds.
//   edge→agent  the edge's real client where it really runs: a Worker in workerd
//               (Miniflare, support/media-edge-worker.ts) with the edge's NgClient
//               (workerd's fetch, WebCrypto HMAC) and SDP fix-ups → the agent →
//               rtpengine. This process sends it one `POST /setup` per setup; the
//               round trip of that trigger (`POST /noop`, measured alongside) is
//               subtracted. What the edge and the agent add together (issue 4's goal).
//
// Each setup is the browser-to-sip profile (workers/src/media/profiles.ts):
// the real Chromium offer, a PCMU answer from the SIP side, `delete` with
// `delete-delay: 0`. Sequentially and with 8 and 32 setups in flight. The
// machine's speed swings 2-3x from minute to minute (shared, 2 cores), so the
// paths are interleaved: each level runs `--rounds` rounds, every round a
// slice of each path in turn, and percentiles pool all rounds. Reported:
// setups/s, latency p50/p99, the added p50 against direct at the same level,
// and the CPU rtpengine, the agent and workerd spent per setup (/proc).
//
//   npx tsx test/bench/media.ts [--calls 1000] [--warmup 100] [--rounds 5] [--profile browser-to-sip]
//   npm run bench -- media
//
// Loopback only; media ports 33000-33999 (not `npm start`'s 30000-30999 nor
// the integration stack's 31000-31999). Exits 0: it reports.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { build } from "esbuild";
import { Log as MiniflareLog, LogLevel, Miniflare } from "miniflare";
import { LOCAL_AWS } from "../../packages/sipedge/src/stack/dynalite.ts";
import { LOCAL_CF } from "../../packages/sipedge/src/stack/edge.ts";
import { pipeLines } from "../../packages/sipedge/src/stack/log.ts";
import { freeTcpPort, waitUntil } from "../../packages/sipedge/src/stack/ports.ts";
import { stopChild } from "../../packages/sipedge/src/stack/stack.ts";
import { readWorkerSettings } from "../../packages/sipedge/src/stack/wrangler-config.ts";
import { NgUdpChannel, type NgDict } from "../../media-node/agent/src/ng-udp-channel.ts";
import { SIGNATURE_HEADER, signNgBody, TIMESTAMP_HEADER } from "../../media-node/agent/src/request-signature.ts";
import { startTestDynalite, startTestRtpengine, TEST_SECRET } from "../../media-node/agent/test/support/media-stack.ts";
import { chromiumOffer, sipAnswer } from "../../media-node/agent/test/support/sdp-fixtures.ts";
import type { MediaLeg } from "../../workers/src/media/profiles.ts";
import { arg } from "./support/bench-args.ts";
import { HttpLane } from "./support/http-lane.ts";
import { callSetup, type NgSend, type SetupInput } from "./support/media-setup.ts";
import { childProcesses, processTreeCpuMs } from "./support/process-cpu.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const HOST = "127.0.0.1";

const CALLS = Number(arg("calls") ?? process.env.BENCH_MEDIA_CALLS ?? "1000");
const WARMUP = Number(arg("warmup") ?? "100");
const ROUNDS = Number(arg("rounds") ?? "5");
const LEG = (arg("profile") ?? "browser-to-sip") as MediaLeg;
const CONCURRENCY = [1, 8, 32];
if (![CALLS, WARMUP, ROUNDS].every((n) => Number.isInteger(n) && n >= 0) || ROUNDS < 1 || CALLS < ROUNDS) {
  process.stderr.write("usage: npx tsx test/bench/media.ts [--calls N >= rounds] [--warmup N] [--rounds N >= 1] [--profile browser-to-sip|sip-to-browser|browser-to-browser]\n");
  process.exit(2);
}

// ---- the paths --------------------------------------------------------------------

/** One way of doing a setup; `lane` is the index of the setup in flight (each has its own connection). */
interface Path {
  name: string;
  setup(lane: number, callId: string): Promise<void>;
}

interface Sample {
  latencies: number[];
  wallMs: number;
  setups: number;
  cpu: { rtpengine: number; agent: number; workerd: number };
}

function emptySample(): Sample {
  return { latencies: [], wallMs: 0, setups: 0, cpu: { rtpengine: 0, agent: 0, workerd: 0 } };
}

let callSeq = 0;

async function runSlice(path: Path, concurrency: number, count: number, pids: { rtpengine: number; agent: number; workerd: number[] }, into?: Sample): Promise<void> {
  const cpu = () => ({ rtpengine: processTreeCpuMs(pids.rtpengine), agent: processTreeCpuMs(pids.agent), workerd: pids.workerd.reduce((s, p) => s + processTreeCpuMs(p), 0) });
  const c0 = cpu();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (next < count) {
        next++;
        const s = performance.now();
        await path.setup(lane, `bench-${process.pid}-${++callSeq}`);
        into?.latencies.push(performance.now() - s);
      }
    }),
  );
  if (into === undefined) return;
  const c1 = cpu();
  into.wallMs += performance.now() - t0;
  into.setups += count;
  into.cpu.rtpengine += c1.rtpengine - c0.rtpengine;
  into.cpu.agent += c1.agent - c0.agent;
  into.cpu.workerd += c1.workerd - c0.workerd;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---- main -------------------------------------------------------------------------

async function main(): Promise<void> {
  const input: SetupInput = {
    leg: LEG,
    offerSdp: chromiumOffer(),
    answerSdp: sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }, { pt: 126, rtpmap: "telephone-event/8000" }]),
    fixups: false,
  };
  const [rtpengine, dynalite] = await Promise.all([startTestRtpengine(33000, 33999), startTestDynalite()]);
  const agentLog: string[] = [];
  const agentPort = await freeTcpPort();
  const ngUrl = `http://${HOST}:${agentPort}/ng`;
  const agentProcess = spawn(join(ROOT, "node_modules", ".bin", "tsx"), ["src/main.ts"], {
    cwd: join(ROOT, "media-node", "agent"),
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      SIPEDGE_NG_SECRET: TEST_SECRET,
      SIPEDGE_AGENT_LISTEN: `${HOST}:${agentPort}`,
      SIPEDGE_RTPENGINE_NG: `${rtpengine.ng.host}:${rtpengine.ng.port}`,
      SIPEDGE_NODE_ID: "bench-1",
      SIPEDGE_REGION: "local",
      SIPEDGE_PUBLIC_ADDRESS: HOST,
      SIPEDGE_PRIVATE_ADDRESS: HOST,
      SIPEDGE_NG_URL: ngUrl,
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

  // The edge's client in workerd, bundled as wrangler would (edge.ts's esbuild options).
  const buildDir = mkdtempSync(join(tmpdir(), "sipedge-bench-media-"));
  const settings = readWorkerSettings(join(ROOT, "wrangler.toml"));
  const scriptPath = join(buildDir, "worker.mjs");
  await build({
    entryPoints: [join(import.meta.dirname, "support", "media-edge-worker.ts")],
    outfile: scriptPath,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "warning",
  });
  const miniflare = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: buildDir,
    compatibilityDate: settings.compatibilityDate,
    compatibilityFlags: settings.compatibilityFlags,
    bindings: { NG_URL: ngUrl, NG_SECRET: TEST_SECRET, LEG, OFFER_SDP: input.offerSdp, ANSWER_SDP: input.answerSdp },
    // Miniflare's default sends every outbound fetch through an extra Worker
    // that strips CF-Connecting-IP; a deployed Worker has no such hop.
    stripCfConnectingIp: false,
    cf: LOCAL_CF,
    host: HOST,
    port: await freeTcpPort(),
    log: new MiniflareLog(LogLevel.WARN),
  });
  const edgeUrl = new URL((await miniflare.ready).toString());
  const workerd = childProcesses().filter((c) => c.comm === "workerd").map((c) => c.pid);

  const direct = new NgUdpChannel({ ...rtpengine.ng, timeoutMs: 5000, retransmitMs: 2000 });
  const maxLanes = Math.max(...CONCURRENCY);
  const agentLanes = Array.from({ length: maxLanes }, () => new HttpLane(HOST, agentPort));
  const edgeLanes = Array.from({ length: maxLanes }, () => new HttpLane(HOST, Number(edgeUrl.port)));
  try {
    await waitUntil("media agent", async () => (await fetch(`http://${HOST}:${agentPort}/healthz`)).status === 200, 15_000, agentProcess).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${agentLog.join("\n")}`);
    });
    await direct.open();

    let lastTimestamp = 0;
    const agentSend = (lane: HttpLane): NgSend => async (command, dict) => {
      const body = JSON.stringify({ ...dict, command });
      // Unique per request, as NgClient does: the agent refuses a signature it has seen.
      const timestamp = String((lastTimestamp = Math.max(Date.now(), lastTimestamp + 1)));
      const signature = signNgBody(TEST_SECRET, timestamp, Buffer.from(body, "utf8"));
      const reply = await lane.post("/ng", body, { "Content-Type": "application/json", [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature });
      if (reply.status !== 200) throw new Error(`agent answered ${reply.status}: ${reply.body}`);
      return JSON.parse(reply.body) as Record<string, unknown>;
    };
    const edgePost = async (lane: number, path: string, callId: string): Promise<void> => {
      const reply = await edgeLanes[lane]!.post(path, callId);
      if (reply.status !== 200) throw new Error(`edge ${path}: ${reply.status} ${reply.body}`);
    };
    const paths: Path[] = [
      { name: "direct UDP", setup: (_, id) => callSetup((command, dict) => direct.request({ ...(dict as NgDict), command }), id, input) },
      { name: "agent", setup: (lane, id) => callSetup(agentSend(agentLanes[lane]!), id, input) },
      { name: "edge→agent", setup: (lane, id) => edgePost(lane, "/setup", id) },
      { name: "edge noop", setup: (lane, id) => edgePost(lane, "/noop", id) },
    ];
    // One ng `ping` each way, sequentially: the cost of a request without rtpengine's work.
    const pings: Path[] = [
      { name: "ping direct", setup: async () => void (await direct.request({ command: "ping" })) },
      // A key of its own (rtpengine ignores it): two clients that share the secret sign identical
      // bodies identically, and at this rate the lane's timestamps run ahead of the clock (+1 ms
      // a request), so its pings would collide with the Worker's and be refused as replays.
      { name: "ping agent", setup: async (lane, id) => void (await agentSend(agentLanes[lane]!)("ping", { "bench-ping": id })) },
      { name: "ping edge", setup: (lane, id) => edgePost(lane, "/ping", id) },
    ];
    const pids = { rtpengine: rtpengine.process.pid!, agent: agentProcess.pid!, workerd };

    const results = new Map<string, Sample>();
    for (const c of CONCURRENCY) {
      const level = c === 1 ? [...paths, ...pings] : paths;
      for (const path of level) await runSlice(path, c, WARMUP, pids);
      const slices = Array.from({ length: ROUNDS }, (_, r) => Math.floor((CALLS * (r + 1)) / ROUNDS) - Math.floor((CALLS * r) / ROUNDS));
      for (const n of slices) {
        for (const path of level) {
          const key = `${path.name}@${c}`;
          const sample = results.get(key) ?? emptySample();
          results.set(key, sample);
          await runSlice(path, c, n, pids, sample);
        }
      }
    }
    const leftover = await direct.request({ command: "list" });
    if (Array.isArray(leftover.calls) && leftover.calls.length > 0) throw new Error(`${leftover.calls.length} sessions left in rtpengine`);
    report(results);
  } finally {
    for (const lane of [...agentLanes, ...edgeLanes]) lane.close();
    direct.close();
    await miniflare.dispose();
    rmSync(buildDir, { recursive: true, force: true });
    await stopChild(agentProcess);
    await Promise.all([rtpengine.stop(), dynalite.stop()]);
  }
}

function report(results: Map<string, Sample>): void {
  const ms = (n: number) => n.toFixed(2).padStart(7);
  const cpu = (total: number, s: Sample) => `${(total / s.setups).toFixed(2)} ms`.padStart(9);
  const stats = (s: Sample) => {
    const sorted = [...s.latencies].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), rate: (s.setups / s.wallMs) * 1000 };
  };
  process.stdout.write(
    `\nMedia setups (${LEG}: offer + answer + delete), ${CALLS} per path and level in ${ROUNDS} interleaved rounds after ${WARMUP} warm-up, rtpengine 10.5 userspace, loopback\n\n`,
  );
  process.stdout.write(`path         in flight  setups/s   p50 ms   p99 ms  added p50   CPU/setup: rtpengine     agent   workerd\n`);
  for (const c of CONCURRENCY) {
    const direct = stats(results.get(`direct UDP@${c}`)!);
    const noop = stats(results.get(`edge noop@${c}`)!);
    for (const name of ["direct UDP", "agent", "edge→agent"]) {
      const s = results.get(`${name}@${c}`)!;
      const st = stats(s);
      const added = name === "direct UDP" ? "      -" : ms(st.p50 - direct.p50 - (name === "edge→agent" ? noop.p50 : 0));
      process.stdout.write(
        `${name.padEnd(12)} ${String(c).padStart(9)} ${st.rate.toFixed(0).padStart(9)} ${ms(st.p50)}  ${ms(st.p99)}  ${added.padStart(9)}   ${" ".repeat(10)}${cpu(s.cpu.rtpengine, s)} ${cpu(s.cpu.agent, s)} ${cpu(s.cpu.workerd, s)}\n`,
      );
    }
    process.stdout.write(`${"(edge noop)".padEnd(12)} ${String(c).padStart(9)} ${"".padStart(9)} ${ms(noop.p50)}  ${ms(noop.p99)}\n`);
  }
  const ping = (name: string) => stats(results.get(`${name}@1`)!).p50;
  const noop1 = ping("edge noop");
  const agentHop = ping("ping agent") - ping("ping direct");
  const edgeHop = ping("ping edge") - noop1 - ping("ping agent");
  process.stdout.write(
    `\nPer ng request, sequential \`ping\` p50 (no rtpengine work; a setup is 3 requests):\n` +
      `  rtpengine over UDP (direct)            ${ms(ping("ping direct"))} ms\n` +
      `  + the agent's hop (agent − direct)     ${ms(agentHop)} ms   × 3 = ${ms(3 * agentHop)} ms\n` +
      `  + the edge's fetch in workerd          ${ms(edgeHop)} ms   × 3 = ${ms(3 * edgeHop)} ms   (edge − noop − agent)\n`,
  );
  process.stdout.write(
    `\nagent: what the agent adds (signed JSON over HTTP → bencode over UDP), from a client that costs next to nothing.\n` +
      `edge→agent: what the edge and the agent add together — the edge's NgClient and SDP fix-ups in workerd; its added p50\n` +
      `  also subtracts the p50 of the bench's trigger request into workerd (edge noop). CPU per setup from /proc; the bench\n` +
      `  process is not counted, workerd's includes the trigger request. Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${cpus().length} cores.\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
