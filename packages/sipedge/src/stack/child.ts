import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { pipeLines, type Log } from "./log.ts";
import { StackError } from "./ports.ts";

/**
 * Starts one process of the local stack with its output in `log`. It runs in
 * its own process group, so the terminal's Ctrl-C reaches only us and we stop
 * the stack in order (the media agent still needs DynamoDB to remove its
 * row); stack.ts kills what is left if we exit early.
 */
export function spawnStackChild(command: string, args: string[], log: Log, env?: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(...diesWithParent(command, args), { stdio: ["ignore", "pipe", "pipe"], detached: true, ...(env ? { env } : {}) });
  pipeLines(child.stdout, log);
  pipeLines(child.stderr, log);
  return child;
}

/**
 * The command line that runs `command` so that it gets SIGTERM when we die,
 * even by SIGKILL (Linux's parent-death signal, set by util-linux `setpriv`,
 * which then execs the command in place: same pid, same process group). A
 * detached child outlives a killed parent otherwise, holding its ports; an
 * orphaned baresip reading a closed stdin spins a core. Without setpriv the
 * command runs as is (process.on("exit") handlers still cover normal exits).
 */
export function diesWithParent(command: string, args: readonly string[]): [string, string[]] {
  setprivPath ??= pathOf("setpriv") ?? "";
  return setprivPath === "" ? [command, [...args]] : [setprivPath, ["--pdeathsig", "SIGTERM", "--", command, ...args]];
}

let setprivPath: string | undefined;

/** The path of a Debian-installed program the stack runs, or a StackError saying how to install it. */
export function installedBinary(name: string, install: string): string {
  const path = pathOf(name);
  if (path === undefined) throw new StackError(`${name} is not installed. ${install}`);
  return path;
}

/** Where the shell finds `name` on the PATH, if anywhere. */
function pathOf(name: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = r.stdout.trim();
  return r.status === 0 && path !== "" ? path : undefined;
}
