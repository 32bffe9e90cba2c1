import type { SipRequest, SipResponse } from "sip-parser-ts";
import type { Destination, MessageSource, TransportProtocol } from "../transport/protocol.ts";

/**
 * What the transaction layer needs from a transport (STYLE.md: the
 * transport is a small interface, so the same transactions run over the
 * egress's sockets and, in unit tests, over a recorder). SipTransportLayer
 * implements it.
 */
export interface TransactionTransport {
  /**
   * Sends a request whose top Via is ours (the transport fills its sent-by,
   * §18.1.1). Resolves with the transport actually used, which may differ
   * from the destination's (§18.1.1, a large request over TCP); rejects with
   * a TransportError.
   */
  sendRequest(request: SipRequest, destination: Destination): Promise<TransportProtocol>;
  /** Sends a response back per §18.2.2; rejects with a TransportError. */
  sendResponse(response: SipResponse, source?: MessageSource): Promise<void>;
  /** Registers the receiver of every message that arrives. */
  onMessage(handler: (message: SipRequest | SipResponse, source: MessageSource) => void): void;
}
