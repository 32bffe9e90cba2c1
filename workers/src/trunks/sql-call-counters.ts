import type { SqlExec } from "../proxy/sql-proxy-store.ts";
import { MAX_CALL_AGE_MS, RATE_WINDOW_MS, type CallAdmission, type CallCounters, type CallLimits } from "./call-counters.ts";

/**
 * The call-out counters' table in the UserAgent DO's SQLite, shaped like the
 * platform's Migration (as proxy-schema.ts is): the DO appends these to its
 * migration list. Never edit a shipped migration; add a new one.
 * One row per call out: active until released, kept while in the rate window.
 */
export const CALL_COUNTER_MIGRATIONS: ReadonlyArray<{ id: string; statements: string[] }> = [
  {
    id: "call-out-1",
    statements: [
      `CREATE TABLE call_out_calls (
        subscriber TEXT NOT NULL,
        call_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        active INTEGER NOT NULL,
        PRIMARY KEY (subscriber, call_id)
      )`,
    ],
  },
];

/** CallCounters over SQLite (`ctx.storage.sql` as it is); synchronous, so admit is atomic within the DO. */
export class SqlCallCounters implements CallCounters {
  constructor(private readonly sql: SqlExec) {}

  admit(subscriber: string, callId: string, nowMs: number, limits: CallLimits): CallAdmission {
    this.prune(subscriber, nowMs);
    const counts = first(
      this.sql.exec(
        "SELECT COALESCE(SUM(active), 0) AS active, COALESCE(SUM(CASE WHEN started_at > ? THEN 1 ELSE 0 END), 0) AS last_minute FROM call_out_calls WHERE subscriber = ?",
        nowMs - RATE_WINDOW_MS,
        subscriber,
      ),
    );
    const active = Number(counts?.["active"] ?? 0);
    const lastMinute = Number(counts?.["last_minute"] ?? 0);
    const existing = first(this.sql.exec("SELECT active FROM call_out_calls WHERE subscriber = ? AND call_id = ?", subscriber, callId));
    if (existing !== undefined && Number(existing["active"]) === 1) return { admitted: true, active, lastMinute };
    if (active >= limits.maxConcurrentCalls) return { admitted: false, why: "concurrent-call-limit", active, lastMinute };
    if (existing === undefined && lastMinute >= limits.maxCallsPerMinute) return { admitted: false, why: "call-rate-limit", active, lastMinute };
    if (existing === undefined) {
      this.sql.exec("INSERT INTO call_out_calls (subscriber, call_id, started_at, active) VALUES (?, ?, ?, 1)", subscriber, callId, nowMs);
    } else {
      this.sql.exec("UPDATE call_out_calls SET active = 1 WHERE subscriber = ? AND call_id = ?", subscriber, callId);
    }
    return { admitted: true, active: active + 1, lastMinute: lastMinute + (existing === undefined ? 1 : 0) };
  }

  release(subscriber: string, callId: string): void {
    this.sql.exec("UPDATE call_out_calls SET active = 0 WHERE subscriber = ? AND call_id = ?", subscriber, callId);
  }

  active(subscriber: string, nowMs: number): number {
    this.prune(subscriber, nowMs);
    return Number(first(this.sql.exec("SELECT COUNT(*) AS n FROM call_out_calls WHERE subscriber = ? AND active = 1", subscriber))?.["n"] ?? 0);
  }

  private prune(subscriber: string, nowMs: number): void {
    this.sql.exec(
      "DELETE FROM call_out_calls WHERE subscriber = ? AND ((active = 1 AND started_at <= ?) OR (active = 0 AND started_at <= ?))",
      subscriber,
      nowMs - MAX_CALL_AGE_MS,
      nowMs - RATE_WINDOW_MS,
    );
  }
}

function first(rows: Iterable<Record<string, unknown>>): Record<string, unknown> | undefined {
  for (const row of rows) return row;
  return undefined;
}
