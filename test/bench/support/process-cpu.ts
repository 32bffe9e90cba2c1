import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of the processes a benchmark started, from /proc (Linux): utime +
 * stime of every thread, so a multi-threaded server (workerd, rtpengine) is
 * counted whole. USER_HZ is 100 on Linux.
 */
const CLK_TCK = 100;

export interface ChildProcessInfo {
  pid: number;
  /** The executable's name (`comm`): "workerd", "rtpengine", "node", "sipp"... */
  comm: string;
  /** The command line, arguments joined by spaces. */
  cmdline: string;
}

/** Fields after `comm` in /proc/<pid>/stat (field 3 is index 0), or undefined when the process is gone. */
function statFields(pid: number | "self"): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (of any of its threads). */
export function childProcesses(pid: number = process.pid): ChildProcessInfo[] {
  const pids = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(" ")) if (c !== "") pids.add(Number(c));
    } catch {
      // thread gone meanwhile
    }
  }
  const out: ChildProcessInfo[] = [];
  for (const child of pids) {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const cmdline = readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").join(" ").trim();
      out.push({ pid: child, comm, cmdline });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** CPU ms (user + system) of a process and all its descendants still running; 0 for a process that is gone. */
export function processTreeCpuMs(pid: number): number {
  const f = statFields(pid);
  if (f === undefined) return 0;
  let total = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime, stime (fields 14, 15)
  for (const child of childProcesses(pid)) total += processTreeCpuMs(child.pid);
  return total;
}

/**
 * CPU ms of this process's children that have exited and been waited for
 * (cutime + cstime, fields 16 and 17): how to count a short-lived child,
 * such as a load generator run once, after it is gone.
 */
export function exitedChildrenCpuMs(): number {
  const f = statFields("self");
  return f === undefined ? 0 : ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
}
