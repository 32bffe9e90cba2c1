import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequest, randomToken } from "sip-parser-ts";
import { type AnswerMode, type BaresipRegistration, baresipAccounts, baresipConfig } from "./baresip-config.ts";
import { type BaresipCall, BaresipCallLog, parseAudioDebug, plainLine, type RtpCounts, SipTraceLog, type TracedSipMessage } from "./baresip-output.ts";
import { BaresipRegistrationLog, type RegistrationStatus } from "./baresip-registration.ts";
import { diesWithParent, installedBinary } from "./child.ts";
import { pipeLines, type Log } from "./log.ts";
import { assertTcpPortFree, assertUdpPortFree, freeUdpPort, StackError, waitUntil } from "./ports.ts";
import { stopChild } from "./stack.ts";

export type { AnswerMode, BaresipRegistration } from "./baresip-config.ts";
export type { BaresipCall, RtpCounts, TracedSipMessage } from "./baresip-output.ts";
export type { RegistrationState, RegistrationStatus } from "./baresip-registration.ts";

export interface BaresipOptions {
  /**
   * Loopback address: SIP binds here and the SDP names it. Its RTP sockets
   * bind every interface (baresip's stream.c, "we listen on all
   * interfaces", not configurable in any version), on ports 1024-49151.
   */
  host: string;
  /** SIP over UDP and TCP. baresip 1.0.0 also binds TLS on `sipPort + 1`: both must be free. */
  sipPort: number;
  /** The numbers it answers to (its accounts; the first is the one it dials from). Default `["+15550100200"]`, none with a `registration`. */
  numbers?: readonly string[];
  /**
   * Registers a subscriber's AOR through the egress proxy, as a legacy phone
   * (issue 5); this account comes first, so it is the one that dials. It
   * turns baresip's SIP trace on (its unregistration at quit shows only
   * there); the trace has digest responses, never the password.
   */
  registration?: BaresipRegistration;
  /** `auto`: answers every call at once; `manual`: rings until `answer()`. */
  answerMode: AnswerMode;
  log: Log;
  /** A throw-away folder for its config (created if missing; the caller removes it). */
  dir: string;
  /** The tone it sends, in Hz (default 440). */
  toneHz?: number;
  /** Certificate and key (one PEM file) for SIP over TLS on `sipPort + 1`, as a trunk's TLS gateway. */
  tlsCertificate?: string;
  /** Log every SIP message it sends and receives (baresip -s). */
  sipTrace?: boolean;
  /** Named in the "port in use" error: how the user moves the port. */
  portOption?: string;
  readyTimeoutMs?: number;
  /** With a registration: how long `stop` lets baresip unregister before it is killed (default 15 s). */
  unregisterTimeoutMs?: number;
}

export type CallState = "incoming" | "established" | "closed";

export interface Baresip {
  process: ChildProcess;
  /** Its first account: where a trunk's gateway points, or the AOR it registers. */
  sipUri: string;
  sip: { host: string; port: number };
  /** Calls `uri` from its first account; resolves once baresip has sent the INVITE. */
  dial(uri: string): Promise<void>;
  /** Answers the ringing call (manual answer mode). */
  answer(): Promise<void>;
  /** Ends the current call and resolves once it has ended. */
  hangup(): Promise<BaresipCall>;
  /** Sends RFC 4733 telephone-events on the current call, one per character (0-9, *, #, A-D). */
  sendDtmf(digits: string): Promise<void>;
  /** The current call's live RTP counts (undefined without a call). */
  stats(): Promise<RtpCounts | undefined>;
  /** The telephone-events the newest call received. */
  dtmfReceived(): string;
  /** Waits until the newest call has received exactly `digits` (fails at once on any other digit). */
  waitForDtmf(digits: string, timeoutMs?: number): Promise<void>;
  /** Every call so far, oldest first. */
  calls(): readonly BaresipCall[];
  /** The SIP messages it sent and received so far (with `sipTrace` or a `registration` only; empty otherwise). */
  sipMessages(): readonly TracedSipMessage[];
  /** Waits for the first call at index `since` or later to be in `state` (closed counts as past incoming and established). */
  waitForCall(state: CallState, opts?: { since?: number; timeoutMs?: number }): Promise<BaresipCall>;
  /** The registration's state as baresip reports it (undefined without a `registration`). */
  registration(): RegistrationStatus | undefined;
  /**
   * Waits until the registrar has accepted the registration (a 2xx to its
   * REGISTER); fails at once when the registrar refuses it or baresip gives up.
   */
  waitForRegistration(timeoutMs?: number): Promise<RegistrationStatus>;
  /**
   * Quits (hanging up any call), then SIGTERM/SIGKILL if it lingers. With a
   * registration, baresip first unregisters (a REGISTER with expires=0) and
   * exits once that is answered: `registration()` then says whether the
   * registrar accepted it ("unregistered").
   */
  stop(): Promise<void>;
}

/** The default account: a number in the +1 555 01xx range that fiction uses. */
export const DEFAULT_BARESIP_NUMBER = "+15550100200";
/** Unknown to baresip: its "command not found" answer marks the end of a command's output. */
const SYNC = "sipedge-sync";

export function baresipBinary(): string {
  return installedBinary("baresip", "As root, run `apt-get install -y baresip-core` (Debian's baresip 1.0.0).");
}

/**
 * Runs Debian's baresip as a legacy SIP phone on loopback (a trunk's
 * gateway in tests and in `npm start`, or a subscriber's phone registered
 * through the egress proxy: `registration`, `waitForRegistration`): it
 * answers to `numbers` (and its registered AOR), sends a tone, and is
 * controlled through its standard input — menu commands
 * (`/dial`, `/accept`, `/hangup`, `/sndcode`, `/audio_debug`) whose output
 * and call events are read back from its log lines. That pipe is held by
 * this process only, so the control channel needs no port and no password
 * (baresip 1.0.0's ctrl_tcp has no authentication). Its own process group,
 * as every stack child (child.ts). Resolves once it answers an OPTIONS.
 */
export async function startBaresip(opts: BaresipOptions): Promise<Baresip> {
  const registration = opts.registration;
  const numbers = opts.numbers ?? (registration !== undefined ? [] : [DEFAULT_BARESIP_NUMBER]);
  const configOptions = { host: opts.host, sipPort: opts.sipPort, numbers, answerMode: opts.answerMode, toneHz: opts.toneHz ?? 440, ...(registration !== undefined ? { registration } : {}), ...(opts.tlsCertificate !== undefined ? { tlsCertificate: opts.tlsCertificate } : {}) };
  const config = baresipConfig(configOptions);
  const accounts = baresipAccounts(configOptions);
  const binary = baresipBinary();
  const option = opts.portOption ?? "another SIP port for baresip";
  await assertUdpPortFree("baresip SIP", opts.host, opts.sipPort, option);
  await assertTcpPortFree("baresip SIP", opts.host, opts.sipPort, option);
  await assertTcpPortFree("baresip SIP over TLS, always the SIP port + 1", opts.host, opts.sipPort + 1, option);
  mkdirSync(opts.dir, { recursive: true });
  writeFileSync(join(opts.dir, "config"), config);
  // It may hold a password: created anew, readable by its owner only (never printed).
  const accountsFile = join(opts.dir, "accounts");
  rmSync(accountsFile, { force: true });
  writeFileSync(accountsFile, accounts, { mode: 0o600 });

  const callLog = new BaresipCallLog();
  const trace = new SipTraceLog();
  const sipTrace = opts.sipTrace === true || registration !== undefined;
  const registrationLog = registration !== undefined ? new BaresipRegistrationLog(registration.aor) : undefined;
  let traced = 0;
  const listeners = new Set<(line: string) => void>();
  const onLine = (line: string): void => {
    opts.log(line);
    callLog.line(line);
    registrationLog?.line(line);
    if (sipTrace) {
      trace.line(line);
      for (; traced < trace.messages.length; traced++) registrationLog?.message(trace.messages[traced]!);
    }
    for (const l of [...listeners]) l(line);
  };
  // As spawnStackChild (child.ts) does, but with a pipe on stdin: it is the control channel.
  const child = spawn(...diesWithParent(binary, ["-f", opts.dir, ...(sipTrace ? ["-s"] : [])]), { stdio: ["pipe", "pipe", "pipe"], detached: true });
  pipeLines(child.stdout, onLine);
  pipeLines(child.stderr, onLine);
  // A write after it exited must not crash us (EPIPE): the exit is reported instead.
  child.stdin!.on("error", () => undefined);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killLeftover = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.on("exit", killLeftover);
  /** Waits that give up when baresip exits. */
  const onExit = new Set<() => void>();
  void exited.then(() => {
    process.off("exit", killLeftover);
    for (const giveUp of [...onExit]) giveUp();
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;

  /** Waits for a line (or a state change it causes) that makes `check` return a value; `check` may throw to give up. */
  const waitFor = <T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const settle = (): boolean => {
        let v: T | undefined;
        try {
          v = check();
        } catch (err) {
          reject(err);
          return true;
        }
        if (v === undefined) return false;
        resolve(v);
        return true;
      };
      if (settle()) return;
      if (gone()) return reject(new Error(`baresip has exited (code ${child.exitCode}, signal ${child.signalCode}); no ${what}`));
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
        onExit.delete(giveUp);
      };
      const listener = (): void => {
        if (settle()) done();
      };
      const giveUp = (): void => {
        done();
        reject(new Error(`baresip exited (code ${child.exitCode}, signal ${child.signalCode}) while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`baresip: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      listeners.add(listener);
      onExit.add(giveUp);
    });

  // One command at a time: its output is every line up to the answer to the sync command after it.
  let queue: Promise<unknown> = Promise.resolve();
  let syncs = 0;
  const command = (cmd: string, timeoutMs = 5_000): Promise<string[]> => {
    if (/[\r\n]/.test(cmd)) throw new TypeError(`baresip command must be one line: ${JSON.stringify(cmd)}`);
    const run = async (): Promise<string[]> => {
      if (gone()) throw new Error(`baresip has exited; cannot run /${cmd}`);
      const marker = `command not found (${SYNC}-${++syncs})`;
      const lines: string[] = [];
      let end = false;
      const collect = (line: string): void => {
        if (end) return;
        if (line.includes(marker)) end = true;
        else lines.push(plainLine(line));
      };
      listeners.add(collect);
      try {
        child.stdin!.write(`/${cmd}\n/${SYNC}-${syncs}\n`);
        await waitFor(`answer to /${cmd}`, () => (end ? true : undefined), timeoutMs);
        return lines;
      } finally {
        listeners.delete(collect);
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(noop);
    return result;
  };

  /** In-call commands (hangup, sndcode, audio_debug) exist only while there is a call. */
  const needCall = (lines: string[], cmd: string): void => {
    if (lines.some((l) => l.includes(`command not found (${cmd})`))) throw new Error(`baresip: no call to act on (/${cmd})`);
  };

  const stop = async (): Promise<void> => {
    if (gone()) return;
    child.stdin!.write("/quit\n");
    // A registered baresip exits once its unregistering REGISTER has its answer (libre waits for its transactions).
    const grace = registration !== undefined ? (opts.unregisterTimeoutMs ?? 15_000) : 2_000;
    const quit = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), grace).unref())]);
    if (!quit) await stopChild(child);
  };

  const sipUri = registration !== undefined ? `sip:${registration.aor}` : `sip:${numbers[0]}@${opts.host}:${opts.sipPort}`;
  // Any answer will do (a 404 too): the user is only there to make a well-formed request.
  const probeUser = numbers[0] ?? registration!.aor.slice(0, registration!.aor.lastIndexOf("@"));
  try {
    await waitUntil("baresip (its SIP port)", () => optionsAnswered(opts.host, opts.sipPort, probeUser), opts.readyTimeoutMs ?? 10_000, child);
  } catch (err) {
    await stop();
    throw err;
  }

  /** Whether `c` is in `state`; throws for a call that ended before it was answered while we wait for it to be. */
  const reached = (c: BaresipCall, state: CallState): boolean => {
    if (state === "closed") return c.closed !== undefined;
    if (state === "incoming") return c.direction === "incoming";
    if (c.established) return true;
    if (c.closed !== undefined) throw new Error(`baresip: the call with ${c.peer} ended before it was answered: ${c.closed}`);
    return false;
  };

  return {
    process: child,
    sipUri,
    sip: { host: opts.host, port: opts.sipPort },
    async dial(uri) {
      if (!/^sips?:[^\s<>"]+$/.test(uri)) throw new TypeError(`baresip can dial a SIP URI, not ${JSON.stringify(uri)}`);
      const since = callLog.calls.length;
      const lines = await command(`dial ${uri}`);
      const failed = lines.find((l) => /ua_connect failed/.test(l));
      if (failed !== undefined) throw new Error(`baresip did not dial ${uri}: ${failed}`);
      // The call starts after the command has returned: its "connecting to" line comes later.
      await waitFor(`call to ${uri} starting`, () => callLog.calls.slice(since).find((c) => c.direction === "outgoing"), 5_000);
    },
    async answer() {
      const c = callLog.current;
      if (c === undefined || c.direction !== "incoming" || c.established || c.closed !== undefined) throw new Error("baresip: no call to answer");
      await command("accept");
    },
    async hangup() {
      const c = callLog.current;
      if (c === undefined || c.closed !== undefined) throw new Error("baresip: no call to hang up");
      needCall(await command("hangup"), "hangup");
      await waitFor("end of the call", () => (c.closed !== undefined ? c : undefined), 10_000);
      // Its packet counts follow the end at once (rtp_stats); a call that never had media has none.
      return waitFor("end-of-call counts", () => c.final && c, 2_000).catch(() => c);
    },
    async sendDtmf(digits) {
      if (!/^[0-9*#A-D]+$/.test(digits)) throw new TypeError(`DTMF digits are 0-9, *, #, A-D, not ${JSON.stringify(digits)}`);
      for (const d of digits) needCall(await command(`sndcode ${d}`), "sndcode");
    },
    async stats() {
      return parseAudioDebug(await command("audio_debug"));
    },
    dtmfReceived: () => callLog.current?.dtmfReceived ?? "",
    async waitForDtmf(digits, timeoutMs = 10_000) {
      await waitFor(
        `DTMF ${JSON.stringify(digits)}`,
        () => {
          const got = callLog.current?.dtmfReceived ?? "";
          if (got === digits) return true;
          if (!digits.startsWith(got)) throw new Error(`baresip received DTMF ${JSON.stringify(got)}, expected ${JSON.stringify(digits)}`);
          return undefined;
        },
        timeoutMs,
      );
    },
    calls: () => callLog.calls,
    sipMessages: () => trace.messages,
    waitForCall(state, o = {}) {
      const since = o.since ?? 0;
      return waitFor(`call ${state === "closed" ? "ended" : state}`, () => callLog.calls.slice(since).find((c) => reached(c, state)), o.timeoutMs ?? 15_000);
    },
    registration: () => (registrationLog !== undefined ? { ...registrationLog.status } : undefined),
    waitForRegistration(timeoutMs = 15_000) {
      if (registrationLog === undefined) return Promise.reject(new Error("baresip was started without a registration"));
      return waitFor(
        `registration of ${registration!.aor}`,
        () => {
          const s = registrationLog.status;
          if (s.state === "registered") return { ...s };
          if (s.state !== "registering") throw new Error(`baresip: the registration of ${registration!.aor} ${s.state === "failed" ? "failed" : "ended"}: ${s.detail ?? s.state}`);
          return undefined;
        },
        timeoutMs,
      );
    },
    stop,
  };
}

/** A SIP port baresip can take now: UDP and TCP free on it, and TCP on the next one (its TLS); for `phones` baresips on consecutive pairs. */
export async function freeBaresipPort(host = "127.0.0.1", phones = 1): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await freeUdpPort(host);
    if (port + 2 * phones > 65535) continue;
    // Each phone takes its SIP port (UDP, TCP) and the next (TLS); `phones` of them side by side (npm start's demo: 2).
    const wanted = Array.from({ length: 2 * phones }, (_, i) => port + i);
    const free = await Promise.all([...wanted.map((p) => assertTcpPortFree("", host, p, "")), ...wanted.filter((p) => (p - port) % 2 === 0).map((p) => assertUdpPortFree("", host, p, ""))]).then(
      () => true,
      () => false,
    );
    if (free) return port;
  }
  throw new StackError(`no free SIP ports for ${phones} baresip(s) on ${host} after 50 tries`);
}

function noop(): void {}

/** One OPTIONS over UDP to `user@host:port` (RFC 3261 §11): true on any response — a 404 too means it is listening. */
export function optionsAnswered(host: string, port: number, user: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const callId = `${randomToken(16)}@${host}`;
    const timer = setTimeout(() => done(false), timeoutMs);
    function done(ok: boolean): void {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    }
    socket.on("error", () => done(false));
    socket.on("message", (msg) => {
      const text = msg.toString("latin1");
      if (text.startsWith("SIP/2.0 ") && text.includes(callId)) done(true);
    });
    socket.bind(0, host, () => {
      const local = socket.address().port;
      const uri = `sip:${user}@${host}:${port}`;
      const request = createRequest({
        method: "OPTIONS",
        uri,
        from: `<sip:probe@${host}:${local}>`,
        to: `<${uri}>`,
        callId,
        cseq: 1,
        via: `SIP/2.0/UDP ${host}:${local};rport`,
        headers: [["Accept", "application/sdp"]],
      });
      socket.send(String(request), port, host);
    });
  });
}
