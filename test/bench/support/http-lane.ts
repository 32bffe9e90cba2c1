import { connect, type Socket } from "node:net";

/**
 * The lightest HTTP/1.1 client there is, so a benchmark measures the server
 * and not its client: one keep-alive connection, one request at a time,
 * each request written with a single syscall, the reply framed by its
 * Content-Length (our agent and workerd always send one; anything else is
 * refused). On this machine Node's fetch costs ~1 ms more per request and
 * node:http ~0.1 ms more. Open one lane per request in flight.
 */
export interface LaneReply {
  status: number;
  body: string;
}

const HEADER_END = Buffer.from("\r\n\r\n");

export class HttpLane {
  private socket: Socket | undefined;
  private waiting: { resolve: (r: LaneReply) => void; reject: (e: Error) => void } | undefined;
  private received: Buffer = Buffer.alloc(0);

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async post(path: string, body: string, headers: Record<string, string> = {}): Promise<LaneReply> {
    if (this.waiting) throw new Error("an HttpLane carries one request at a time");
    const socket = this.socket ?? (await this.open());
    const bytes = Buffer.from(body, "utf8");
    let head = `POST ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Length: ${bytes.length}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    return new Promise<LaneReply>((resolve, reject) => {
      this.waiting = { resolve, reject };
      socket.write(Buffer.concat([Buffer.from(head + "\r\n", "latin1"), bytes]));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        this.socket = socket;
        this.received = Buffer.alloc(0);
        resolve(socket);
      });
      socket.on("data", (chunk: Buffer) => this.onData(chunk));
      // The server closes idle connections (Node: 5 s keep-alive); the next request reconnects.
      socket.on("close", () => {
        if (this.socket === socket) this.socket = undefined;
        this.fail(new Error(`connection to ${this.host}:${this.port} closed`));
      });
      socket.on("error", () => undefined);
    });
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    const end = this.received.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.received.toString("latin1", 0, end);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    if (!status || length === undefined) return this.fail(new Error(`reply without a status or Content-Length: ${head}`));
    const total = end + HEADER_END.length + Number(length);
    if (this.received.length < total) return;
    const body = this.received.toString("utf8", end + HEADER_END.length, total);
    this.received = this.received.subarray(total);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve({ status, body });
  }

  private fail(err: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
  }
}
