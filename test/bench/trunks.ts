// Trunk benchmark (issue 5): calls between raw SIP-over-WebSocket clients on
// the edge and SIPp playing a carrier over UDP, through the real egress proxy
// (media-node/egress) and the whole local stack (workerd, dynalite,
// rtpengine + agent), as startStack runs it. Not a test: it reports.
//
//   npx tsx test/bench/trunks.ts [--concurrency 1,8,32] [--time 5000] [--direction outbound,inbound,phone] [--storage shm|tmp]
//   npm run bench -- trunks
//
// outbound: a registered user (allowed to call out, high limits) calls a
//   number: INVITE → 407 → ACK → INVITE with credentials → edge (policy,
//   rtpengine offer) → EgressLink DO → egress → SIPp UAS on UDP: 180, 200
//   (rtpengine answer) → 200 → ACK → BYE → 200. `c` users at once, one call
//   each at a time. Setup: authenticated INVITE sent → 200 received.
// inbound: a SIPp UAC on UDP keeps `c` calls in flight (-users) to DIDs,
//   each assigned to a registered user whose client answers 200 at once with
//   Chromium's answer; the UAC ACKs and sends its BYE at once, the user
//   answers 200. Setup and BYE times are SIPp's own (-trace_rtt).
// phone: SIPp on UDP at both ends (issue 5's benchmark): the same UAC calls
//   DIDs of subscribers registered as legacy phones through the egress
//   (scenarios/phones-register.xml: REGISTER, 401, digest, 200, all from one
//   address and port), where one SIPp UAS answers them all
//   (trunks-carrier-uas.xml): UAC → egress → EgressLink DO → user DO →
//   EgressLink DO → egress → UAS and back. No media is anchored (RTP
//   between SIP peers goes end to end, workers/src/media/call-media.ts).
//
// Per level: calls/s (wall), setup p50/p99, and CPU ms per call (utime +
// stime of each process tree, /proc) of workerd, the egress, rtpengine, the
// media agent and dynalite, and the load generators' share of the 2 cores
// (our WebSocket clients; SIPp), which compete with the stack: wall rates
// are a floor. Reference (issue 5): Kamailio here relayed 500 UDP calls/s at
// about 41% of one core, ~0.82 ms CPU per call; "vs Kamailio" compares
// workerd + egress (the signaling path; Kamailio had no media) with it.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { waitListening } from "../../media-node/egress/test/support/sipp.ts";
import { freeTcpPort, freeUdpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { newSecrets, type DemoUser } from "../../packages/sipedge/src/stack/seed.ts";
import { LOCAL_EGRESS_ID, startStack, stopChild, type Stack } from "../../packages/sipedge/src/stack/stack.ts";
import { adminFetch } from "../harness/admin.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { IncomingCall, SipPhone } from "../harness/sip-phone.ts";
import { SipMessageText } from "../harness/sip-ws-client.ts";
import type { StackInfo } from "../harness/stack-info.ts";
import { childProcesses, exitedChildrenCpuMs, processTreeCpuMs } from "./support/process-cpu.ts";
import { arg } from "./support/bench-args.ts";

// ---- options ------------------------------------------------------------------

type Direction = "outbound" | "inbound" | "phone";
const LEVELS = (arg("concurrency") ?? "1,8,32").split(",").map(Number);
const TIME_MS = Number(arg("time") ?? 5000);
const DIRECTIONS = (arg("direction") ?? "outbound,inbound,phone").split(",") as Direction[];
// DO storage on tmpfs, as in edge.ts: on a shared disk workerd's commits measure the disk.
const STORAGE = arg("storage") ?? (existsSync("/dev/shm") ? "shm" : "tmp");
if (
  LEVELS.some((c) => !Number.isInteger(c) || c < 1 || c > 200) ||
  !(TIME_MS > 0) ||
  DIRECTIONS.length === 0 ||
  DIRECTIONS.some((d) => d !== "outbound" && d !== "inbound" && d !== "phone") ||
  !["tmp", "shm"].includes(STORAGE)
) {
  console.error("usage: npx tsx test/bench/trunks.ts [--concurrency 1,8,32 (1-200 each)] [--time 5000] [--direction outbound,inbound,phone] [--storage shm|tmp]");
  process.exit(2);
}

/** Kamailio 5.6 on this machine: 500 UDP calls/s at about 41% of one core (issue 5). */
const KAMAILIO_MS_PER_CALL = (0.41 * 1000) / 500;
/** How long the stack's idle CPU is sampled, before the runs. */
const IDLE_MS = 2000;
const HOST = "127.0.0.1";
const DOMAIN = "example.com";
const TRUNK = "bench-carrier";
const SCENARIOS = join(import.meta.dirname, "scenarios");
/** The called number of outbound worker `w` (the trunk's prefix is +1555). */
const numberOf = (w: number): string => `+1555030${String(w).padStart(4, "0")}`;
/** The DID of inbound user `i`. */
const didOf = (i: number): string => `+1555020${String(i).padStart(4, "0")}`;
/** The DID of legacy phone `i` ("phone" runs). */
const phoneDidOf = (i: number): string => `+1555040${String(i).padStart(4, "0")}`;

// ---- CPU of the stack's processes -------------------------------------------------

const COMPONENTS = ["workerd", "egress", "rtpengine", "agent", "dynalite", "clients", "sipp"] as const;
type Component = (typeof COMPONENTS)[number];
type Cpu = Record<Component, number>;

/** The stack's processes, children of this one (startStack and Miniflare spawn them), told apart by name and command line. */
function stackPids(): Record<Exclude<Component, "clients" | "sipp">, number[]> {
  const kids = childProcesses();
  const pick = (f: (k: (typeof kids)[number]) => boolean): number[] => kids.filter(f).map((k) => k.pid);
  const pids = {
    workerd: pick((k) => k.comm === "workerd"),
    egress: pick((k) => k.cmdline.includes("media-node/egress/src/main.ts")),
    rtpengine: pick((k) => k.comm === "rtpengine"),
    agent: pick((k) => k.cmdline.includes("media-node/agent/")),
    dynalite: pick((k) => k.cmdline.includes("dynalite")),
  };
  for (const [name, list] of Object.entries(pids)) if (list.length === 0) throw new Error(`no ${name} child process found`);
  return pids;
}

/**
 * CPU ms so far of every component. SIPp: the runs still running (the
 * carrier UAS, the phones' UAS) plus those that have exited (cutime).
 * Clients: this process, which runs the WebSocket users.
 */
function cpuNow(pids: ReturnType<typeof stackPids>): Cpu {
  const tree = (list: number[]): number => list.reduce((sum, pid) => sum + processTreeCpuMs(pid), 0);
  const own = process.cpuUsage();
  return {
    workerd: tree(pids.workerd),
    egress: tree(pids.egress),
    rtpengine: tree(pids.rtpengine),
    agent: tree(pids.agent),
    dynalite: tree(pids.dynalite),
    clients: (own.user + own.system) / 1000,
    sipp: [...sippRuns].reduce((sum, r) => sum + processTreeCpuMs(r.process.pid!), 0) + exitedChildrenCpuMs(),
  };
}

function cpuSince(before: Cpu, after: Cpu): Cpu {
  return Object.fromEntries(COMPONENTS.map((c) => [c, after[c] - before[c]])) as Cpu;
}

// ---- the egress's own counters ------------------------------------------------------

/** The sum of every sample of a counter family in the egress's /metrics (0 when absent or unreachable). */
async function egressCounter(stack: Stack, name: string): Promise<number> {
  const text = await fetch(`${stack.egress.httpUrl}/metrics`).then((r) => r.text(), () => "");
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

// ---- SIPp -----------------------------------------------------------------------------

interface SippRun {
  process: ChildProcess;
  dir: string;
  exited: Promise<number | null>;
  /** SIGTERM (SIGKILL after 3 s), then its folder goes. */
  stop(): Promise<void>;
}

const sippRuns = new Set<SippRun>();

/** Starts /usr/bin/sipp in a folder of its own (its -trace files land there), on loopback, never reading stdin. */
function runSipp(args: string[]): SippRun {
  const dir = mkdtempSync(join(tmpdir(), "sipedge-bench-sipp-"));
  const child = spawn("sipp", [...args, "-i", HOST, "-nostdin", "-trace_err", "-error_file", join(dir, "errors.log")], { cwd: dir, stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  const run: SippRun = {
    process: child,
    dir,
    exited,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      sippRuns.delete(run);
    },
  };
  sippRuns.add(run);
  return run;
}

/** The last line of SIPp's -trace_stat file as a map from column name to value. */
function sippStats(file: string): Record<string, string> {
  let lines: string[] = [];
  try {
    lines = readFileSync(file, "latin1").trim().split("\n");
  } catch {
    return {};
  }
  const head = lines[0]?.split(";") ?? [];
  const last = lines.length > 1 ? lines[lines.length - 1]!.split(";") : [];
  return Object.fromEntries(head.map((h, i) => [h.trim(), (last[i] ?? "").trim()]));
}

/** SIPp's -trace_rtt samples (`date_ms;response_time_ms;rtd`), by response time number. */
function sippResponseTimes(dir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith("_rtt.csv"))) {
    for (const line of readFileSync(join(dir, f), "latin1").split("\n")) {
      const [, ms, rtd] = line.trim().split(";");
      if (ms === undefined || rtd === undefined || !/^[\d.]+$/.test(ms)) continue;
      const list = out.get(rtd) ?? [];
      list.push(Number(ms));
      out.set(rtd, list);
    }
  }
  return out;
}

function sippErrors(run: SippRun): string {
  try {
    return readFileSync(join(run.dir, "errors.log"), "latin1").trim().split("\n").slice(-3).join(" | ");
  } catch {
    return "";
  }
}

// ---- the WebSocket users -------------------------------------------------------------

/**
 * Claims every frame left unclaimed after a call (100 Trying, 180, late
 * 200 retransmissions) so the client's inbox does not grow over a run and
 * make every later wait slower.
 */
function drain(phone: SipPhone): void {
  for (let n = phone.client.unclaimed().length; n > 0; n--) void phone.client.next(() => true, 0).catch(() => undefined);
}

/** One outbound call; resolves with its setup time (authenticated INVITE sent → 200) and its BYE's round trip. */
async function outboundCall(phone: SipPhone, number: string): Promise<{ setup: number; bye: number }> {
  const call = await phone.call(`${number}@${DOMAIN};user=phone`, { sdp: CHROMIUM_OFFER }); // INVITE, 407, ACK, INVITE
  const sent = performance.now();
  await call.answered(10_000); // 200, ACK
  const answered = performance.now();
  const bye = await call.bye();
  if (bye.status !== 200) throw new Error(`BYE answered ${bye.status} ${bye.reason}`);
  return { setup: answered - sent, bye: performance.now() - answered };
}

/**
 * A user that answers every call at once (200 with Chromium's answer) and
 * every BYE with 200, until stopped. Every frame is claimed here, so none
 * piles up unread.
 */
class AutoAnswer {
  answered = 0;
  byes = 0;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(readonly phone: SipPhone) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let text: string;
      try {
        text = await this.phone.client.next(() => true, 500, "any frame");
      } catch {
        continue; // nothing for 500 ms: look at `stopped` again
      }
      if (text.startsWith("INVITE ")) {
        new IncomingCall(this.phone, new SipMessageText(text)).reply(200, { sdp: CHROMIUM_ANSWER });
        this.answered++;
      } else if (text.startsWith("BYE ")) {
        this.phone.respond(new SipMessageText(text), 200);
        this.byes++;
      } else if (/^(OPTIONS|CANCEL|INFO|UPDATE) /.test(text)) {
        this.phone.respond(new SipMessageText(text), 200);
      } // ACKs and responses: nothing to do
    }
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }
}

// ---- runs -----------------------------------------------------------------------------

interface Result {
  direction: Direction;
  concurrency: number;
  calls: number;
  wallMs: number;
  /** Setup times in ms (authenticated INVITE sent → 200; SIPp's INVITE → 200 inbound). */
  setups: number[];
  /** BYE → 200 round trips in ms. */
  byes: number[];
  cpu: Cpu;
  /** Retransmissions the egress sent or absorbed during the run (UDP side and link). */
  retransmissions: number;
  errors: number;
}

interface Bench {
  stack: Stack;
  pids: ReturnType<typeof stackPids>;
  uas: SippRun;
}

async function outbound(b: Bench, phones: SipPhone[]): Promise<Result> {
  const c = phones.length;
  const setups: number[] = [];
  const byes: number[] = [];
  let errors = 0;
  const retrans0 = await egressCounter(b.stack, "sipedge_egress_retransmissions_total");
  const cpu0 = cpuNow(b.pids);
  const t0 = performance.now();
  const until = t0 + TIME_MS;
  await Promise.all(
    phones.map(async (phone, w) => {
      while (performance.now() < until) {
        try {
          const t = await outboundCall(phone, numberOf(w));
          setups.push(t.setup);
          byes.push(t.bye);
        } catch (err) {
          errors++;
          if (errors <= 3) console.error(`    outbound call failed: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`);
          if (errors > 50) throw new Error("too many outbound call failures");
        } finally {
          drain(phone);
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = cpuSince(cpu0, cpuNow(b.pids));
  const retransmissions = (await egressCounter(b.stack, "sipedge_egress_retransmissions_total")) - retrans0;
  return { direction: "outbound", concurrency: c, calls: setups.length, wallMs, setups, byes, cpu, retransmissions, errors };
}

/**
 * A SIPp UAC keeping `c` calls in flight to the DIDs for TIME_MS (or `calls` calls, for the warm-up); SIGUSR1 lets its calls finish.
 * "phone": the DIDs are the legacy phones' (their SIPp UAS answers).
 */
async function inbound(b: Bench, c: number, didFile: string, calls?: number, direction: "inbound" | "phone" = "inbound"): Promise<Result> {
  const retrans0 = await egressCounter(b.stack, "sipedge_egress_retransmissions_total");
  const cpu0 = cpuNow(b.pids);
  const t0 = performance.now();
  const uac = runSipp([
    `${b.stack.egress.sip.host}:${b.stack.egress.sip.port}`,
    "-sf", join(SCENARIOS, "trunks-carrier-uac.xml"),
    "-inf", didFile,
    "-users", String(c),
    ...(calls !== undefined ? ["-m", String(calls)] : []),
    "-p", String(await freeUdpPort()),
    "-trace_rtt", "-rtt_freq", "1",
    "-trace_stat", "-stf", "stats.csv", "-fd", "1",
  ]);
  try {
    if (calls === undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([uac.exited, new Promise((r) => (timer = setTimeout(r, TIME_MS)))]);
      clearTimeout(timer);
      uac.process.kill("SIGUSR1"); // soft exit: no new calls, the ones in flight finish
    }
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([uac.exited, new Promise<"late">((r) => (timer = setTimeout(() => r("late"), 20_000)))]);
    clearTimeout(timer);
    if (code === "late") throw new Error("SIPp (UAC) did not finish its calls within 20 s of being told to stop");
    const wallMs = performance.now() - t0;
    const cpu = cpuSince(cpu0, cpuNow(b.pids));
    const stats = sippStats(join(uac.dir, "stats.csv"));
    const rtt = sippResponseTimes(uac.dir);
    const ok = Number(stats["SuccessfulCall(C)"] ?? NaN);
    const failed = Number(stats["FailedCall(C)"] ?? NaN);
    if (!Number.isFinite(ok)) throw new Error(`SIPp (UAC, exit ${code}) left no statistics; its errors: ${sippErrors(uac)}`);
    if (failed > 0) console.error(`    ${direction}: SIPp counted ${failed} failed calls (exit ${code}); its last errors: ${sippErrors(uac)}`);
    const retransmissions = (await egressCounter(b.stack, "sipedge_egress_retransmissions_total")) - retrans0;
    return { direction, concurrency: c, calls: ok, wallMs, setups: rtt.get("1") ?? [], byes: rtt.get("2") ?? [], cpu, retransmissions, errors: Number.isFinite(failed) ? failed : 0 };
  } finally {
    await uac.stop();
  }
}

/**
 * The "phone" callees (issue 5): each registers through the egress as a
 * legacy phone (scenarios/phones-register.xml: digest, MD5), all from one
 * SIPp address and port; then one SIPp UAS answers all their calls on that
 * same port (SIPp cannot register and then take calls of other Call-IDs in
 * one run). Resolves with the UAS, listening.
 */
async function legacyPhones(stack: Stack, users: DemoUser[], dir: string): Promise<SippRun> {
  const port = await freeUdpPort();
  const usersFile = join(dir, "phones.csv");
  // SIPp 3.6 expands no field inside [authentication ...] in a scenario, but does expand that keyword in an injection field.
  const line = (u: DemoUser): string => {
    const user = u.aor.slice(0, u.aor.indexOf("@"));
    return `${user};[authentication username=${user} password=${u.password}];`;
  };
  writeFileSync(usersFile, ["SEQUENTIAL", ...users.map(line)].join("\n") + "\n");
  const register = runSipp([
    `${stack.egress.sip.host}:${stack.egress.sip.port}`,
    "-sf", join(SCENARIOS, "phones-register.xml"),
    "-inf", usersFile,
    "-key", "domain", DOMAIN,
    "-m", String(users.length),
    "-r", "50",
    "-p", String(port),
    "-timeout", "30s",
  ]);
  const code = await register.exited;
  const errors = sippErrors(register);
  await register.stop();
  if (code !== 0) throw new Error(`the legacy phones did not all register through the egress (SIPp exit ${code}): ${errors}`);
  const uas = runSipp(["-sf", join(SCENARIOS, "trunks-carrier-uas.xml"), "-p", String(port), "-trace_stat", "-stf", "stats.csv", "-fd", "1"]);
  await waitListening(port, "udp", uas);
  return uas;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---- main -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const base = STORAGE === "shm" ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "sipedge-bench-trunks-"));
  const quiet = (): void => {};
  const maxLevel = Math.max(...LEVELS);
  // Fresh callers for every level (and one for the warm-up), so no level
  // inherits another's per-minute call counts; one callee per DID.
  const callerCount = 1 + LEVELS.reduce((a, b) => a + b, 0);
  const callers: DemoUser[] = Array.from({ length: callerCount }, (_, i) => ({ aor: `caller${i}@${DOMAIN}`, password: `caller-password-${i}` }));
  const callees: DemoUser[] = Array.from({ length: maxLevel }, (_, i) => ({ aor: `callee${i}@${DOMAIN}`, password: `callee-password-${i}` }));
  // "phone": subscribers whose only device is a legacy phone (SIPp) registered through the egress, one per DID.
  const phoneUsers: DemoUser[] = DIRECTIONS.includes("phone") ? Array.from({ length: maxLevel }, (_, i) => ({ aor: `phone${i}@${DOMAIN}`, password: `phone-password-${i}` })) : [];
  const secrets = newSecrets();
  // A block of media ports below the kernel's ephemeral range, chosen at random so two runs (or a test suite) rarely share one.
  const rtpMin = 20_000 + 1_000 * Math.floor(Math.random() * 10);
  const rtp = { min: rtpMin, max: rtpMin + 999 };
  const phones: SipPhone[] = [];
  const answerers: AutoAnswer[] = [];
  let stack: Stack | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await Promise.all(answerers.map((a) => a.stop()));
      await Promise.all(phones.map((p) => p.close().catch(() => undefined)));
      await Promise.all([...sippRuns].map((r) => r.stop()));
      await stack?.stop();
      rmSync(dir, { recursive: true, force: true });
    })());
  // Ctrl-C or a kill ends the process at once (Miniflare's own handlers call
  // process.exit), so what is left is killed synchronously on the way out:
  // SIPp here, the stack's children by startStack's own exit handler.
  process.on("exit", () => {
    for (const run of sippRuns) {
      if (run.process.exitCode === null && run.process.signalCode === null) run.process.kill("SIGKILL");
      rmSync(run.dir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

  try {
    const load0 = loadavg();
    stack = await startStack({
      host: HOST,
      ports: { edge: await freeTcpPort(), dynalite: await freeTcpPort(), ng: await freeUdpPort(), agent: await freeTcpPort(), rtpMin: rtp.min, rtpMax: rtp.max, egressSip: await freeTcpPort(), egressHttp: await freeTcpPort() },
      stateDir: dir,
      persistDirectory: false,
      domain: DOMAIN,
      secrets,
      users: [...callers, ...callees, ...phoneUsers],
      logFor: () => quiet,
    });
    const info: StackInfo = {
      edgeUrl: stack.edgeUrl,
      dynamoEndpoint: stack.dynamoEndpoint,
      ngAddress: stack.ngAddress,
      mediaAgentUrl: stack.mediaAgentUrl,
      rtpPorts: rtp,
      domain: DOMAIN,
      users: [...callers, ...callees, ...phoneUsers],
      secrets,
      logDir: dir,
    };
    const admin = async (method: string, path: string, body: unknown): Promise<void> => {
      const r = await adminFetch(info, method, path, body);
      if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    };

    // The carrier's gateway: one SIPp UAS for the whole run, answering OPTIONS probes too (-aa).
    const uasPort = await freeUdpPort();
    const uas = runSipp(["-sf", join(SCENARIOS, "trunks-carrier-uas.xml"), "-p", String(uasPort), "-aa", "-trace_stat", "-stf", "stats.csv", "-fd", "1"]);
    await waitListening(uasPort, "udp", uas);
    const b: Bench = { stack, pids: stackPids(), uas };
    console.log(
      `trunks: edge ${stack.edgeUrl}, egress SIP ${stack.egress.sip.host}:${stack.egress.sip.port} (pid ${b.pids.egress.join(", ")}), workerd pid ${b.pids.workerd.join(", ")}, ` +
        `carrier SIPp UAS udp ${HOST}:${uasPort}, DO storage ${STORAGE}, ${TIME_MS} ms per run, node ${process.version}`,
    );

    await admin("POST", "/v1/trunks", { id: TRUNK, egress: LOCAL_EGRESS_ID, gateways: [{ host: HOST, port: uasPort, transport: "udp" }], prefixes: ["+1555"], allowed_sources: [HOST], caller_id: { mode: "fixed", number: "+15550009999" } });
    for (const u of callers) await admin("PATCH", `/v1/subscribers/${u.aor}/call-out`, { can_call_out: true, allowed_prefixes: ["+1555"], max_concurrent_calls: 1000, max_calls_per_minute: 10_000 });
    for (const [i, u] of callees.entries()) await admin("PUT", `/v1/dids/${encodeURIComponent(didOf(i))}`, { aor: u.aor });
    const didFile = join(dir, "dids.csv");
    writeFileSync(didFile, ["SEQUENTIAL", ...callees.map((_, i) => `${didOf(i)};`)].join("\n") + "\n");
    for (const [i, u] of phoneUsers.entries()) await admin("PUT", `/v1/dids/${encodeURIComponent(phoneDidOf(i))}`, { aor: u.aor });
    const phoneDidFile = join(dir, "phone-dids.csv");
    writeFileSync(phoneDidFile, ["SEQUENTIAL", ...phoneUsers.map((_, i) => `${phoneDidOf(i)};`)].join("\n") + "\n");
    const phoneUas = phoneUsers.length > 0 ? await legacyPhones(stack, phoneUsers, dir) : undefined;

    // Every user connects and registers once (DOs created, caches warm); callees answer from now on.
    for (const u of [...callers, ...callees]) phones.push(await SipPhone.open(stack.edgeUrl, u.aor, u.password));
    await Promise.all(
      phones.map(async (p) => {
        const r = await p.register(600);
        if (r.status !== 200) throw new Error(`REGISTER of ${p.aor}: ${r.status}`);
      }),
    );
    const callerPhones = phones.slice(0, callers.length);
    for (const p of phones.slice(callers.length)) answerers.push(new AutoAnswer(p));

    // Warm-up, thrown away: the EgressLink DO, trunk and DID look-ups, rtpengine.
    if (DIRECTIONS.includes("outbound")) for (let i = 0; i < 3; i++) await outboundCall(callerPhones[0]!, numberOf(0)).finally(() => drain(callerPhones[0]!));
    if (DIRECTIONS.includes("inbound")) await inbound(b, 1, didFile, 3);
    if (phoneUas !== undefined) await inbound(b, 1, phoneDidFile, 3, "phone");

    // What the stack burns with no call at all (timers, heartbeats, polling): the floor under every per-call figure.
    const idle0 = cpuNow(b.pids);
    const idleT0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = cpuSince(idle0, cpuNow(b.pids));
    const idleWall = performance.now() - idleT0;

    const results: Result[] = [];
    let next = 1; // callerPhones[0] did the warm-up
    for (const c of LEVELS) {
      if (DIRECTIONS.includes("outbound")) {
        process.stdout.write(`  outbound calls, concurrency ${c}...\n`);
        results.push(await outbound(b, callerPhones.slice(next, next + c)));
      }
      next += c;
      if (DIRECTIONS.includes("inbound")) {
        process.stdout.write(`  inbound calls, concurrency ${c}...\n`);
        results.push(await inbound(b, c, didFile));
      }
      if (phoneUas !== undefined) {
        process.stdout.write(`  calls to legacy phones, concurrency ${c}...\n`);
        results.push(await inbound(b, c, phoneDidFile, undefined, "phone"));
      }
    }
    const uasStats = sippStats(join(uas.dir, "stats.csv"));
    const phoneStats = phoneUas !== undefined ? sippStats(join(phoneUas.dir, "stats.csv")) : {};
    printTable(results);
    console.log(
      `\ncarrier UAS (SIPp): ${uasStats["SuccessfulCall(C)"] ?? "?"} calls answered, ${uasStats["FailedCall(C)"] ?? "?"} failed` +
        (Number(uasStats["FailedCall(C)"] ?? 0) > 0 ? ` (its last errors: ${sippErrors(uas)})` : "") +
        `; callees answered ${answerers.reduce((s, a) => s + a.answered, 0)} calls and ${answerers.reduce((s, a) => s + a.byes, 0)} BYEs.` +
        (phoneUas !== undefined ? `\nlegacy phones' UAS (SIPp): ${phoneStats["SuccessfulCall(C)"] ?? "?"} calls answered, ${phoneStats["FailedCall(C)"] ?? "?"} failed` + (Number(phoneStats["FailedCall(C)"] ?? 0) > 0 ? ` (its last errors: ${sippErrors(phoneUas)})` : "") + "." : "") +
        `\nidle (no calls, ${IDLE_MS} ms): ${COMPONENTS.filter((c) => c !== "clients").map((c) => `${c} ${((idle[c] / idleWall) * 100).toFixed(1)}%`).join(", ")} of one core.` +
        `\nload average (1, 5, 15 min): before ${load0.map((l) => l.toFixed(2)).join(" ")}, after ${loadavg().map((l) => l.toFixed(2)).join(" ")}.`,
    );
  } finally {
    await cleanup();
  }
}

function printTable(results: Result[]): void {
  const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : "—");
  const rows = results.map((r) => {
    const setups = [...r.setups].sort((a, b) => a - b);
    const byes = [...r.byes].sort((a, b) => a - b);
    const per = (ms: number): string => fmt(ms / Math.max(1, r.calls), 2);
    const share = (ms: number): string => `${fmt((ms / r.wallMs) * 100, 0)}%`;
    return [
      r.direction,
      String(r.concurrency),
      String(r.calls),
      fmt(r.calls / (r.wallMs / 1000), 1),
      fmt(percentile(setups, 50), 1),
      fmt(percentile(setups, 99), 1),
      fmt(percentile(byes, 50), 1),
      per(r.cpu.workerd),
      per(r.cpu.egress),
      per(r.cpu.rtpengine),
      per(r.cpu.agent),
      per(r.cpu.dynalite),
      `${fmt((r.cpu.workerd + r.cpu.egress) / Math.max(1, r.calls) / KAMAILIO_MS_PER_CALL, 1)}×`,
      share(r.cpu.workerd),
      share(r.cpu.egress),
      share(r.cpu.clients),
      share(r.cpu.sipp),
      String(r.retransmissions),
      String(r.errors),
    ];
  });
  const head = [
    "direction", "conc", "calls", "calls/s", "setup p50 ms", "setup p99 ms", "BYE p50 ms",
    "workerd ms/call", "egress ms/call", "rtpengine ms/call", "agent ms/call", "dynalite ms/call", "vs Kamailio",
    "workerd CPU", "egress CPU", "WS clients CPU", "SIPp CPU", "retrans", "errors",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => "| " + cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
  console.log("");
  console.log(line(head));
  console.log("|" + widths.map((w, i) => (i < 1 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const r of rows) console.log(line(r));
  console.log(
    `\nReference (issue 5): Kamailio here relayed 500 UDP calls/s at about 41% of one core, ~${KAMAILIO_MS_PER_CALL.toFixed(2)} ms CPU per call.` +
      ` "vs Kamailio" is (workerd + egress) CPU per call over that; rtpengine, agent and dynalite are the media and directory work Kamailio's figure leaves out.` +
      `\nCPU shares are of one core over the run's wall time (2 cores here); the load generators (WS clients in this process, SIPp) share the machine with the stack.` +
      `\nOutbound setup: authenticated INVITE sent → 200 received (WS client); inbound and phone setup and BYE: SIPp's response times (INVITE → 200, BYE → 200).` +
      ` retrans: retransmissions the egress sent or absorbed during the run.`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
