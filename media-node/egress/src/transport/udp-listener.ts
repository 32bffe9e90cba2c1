// SIP over UDP (RFC 3261 §18): one socket receives requests and responses
// and sends everything, so responses leave from the address and port the
// request arrived at (RFC 3581 §4) and NATs keep their binding.
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { TransportError } from "./transport-error.ts";

export interface UdpListenerOptions {
  host: string;
  port: number;
}

export type DatagramHandler = (data: Uint8Array, from: { address: string; port: number }) => void;

export class UdpListener {
  private socket: Socket | undefined;
  private bound: { address: string; port: number } | undefined;

  constructor(
    private readonly options: UdpListenerOptions,
    private readonly onDatagram: DatagramHandler,
    private readonly onSocketError: (err: Error) => void,
  ) {}

  async listen(): Promise<{ address: string; port: number }> {
    const socket = createSocket({ type: isIPv6(this.options.host) ? "udp6" : "udp4" });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: this.options.host, port: this.options.port, exclusive: true }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    // Errors after bind (ICMP-triggered ECONNREFUSED on some platforms,
    // EMSGSIZE…) are reported per send; a socket error event must never crash us.
    socket.on("error", (err) => this.onSocketError(err));
    socket.on("message", (msg, rinfo) => this.onDatagram(msg, { address: rinfo.address, port: rinfo.port }));
    this.socket = socket;
    const a = socket.address();
    this.bound = { address: a.address, port: a.port };
    return this.bound;
  }

  get address(): { address: string; port: number } | undefined {
    return this.bound;
  }

  send(data: Uint8Array, host: string, port: number): Promise<void> {
    const socket = this.socket;
    const target = `${host}:${port}`;
    if (socket === undefined) return Promise.reject(new TransportError("UDP", target, "ENOTCONN", "UDP listener is closed"));
    return new Promise((resolve, reject) => {
      socket.send(data, port, host, (err) => (err ? reject(TransportError.from("UDP", target, err)) : resolve()));
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
