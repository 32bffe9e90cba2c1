// Registration to carriers (RFC 3261 §10.2, issue 5): one registering UA
// (trunks/registration-client.ts) per enabled trunk with `register: true`,
// kept in step with the trunk list, its state reported to the trunk status
// board and counted for /metrics. See README.md, "Trunk registration".
import type { Clock } from "./clock.ts";
import { snapshot } from "./counters.ts";
import type { Logger } from "./log.ts";
import type { TransactionLayer } from "./transaction/transaction-layer.ts";
import type { EgressTrunk, Gateway, PublicSipAddress } from "./trunks/egress-trunk.ts";
import { type RegistrationCounters, RegistrationClient, type RegistrationPhase, type RegistrationView, newRegistrationCounters } from "./trunks/registration-client.ts";
import type { TrunkStatusBoard } from "./trunks/trunk-status-board.ts";

export interface TrunkRegistrationOptions {
  /** REGISTERs go out as client transactions of this layer (§17.1.2: retransmissions, Timer F). */
  transactions: Pick<TransactionLayer, "sendRequest">;
  clock: Clock;
  logger: Logger;
  /** Where each trunk's registration state goes (and from there to the status sink). */
  status: TrunkStatusBoard;
  trunks: readonly EgressTrunk[];
  /** Our address for the Contact of each REGISTER: the advertised host and our port per transport. */
  contact: PublicSipAddress;
  /** Refresh this long before the granted interval ends, never later than halfway. Default 60 s. */
  refreshMarginS?: number;
  /** Backoff after the first failed attempt (doubling, with jitter). Default 30 000 ms. */
  backoffBaseMs?: number;
  /** Backoff cap. Default 1 800 000 ms (30 min, RFC 5626 §4.5's max-time). */
  backoffMaxMs?: number;
  /** Uniform in [0, 1): SRV weights and jitter. Math.random by default; tests pass () => 0. */
  random?: () => number;
  /** Whether health checks think a gateway is up (GatewayHealth.isUp); down ones are tried last. Default: all up. */
  isGatewayUp?: (gateway: Gateway) => boolean;
}

export interface RegistrationSnapshot {
  counters: RegistrationCounters;
  /** How many trunks are in each phase now (gauges). */
  phases: Record<RegistrationPhase, number>;
  trunks: RegistrationView[];
}

export class TrunkRegistrations {
  readonly counters: RegistrationCounters = newRegistrationCounters();
  private readonly clients = new Map<string, { client: RegistrationClient; fingerprint: string }>();
  private trunks: readonly EgressTrunk[];
  /** Clients removed by update() still removing their binding. */
  private readonly leaving = new Set<Promise<void>>();
  private started = false;
  private stopped = false;

  constructor(private readonly options: TrunkRegistrationOptions) {
    checkOptions(options);
    this.trunks = options.trunks;
  }

  /** Registers every enabled trunk that has `register: true`. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.update(this.trunks);
  }

  /**
   * A new trunk list (the edge sent a change): trunks that now want
   * registration start, trunks that no longer do (removed, disabled,
   * `register: false`) un-REGISTER, and trunks whose gateways, credentials
   * or interval changed un-REGISTER and register anew.
   */
  update(trunks: readonly EgressTrunk[]): void {
    this.trunks = trunks;
    if (!this.started || this.stopped) return;
    const wanted = new Map(trunks.filter((t) => t.enabled && t.register).map((t) => [t.id, t]));
    for (const [id, entry] of [...this.clients]) {
      const trunk = wanted.get(id);
      if (trunk !== undefined && fingerprint(trunk) === entry.fingerprint) continue;
      this.clients.delete(id);
      const stopped = entry.client.stop();
      this.leaving.add(stopped);
      void stopped.then(() => this.leaving.delete(stopped));
      if (trunk === undefined) {
        // No longer registering: the trunk's status drops the registration once the binding is removed.
        void stopped.then(() => {
          if (!this.clients.has(id) && !this.stopped) this.options.status.setRegistration(id, undefined);
        });
      } else {
        this.options.logger.info("registration-trunk-changed", { trunk_id: id });
        this.begin(trunk, stopped);
      }
    }
    for (const [id, trunk] of wanted) if (!this.clients.has(id)) this.begin(trunk, Promise.resolve());
  }

  /** Un-REGISTERs every binding we hold (Expires: 0), in parallel; resolves when all are done (each bounded by Timer F). */
  async stop(): Promise<void> {
    this.stopped = true;
    const clients = [...this.clients.values()].map((e) => e.client);
    await Promise.all([...clients.map((c) => c.stop()), ...this.leaving]);
  }

  /** Whether the trunk holds a binding now (for main.ts, e.g. to accept a carrier's calls only when registered). */
  isRegistered(trunkId: string): boolean {
    return this.clients.get(trunkId)?.client.phase === "registered";
  }

  view(): RegistrationView[] {
    return [...this.clients.values()].map((e) => e.client.view()).sort((a, b) => a.trunk_id.localeCompare(b.trunk_id));
  }

  /** Counters and gauges for /metrics (a copy). */
  snapshot(): RegistrationSnapshot {
    const phases: Record<RegistrationPhase, number> = { registering: 0, registered: 0, "backing-off": 0, failed: 0, unregistering: 0, unregistered: 0 };
    const trunks = this.view();
    for (const t of trunks) phases[t.phase]++;
    return { counters: snapshot(this.counters), phases, trunks };
  }

  private begin(trunk: EgressTrunk, after: Promise<void>): void {
    const o = this.options;
    const client = new RegistrationClient(trunk, {
      transactions: o.transactions,
      clock: o.clock,
      logger: o.logger,
      contact: o.contact,
      settings: {
        refreshMarginS: o.refreshMarginS ?? 60,
        backoff: { baseMs: o.backoffBaseMs ?? 30_000, maxMs: o.backoffMaxMs ?? 1_800_000 },
        random: o.random ?? Math.random,
      },
      counters: this.counters,
      isGatewayUp: o.isGatewayUp ?? (() => true),
      onChange: (c) => o.status.setRegistration(c.trunk.id, c.status((ms) => o.status.isoTime(ms))),
    });
    this.clients.set(trunk.id, { client, fingerprint: fingerprint(trunk) });
    client.start(after);
  }
}

/** What a registration depends on: a change in any of it means a new registration. */
function fingerprint(t: EgressTrunk): string {
  return JSON.stringify([t.gateways, t.credentials ?? null, t.register_expires]);
}

/** Configuration mistakes are refused at construction with what to change (never a crash later). */
function checkOptions(o: TrunkRegistrationOptions): void {
  if (typeof o.contact?.host !== "string" || o.contact.host.trim() === "") throw new RangeError("trunk registration: contact.host must be the public host name or address carriers reach the egress at");
  for (const [t, port] of Object.entries(o.contact.ports ?? {})) {
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new RangeError(`trunk registration: contact.ports.${t} must be a port number 1-65535, got ${String(port)}`);
  }
  const nonNegative = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`trunk registration: ${name} must be a number ≥ 0, got ${String(v)}`);
  };
  nonNegative("refreshMarginS", o.refreshMarginS);
  nonNegative("backoffBaseMs", o.backoffBaseMs);
  nonNegative("backoffMaxMs", o.backoffMaxMs);
  if ((o.backoffBaseMs ?? 30_000) <= 0) throw new RangeError("trunk registration: backoffBaseMs must be above 0 (a failed registration retried at once hammers the carrier)");
  if ((o.backoffMaxMs ?? 1_800_000) < (o.backoffBaseMs ?? 30_000)) throw new RangeError("trunk registration: backoffMaxMs must be at least backoffBaseMs");
}
