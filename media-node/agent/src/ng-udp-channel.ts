import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { bdecode, bencodeText, BencodeError, type BencodeValue } from "./bencode.ts";
import type { HostPort } from "./config.ts";

/**
 * The ng control channel to the local rtpengine over UDP, in bencode
 * (rtpengine docs/ng_control_protocol.md). Shaped like mediasoup's Channel:
 * cookie → pending `{resolve, reject, timer}`, a closed flag.
 *
 * Every request gets a cookie of its own. A request that is not answered in
 * time is sent again with the SAME cookie: rtpengine caches replies by
 * cookie, so a retransmitted `offer` returns the first reply instead of
 * creating a second session. The whole exchange is bounded by `timeoutMs`.
 * Keep this hop on loopback: a large reply lost over a real network makes a
 * healthy node look dead (PITFALLS 17, 25).
 */
export interface NgUdpChannelOptions extends HostPort {
  /** Total time for one request, retransmissions included. */
  timeoutMs: number;
  /** First retransmission after this; then doubling. */
  retransmitMs: number;
  /** Called for every retransmitted datagram (metrics). */
  onRetransmit?: (command: string) => void;
}

export type NgDict = { [key: string]: BencodeValue };

export class NgUdpTimeoutError extends Error {
  override name = "NgUdpTimeoutError";
}
export class NgUdpReplyError extends Error {
  override name = "NgUdpReplyError";
}
export class NgUdpClosedError extends Error {
  override name = "NgUdpClosedError";
}

interface Pending {
  command: string;
  datagram: Buffer;
  resolve: (reply: NgDict) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  timeoutMs: number;
  deadline: number;
  nextGap: number;
  retransmits: number;
}

/** Largest datagram we send: the ng reply to a Chrome offer is ~2-6 KB; a UDP datagram tops out at 65,507 bytes. */
const MAX_DATAGRAM = 65_507;

export class NgUdpChannel {
  private socket: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(6).toString("hex");
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: NgUdpChannelOptions) {}

  get inFlight(): number {
    return this.pending.size;
  }

  async open(): Promise<void> {
    const socket = createSocket({ type: this.opts.host.includes(":") ? "udp6" : "udp4" });
    // A connected socket: each send skips the address lookup (a resolver
    // round and a tick in node:dgram), and the kernel delivers only
    // rtpengine's datagrams to us.
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: this.opts.host.includes(":") ? "::1" : "127.0.0.1", port: 0 }, () => {
        socket.connect(this.opts.port, this.opts.host, () => {
          socket.off("error", reject);
          resolve();
        });
      });
    });
    socket.on("message", (msg) => this.onDatagram(msg));
    // A failed send (ECONNREFUSED after an ICMP error while rtpengine is
    // down) surfaces as a timeout, after the retransmissions.
    socket.on("error", () => undefined);
    this.socket = socket;
  }

  /** Sends one ng dictionary; resolves with rtpengine's reply dictionary, whatever its `result`. */
  request(dict: NgDict, timeoutMs = this.opts.timeoutMs): Promise<NgDict> {
    if (this.closed || this.socket === undefined) return Promise.reject(new NgUdpClosedError("ng channel is closed"));
    const command = typeof dict.command === "string" ? dict.command : "?";
    const cookie = `${this.prefix}_${(++this.seq).toString(36)}`;
    const datagram = Buffer.from(`${cookie} ${bencodeText(dict)}`, "utf8");
    if (datagram.length > MAX_DATAGRAM) return Promise.reject(new NgUdpReplyError(`ng request of ${datagram.length} bytes does not fit a UDP datagram`));
    return new Promise<NgDict>((resolve, reject) => {
      const now = performance.now();
      const p: Pending = {
        command,
        datagram,
        resolve,
        reject,
        timeoutMs,
        deadline: now + timeoutMs,
        nextGap: this.opts.retransmitMs,
        retransmits: 0,
        timer: undefined as unknown as NodeJS.Timeout,
      };
      this.pending.set(cookie, p);
      this.send(p);
      this.arm(cookie, p);
    });
  }

  private send(p: Pending): void {
    this.socket?.send(p.datagram);
  }

  private arm(cookie: string, p: Pending): void {
    const left = p.deadline - performance.now();
    if (left <= 0) return this.expire(cookie, p);
    // When the next retransmission would not come before the deadline, this
    // timer ends the request. Deciding that here, not by reading the clock
    // when the timer fires, keeps a timer that fires a millisecond early
    // from sending one retransmission too many.
    const last = p.nextGap >= left;
    p.timer = setTimeout(
      () => {
        if (last) return this.expire(cookie, p);
        p.retransmits++;
        p.nextGap *= 2;
        this.opts.onRetransmit?.(p.command);
        this.send(p);
        this.arm(cookie, p);
      },
      last ? left : p.nextGap,
    );
  }

  private expire(cookie: string, p: Pending): void {
    this.pending.delete(cookie);
    p.reject(new NgUdpTimeoutError(`rtpengine did not answer "${p.command}" within ${p.timeoutMs} ms (${p.retransmits} retransmissions)`));
  }

  private onDatagram(msg: Buffer): void {
    const space = msg.indexOf(0x20);
    if (space <= 0) return;
    const cookie = msg.toString("latin1", 0, space);
    const p = this.pending.get(cookie);
    if (p === undefined) return; // a late duplicate of a reply we already used
    this.pending.delete(cookie);
    clearTimeout(p.timer);
    let reply: BencodeValue;
    try {
      reply = bdecode(msg.subarray(space + 1));
    } catch (err) {
      p.reject(new NgUdpReplyError(`undecodable reply to "${p.command}": ${err instanceof BencodeError ? err.message : String(err)}`));
      return;
    }
    if (typeof reply !== "object" || reply === null || Array.isArray(reply)) {
      p.reject(new NgUdpReplyError(`reply to "${p.command}" is not a dictionary`));
      return;
    }
    p.resolve(reply);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new NgUdpClosedError("ng channel closed"));
    }
    this.pending.clear();
    this.socket?.close();
    this.socket = undefined;
  }
}
