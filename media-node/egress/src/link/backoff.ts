/**
 * How long to wait before dialing the edge again: exponential from `baseMs`,
 * capped at `capMs`, with jitter (a random point in the upper half of the
 * step), so a fleet of egress proxies that lost the edge together does not
 * come back in lockstep ("equal jitter" in AWS's backoff write-up).
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = { baseMs: 250, capMs: 30_000 };

/** The delay before attempt number `attempt` (0 for the first retry). `random` is uniform in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
