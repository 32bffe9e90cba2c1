/**
 * Limits password guessing (issue 3: "repeated failures on one socket or AOR
 * are slowed then refused"). Each UserAgent DO is one AOR, so a scope here is
 * already per AOR; the DO counts two scopes per attempt:
 *
 * - `flow:<id>`: the socket (closing and reopening it resets this one);
 * - `src:<ip>`: the client address (CF-Connecting-IP), so reconnecting does
 *   not help. Keyed by source, not by AOR alone, so that an attacker cannot
 *   lock the real user out from everywhere: the user's own devices, coming
 *   from other addresses, keep registering.
 *
 * Failures within WINDOW_MS are counted; from SLOW_AFTER on, each failed
 * answer is delayed; at LOCK_AFTER the scope is locked for LOCK_MS, during
 * which every attempt is refused 403 without looking at its credentials, so
 * a flood of guesses (1,000 failed logins) costs one SQLite read each.
 */
export const LOGIN_LIMITS = Object.freeze({
  /** Failures are counted over a sliding-start window of this length. */
  WINDOW_MS: 60_000,
  /** From this many failures in the window on, failed answers are delayed. */
  SLOW_AFTER: 3,
  /** Delay added per failure beyond SLOW_AFTER − 1 … */
  DELAY_STEP_MS: 250,
  /** … up to this. */
  MAX_DELAY_MS: 1_000,
  /** This many failures in the window lock the scope … */
  LOCK_AFTER: 5,
  /** … for this long. */
  LOCK_MS: 5 * 60_000,
});

export interface FailureRecord {
  windowStart: number;
  failures: number;
  lockedUntil: number;
}

/** Where counters live (SQLite `auth_failures` in the DO; a Map in unit tests). */
export interface FailureStore {
  get(scope: string): FailureRecord | undefined;
  put(scope: string, record: FailureRecord): void;
  delete(scope: string): void;
}

export interface FailureVerdict {
  /** Wait this long before answering the failed attempt. */
  delayMs: number;
  /** The attempt made a scope locked: answer 403 instead of a new challenge. */
  locked: boolean;
}

export class LoginLimiter {
  constructor(
    private readonly store: FailureStore,
    private readonly limits: typeof LOGIN_LIMITS = LOGIN_LIMITS,
  ) {}

  /** The time until which any of the scopes is locked, or undefined. */
  lockedUntil(scopes: readonly string[], nowMs: number): number | undefined {
    let until: number | undefined;
    for (const scope of scopes) {
      const r = this.store.get(scope);
      if (r !== undefined && r.lockedUntil > nowMs) until = Math.max(until ?? 0, r.lockedUntil);
    }
    return until;
  }

  recordFailure(scopes: readonly string[], nowMs: number): FailureVerdict {
    let worst = 0;
    let locked = false;
    for (const scope of scopes) {
      const prev = this.store.get(scope);
      const fresh = prev === undefined || nowMs - prev.windowStart > this.limits.WINDOW_MS;
      const record: FailureRecord = fresh
        ? { windowStart: nowMs, failures: 1, lockedUntil: prev?.lockedUntil ?? 0 }
        : { ...prev, failures: prev.failures + 1 };
      if (record.failures >= this.limits.LOCK_AFTER) {
        record.lockedUntil = nowMs + this.limits.LOCK_MS;
        locked = true;
      }
      this.store.put(scope, record);
      worst = Math.max(worst, record.failures);
    }
    const delayMs =
      locked || worst < this.limits.SLOW_AFTER ? 0 : Math.min(this.limits.MAX_DELAY_MS, (worst - this.limits.SLOW_AFTER + 1) * this.limits.DELAY_STEP_MS);
    return { delayMs, locked };
  }

  /** A successful login clears the counters of its scopes (only those that have one: no write otherwise). */
  recordSuccess(scopes: readonly string[]): void {
    for (const scope of scopes) {
      const r = this.store.get(scope);
      if (r !== undefined && r.failures > 0) this.store.delete(scope);
    }
  }
}
