import type { SipRequest, SipResponse } from "sip-parser-ts";
import { parseMessage } from "sip-parser-ts";
import type { TransactionTransport } from "../../src/transaction/transaction-transport.ts";
import { type Destination, type MessageSource, type TransportProtocol } from "../../src/transport/protocol.ts";
import { TransportError } from "../../src/transport/transport-error.ts";
import { stampSentBy } from "../../src/transport/via-stamp.ts";
import type { ManualClock } from "./manual-clock.ts";

export interface Sent {
  at: number;
  message: SipRequest | SipResponse;
  text: string;
  destination?: Destination;
  source?: MessageSource;
}

/**
 * A transport for the transaction state machines' unit tests (pure logic:
 * the sockets are tested separately, and against SIPp). Records what is
 * sent, with the time, and lets a test deliver messages or make sends fail.
 */
export class RecordingTransport implements TransactionTransport {
  readonly sent: Sent[] = [];
  /** Make the next sends fail with this errno code. */
  failWith: string | undefined;
  /** Pretend a UDP request went over this transport (a large one moved to TCP). */
  useTransport: TransportProtocol | undefined;
  private handler: ((m: SipRequest | SipResponse, s: MessageSource) => void) | undefined;

  constructor(private readonly clock: ManualClock) {}

  async sendRequest(request: SipRequest, destination: Destination): Promise<TransportProtocol> {
    if (this.failWith !== undefined) throw new TransportError(destination.transport, `${destination.host}:${destination.port}`, this.failWith, "test failure");
    const used = this.useTransport ?? destination.transport;
    stampSentBy(request, used, "192.0.2.10", 5060);
    this.sent.push({ at: this.clock.now(), message: request, text: request.toString(), destination });
    return used;
  }

  async sendResponse(response: SipResponse, source?: MessageSource): Promise<void> {
    if (this.failWith !== undefined) throw new TransportError("UDP", "x", this.failWith, "test failure");
    this.sent.push({ at: this.clock.now(), message: response, text: response.toString(), source });
  }

  onMessage(handler: (m: SipRequest | SipResponse, s: MessageSource) => void): void {
    this.handler = handler;
  }

  /** Delivers a message as if it arrived from `source`. */
  deliver(message: string | SipRequest | SipResponse, source: MessageSource = udpSource()): void {
    const m = typeof message === "string" ? parseMessage(message) : message;
    this.handler?.(m, source);
  }

  requests(method?: string): Sent[] {
    return this.sent.filter((s) => "method" in s.message && (method === undefined || s.message.method === method));
  }

  responses(status?: number): Sent[] {
    return this.sent.filter((s) => !("method" in s.message) && (status === undefined || (s.message as SipResponse).status === status));
  }
}

export function udpSource(address = "192.0.2.20", port = 5062): MessageSource {
  return { transport: "UDP", address, port, local: { address: "192.0.2.10", port: 5060 } };
}

export function tcpSource(address = "192.0.2.20", port = 40000): MessageSource {
  return { transport: "TCP", address, port, local: { address: "192.0.2.10", port: 5060 }, connectionId: "tcp-test" };
}

/** Lets the promise callbacks of sends run (the recording transport resolves asynchronously). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
