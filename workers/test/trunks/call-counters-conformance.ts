// One conformance suite for every CallCounters (as proxy-store-conformance.ts
// is for ProxyStore): MemoryCallCounters runs it under vitest, SqlCallCounters
// inside workerd over a Durable Object's real SQLite (call-counters.test.ts).
// Plain code, no vitest: it also runs in workerd.

import { MAX_CALL_AGE_MS, RATE_WINDOW_MS, type CallCounters } from "../../src/trunks/call-counters.ts";

const T0 = 1_700_000_000_000;
const A = "alice@example.com";
const B = "bob@example.com";

/** Runs every case on a fresh store from `make`; returns the failures (empty = conformant). */
export function runCallCountersConformance(make: () => CallCounters): string[] {
  const failures: string[] = [];
  const check = (name: string, ok: boolean, detail: unknown = ""): void => {
    if (!ok) failures.push(`${name}: ${JSON.stringify(detail)}`);
  };
  const limits = { maxConcurrentCalls: 2, maxCallsPerMinute: 3 };

  {
    const c = make();
    const first = c.admit(A, "c1", T0, limits);
    check("first call admitted", first.admitted && first.active === 1 && first.lastMinute === 1, first);
    check("second admitted", c.admit(A, "c2", T0 + 1, limits).admitted);
    const third = c.admit(A, "c3", T0 + 2, limits);
    check("third refused by the concurrent limit", !third.admitted && third.why === "concurrent-call-limit" && third.active === 2, third);
    check("a refusal counts nothing", c.active(A, T0 + 3) === 2, c.active(A, T0 + 3));
    check("other subscribers are not affected", c.admit(B, "c1", T0 + 3, limits).admitted);
    c.release(A, "c1");
    check("release frees a slot", c.active(A, T0 + 4) === 1 && c.admit(A, "c3", T0 + 4, limits).admitted);
    const fourth = c.admit(A, "c4", T0 + 5, { maxConcurrentCalls: 10, maxCallsPerMinute: 3 });
    check("fourth start within the minute refused by the rate limit", !fourth.admitted && fourth.why === "call-rate-limit" && fourth.lastMinute === 3, fourth);
    // Starts at T0, T0+1, T0+4 (c1, c2, c3); a minute after the last of them none is in the window.
    const later = c.admit(A, "c4", T0 + 4 + RATE_WINDOW_MS, { maxConcurrentCalls: 10, maxCallsPerMinute: 3 });
    check("a minute later the window has moved on", later.admitted && later.lastMinute === 1 && later.active === 3, later);
  }
  {
    const c = make();
    c.admit(A, "same", T0, limits);
    const again = c.admit(A, "same", T0 + 10, limits);
    check("re-admitting an active call id counts it once", again.admitted && again.active === 1 && again.lastMinute === 1, again);
    c.release(A, "same");
    c.release(A, "same");
    c.release(A, "unknown");
    check("release is idempotent and ignores unknown ids", c.active(A, T0 + 20) === 0);
    const retried = c.admit(A, "same", T0 + 30, limits);
    check("a released call id tried again is active again, not a new start", retried.admitted && retried.active === 1 && retried.lastMinute === 1, retried);
  }
  {
    const c = make();
    c.admit(A, "lost", T0, { maxConcurrentCalls: 1, maxCallsPerMinute: 5 });
    const blocked = c.admit(A, "next", T0 + 60 * 60_000, { maxConcurrentCalls: 1, maxCallsPerMinute: 5 });
    check("a long call still counts", !blocked.admitted && blocked.why === "concurrent-call-limit", blocked);
    const freed = c.admit(A, "next", T0 + MAX_CALL_AGE_MS + 1, { maxConcurrentCalls: 1, maxCallsPerMinute: 5 });
    check("a call never released stops counting after MAX_CALL_AGE_MS", freed.admitted, freed);
  }
  return failures;
}
