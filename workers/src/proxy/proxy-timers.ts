/**
 * Keys of the proxy's timers in the DO's timer table (one alarm, many
 * timers; PLATFORM.md). Every key starts with `proxy:` so the DO can route
 * the firing to `ProxyCore.onTimer`. A key names what to look at, and the
 * handler re-reads the store and checks the deadline it finds there, so a
 * firing that is late, repeated (at-least-once) or stale does nothing wrong.
 *
 *   proxy:b:<txId>:<n>    a client branch: Timer B/F (no answer), Timer C
 *                         (§16.8), the wait for a final after CANCEL, or
 *                         Timer M (RFC 6026: more 2xx after the first)
 *   proxy:d:<dialogId>    a dialog: RFC 4028 session expiry or lifetime limit
 */
export const TIMER_PREFIX = "proxy:";

/** RFC 3261 §17.1.1.1: T1 = 500 ms; B and F are 64*T1 (they apply on reliable transports too). */
export const T1_MS = 500;
export const TIMER_B_MS = 64 * T1_MS;
export const TIMER_F_MS = 64 * T1_MS;
/** §16.8: Timer C "MUST be set for a time value larger than 3 minutes". */
export const TIMER_C_MS = 181_000;
/** RFC 6026 §7.2 Timer M: how long an accepted INVITE branch still forwards further 2xx. */
export const TIMER_M_MS = 64 * T1_MS;
/** How long a cancelled branch may take to send its final response (§9.1: 64*T1 after the CANCEL). */
export const CANCEL_WAIT_MS = 64 * T1_MS;

export function branchTimerKey(txId: string, n: number): string {
  return `${TIMER_PREFIX}b:${txId}:${n}`;
}

export function dialogTimerKey(dialogId: string): string {
  return `${TIMER_PREFIX}d:${dialogId}`;
}

export type ProxyTimer = { kind: "branch"; txId: string; n: number } | { kind: "dialog"; dialogId: string };

export function parseTimerKey(key: string): ProxyTimer | undefined {
  if (key.startsWith(`${TIMER_PREFIX}b:`)) {
    const rest = key.slice(TIMER_PREFIX.length + 2);
    const colon = rest.lastIndexOf(":");
    const n = Number(rest.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(n)) return undefined;
    return { kind: "branch", txId: rest.slice(0, colon), n };
  }
  if (key.startsWith(`${TIMER_PREFIX}d:`)) return { kind: "dialog", dialogId: key.slice(TIMER_PREFIX.length + 2) };
  return undefined;
}
