// The transaction layer (RFC 3261 §17): creates client transactions for
// the requests the transaction user sends, matches responses to them
// (§17.1.3), matches requests to server transactions or creates new ones
// (§17.2.3), and hands the TU what is its: new requests, ACKs for 2xx, and
// responses no transaction claims.
import { type SipRequest, type SipResponse, newBranch } from "sip-parser-ts";
import { type Clock, systemClock } from "../clock.ts";
import { type TransactionCounters, newTransactionCounters, snapshot } from "../counters.ts";
import { type Logger, silentLogger } from "../log.ts";
import { messageFields } from "../message-fields.ts";
import type { Destination, MessageSource, TransportProtocol } from "../transport/protocol.ts";
import type { ClientTransaction, ResponseListener } from "./client-transaction.ts";
import { InviteClientTransaction } from "./invite-client-transaction.ts";
import { InviteServerTransaction } from "./invite-server-transaction.ts";
import { isRfc2543, responseClientKey, serverKey } from "./match-keys.ts";
import { NonInviteClientTransaction } from "./non-invite-client-transaction.ts";
import { NonInviteServerTransaction } from "./non-invite-server-transaction.ts";
import type { ServerTransaction } from "./server-transaction.ts";
import { type TimerConfig, type Timers, resolveTimers } from "./timers.ts";
import type { TransactionContext } from "./transaction-context.ts";
import type { TransactionTransport } from "./transaction-transport.ts";

/**
 * A request for the TU: `transaction` is its new server transaction, or
 * undefined for an ACK (the ACK for a 2xx has no transaction of its own,
 * §17.1.1.3, §13.3.1.4).
 */
export type RequestHandler = (request: SipRequest, transaction: ServerTransaction | undefined, source: MessageSource) => void;

/** A response that matched no client transaction (§17.1.3: "passed to the core"): a retransmitted 2xx, a stray. */
export type StrayResponseHandler = (response: SipResponse, source: MessageSource) => void;

export interface TransactionLayerOptions {
  transport: TransactionTransport;
  timers?: Partial<TimerConfig>;
  clock?: Clock;
  logger?: Logger;
}

export interface SendRequestOptions {
  /** The branch of our Via (§8.1.1.7); a fresh "z9hG4bK…" one when omitted. */
  branch?: string;
  /** Listener for every response, attached before the request leaves. */
  onResponse?: ResponseListener;
}

/** The Via a request leaves with; the transport replaces the sent-by placeholder with its own (§18.1.1). */
const SENT_BY_PLACEHOLDER = "sent-by.invalid";

export class TransactionLayer {
  readonly counters: TransactionCounters = newTransactionCounters();
  readonly timers: Readonly<Timers>;
  private readonly ctx: TransactionContext;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private requestHandler: RequestHandler | undefined;
  private strayHandler: StrayResponseHandler | undefined;

  constructor(options: TransactionLayerOptions) {
    this.timers = resolveTimers(options.timers);
    this.ctx = {
      transport: options.transport,
      clock: options.clock ?? systemClock,
      timers: this.timers,
      counters: this.counters,
      logger: options.logger ?? silentLogger,
    };
    options.transport.onMessage((message, source) => this.receive(message, source));
  }

  /** The TU's handler of new requests (and ACKs). Without one, requests are answered 500. */
  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  onStrayResponse(handler: StrayResponseHandler): void {
    this.strayHandler = handler;
  }

  /**
   * Sends a request in a new client transaction: adds our Via on top
   * (branch, `rport` per RFC 3581 §3) and starts the state machine. INVITE
   * gets an InviteClientTransaction (cancel it with `cancel()`); ACK and
   * CANCEL are not sent this way (`sendAck`, `InviteClientTransaction.cancel`).
   */
  sendRequest(request: SipRequest, destination: Destination, options: SendRequestOptions = {}): ClientTransaction {
    if (request.method === "ACK") throw new TypeError("an ACK has no client transaction: use sendAck() (the ACK for a non-2xx is the transaction's own)");
    if (request.method === "CANCEL") throw new TypeError("cancel an INVITE with its transaction's cancel() (§9.1)");
    this.addVia(request, destination.transport, options.branch);
    const tx =
      request.method === "INVITE"
        ? new InviteClientTransaction(request, destination, this.ctx, (cancel, dest) => this.startClient(new NonInviteClientTransaction(cancel, dest, this.ctx)))
        : new NonInviteClientTransaction(request, destination, this.ctx);
    if (options.onResponse !== undefined) tx.onResponse(options.onResponse);
    return this.startClient(tx);
  }

  /** An INVITE's client transaction (typed). */
  sendInvite(request: SipRequest, destination: Destination, options: SendRequestOptions = {}): InviteClientTransaction {
    if (request.method !== "INVITE") throw new TypeError("sendInvite() sends INVITE");
    return this.sendRequest(request, destination, options) as InviteClientTransaction;
  }

  /**
   * Sends the ACK for a 2xx (§13.2.2.4): no transaction, our Via on top with
   * a new branch. The UAC core answers each retransmitted 2xx by sending the
   * same ACK again: pass `{ resend: true }` then, and no second Via is
   * added. Resolves with the transport used; rejects with TransportError.
   */
  sendAck(ack: SipRequest, destination: Destination, options: { branch?: string; resend?: boolean } = {}): Promise<TransportProtocol> {
    if (ack.method !== "ACK") throw new TypeError("sendAck() sends ACK");
    if (options.resend !== true) this.addVia(ack, destination.transport, options.branch);
    return this.ctx.transport.sendRequest(ack, destination);
  }

  /**
   * Passes a response on without a transaction (a proxy forwarding a 2xx
   * retransmission, §16.7): routed by its top Via (§18.2.2).
   */
  sendStatelessResponse(response: SipResponse, source?: MessageSource): Promise<void> {
    return this.ctx.transport.sendResponse(response, source);
  }

  /** §9.2: the INVITE server transaction a CANCEL cancels (same match key but the method), if it is alive. */
  findInviteFor(cancel: SipRequest): InviteServerTransaction | undefined {
    const tx = this.servers.get(serverKey(cancel, "INVITE"));
    if (!(tx instanceof InviteServerTransaction)) return undefined;
    if (isRfc2543(cancel) && (cancel.to.tag ?? "") !== (tx.request.to.tag ?? "")) return undefined;
    return tx;
  }

  /** A message from the transport (public so other transports can feed it). Never throws. */
  receive(message: SipRequest | SipResponse, source: MessageSource): void {
    try {
      if ("method" in message) this.receiveRequest(message, source);
      else this.receiveResponse(message, source);
    } catch (e) {
      this.ctx.logger.error("transaction-layer-error", { ...messageFields(message), error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Live transactions. */
  get size(): { client: number; server: number } {
    return { client: this.clients.size, server: this.servers.size };
  }

  snapshot(): TransactionCounters {
    return snapshot(this.counters);
  }

  /** Ends every transaction now (shutdown): waiting client transactions resolve with a local 503. */
  close(): void {
    for (const tx of [...this.clients.values()]) tx.abort();
    for (const tx of [...this.servers.values()]) tx.abort();
  }

  // ---- internals -------------------------------------------------------------

  private addVia(request: SipRequest, transport: TransportProtocol, branch = newBranch()): void {
    request.prepend("Via", `SIP/2.0/${transport} ${SENT_BY_PLACEHOLDER};branch=${branch};rport`);
  }

  private startClient<T extends ClientTransaction>(tx: T): T {
    if (this.clients.has(tx.key)) throw new TypeError(`a client transaction with branch ${tx.branch} and method ${tx.method} exists already`);
    this.clients.set(tx.key, tx);
    this.counters.client[tx.method] = (this.counters.client[tx.method] ?? 0) + 1;
    this.counters.active.client++;
    tx.onTerminated(() => {
      if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
      this.counters.active.client--;
    });
    tx.start();
    return tx;
  }

  private receiveResponse(response: SipResponse, source: MessageSource): void {
    const key = responseClientKey(response);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx !== undefined) {
      tx.receiveResponse(response);
      return;
    }
    this.counters.strayResponses++;
    this.ctx.logger.debug("sip-stray-response", messageFields(response));
    this.strayHandler?.(response, source);
  }

  private receiveRequest(request: SipRequest, source: MessageSource): void {
    const key = serverKey(request);
    const existing = this.servers.get(key);
    if (existing !== undefined && this.sameRfc2543Transaction(existing, request)) {
      if (existing.receiveRequest(request) === "to-tu") this.deliver(request, undefined, source);
      return;
    }
    if (request.method === "ACK") {
      // §17.2.3: an ACK matching no transaction is the TU's (the ACK for a 2xx).
      this.deliver(request, undefined, source);
      return;
    }
    const tx = request.method === "INVITE" ? new InviteServerTransaction(request, source, key, this.ctx) : new NonInviteServerTransaction(request, source, key, this.ctx);
    this.servers.set(key, tx);
    this.counters.server[tx.method] = (this.counters.server[tx.method] ?? 0) + 1;
    this.counters.active.server++;
    tx.onTerminated(() => {
      if (this.servers.get(key) === tx) this.servers.delete(key);
      this.counters.active.server--;
    });
    this.deliver(request, tx, source);
  }

  /**
   * The RFC 2543 key leaves the To tag out (an ACK carries the tag of our
   * response, the INVITE none): an ACK matches when its tag is the one we
   * answered with, any other request when its tag is the request's (§17.2.3).
   */
  private sameRfc2543Transaction(tx: ServerTransaction, request: SipRequest): boolean {
    if (!isRfc2543(request)) return true;
    const tag = request.to.tag ?? "";
    if (request.method === "ACK") return tag === (tx.lastResponse?.to.tag ?? tx.toTag);
    return tag === (tx.request.to.tag ?? "");
  }

  private deliver(request: SipRequest, tx: ServerTransaction | undefined, source: MessageSource): void {
    const handler = this.requestHandler;
    try {
      if (handler === undefined) throw new Error("no transaction user");
      handler(request, tx, source);
    } catch (e) {
      this.ctx.logger.error("tu-error", { ...messageFields(request), error: e instanceof Error ? e.message : String(e) });
      // A request must not go unanswered because the TU failed (§8.2: every request but ACK gets a final response).
      if (tx !== undefined && !tx.hasFinal && tx.state !== "terminated") {
        try {
          tx.respond(500, "Server Internal Error");
        } catch {
          // the TU sent something already that forbids it
        }
      }
    }
  }
}
