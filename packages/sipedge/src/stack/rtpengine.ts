import type { ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { installedBinary, spawnStackChild } from "./child.ts";
import type { Log } from "./log.ts";
import { waitUntil } from "./ports.ts";

export interface RtpengineOptions {
  /** Media and control address (loopback locally). */
  host: string;
  ngPort: number;
  portMin: number;
  portMax: number;
  /** `--interface` values; default one interface on `host`. A VM pair is `internal/PRIVATE` and `external/PRIVATE!PUBLIC` (PITFALLS 2). */
  interfaces?: string[];
  log: Log;
}

export interface Rtpengine {
  ngAddress: { host: string; port: number };
  process: ChildProcess;
}

export function rtpengineBinary(): string {
  return installedBinary("rtpengine", "As root, `npm start` installs it; otherwise run `sudo apt-get install -y rtpengine-daemon`.");
}

/**
 * Starts a userspace rtpengine on loopback (PLATFORM.md, "rtpengine 10.5"):
 * `--config-file=none` so Debian's /etc config is not loaded, `--table=-1`
 * for no kernel forwarding.
 */
export async function startRtpengine(opts: RtpengineOptions): Promise<Rtpengine> {
  const args = [
    "--config-file=none",
    "--table=-1",
    "--foreground",
    "--log-stderr",
    "--log-level=5",
    ...(opts.interfaces ?? [opts.host]).map((i) => `--interface=${i}`),
    `--port-min=${opts.portMin}`,
    `--port-max=${opts.portMax}`,
    `--listen-ng=${opts.host}:${opts.ngPort}`,
  ];
  const child = spawnStackChild(rtpengineBinary(), args, opts.log);
  const ngAddress = { host: opts.host, port: opts.ngPort };
  await waitUntil("rtpengine", () => ngPing(ngAddress), 15_000, child);
  return { ngAddress, process: child };
}

/** One ng `ping` over UDP (bencode); true when rtpengine answers `pong`. */
export function ngPing(addr: { host: string; port: number }, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const cookie = `ping${process.pid}${Date.now()}`;
    const timer = setTimeout(() => done(false), timeoutMs);
    function done(ok: boolean): void {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    }
    socket.on("error", () => done(false));
    socket.on("message", (msg) => done(msg.toString("latin1").startsWith(`${cookie} `) && msg.includes("pong")));
    socket.send(`${cookie} d7:command4:pinge`, addr.port, addr.host);
  });
}
