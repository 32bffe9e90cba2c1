import WebSocket from "ws";
import { headerOf } from "./sip-ws-client.ts";

/** One WebSocket frame as a library sent or received it. */
export interface Frame {
  dir: ">" | "<";
  text: string;
}

/**
 * The `ws` WebSocket, recording every frame: JsSIP and SIP.js open their
 * sockets with the global WebSocket, so installing this lets a test assert
 * the exact SIP exchange a real library had with the edge (black box).
 */
export class RecordingWebSocket extends WebSocket {
  static readonly all: RecordingWebSocket[] = [];
  /** Called on every frame of every recording socket (waitForFrame). */
  static readonly listeners = new Set<() => void>();
  readonly frames: Frame[] = [];

  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    this.on("message", (data) => this.record({ dir: "<", text: data.toString() }));
    RecordingWebSocket.all.push(this);
  }

  override send(data: unknown, ...rest: unknown[]): void {
    this.record({ dir: ">", text: String(data) });
    (super.send as (...args: unknown[]) => void)(data, ...rest);
  }

  private record(f: Frame): void {
    this.frames.push(f);
    for (const l of RecordingWebSocket.listeners) l();
  }
}

/** Waits until the exchange of a Call-ID on `path` contains `entry` (e.g. "< 200 BYE"). */
export function waitForFrame(path: string, callId: string, entry: string, timeoutMs = 5_000): Promise<void> {
  if (exchange(path, callId).includes(entry)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!exchange(path, callId).includes(entry)) return;
      clearTimeout(timer);
      RecordingWebSocket.listeners.delete(check);
      resolve();
    };
    const timer = setTimeout(() => {
      RecordingWebSocket.listeners.delete(check);
      reject(new Error(`no "${entry}" for ${callId} on ${path} within ${timeoutMs} ms; seen: ${exchange(path, callId).join(", ")}`));
    }, timeoutMs);
    RecordingWebSocket.listeners.add(check);
  });
}

export function installRecordingWebSocket(): void {
  (globalThis as { WebSocket?: unknown }).WebSocket = RecordingWebSocket;
}

/** Every frame of one Call-ID on the sockets opened to `path` (e.g. "/ws/alice@example.com"), as "> INVITE", "< 407 INVITE". */
export function exchange(path: string, callId: string): string[] {
  const out: string[] = [];
  for (const ws of RecordingWebSocket.all) {
    if (!ws.url.endsWith(path)) continue;
    for (const f of ws.frames) {
      if (headerOf(f.text, "Call-ID") !== callId) continue;
      const start = f.text.slice(0, f.text.indexOf("\r\n"));
      const what = start.startsWith("SIP/2.0 ") ? `${start.split(" ")[1]} ${headerOf(f.text, "CSeq")?.split(" ")[1]}` : start.split(" ")[0];
      out.push(`${f.dir} ${what}`);
    }
  }
  return out;
}

/**
 * Drops retransmissions of the 2xx to INVITE and of its ACK (RFC 3261
 * §13.3.1.4: the UAS repeats its 2xx until the ACK arrives, from 500 ms on;
 * a loaded machine gets there), so an exchange can be compared exactly.
 */
export function withoutRetransmissions(entries: string[]): string[] {
  const out: string[] = [];
  let afterOk = false;
  for (const e of entries) {
    const repeatable = e.endsWith(" 200 INVITE") || e.endsWith(" ACK");
    if (afterOk && repeatable && out.slice(out.findIndex((x) => x.endsWith(" 200 INVITE"))).includes(e)) continue;
    if (e.endsWith(" 200 INVITE")) afterOk = true;
    out.push(e);
  }
  return out;
}
