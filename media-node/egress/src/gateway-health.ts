// OPTIONS health checks of trunk gateways (issue 5): every gateway of every
// enabled trunk is asked OPTIONS periodically (RFC 3261 §11), more often
// while it fails; K consecutive failures mark it down, M consecutive
// answers up again. State changes go to the trunk status board (the edge's
// trunk selection skips down gateways, trunk.ts gatewayIsLive), the log and
// the counters. See README.md, "Gateway health checks".
import type { Clock, TimerHandle } from "./clock.ts";
import { snapshot } from "./counters.ts";
import type { Logger } from "./log.ts";
import type { TransactionLayer } from "./transaction/transaction-layer.ts";
import { type EgressTrunk, type Gateway, type GatewayStatus, gatewayDestination, gatewayKey } from "./trunks/egress-trunk.ts";
import { type ProbeFailure, describeProbeFailure, optionsRequest, probeFailure } from "./trunks/options-probe.ts";
import type { TrunkStatusBoard } from "./trunks/trunk-status-board.ts";

export interface GatewayHealthOptions {
  /** OPTIONS go out as client transactions of this layer: a timeout is Timer F (64*T1). */
  transactions: Pick<TransactionLayer, "sendRequest">;
  clock: Clock;
  logger: Logger;
  status: TrunkStatusBoard;
  trunks: readonly EgressTrunk[];
  /** Our advertised host, for the From of each OPTIONS. */
  fromHost: string;
  /** Between OPTIONS to a gateway that answers. Default 30 000 ms. */
  intervalMs?: number;
  /** Between OPTIONS to a gateway that is down or has just failed. Default 10 000 ms. */
  downIntervalMs?: number;
  /** K: consecutive failures that mark a gateway down. Default 3. */
  failuresToDown?: number;
  /** M: consecutive answers that mark a down gateway up again. Default 2. */
  successesToUp?: number;
}

/** `unknown` until the first answer or K failures; the edge counts a gateway it has no report of as up. */
export type GatewayState = "unknown" | "up" | "down";

export interface HealthCounters {
  optionsSent: number;
  /** Answers that count as alive (any final response but 408 and 503). */
  answered: number;
  failures: Record<ProbeFailure, number>;
  wentDown: number;
  wentUp: number;
}

export interface GatewayHealthView {
  gateway: string;
  state: GatewayState;
  trunks: string[];
  consecutive_failures: number;
  consecutive_successes: number;
  last_error?: string;
  checked_at?: string;
}

export interface HealthSnapshot {
  counters: HealthCounters;
  /** Gateways in each state now (gauges). */
  states: Record<GatewayState, number>;
  gateways: GatewayHealthView[];
}

interface Probe {
  key: string;
  gateway: Pick<Gateway, "host" | "port" | "transport">;
  /** The trunks that list this gateway: one OPTIONS serves them all. */
  trunks: Set<string>;
  state: GatewayState;
  failures: number;
  successes: number;
  lastError: string | undefined;
  checkedAt: string | undefined;
  sentAt: number;
  timer: TimerHandle | undefined;
  removed: boolean;
}

export class GatewayHealth {
  readonly counters: HealthCounters = { optionsSent: 0, answered: 0, failures: { timeout: 0, "transport-error": 0, "408": 0, "503": 0 }, wentDown: 0, wentUp: 0 };
  private readonly probes = new Map<string, Probe>();
  /** Trunk id → its gateways' keys, as in the last trunk list. */
  private trunkGateways = new Map<string, string[]>();
  private trunks: readonly EgressTrunk[];
  private readonly intervalMs: number;
  private readonly downIntervalMs: number;
  private readonly failuresToDown: number;
  private readonly successesToUp: number;
  private started = false;
  private stopped = false;

  constructor(private readonly options: GatewayHealthOptions) {
    this.intervalMs = positive("intervalMs", options.intervalMs ?? 30_000);
    this.downIntervalMs = positive("downIntervalMs", options.downIntervalMs ?? 10_000);
    this.failuresToDown = count("failuresToDown", options.failuresToDown ?? 3);
    this.successesToUp = count("successesToUp", options.successesToUp ?? 2);
    if (typeof options.fromHost !== "string" || options.fromHost.trim() === "") throw new RangeError("gateway health: fromHost must be the egress's advertised host");
    this.trunks = options.trunks;
  }

  /** Sends the first OPTIONS to every gateway now, then keeps probing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.update(this.trunks);
  }

  /**
   * A new trunk list: new gateways are probed at once, gateways no enabled
   * trunk lists any more are dropped, and a trunk that was disabled or
   * removed gets its gateway list cleared.
   */
  update(trunks: readonly EgressTrunk[]): void {
    this.trunks = trunks;
    if (!this.started || this.stopped) return;
    const next = new Map<string, string[]>();
    const wanted = new Map<string, { gateway: Gateway; trunks: Set<string> }>();
    for (const t of trunks) {
      if (!t.enabled) continue;
      const keys: string[] = [];
      for (const g of t.gateways) {
        const key = gatewayKey(g);
        if (keys.includes(key)) continue;
        keys.push(key);
        const w = wanted.get(key) ?? { gateway: g, trunks: new Set<string>() };
        w.trunks.add(t.id);
        wanted.set(key, w);
      }
      next.set(t.id, keys);
    }
    const changed = new Set<string>();
    for (const [id, keys] of this.trunkGateways) if (JSON.stringify(next.get(id) ?? []) !== JSON.stringify(keys)) changed.add(id);
    // A new trunk listing a gateway already checked gets its state at once.
    for (const [id, keys] of next) if (!this.trunkGateways.has(id) && keys.some((k) => (this.probes.get(k)?.state ?? "unknown") !== "unknown")) changed.add(id);
    for (const [key, p] of [...this.probes]) {
      if (wanted.has(key)) continue;
      p.removed = true;
      if (p.timer !== undefined) this.options.clock.clearTimeout(p.timer);
      this.probes.delete(key);
    }
    const fresh: Probe[] = [];
    for (const [key, w] of wanted) {
      const p = this.probes.get(key);
      if (p !== undefined) {
        p.trunks = w.trunks;
        continue;
      }
      const probe: Probe = { key, gateway: { host: w.gateway.host, port: w.gateway.port, transport: w.gateway.transport }, trunks: w.trunks, state: "unknown", failures: 0, successes: 0, lastError: undefined, checkedAt: undefined, sentAt: 0, timer: undefined, removed: false };
      this.probes.set(key, probe);
      fresh.push(probe);
    }
    this.trunkGateways = next;
    for (const id of changed) this.report(id);
    for (const p of fresh) this.probe(p);
  }

  /** Stops probing (OPTIONS in flight are left to end; their results are ignored). */
  stop(): void {
    this.stopped = true;
    for (const p of this.probes.values()) {
      if (p.timer !== undefined) this.options.clock.clearTimeout(p.timer);
      p.timer = undefined;
    }
  }

  /** False only for a gateway the checks marked down (unknown counts as up, as at the edge). */
  isUp(gateway: Pick<Gateway, "host" | "port" | "transport">): boolean {
    return this.probes.get(gatewayKey(gateway))?.state !== "down";
  }

  stateOf(gateway: Pick<Gateway, "host" | "port" | "transport">): GatewayState | undefined {
    return this.probes.get(gatewayKey(gateway))?.state;
  }

  view(): GatewayHealthView[] {
    return [...this.probes.values()]
      .map((p) => {
        const v: GatewayHealthView = { gateway: p.key, state: p.state, trunks: [...p.trunks].sort(), consecutive_failures: p.failures, consecutive_successes: p.successes };
        if (p.lastError !== undefined) v.last_error = p.lastError;
        if (p.checkedAt !== undefined) v.checked_at = p.checkedAt;
        return v;
      })
      .sort((a, b) => a.gateway.localeCompare(b.gateway));
  }

  /** Counters and gauges for /metrics (a copy). */
  snapshot(): HealthSnapshot {
    const states: Record<GatewayState, number> = { unknown: 0, up: 0, down: 0 };
    for (const p of this.probes.values()) states[p.state]++;
    return { counters: snapshot(this.counters), states, gateways: this.view() };
  }

  // ---- probing ---------------------------------------------------------------

  private probe(p: Probe): void {
    p.timer = undefined;
    if (p.removed || this.stopped) return;
    p.sentAt = this.options.clock.now();
    this.counters.optionsSent++;
    let tx;
    try {
      tx = this.options.transactions.sendRequest(optionsRequest(p.gateway, this.options.fromHost), gatewayDestination(p.gateway));
    } catch (err) {
      // Cannot happen with a well-formed trunk; never let it stop the checks.
      this.options.logger.error("gateway-probe-error", { gateway: p.key, error: err instanceof Error ? err.message : String(err) });
      this.schedule(p);
      return;
    }
    void tx.final.then((response) => {
      if (p.removed || this.stopped) return;
      p.checkedAt = this.options.status.isoTime();
      const failure = probeFailure(response, tx.failure);
      if (failure === undefined) this.answered(p);
      else this.failed(p, failure, describeProbeFailure(failure, response));
      this.schedule(p);
    });
  }

  private answered(p: Probe): void {
    this.counters.answered++;
    p.failures = 0;
    p.successes++;
    if (p.state === "unknown" || (p.state === "down" && p.successes >= this.successesToUp)) {
      const from = p.state;
      p.lastError = undefined;
      this.transition(p, "up", from);
    }
  }

  private failed(p: Probe, failure: ProbeFailure, reason: string): void {
    this.counters.failures[failure]++;
    p.successes = 0;
    p.failures++;
    p.lastError = reason;
    this.options.logger.debug("gateway-probe-failed", { gateway: p.key, reason, consecutive_failures: p.failures });
    if (p.state !== "down" && p.failures >= this.failuresToDown) this.transition(p, "down", p.state);
  }

  private transition(p: Probe, to: "up" | "down", from: GatewayState): void {
    p.state = to;
    const fields = { gateway: p.key, from, trunks: [...p.trunks].sort(), ...(to === "down" ? { reason: p.lastError, consecutive_failures: p.failures } : {}) };
    if (to === "down") {
      this.counters.wentDown++;
      this.options.logger.warn("gateway-down", fields);
    } else {
      this.counters.wentUp++;
      this.options.logger.info("gateway-up", fields);
    }
    for (const id of p.trunks) this.report(id);
  }

  /** Next OPTIONS an interval after the last one was sent (at once if that has passed: a timeout takes 64*T1). */
  private schedule(p: Probe): void {
    if (p.removed || this.stopped) return;
    const interval = p.state === "down" || p.failures > 0 ? this.downIntervalMs : this.intervalMs;
    const wait = p.sentAt + interval - this.options.clock.now();
    if (wait <= 0) this.probe(p);
    else p.timer = this.options.clock.setTimeout(() => this.probe(p), wait);
  }

  /** The trunk's gateways whose state is known, to the status board. */
  private report(trunkId: string): void {
    const out: GatewayStatus[] = [];
    for (const key of this.trunkGateways.get(trunkId) ?? []) {
      const p = this.probes.get(key);
      if (p === undefined || p.state === "unknown") continue;
      const s: GatewayStatus = { host: p.gateway.host, port: p.gateway.port, transport: p.gateway.transport, up: p.state === "up", checked_at: p.checkedAt ?? this.options.status.isoTime() };
      if (p.state === "down" && p.lastError !== undefined) s.last_error = p.lastError;
      out.push(s);
    }
    this.options.status.setGateways(trunkId, out);
  }
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`gateway health: ${name} must be a positive number of milliseconds, got ${String(v)}`);
  return v;
}

function count(name: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`gateway health: ${name} must be a whole number ≥ 1, got ${String(v)}`);
  return v;
}
