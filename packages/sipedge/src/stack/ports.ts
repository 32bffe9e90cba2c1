import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** A problem starting the local stack, worded so the user can fix it. */
export class StackError extends Error {
  override name = "StackError";
}

function portInUse(what: string, host: string, port: number, proto: string, option: string): StackError {
  return new StackError(
    `${proto} port ${host}:${port} (${what}) is already in use. ` +
      `Stop whatever holds it (find it with \`ss -lnp 'sport = :${port}'\`; an earlier \`npm start\` still running?), ` +
      `or choose another port with ${option}.`,
  );
}

export function assertTcpPortFree(what: string, host: string, port: number, option: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? portInUse(what, host, port, "TCP", option) : err);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

export function assertUdpPortFree(what: string, host: string, port: number, option: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(err.code === "EADDRINUSE" ? portInUse(what, host, port, "UDP", option) : err);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve()));
  });
}

/** A TCP port the kernel says is free now (for tests, which must not collide with `npm start`). */
export function freeTcpPort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it resolves true, or fails after `timeoutMs` naming `what`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: { exitCode: number | null }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    if (child && child.exitCode !== null) throw new StackError(`${what} exited (code ${child.exitCode}) before it was ready; see its log lines above.`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new StackError(`${what} did not become ready within ${timeoutMs / 1000} s; see its log lines above.`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}

/** A port free for UDP and TCP alike: an egress listens on both with one number (its Path and Record-Routes name it). */
export async function freeSipPort(host = "127.0.0.1"): Promise<number> {
  for (;;) {
    const port = await freeUdpPort(host);
    if (await assertTcpPortFree("SIP", host, port, "-").then(() => true, () => false)) return port;
  }
}

/** A UDP port the kernel says is free now. */
export function freeUdpPort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind({ address: host, port: 0 }, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
