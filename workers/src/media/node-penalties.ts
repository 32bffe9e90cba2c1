/**
 * Media nodes that failed us recently, skipped for a while: Kamailio's
 * `rtpengine_disable_tout` (60 s by default after a timeout) and OpenSIPS'
 * fail-over on capacity errors (PLATFORM.md "Choosing among RTPEngine
 * nodes"; PITFALLS 25). Kept in isolate memory: each isolate learns on its
 * own, as each Kamailio process does, and forgets on eviction, which only
 * means one more failed try.
 *
 * Why a failed node is skipped decides for how long:
 *  - `timeout`     no answer in time (the agent or its rtpengine): a dead or
 *                  wedged node, 60 s by default;
 *  - `unreachable` the agent could not be reached or answered garbage
 *                  (connection refused, 5xx, a refused signature): as long;
 *  - `capacity`    "Ran out of ports", "Parallel session limit reached", a
 *                  draining agent…: the node is up, only full; its load
 *                  changes with every call that ends, so a short while (10 s).
 */
export type PenaltyKind = "timeout" | "unreachable" | "capacity";

export interface PenaltyDurations {
  /** After a timeout or an unreachable agent; default 60 s. */
  timeoutMs: number;
  /** After a capacity error; default 10 s. */
  capacityMs: number;
}

export const DEFAULT_PENALTIES: PenaltyDurations = { timeoutMs: 60_000, capacityMs: 10_000 };

export interface Penalty {
  kind: PenaltyKind;
  /** Unix ms when the node may be tried again. */
  until: number;
  reason: string;
}

export class NodePenalties {
  private readonly byNode = new Map<string, Penalty>();
  readonly durations: PenaltyDurations;

  constructor(durations: Partial<PenaltyDurations> = {}) {
    this.durations = { ...DEFAULT_PENALTIES, ...durations };
  }

  /** Skips `nodeId` until now + the duration for `kind`; a longer standing penalty is kept. */
  penalise(nodeId: string, kind: PenaltyKind, now: number, reason: string = kind): Penalty {
    const until = now + (kind === "capacity" ? this.durations.capacityMs : this.durations.timeoutMs);
    const current = this.byNode.get(nodeId);
    if (current !== undefined && current.until >= until) return current;
    const penalty = { kind, until, reason };
    this.byNode.set(nodeId, penalty);
    return penalty;
  }

  /** The penalty in force for `nodeId` at `now`, if any (expired ones are forgotten). */
  get(nodeId: string, now: number): Penalty | undefined {
    const p = this.byNode.get(nodeId);
    if (p === undefined) return undefined;
    if (p.until <= now) {
      this.byNode.delete(nodeId);
      return undefined;
    }
    return p;
  }

  isPenalised(nodeId: string, now: number): boolean {
    return this.get(nodeId, now) !== undefined;
  }

  /** A node answered: whatever we held against it is over. */
  clear(nodeId: string): void {
    this.byNode.delete(nodeId);
  }

  /** Penalties in force at `now`, for /healthz and logs. */
  active(now: number): Array<{ nodeId: string } & Penalty> {
    const out: Array<{ nodeId: string } & Penalty> = [];
    for (const id of [...this.byNode.keys()]) {
      const p = this.get(id, now);
      if (p !== undefined) out.push({ nodeId: id, ...p });
    }
    return out;
  }
}
