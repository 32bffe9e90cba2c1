// What the two server transactions (§17.2.1 INVITE, §17.2.2 non-INVITE)
// share: building responses with one To tag, sending them back by §18.2.2,
// and telling the transaction user about a timeout or a transport failure
// (§17.2.4).
import { type ResponseOptions, type SipRequest, type SipResponse, createResponse, randomToken } from "sip-parser-ts";
import { messageFields } from "../message-fields.ts";
import { type MessageSource, isReliable } from "../transport/protocol.ts";
import { TransportError } from "../transport/transport-error.ts";
import { TimerSet } from "./timer-set.ts";
import type { TransactionContext } from "./transaction-context.ts";
import { TransactionStateError } from "./transaction-errors.ts";

export type ServerTransactionState = "proceeding" | "trying" | "accepted" | "completed" | "confirmed" | "terminated";

/** Why a server transaction ended without the exchange completing. */
export type ServerFailure = "timeout" | "transport-error";

/** What `receiveRequest` did with a request that matched: absorbed it, or it is for the TU (an ACK in Accepted). */
export type MatchedRequest = "absorbed" | "to-tu";

export abstract class ServerTransaction {
  /** The To tag of every response built with respond() (§8.2.6.2: one tag for the dialog). */
  readonly toTag: string;
  /** The last response sent (for retransmissions). */
  lastResponse: SipResponse | undefined;
  failure: ServerFailure | undefined;
  protected stateValue: ServerTransactionState;
  protected readonly timerSet: TimerSet;
  protected readonly reliable: boolean;
  private readonly terminatedListeners: Array<() => void> = [];
  private readonly failureListeners: Array<(failure: ServerFailure) => void> = [];

  constructor(
    readonly request: SipRequest,
    readonly source: MessageSource,
    readonly key: string,
    protected readonly ctx: TransactionContext,
    initialState: ServerTransactionState,
  ) {
    this.stateValue = initialState;
    this.timerSet = new TimerSet(ctx.clock);
    this.reliable = isReliable(source.transport);
    this.toTag = request.to.tag ?? randomToken(10);
  }

  get method(): string {
    return this.request.method;
  }

  get state(): ServerTransactionState {
    return this.stateValue;
  }

  /** True once a final response has been sent. */
  get hasFinal(): boolean {
    return this.lastResponse !== undefined && this.lastResponse.status >= 200;
  }

  /**
   * Builds a response to the request (§8.2.6: Via, From, To, Call-ID, CSeq
   * copied; this transaction's To tag) and sends it. Returns it.
   */
  respond(status: number, reason?: string, opts: Omit<ResponseOptions, "toTag"> = {}): SipResponse {
    const response = createResponse(this.request, status, reason, { ...opts, toTag: this.toTag });
    this.send(response);
    return response;
  }

  /** Sends a response built elsewhere (a proxy relaying one, §16.7). Throws TransactionStateError when the state forbids it. */
  abstract send(response: SipResponse): void;

  /** A retransmission of the request, or an ACK, matched this transaction. Called by the TransactionLayer. */
  abstract receiveRequest(request: SipRequest): MatchedRequest;

  onTerminated(listener: () => void): this {
    if (this.stateValue === "terminated") listener();
    else this.terminatedListeners.push(listener);
    return this;
  }

  /** Timer H fired without an ACK, or a response could not be sent (§17.2.4). */
  onFailure(listener: (failure: ServerFailure) => void): this {
    this.failureListeners.push(listener);
    return this;
  }

  /** Ends the transaction now (layer shutdown). */
  abort(): void {
    this.terminate();
  }

  protected refuse(what: string): never {
    throw new TransactionStateError(this.stateValue, `${this.method} server transaction in state ${this.stateValue} cannot send ${what}`);
  }

  protected transmit(response: SipResponse): void {
    this.ctx.transport.sendResponse(response, this.source).catch((err: unknown) => this.transportFailed(err));
  }

  protected retransmit(response: SipResponse): void {
    this.ctx.counters.retransmissionsSent.responses++;
    this.transmit(response);
  }

  protected fail(failure: ServerFailure, fields: Record<string, string | number>): void {
    if (this.stateValue === "terminated") return;
    this.failure = failure;
    if (failure === "timeout") this.ctx.counters.timeouts.server++;
    else this.ctx.counters.transportErrors++;
    this.ctx.logger.warn(failure === "timeout" ? "transaction-timeout" : "transaction-transport-error", { ...messageFields(this.request), state: this.stateValue, ...fields });
    for (const l of this.failureListeners) {
      try {
        l(failure);
      } catch (e) {
        this.ctx.logger.error("tu-error", { ...messageFields(this.request), error: e instanceof Error ? e.message : String(e) });
      }
    }
    this.terminate();
  }

  protected terminate(): void {
    if (this.stateValue === "terminated") return;
    this.stateValue = "terminated";
    this.timerSet.clearAll();
    for (const l of this.terminatedListeners.splice(0)) l();
  }

  protected after(name: string, ms: number, fn: () => void): void {
    if (ms <= 0) fn();
    else this.timerSet.set(name, ms, fn);
  }

  private transportFailed(err: unknown): void {
    const code = err instanceof TransportError ? err.code : "EIO";
    this.fail("transport-error", { code });
  }
}
