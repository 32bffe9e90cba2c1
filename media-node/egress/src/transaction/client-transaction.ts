// What the two client transactions (§17.1.1 INVITE, §17.1.2 non-INVITE)
// share: sending through the transport, learning whether it is reliable,
// handing responses to the transaction user, and turning a timeout or a
// transport failure into a local 408 or 503 (§8.1.3.1, §17.1.4).
import { type SipRequest, type SipResponse, createResponse } from "sip-parser-ts";
import { messageFields } from "../message-fields.ts";
import { type Destination, type TransportProtocol, isReliable } from "../transport/protocol.ts";
import { TransportError } from "../transport/transport-error.ts";
import { clientKey } from "./match-keys.ts";
import { TimerSet } from "./timer-set.ts";
import type { TransactionContext } from "./transaction-context.ts";

export type ClientTransactionState = "calling" | "trying" | "proceeding" | "accepted" | "completed" | "terminated";

/** Why a client transaction answered its user itself. */
export type LocalFailure = "timeout" | "transport-error";

export type ResponseListener = (response: SipResponse) => void;

export abstract class ClientTransaction {
  readonly key: string;
  readonly branch: string;
  /** The transport the request went over once sent (may differ from the destination's, §18.1.1). */
  transport: TransportProtocol | undefined;
  /** Set when the final response was made here: 408 on timeout, 503 on a transport failure. */
  failure: LocalFailure | undefined;
  /** The first final response: received, or the local 408/503. Never rejects. */
  readonly final: Promise<SipResponse>;
  protected stateValue: ClientTransactionState;
  protected destination: Destination;
  protected readonly timerSet: TimerSet;
  private resolveFinal!: (r: SipResponse) => void;
  private finalSeen = false;
  private readonly responseListeners: ResponseListener[] = [];
  private readonly terminatedListeners: Array<() => void> = [];

  constructor(
    readonly request: SipRequest,
    destination: Destination,
    protected readonly ctx: TransactionContext,
    initialState: ClientTransactionState,
  ) {
    const branch = request.topVia.branch;
    if (branch === undefined) throw new TypeError("a client transaction's request needs a Via branch");
    this.branch = branch;
    this.key = clientKey(branch, request.method);
    this.destination = { ...destination };
    this.stateValue = initialState;
    this.timerSet = new TimerSet(ctx.clock);
    this.final = new Promise((resolve) => (this.resolveFinal = resolve));
  }

  get method(): string {
    return this.request.method;
  }

  get state(): ClientTransactionState {
    return this.stateValue;
  }

  /** Where the request went (after the first send: with the transport actually used). */
  get target(): Readonly<Destination> {
    return this.destination;
  }

  /** Every response handed to the transaction user: provisionals, the final one, and (INVITE) further 2xx. */
  onResponse(listener: ResponseListener): this {
    this.responseListeners.push(listener);
    return this;
  }

  onTerminated(listener: () => void): this {
    if (this.stateValue === "terminated") listener();
    else this.terminatedListeners.push(listener);
    return this;
  }

  /** Starts the state machine: sends the request and arms the timers. Called by the TransactionLayer. */
  abstract start(): void;

  /** A response matched this transaction (§17.1.3). Called by the TransactionLayer. */
  abstract receiveResponse(response: SipResponse): void;

  /** Ends the transaction now (layer shutdown): a user still waiting gets a local 503. */
  abort(): void {
    if (this.stateValue === "terminated") return;
    if (!this.finalSeen) this.passUp(this.localResponse(503, "Service Unavailable"));
    this.terminate();
  }

  /**
   * Sends the request. The first send tells whether the transport is
   * reliable, and pins the transport for retransmissions, CANCEL and ACK
   * (a large request that went over TCP stays on TCP; one that fell back to
   * UDP stays on UDP).
   */
  protected transmit(onFirstSend?: (reliable: boolean) => void): void {
    const first = this.transport === undefined;
    this.ctx.transport.sendRequest(this.request, this.destination).then(
      (used) => {
        if (first && this.transport === undefined) {
          this.transport = used;
          this.destination = { ...this.destination, transport: used, tcp: false };
          if (this.stateValue !== "terminated") onFirstSend?.(isReliable(used));
        }
      },
      (err: unknown) => this.transportFailed(err),
    );
  }

  /** Sends the request again (Timer A or E fired). */
  protected retransmit(): void {
    this.ctx.counters.retransmissionsSent.requests++;
    this.ctx.logger.debug("sip-retransmit", { ...messageFields(this.request), state: this.stateValue });
    this.transmit();
  }

  /** §17.1.4 / §8.1.3.1: a transport failure is a 503 for the transaction user. */
  protected transportFailed(err: unknown): void {
    if (this.stateValue === "terminated") return;
    const e = err instanceof TransportError ? err : TransportError.from(this.destination.transport, `${this.destination.host}:${this.destination.port}`, err);
    if (this.finalSeen) {
      // An ACK or retransmission after the final response: nothing left to tell the user.
      this.ctx.logger.info("transaction-transport-error", { ...messageFields(this.request), code: e.code, state: this.stateValue });
      return;
    }
    this.ctx.counters.transportErrors++;
    this.ctx.logger.warn("transaction-transport-error", { ...messageFields(this.request), target: e.target, code: e.code, state: this.stateValue });
    this.failure = "transport-error";
    this.passUp(this.localResponse(503, "Service Unavailable"));
    this.terminate();
  }

  /** Timer B or F: no final response in 64*T1; the user gets 408 (§17.1.1.2, §17.1.2.2). */
  protected timedOut(timer: "B" | "F"): void {
    this.ctx.counters.timeouts.client++;
    this.ctx.logger.warn("transaction-timeout", { ...messageFields(this.request), timer, target: `${this.destination.host}:${this.destination.port}`, transport: this.transport ?? this.destination.transport });
    this.failure = "timeout";
    this.passUp(this.localResponse(408, "Request Timeout"));
    this.terminate();
  }

  protected passUp(response: SipResponse): void {
    if (response.status >= 200 && !this.finalSeen) {
      this.finalSeen = true;
      this.resolveFinal(response);
    }
    for (const l of this.responseListeners) {
      try {
        l(response);
      } catch (e) {
        this.ctx.logger.error("tu-error", { ...messageFields(response), error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  protected get hasFinal(): boolean {
    return this.finalSeen;
  }

  protected terminate(): void {
    if (this.stateValue === "terminated") return;
    this.stateValue = "terminated";
    this.timerSet.clearAll();
    for (const l of this.terminatedListeners.splice(0)) l();
  }

  /** Runs `fn` after `ms`, or now when `ms` is 0 (Timers D, K on reliable transports). */
  protected after(name: string, ms: number, fn: () => void): void {
    if (ms <= 0) fn();
    else this.timerSet.set(name, ms, fn);
  }

  private localResponse(status: number, reason: string): SipResponse {
    return createResponse(this.request, status, reason);
  }
}
