/**
 * Per-subscriber call-out limits (issue 5: concurrent calls and calls per
 * minute). The storage is an interface: the UserAgent DO keeps the counters
 * in its SQLite (sql-call-counters.ts), tests use MemoryCallCounters.
 *
 * Synchronous on purpose: DO SQLite is synchronous, and a check-then-count
 * with no `await` in between cannot be raced by a second INVITE the DO
 * handles meanwhile (two INVITEs at once must not both take the last slot).
 */
export interface CallLimits {
  maxConcurrentCalls: number;
  maxCallsPerMinute: number;
}

export type CallAdmission =
  | { admitted: true; active: number; lastMinute: number }
  | { admitted: false; why: "concurrent-call-limit" | "call-rate-limit"; active: number; lastMinute: number };

export interface CallCounters {
  /**
   * If admitting one more call keeps `subscriber` within `limits`, counts
   * `callId` as started now and active, and says so; otherwise counts
   * nothing and says which limit holds. Admitting a call id that is already
   * active admits it again without counting it twice (a retransmitted or
   * re-authenticated INVITE of the same call).
   */
  admit(subscriber: string, callId: string, nowMs: number, limits: CallLimits): CallAdmission;
  /** The call ended or never got up: it stops counting as active (it still counts in its minute). Unknown ids are ignored. */
  release(subscriber: string, callId: string): void;
  /** Calls of `subscriber` active now. */
  active(subscriber: string, nowMs: number): number;
}

/** Calls per minute are counted over a sliding window of this length. */
export const RATE_WINDOW_MS = 60_000;
/**
 * A call still counted as active after this long is assumed lost (its end
 * was never reported: a crash between admit and release) and no longer
 * counts, so a leaked count cannot lock a subscriber out for good. The DO
 * must still release every call it admits; this is only the safety net.
 */
export const MAX_CALL_AGE_MS = 12 * 3600_000;

interface Entry {
  startedAt: number;
  active: boolean;
}

/** In memory, for tests and for logic that runs outside a DO. */
export class MemoryCallCounters implements CallCounters {
  private readonly calls = new Map<string, Map<string, Entry>>();

  admit(subscriber: string, callId: string, nowMs: number, limits: CallLimits): CallAdmission {
    const calls = this.prune(subscriber, nowMs);
    const active = [...calls.values()].filter((e) => e.active).length;
    const lastMinute = [...calls.values()].filter((e) => e.startedAt > nowMs - RATE_WINDOW_MS).length;
    const existing = calls.get(callId);
    if (existing?.active === true) return { admitted: true, active, lastMinute };
    if (active >= limits.maxConcurrentCalls) return { admitted: false, why: "concurrent-call-limit", active, lastMinute };
    // A call id seen before (released, then tried again) already counts in its minute.
    if (existing === undefined && lastMinute >= limits.maxCallsPerMinute) return { admitted: false, why: "call-rate-limit", active, lastMinute };
    calls.set(callId, { startedAt: existing?.startedAt ?? nowMs, active: true });
    return { admitted: true, active: active + 1, lastMinute: lastMinute + (existing === undefined ? 1 : 0) };
  }

  release(subscriber: string, callId: string): void {
    const e = this.calls.get(subscriber)?.get(callId);
    if (e !== undefined) e.active = false;
  }

  active(subscriber: string, nowMs: number): number {
    return [...this.prune(subscriber, nowMs).values()].filter((e) => e.active).length;
  }

  private prune(subscriber: string, nowMs: number): Map<string, Entry> {
    let calls = this.calls.get(subscriber);
    if (calls === undefined) {
      calls = new Map();
      this.calls.set(subscriber, calls);
    }
    for (const [id, e] of calls) {
      const gone = e.active ? e.startedAt <= nowMs - MAX_CALL_AGE_MS : e.startedAt <= nowMs - RATE_WINDOW_MS;
      if (gone) calls.delete(id);
    }
    return calls;
  }
}
