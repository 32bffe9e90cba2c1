// Edge benchmark: registrations and calls per second through the real
// Worker and Durable Objects in workerd (Miniflare started directly,
// PLATFORM.md), against dynalite, with raw SIP-over-WebSocket clients
// (test/harness/sip-phone.ts). Not a test: it reports.
//
//   npx tsx test/bench/edge.ts [--concurrency 1,8,32] [--time 5000] [--users 64] [--storage shm|tmp]
//   npm run bench -- edge
//
// registration: REGISTER → 401 → REGISTER (MD5 digest) → 200, a refresh of
//   the user's binding on its own socket; one socket per user, `c` users at once.
// call: INVITE → 407 → ACK → INVITE → 100 → 180 → 200 → ACK → BYE → 200
//   between two registered WebSocket users (alice_i calls bob_i), the INVITE
//   carrying the real Chromium offer and the 200 its answer; `c` pairs at once.
//   Every call crosses two UserAgent DOs (caller's and callee's) by RPC, and
//   its media is anchored: the caller's DO sends offer, answer and delete
//   through the media agent to rtpengine (the whole local stack runs).
//
// Per level: operations per second (wall), latency p50/p99 of one operation
// (first REGISTER sent → 200; INVITE sent → 200 to BYE), and the CPU time
// of the workerd process (utime + stime from /proc/<pid>/stat, every thread)
// per operation, next to Kamailio 5.6's on this machine: ~0.18 ms per
// registration, ~1 ms per call (issue 3). The client's own CPU is shown too:
// on a 2-core machine it competes with workerd, so wall rates are a floor.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { freeTcpPort, freeUdpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { newSecrets, type DemoUser } from "../../packages/sipedge/src/stack/seed.ts";
import { startStack } from "../../packages/sipedge/src/stack/stack.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { rand, request, SipPhone } from "../harness/sip-phone.ts";
import { arg } from "./support/bench-args.ts";
import { childProcesses } from "./support/process-cpu.ts";

// ---- options ------------------------------------------------------------------

const LEVELS = (arg("concurrency") ?? "1,8,32").split(",").map(Number);
const TIME_MS = Number(arg("time") ?? 5000);
// DO storage on tmpfs by default: on a disk shared with other jobs, workerd's per-commit fsync stalls for
// up to seconds and the figures measure the disk (run --storage tmp to see it).
const STORAGE = arg("storage") ?? (existsSync("/dev/shm") ? "shm" : "tmp");
const USERS = Math.max(Number(arg("users") ?? 64), 2 * Math.max(...LEVELS));
if (LEVELS.some((c) => !Number.isInteger(c) || c < 1) || !(TIME_MS > 0) || !["tmp", "shm"].includes(STORAGE)) {
  console.error("usage: npx tsx test/bench/edge.ts [--concurrency 1,8,32] [--time 5000] [--users 64] [--storage tmp|shm]");
  process.exit(2);
}

const KAMAILIO_MS: Record<Result["what"], number | undefined> = { options: undefined, registration: 0.18, call: 1.0 };
const HOST = "127.0.0.1";
const DOMAIN = "example.com";

// ---- CPU of the workerd process ------------------------------------------------

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux

/** workerd processes started by this process (Miniflare spawns workerd as our child). */
function workerdPids(): number[] {
  return childProcesses().filter((c) => c.comm === "workerd").map((c) => c.pid);
}

/** utime and stime of the processes, in ms (fields 14 and 15 of /proc/<pid>/stat; all threads). */
function cpuMs(pids: number[]): { user: number; sys: number } {
  let user = 0;
  let sys = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    user += Number(fields[11]); // utime (field 14 counting from 1)
    sys += Number(fields[12]); // stime (field 15)
  }
  return { user: (user * 1000) / CLK_TCK, sys: (sys * 1000) / CLK_TCK };
}

function clientCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---- runs -----------------------------------------------------------------------

interface Result {
  what: "options" | "registration" | "call";
  concurrency: number;
  ops: number;
  wallMs: number;
  latencies: number[];
  workerdCpuMs: number;
  /** The kernel's share of it (stime): syscalls, storage commits. */
  workerdSysMs: number;
  clientCpuMs: number;
  errors: number;
}

/** Runs `op` in `c` loops until the time is up; measures wall, latency and CPU. */
async function run(what: Result["what"], c: number, pids: number[], op: (worker: number) => Promise<void>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const cpu0 = cpuMs(pids);
  const client0 = clientCpuMs();
  const t0 = performance.now();
  const until = t0 + TIME_MS;
  await Promise.all(
    Array.from({ length: c }, async (_, w) => {
      while (performance.now() < until) {
        const s = performance.now();
        try {
          await op(w);
          latencies.push(performance.now() - s);
        } catch (err) {
          errors++;
          if (errors <= 3) console.error(`  ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
          if (errors > 50) throw new Error(`too many ${what} failures`);
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu1 = cpuMs(pids);
  return {
    what,
    concurrency: c,
    ops: latencies.length,
    wallMs,
    latencies,
    workerdCpuMs: cpu1.user + cpu1.sys - cpu0.user - cpu0.sys,
    workerdSysMs: cpu1.sys - cpu0.sys,
    clientCpuMs: clientCpuMs() - client0,
    errors,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** OPTIONS to the domain, answered by the DO itself: one socket event, no storage, one log line. The floor of any message. */
async function options(phones: SipPhone[], c: number, pids: number[]): Promise<Result> {
  return run("options", c, pids, async (w) => {
    const p = phones[w]!;
    const res = await p.client.request(
      request({ method: "OPTIONS", uri: `sip:${DOMAIN}`, via: p.via(), from: `<sip:${p.aor}>;tag=${rand(4)}`, to: `<sip:${DOMAIN}>`, callId: `opt-${rand(8)}`, cseq: 1 }),
    );
    if (res.status !== 200) throw new Error(`OPTIONS answered ${res.status}`);
  });
}

async function registrations(phones: SipPhone[], c: number, pids: number[]): Promise<Result> {
  return run("registration", c, pids, async (w) => {
    const res = await phones[w]!.register(600);
    if (res.status !== 200) throw new Error(`REGISTER answered ${res.status}`);
  });
}

async function calls(callers: SipPhone[], callees: SipPhone[], c: number, pids: number[]): Promise<Result> {
  return run("call", c, pids, async (w) => {
    const a = callers[w]!;
    const b = callees[w]!;
    const call = await a.call(b.aor, { sdp: CHROMIUM_OFFER }); // INVITE, 407, ACK, INVITE
    const inc = await b.incoming(10_000);
    await call.response(100);
    inc.reply(180);
    await call.response(180);
    inc.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered(10_000); // 200, ACK
    await inc.ack();
    const bye = call.bye();
    b.respond(await inc.request("BYE"), 200);
    const done = await bye;
    if (done.status !== 200) throw new Error(`BYE answered ${done.status}`);
  });
}

// ---- main -----------------------------------------------------------------------

async function main(): Promise<void> {
  const base = STORAGE === "shm" ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "sipedge-bench-"));
  const quiet = (): void => {};
  const users: DemoUser[] = Array.from({ length: USERS }, (_, i) => ({ aor: `bench${i}@${DOMAIN}`, password: `bench-password-${i}` }));
  // The whole local stack, media included: every call is anchored in rtpengine
  // through the media agent (offer, answer, delete), as in production.
  const stack = await startStack({
    host: HOST,
    ports: { edge: await freeTcpPort(), dynalite: await freeTcpPort(), ng: await freeUdpPort(), agent: await freeTcpPort(), rtpMin: 32000, rtpMax: 32999, egressSip: await freeTcpPort(), egressHttp: await freeTcpPort() },
    stateDir: dir,
    persistDirectory: false,
    domain: DOMAIN,
    secrets: newSecrets(),
    users,
    logFor: () => quiet,
  });
  const phones: SipPhone[] = [];
  try {
    const pids = workerdPids();
    if (pids.length === 0) throw new Error("no workerd child process found");
    console.log(`edge ${stack.edgeUrl} (workerd pid ${pids.join(", ")}), media through ${stack.mediaAgentUrl}, DO storage in ${dir} (${STORAGE}), ${USERS} users, ${TIME_MS} ms per run, node ${process.version}`);

    // Every user connects and registers once: DOs created, subscriber caches warm.
    for (const u of users) phones.push(await SipPhone.open(stack.edgeUrl, u.aor, u.password));
    await Promise.all(phones.map(async (p) => {
      const r = await p.register(600);
      if (r.status !== 200) throw new Error(`warm-up REGISTER of ${p.aor}: ${r.status}`);
    }));
    const half = USERS / 2;
    const callers = phones.slice(0, half);
    const callees = phones.slice(half, half * 2);
    await calls(callers, callees, 1, pids).catch(() => undefined); // warm-up: one run of calls is thrown away

    const results: Result[] = [];
    for (const c of LEVELS) {
      process.stdout.write(`  OPTIONS, concurrency ${c}...\n`);
      results.push(await options(phones, c, pids));
      process.stdout.write(`  registrations, concurrency ${c}...\n`);
      results.push(await registrations(phones, c, pids));
      process.stdout.write(`  calls, concurrency ${c}...\n`);
      results.push(await calls(callers, callees, c, pids));
    }
    printTable(results);
  } finally {
    await Promise.all(phones.map((p) => p.close().catch(() => undefined)));
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(results: Result[]): void {
  const rows = results.map((r) => {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    const perOp = r.workerdCpuMs / Math.max(1, r.ops);
    return [
      r.what,
      String(r.concurrency),
      String(r.ops),
      (r.ops / (r.wallMs / 1000)).toFixed(0),
      percentile(sorted, 50).toFixed(1),
      percentile(sorted, 99).toFixed(1),
      perOp.toFixed(3),
      (r.workerdSysMs / Math.max(1, r.ops)).toFixed(3),
      KAMAILIO_MS[r.what] === undefined ? "—" : `${(perOp / KAMAILIO_MS[r.what]!).toFixed(1)}×`,
      `${((r.workerdCpuMs / r.wallMs) * 100).toFixed(0)}%`,
      `${((r.clientCpuMs / r.wallMs) * 100).toFixed(0)}%`,
      String(r.errors),
    ];
  });
  const head = ["operation", "conc", "ops", "ops/s", "p50 ms", "p99 ms", "workerd CPU ms/op", "of it sys", "vs Kamailio", "workerd CPU", "client CPU", "errors"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => "| " + cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
  console.log("");
  console.log(line(head));
  console.log("|" + widths.map((w, i) => (i < 1 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const r of rows) console.log(line(r));
  console.log(
    `\nKamailio 5.6 reference (this machine): ${KAMAILIO_MS.registration} ms CPU per registration, ${KAMAILIO_MS.call} ms per call. "vs Kamailio" is workerd's CPU per operation over Kamailio's.` +
      `\nOPTIONS is the floor of one SIP message through a DO (one socket event, no storage, one log line); a registration is 2 socket events, a call 8 socket events and 6 DO-to-DO RPCs.`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
