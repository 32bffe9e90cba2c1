// The registering UA of one trunk (RFC 3261 §10.2): REGISTER to the
// trunk's gateway in SRV order, answer its challenges, keep the binding
// alive, fall back to the next gateway when one does not answer, back off
// when all fail, and remove the binding on stop.
//
//   registering ──2xx──► registered ──refresh timer──► (REGISTER again, still registered)
//        │                    │
//        │ every gateway      │ refresh failed on every gateway
//        ▼ failed             ▼
//   backing-off ──retry timer──► registering …
//   failed: a configuration problem (no credentials, a transport we do not listen on): no retry until the trunk changes
//   stop(): unregistering (REGISTER Expires: 0) ──► unregistered
import { type SipResponse, randomToken } from "sip-parser-ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { TimerSet } from "../transaction/timer-set.ts";
import type { TransactionLayer } from "../transaction/transaction-layer.ts";
import { CarrierDigest } from "./carrier-digest.ts";
import { type EgressTrunk, type Gateway, type PublicSipAddress, type RegistrationStatus, gatewayDestination, gatewayKey, gatewayProtocol, gatewayUri, orderGateways } from "./egress-trunk.ts";
import { contactUri, grantedExpires, registerRequest } from "./register-request.ts";
import { type BackoffSettings, backoffDelayMs, refreshDelayMs, retryAfterMs } from "./retry-schedule.ts";

export type RegistrationPhase = "registering" | "registered" | "backing-off" | "failed" | "unregistering" | "unregistered";

/** Why an attempt did not register, for the counters. */
export type RegistrationFailure = "timeout" | "transport-error" | "unavailable" | "challenge" | "rejected" | "interval-too-brief" | "config";

export interface RegistrationCounters {
  /** REGISTER requests sent (each a new transaction; retransmissions are the transaction layer's). */
  registersSent: number;
  /** 401/407 answered with the trunk's credentials. */
  challengesAnswered: number;
  /** 2xx that created or refreshed a binding. */
  registered: number;
  /** Refreshes started (a binding renewed before it ran out). */
  refreshes: number;
  /** 423 Interval Too Brief answered with the registrar's Min-Expires (§10.2.8). */
  intervalTooBrief: number;
  /** A gateway that did not answer (timeout, 408, 503, transport error): the next one was tried. */
  failovers: number;
  /** Attempts that ended without a binding, by cause. */
  failures: Record<RegistrationFailure, number>;
  /** Bindings removed on stop (2xx to Expires: 0). */
  unregistered: number;
}

export function newRegistrationCounters(): RegistrationCounters {
  return {
    registersSent: 0,
    challengesAnswered: 0,
    registered: 0,
    refreshes: 0,
    intervalTooBrief: 0,
    failovers: 0,
    failures: { timeout: 0, "transport-error": 0, unavailable: 0, challenge: 0, rejected: 0, "interval-too-brief": 0, config: 0 },
    unregistered: 0,
  };
}

export interface RegistrationSettings {
  /** Refresh this many seconds before the binding ends (never later than halfway): retry-schedule.ts. */
  refreshMarginS: number;
  backoff: BackoffSettings;
  /** Uniform in [0, 1): gateway order among equal priorities, backoff jitter. */
  random: () => number;
}

export interface RegistrationClientDeps {
  transactions: Pick<TransactionLayer, "sendRequest">;
  clock: Clock;
  logger: Logger;
  contact: PublicSipAddress;
  settings: RegistrationSettings;
  counters: RegistrationCounters;
  /** Health checks' verdict (gateway-health.ts); a gateway known to be down is tried last. */
  isGatewayUp: (gateway: Gateway) => boolean;
  /** Called on every change of phase, binding or error. */
  onChange: (client: RegistrationClient) => void;
}

/** What /metrics and the logs show of a registration. */
export interface RegistrationView {
  trunk_id: string;
  phase: RegistrationPhase;
  /** The registrar that holds (or last held) our binding. */
  gateway?: string;
  /** Seconds the binding has left. */
  expires_in_s?: number;
  /** Seconds until the next try (backing off). */
  retry_in_s?: number;
  last_error?: string;
  /** Consecutive failed attempts. */
  failures: number;
}

type Outcome =
  | { kind: "registered"; seconds: number }
  | { kind: "unregistered" }
  /** The gateway did not answer usefully: try the next one. */
  | { kind: "unreachable"; failure: "timeout" | "transport-error" | "unavailable"; reason: string; retryAfterMs?: number }
  /** The gateway answered no: trying another one with the same request would get the same answer. */
  | { kind: "rejected"; failure: "challenge" | "rejected" | "interval-too-brief"; reason: string; retryAfterMs?: number };

/** Requests in one exchange: a 407, a 401, a 423 and the one that succeeds, with one to spare. */
const MAX_REQUESTS_PER_EXCHANGE = 5;

/** One registrar "dialog": §10.2 asks for one Call-ID per registrar and an increasing CSeq. */
interface RegistrarSession {
  gateway: Gateway;
  key: string;
  callId: string;
  fromTag: string;
  cseq: number;
  digest: CarrierDigest;
}

export class RegistrationClient {
  private phaseValue: RegistrationPhase = "registering";
  private session: RegistrarSession | undefined;
  /** The binding we hold: at which gateway, until when (clock ms). */
  private binding: { gateway: Gateway; key: string; expiresAt: number } | undefined;
  /** The interval we ask for: the trunk's, raised by a 423's Min-Expires. */
  private expires: number;
  private failures = 0;
  private lastError: string | undefined;
  private retryAt: number | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly timers: TimerSet;

  constructor(
    readonly trunk: EgressTrunk,
    private readonly deps: RegistrationClientDeps,
  ) {
    this.expires = trunk.register_expires;
    this.timers = new TimerSet(deps.clock);
  }

  get phase(): RegistrationPhase {
    return this.phaseValue;
  }

  /** Starts registering; `after` (a previous client's un-REGISTER) is waited for first, so it cannot remove the new binding. */
  start(after: Promise<void> = Promise.resolve()): void {
    this.running = after.catch(() => undefined).then(() => (this.stopped ? undefined : this.safeAttempt()));
  }

  /**
   * Stops: cancels timers, lets a REGISTER in flight finish, then removes
   * the binding if one is held (§10.2.2, Expires: 0 for our Contact only,
   * never "*": other egresses may share the account). Resolves when done;
   * one transaction exchange at most (Timer F bounds it).
   */
  async stop(unregister = true): Promise<void> {
    if (this.stopped) return this.running;
    this.stopped = true;
    this.timers.clearAll();
    const stopping = (async () => {
      await this.running;
      const b = this.binding;
      if (!unregister || b === undefined || b.expiresAt <= this.deps.clock.now()) {
        this.binding = undefined;
        return;
      }
      this.setPhase("unregistering");
      const outcome = await this.exchange(b.gateway, 0, false);
      this.binding = undefined;
      if (outcome.kind === "unregistered") {
        this.deps.counters.unregistered++;
        this.deps.logger.info("registration-removed", { trunk_id: this.trunk.id, gateway: b.key });
        this.lastError = undefined;
      } else {
        // The binding will run out at the registrar by itself.
        this.lastError = outcome.kind === "registered" ? "the registrar kept the binding" : outcome.reason;
        this.deps.logger.warn("registration-remove-failed", { trunk_id: this.trunk.id, gateway: b.key, reason: this.lastError });
      }
      this.setPhase("unregistered");
    })();
    this.running = stopping;
    return stopping;
  }

  view(): RegistrationView {
    const now = this.deps.clock.now();
    const v: RegistrationView = { trunk_id: this.trunk.id, phase: this.phaseValue, failures: this.failures };
    const gateway = this.binding?.key ?? this.session?.key;
    if (gateway !== undefined) v.gateway = gateway;
    if (this.binding !== undefined && this.binding.expiresAt > now) v.expires_in_s = Math.round((this.binding.expiresAt - now) / 1000);
    if (this.phaseValue === "backing-off" && this.retryAt !== undefined) v.retry_in_s = Math.max(0, Math.round((this.retryAt - now) / 1000));
    if (this.lastError !== undefined) v.last_error = this.lastError;
    return v;
  }

  /** The trunk's RegistrationStatus (trunk.ts) as of now; `iso(offsetMs)` makes its timestamps. */
  status(iso: (offsetMs?: number) => string): RegistrationStatus {
    const now = this.deps.clock.now();
    const live = this.binding !== undefined && this.binding.expiresAt > now ? this.binding : undefined;
    const expires = live === undefined ? {} : { expires_at: iso(live.expiresAt - now) };
    switch (this.phaseValue) {
      case "registered":
        return { state: "registered", ...expires, updated_at: iso() };
      case "registering":
        return { state: "registering", ...expires, updated_at: iso() };
      case "backing-off": {
        const retry = this.retryAt === undefined ? "" : `; next try in ${Math.max(0, Math.round((this.retryAt - now) / 1000))} s`;
        return { state: "failed", ...expires, last_error: `${this.lastError ?? "failed"}${retry}`, updated_at: iso() };
      }
      case "failed":
        return { state: "failed", last_error: this.lastError ?? "failed", updated_at: iso() };
      case "unregistering":
      case "unregistered":
        return { state: "unregistered", ...(this.lastError === undefined ? {} : { last_error: this.lastError }), updated_at: iso() };
    }
  }

  // ---- attempts ----------------------------------------------------------------

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const refreshing = this.binding !== undefined && this.binding.expiresAt > this.deps.clock.now();
    if (refreshing) this.deps.counters.refreshes++;
    else this.setPhase("registering");

    const problem = this.configProblem();
    if (problem !== undefined) {
      this.deps.counters.failures.config++;
      this.lastError = problem;
      this.deps.logger.warn("registration-misconfigured", { trunk_id: this.trunk.id, reason: problem });
      this.setPhase("failed");
      return;
    }

    let last: Outcome | undefined;
    const order = this.gatewayOrder();
    for (const [i, gateway] of order.entries()) {
      if (i > 0) {
        this.deps.counters.failovers++;
        this.deps.logger.info("registration-failover", { trunk_id: this.trunk.id, from: gatewayKey(order[i - 1]!), to: gatewayKey(gateway), reason: last?.kind === "unreachable" ? last.reason : undefined });
      }
      last = await this.exchange(gateway, this.expires, true);
      // A binding made while stopping is recorded all the same, so stop() removes it.
      if (last.kind === "registered") return this.registered(gateway, last.seconds);
      if (this.stopped) return;
      if (last.kind !== "unreachable") break;
    }
    if (last !== undefined && last.kind !== "registered" && last.kind !== "unregistered") this.failed(last);
  }

  /**
   * One exchange with one registrar: REGISTER, answering 401/407 and 423
   * with new REGISTERs (CSeq + 1 each, §22.2, §10.2.8), until an answer
   * that settles it. `abortable`: give up as soon as stop() is called.
   */
  private async exchange(gateway: Gateway, expires: number, abortable: boolean): Promise<Outcome> {
    const session = this.sessionFor(gateway);
    const username = this.trunk.credentials!.username;
    const contact = this.contactFor(gateway)!;
    const uri = gatewayUri(gateway);
    let asked = expires;
    for (let n = 0; n < MAX_REQUESTS_PER_EXCHANGE; n++) {
      const request = registerRequest({
        gateway,
        username,
        contact,
        callId: session.callId,
        fromTag: session.fromTag,
        cseq: ++session.cseq,
        expires: asked,
        authorization: session.digest.authorize("REGISTER", uri),
      });
      this.deps.counters.registersSent++;
      const tx = this.deps.transactions.sendRequest(request, gatewayDestination(gateway));
      const response = await tx.final;
      if (abortable && this.stopped && !(response.status >= 200 && response.status < 300)) return { kind: "unreachable", failure: "unavailable", reason: "stopped" };
      const what = `${response.status} ${response.reason}`;
      if (tx.failure === "timeout") return { kind: "unreachable", failure: "timeout", reason: `no response from ${session.key} (timeout)` };
      if (tx.failure === "transport-error") return { kind: "unreachable", failure: "transport-error", reason: `transport error to ${session.key}` };
      if (response.status >= 200 && response.status < 300) {
        if (asked === 0) return { kind: "unregistered" };
        const granted = grantedExpires(response, contact, asked);
        if (granted.seconds === 0) return { kind: "rejected", failure: "rejected", reason: `${what} but the registrar kept no binding (expires 0)` };
        if (granted.from === "requested") this.deps.logger.debug("registration-expires-assumed", { trunk_id: this.trunk.id, seconds: asked });
        return { kind: "registered", seconds: granted.seconds };
      }
      if (response.status === 401 || response.status === 407) {
        const problem = session.digest.challenged(response);
        if (problem !== undefined) return { kind: "rejected", failure: "challenge", reason: problem };
        this.deps.counters.challengesAnswered++;
        continue;
      }
      if (response.status === 423) {
        const min = minExpires(response);
        if (min === undefined || min <= asked) return { kind: "rejected", failure: "interval-too-brief", reason: `${what} without a Min-Expires above ${asked}` };
        this.deps.counters.intervalTooBrief++;
        this.deps.logger.info("registration-interval-too-brief", { trunk_id: this.trunk.id, gateway: session.key, asked, min_expires: min });
        asked = min;
        // Later refreshes ask for at least this much too.
        if (expires !== 0) this.expires = Math.max(this.expires, min);
        continue;
      }
      const retryAfter = retryAfterMs(response);
      const extra = retryAfter === undefined ? {} : { retryAfterMs: retryAfter };
      // A gateway that says it cannot answer now: the next one may (RFC 3263 §4.3 treats 503 so).
      if (response.status === 408 || response.status === 503) return { kind: "unreachable", failure: "unavailable", reason: `${what} from ${session.key}`, ...extra };
      return { kind: "rejected", failure: "rejected", reason: `${what} from ${session.key}`, ...extra };
    }
    return { kind: "rejected", failure: "challenge", reason: `no answer after ${MAX_REQUESTS_PER_EXCHANGE} REGISTERs to ${session.key} (challenged again and again)` };
  }

  private registered(gateway: Gateway, seconds: number): void {
    const key = gatewayKey(gateway);
    const was = this.binding;
    this.binding = { gateway, key, expiresAt: this.deps.clock.now() + seconds * 1000 };
    this.failures = 0;
    this.lastError = undefined;
    this.retryAt = undefined;
    this.deps.counters.registered++;
    const fields = { trunk_id: this.trunk.id, gateway: key, expires: seconds };
    if (was !== undefined && was.key === key && this.phaseValue === "registered") this.deps.logger.debug("registration-refreshed", fields);
    else this.deps.logger.info("registration-registered", fields);
    this.setPhase("registered");
    if (this.stopped) return;
    this.timers.set("refresh", refreshDelayMs(seconds, this.deps.settings.refreshMarginS), () => this.rerun());
  }

  private failed(outcome: Exclude<Outcome, { kind: "registered" } | { kind: "unregistered" }>): void {
    this.failures++;
    this.deps.counters.failures[outcome.failure]++;
    const backoff = backoffDelayMs(this.failures, this.deps.settings.backoff, this.deps.settings.random);
    // Retry-After (§20.33) is honoured up to the backoff cap.
    const delay = Math.min(Math.max(backoff, outcome.retryAfterMs ?? 0), this.deps.settings.backoff.maxMs);
    this.lastError = outcome.reason;
    this.retryAt = this.deps.clock.now() + delay;
    // A binding that has run out is gone; one that has not stays ours until it does.
    if (this.binding !== undefined && this.binding.expiresAt <= this.deps.clock.now()) this.binding = undefined;
    this.deps.logger.warn("registration-failed", { trunk_id: this.trunk.id, reason: outcome.reason, failures: this.failures, retry_in_ms: delay });
    this.setPhase("backing-off");
    this.timers.set("retry", delay, () => this.rerun());
  }

  private rerun(): void {
    if (this.stopped) return;
    this.running = this.safeAttempt();
  }

  /** An attempt that cannot reject: a bug or an unexpected throw backs off like a failure instead of killing the process. */
  private async safeAttempt(): Promise<void> {
    try {
      await this.attempt();
    } catch (err) {
      const reason = `internal error: ${err instanceof Error ? err.message : String(err)}`;
      this.deps.logger.error("registration-error", { trunk_id: this.trunk.id, error: reason });
      if (!this.stopped) this.failed({ kind: "rejected", failure: "rejected", reason });
    }
  }

  private setPhase(phase: RegistrationPhase): void {
    this.phaseValue = phase;
    this.deps.onChange(this);
  }

  // ---- helpers -----------------------------------------------------------------

  /** A reason the trunk cannot register as configured, if there is one. */
  private configProblem(): string | undefined {
    if (this.trunk.credentials === undefined) return "register is on but the trunk has no credentials (the user name is the address-of-record's user part)";
    if (this.trunk.gateways.length === 0) return "the trunk has no gateways";
    if (!this.trunk.gateways.some((g) => this.contactFor(g) !== undefined)) {
      const transports = [...new Set(this.trunk.gateways.map((g) => g.transport))].join(", ");
      return `the egress does not listen on ${transports}, the transport of the trunk's gateways`;
    }
    return undefined;
  }

  /** SRV order (RFC 2782, as calls use), gateways we cannot reach over a transport we listen on left out, down ones last; the current registrar first. */
  private gatewayOrder(): Gateway[] {
    const usable = orderGateways(this.trunk.gateways, this.deps.settings.random).filter((g) => this.contactFor(g) !== undefined);
    const up = usable.filter((g) => this.deps.isGatewayUp(g));
    const ordered = [...up, ...usable.filter((g) => !up.includes(g))];
    const current = this.binding?.key;
    const at = current === undefined ? -1 : ordered.findIndex((g) => gatewayKey(g) === current);
    if (at > 0) ordered.unshift(...ordered.splice(at, 1));
    return ordered;
  }

  private contactFor(gateway: Gateway): string | undefined {
    const port = this.deps.contact.ports[gatewayProtocol(gateway)];
    return port === undefined ? undefined : contactUri(this.trunk.credentials?.username ?? "", this.deps.contact.host, port, gateway.transport);
  }

  private sessionFor(gateway: Gateway): RegistrarSession {
    const key = gatewayKey(gateway);
    if (this.session?.key !== key) {
      // A new registrar: a new Call-ID, CSeq from 1, and its own challenges.
      this.session = { gateway, key, callId: `${randomToken(20)}@${this.deps.contact.host}`, fromTag: randomToken(10), cseq: 0, digest: new CarrierDigest(this.trunk.credentials) };
    }
    return this.session;
  }
}

function minExpires(response: SipResponse): number | undefined {
  try {
    return response.minExpires;
  } catch {
    return undefined;
  }
}
