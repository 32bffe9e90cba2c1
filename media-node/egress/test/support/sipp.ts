import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait.ts";

export const SCENARIOS = join(import.meta.dirname, "..", "scenarios");

/** One message from a SIPp -trace_msg log. */
export interface SippLogged {
  direction: "sent" | "received";
  text: string;
}

export interface Sipp {
  process: ChildProcess;
  /** The exit code (0: every call succeeded), once SIPp exits. */
  exited: Promise<number | null>;
  /** Stops it if it is still running (SIGTERM, then SIGKILL), then removes its folder. */
  stop(): Promise<void>;
  /** What its message log says it sent and received so far. */
  messages(): SippLogged[];
  /** Its error log, for assertion messages. */
  errors(): string;
}

/**
 * Runs /usr/bin/sipp on loopback (127.0.0.1, or another loopback address
 * to look like another source) with a message log. Every run is bounded
 * (-timeout, -m) and the tests stop it in afterAll whatever happened.
 */
export function runSipp(args: string[], opts: { localIp?: string } = {}): Sipp {
  const dir = mkdtempSync(join(tmpdir(), "sipedge-egress-sipp-"));
  const messageFile = join(dir, "messages.log");
  const errorFile = join(dir, "errors.log");
  const child = spawn("sipp", [...args, "-i", opts.localIp ?? "127.0.0.1", "-nostdin", "-timeout", "20s", "-timeout_error", "-trace_msg", "-message_file", messageFile, "-trace_err", "-error_file", errorFile], {
    cwd: dir,
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  const read = (f: string) => {
    try {
      return readFileSync(f, "latin1");
    } catch {
      return "";
    }
  };
  return {
    process: child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 2_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    messages: () => parseMessageLog(read(messageFile)),
    errors: () => read(errorFile),
  };
}

/**
 * SIPp's -trace_msg format: a dashed line with a timestamp, then
 * "UDP message received [N] bytes :" or "UDP message sent (N bytes):", an
 * empty line, and the message.
 */
export function parseMessageLog(log: string): SippLogged[] {
  const out: SippLogged[] = [];
  const re = /(?:^|\n)(?:UDP|TCP|TLS) (?:message received \[(\d+)\] bytes :|message sent \((\d+) bytes\):)\n\n/g;
  for (let m = re.exec(log); m !== null; m = re.exec(log)) {
    const len = Number(m[1] ?? m[2]);
    const start = m.index + m[0].length;
    out.push({ direction: m[1] !== undefined ? "received" : "sent", text: log.slice(start, start + len) });
  }
  return out;
}

/**
 * Waits until SIPp listens on `port` (read from /proc/net, so nothing is sent to it); given the run, fails at
 * once with SIPp's error log if it exits first (a port it could not bind).
 */
export async function waitListening(port: number, proto: "udp" | "tcp", run?: Pick<Sipp, "process"> & Partial<Pick<Sipp, "errors">>): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  await waitFor(`sipp listening on ${proto} ${port}`, () => {
    if (run !== undefined && (run.process.exitCode !== null || run.process.signalCode !== null)) {
      throw new Error(`sipp exited before listening on ${proto} ${port}: ${run.errors?.() || `exit ${run.process.exitCode ?? run.process.signalCode}`}`);
    }
    const table = readFileSync(`/proc/net/${proto}`, "latin1");
    return table.split("\n").some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1]?.endsWith(`:${hex}`) === true && (proto === "udp" || cols[3] === "0A");
    });
  });
}
