import type { Readable } from "node:stream";

const COLORS = [36, 33, 35, 32, 34, 31, 90];
let nextColor = 0;

export type Log = (line: string) => void;

/** A logger whose lines carry a fixed, coloured `[name]` prefix. */
export function prefixedLog(name: string, out: NodeJS.WritableStream = process.stdout): Log {
  const color = COLORS[nextColor++ % COLORS.length];
  const useColor = (out as NodeJS.WriteStream).isTTY === true && !process.env.NO_COLOR;
  const prefix = useColor ? `\x1b[${color}m[${name}]\x1b[0m ` : `[${name}] `;
  return (line: string) => {
    out.write(prefix + line + "\n");
  };
}

/** Forwards a child's output line by line into a log. */
export function pipeLines(stream: Readable | null, log: Log): void {
  if (stream === null) return;
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      log(pending.slice(0, nl).replace(/\r$/, ""));
      pending = pending.slice(nl + 1);
    }
  });
  stream.on("end", () => {
    if (pending.length > 0) log(pending);
  });
}
