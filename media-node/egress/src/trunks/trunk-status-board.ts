// What the egress reports about each trunk (workers/src/trunks/trunk.ts
// TrunkStatus): gateway health, registration state, and the link fields
// main.ts owns, merged into one record per trunk. TrunkDirectory.setStatus
// replaces the whole `status` attribute, so the parts must be written
// together or one component would erase what another reported.
import type { Clock, TimerHandle } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { GatewayStatus, RegistrationStatus, TrunkStatus, TrunkStatusSink } from "./egress-trunk.ts";

export interface TrunkStatusBoardOptions {
  /** Where each trunk's whole status goes when it changes (main.ts: to the edge's TrunkDirectory.setStatus). */
  sink: TrunkStatusSink;
  clock: Clock;
  logger: Logger;
  /** Milliseconds since the epoch, for the ISO timestamps of the status (Date.now by default). */
  wallClock?: () => number;
  /** After a failed write, write again this much later unless a newer change did first. Default 5000 ms. */
  retryMs?: number;
}

export type LinkFields = Partial<Pick<TrunkStatus, "link_connected" | "active_calls">>;

interface Entry {
  gateways: GatewayStatus[];
  registration: RegistrationStatus | undefined;
  link: LinkFields;
  /** A change not yet handed to the sink. */
  dirty: boolean;
  writing: boolean;
  retry: TimerHandle | undefined;
}

export interface StatusBoardCounters {
  writes: number;
  writeFailures: number;
}

/**
 * One write per trunk in flight at a time, always of the latest state: a
 * change during a write is written after it (never two writes racing to
 * the edge, where the older could land last).
 */
export class TrunkStatusBoard {
  readonly counters: StatusBoardCounters = { writes: 0, writeFailures: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly wallClock: () => number;
  private readonly retryMs: number;
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: TrunkStatusBoardOptions) {
    this.wallClock = options.wallClock ?? Date.now;
    this.retryMs = options.retryMs ?? 5_000;
    if (!(this.retryMs > 0)) throw new RangeError(`trunk status: retryMs must be a positive number of milliseconds, got ${String(options.retryMs)}`);
  }

  /** Now (plus `offsetMs`) as an ISO timestamp, the form TrunkStatus uses. */
  isoTime(offsetMs = 0): string {
    return new Date(this.wallClock() + offsetMs).toISOString();
  }

  /** Registration state (trunk-registration.ts); undefined removes it. */
  setRegistration(trunkId: string, registration: RegistrationStatus | undefined): void {
    this.change(trunkId, (e) => (e.registration = registration));
  }

  /** Every gateway of the trunk whose health is known (gateway-health.ts); a gateway left out counts as up at the edge. */
  setGateways(trunkId: string, gateways: GatewayStatus[]): void {
    this.change(trunkId, (e) => (e.gateways = gateways.map((g) => ({ ...g }))));
  }

  /** The link fields (main.ts: whether the WSS to the edge is up, calls in progress). */
  setLink(trunkId: string, fields: LinkFields): void {
    this.change(trunkId, (e) => (e.link = { ...e.link, ...fields }));
  }

  /** The status as it would be written now. */
  status(trunkId: string): TrunkStatus | undefined {
    const e = this.entries.get(trunkId);
    return e === undefined ? undefined : this.render(e);
  }

  /** Resolves once no write is in flight or waiting (retries after failures are not waited for). */
  idle(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** No more writes (shutdown): pending retries are dropped; a write in flight completes. */
  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) {
      if (e.retry !== undefined) this.options.clock.clearTimeout(e.retry);
      e.retry = undefined;
    }
  }

  private change(trunkId: string, apply: (e: Entry) => void): void {
    let e = this.entries.get(trunkId);
    if (e === undefined) {
      e = { gateways: [], registration: undefined, link: {}, dirty: false, writing: false, retry: undefined };
      this.entries.set(trunkId, e);
    }
    apply(e);
    e.dirty = true;
    if (e.retry !== undefined) {
      this.options.clock.clearTimeout(e.retry);
      e.retry = undefined;
    }
    void this.write(trunkId, e);
  }

  private async write(trunkId: string, e: Entry): Promise<void> {
    if (e.writing || this.stopped) return;
    e.writing = true;
    while (e.dirty && !this.stopped) {
      e.dirty = false;
      const status = this.render(e);
      this.counters.writes++;
      try {
        await this.options.sink(trunkId, status);
      } catch (err) {
        this.counters.writeFailures++;
        this.options.logger.warn("trunk-status-write-failed", { trunk_id: trunkId, error: err instanceof Error ? err.message : String(err), retry_in_ms: this.retryMs });
        // A newer change arrived meanwhile: write that now; else this state again later.
        if (e.dirty || this.stopped) continue;
        e.dirty = true;
        e.retry = this.options.clock.setTimeout(() => {
          e.retry = undefined;
          void this.write(trunkId, e);
        }, this.retryMs);
        break;
      }
    }
    e.writing = false;
    this.wakeIdle();
  }

  private render(e: Entry): TrunkStatus {
    return {
      updated_at: this.isoTime(),
      gateways: e.gateways.map((g) => ({ ...g })),
      ...(e.registration === undefined ? {} : { registration: { ...e.registration } }),
      ...e.link,
    };
  }

  private busy(): boolean {
    return [...this.entries.values()].some((x) => x.writing || (x.dirty && x.retry === undefined && !this.stopped));
  }

  private wakeIdle(): void {
    if (this.busy()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
