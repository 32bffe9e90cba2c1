// The link to the edge as a transport of the transaction layer (STYLE.md:
// the transport is a small interface, so the same RFC 3261 §17 transactions
// run over the carrier-side sockets and over this WebSocket). The link is
// reliable (RFC 7118 §5: WebSocket is a reliable transport), which is all
// the transactions need to know: no retransmission timers (§17.1.1.2). The
// transaction layer's types name the carrier-side transports, so the link
// presents itself as a reliable stream ("TCP") to it; on the wire our Via
// says WS or WSS (RFC 7118 §5.1).
import { parseVia, type SipRequest, type SipResponse } from "sip-parser-ts";
import type { Logger } from "../log.ts";
import type { TransactionTransport } from "../transaction/transaction-transport.ts";
import type { Destination, MessageSource, TransportProtocol } from "../transport/protocol.ts";
import { readInbound } from "../transport/inbound.ts";
import { TransportError } from "../transport/transport-error.ts";
import type { EdgeLink } from "./edge-link.ts";

/** The host of our Via on the link: a name, never resolved (PITFALLS 5). */
export const LINK_VIA_HOST = "egress.invalid";

/** Where requests for the edge go: the transaction layer's destination for the link. */
export const EDGE: Readonly<Destination> = Object.freeze({ transport: "TCP", host: "edge.invalid", port: 0, tcp: false });

/** Where messages from the edge come from. */
export const EDGE_SOURCE: Readonly<MessageSource> = Object.freeze({ transport: "TCP", address: "edge.invalid", port: 0, local: { address: LINK_VIA_HOST, port: 0 }, connectionId: "edge-link" });

export class LinkTransport implements TransactionTransport {
  private handler: ((message: SipRequest | SipResponse, source: MessageSource) => void) | undefined;
  /** Frames from the edge that were not SIP (logged and dropped: the edge is ours, this is a bug to see). */
  malformed = 0;

  constructor(
    private readonly link: EdgeLink,
    /** WS or WSS, as the link's URL (RFC 7118 §5.1). */
    private readonly viaTransport: "WS" | "WSS",
    private readonly logger: Logger,
  ) {
    link.onFrame((text) => this.receive(text));
  }

  onMessage(handler: (message: SipRequest | SipResponse, source: MessageSource) => void): void {
    this.handler = handler;
  }

  /** Sends a request whose top Via is ours: its sent-by becomes the link's (§18.1.1). */
  async sendRequest(request: SipRequest, _destination: Destination): Promise<TransportProtocol> {
    const via = parseVia(request.removeFirst("Via") ?? "");
    via.transport = this.viaTransport;
    via.host = LINK_VIA_HOST;
    via.port = undefined;
    // rport (RFC 3581) means nothing on a WebSocket.
    via.params.delete("rport");
    request.prepend("Via", via.toString());
    this.send(request);
    return "TCP";
  }

  async sendResponse(response: SipResponse, _source?: MessageSource): Promise<void> {
    this.send(response);
  }

  /** A message from the edge; malformed ones are logged and dropped (the edge's frames are its own proxy's output). */
  receive(text: string): void {
    const inbound = readInbound(text);
    if (!inbound.ok) {
      this.malformed++;
      this.logger.warn("link-frame-malformed", { status: inbound.status, reason: inbound.reason, method: inbound.method });
      return;
    }
    try {
      this.handler?.(inbound.message, EDGE_SOURCE);
    } catch (e) {
      this.logger.error("link-handler-error", { error: e instanceof Error ? e.message : String(e) });
    }
  }

  private send(msg: SipRequest | SipResponse): void {
    if (!this.link.send(msg.toString())) throw new TransportError("TCP", "edge", "ENOTCONN", "the link to the edge is down");
  }
}

