// When to send the next REGISTER: a refresh before the binding runs out
// (RFC 3261 §10.2.1.1 leaves it to the UA), and after failures an
// exponential backoff with a cap and jitter (after RFC 5626 §4.5).
import type { SipResponse } from "sip-parser-ts";
import { backoffDelay } from "../link/backoff.ts";

/**
 * Refresh `marginS` seconds before the granted interval ends, but never
 * later than halfway through it. The margin must cover a REGISTER that
 * times out (Timer F, 64*T1 = 32 s by default) and a second try on another
 * gateway, so the binding does not lapse while we find out. 3600 s with the
 * default 60 s margin: refresh after 3540 s; 60 s: after 30 s; 2 s: after 1 s.
 */
export function refreshDelayMs(grantedS: number, marginS: number): number {
  return Math.round(1000 * Math.max(grantedS / 2, grantedS - marginS));
}

export interface BackoffSettings {
  /** Wait after the first failure. */
  baseMs: number;
  /** The cap. */
  maxMs: number;
}

/**
 * The wait before try number `failures + 1`: base·2^(failures−1), capped,
 * then shortened by up to half at random so that registrations that failed
 * together (a carrier outage) do not all return together (RFC 5626 §4.5
 * does the same for flow recovery: a random wait between 50% and 100% of
 * the bound). The link's backoff (link/backoff.ts) with our counting:
 * `random` is uniform in [0, 1) and 0 gives the full bound.
 */
export function backoffDelayMs(failures: number, settings: BackoffSettings, random: () => number): number {
  return backoffDelay(Math.max(0, failures - 1), { baseMs: settings.baseMs, capMs: settings.maxMs }, () => 1 - random());
}

/** Retry-After (§20.33): `delta-seconds [comment] *(;params)` in milliseconds, if present and well formed. */
export function retryAfterMs(response: SipResponse): number | undefined {
  const v = response.get("Retry-After");
  const m = v === undefined ? null : /^\s*(\d{1,10})/.exec(v);
  return m === null ? undefined : Number(m[1]) * 1000;
}
