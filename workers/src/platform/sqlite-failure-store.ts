import type { FailureRecord, FailureStore } from "../auth/login-limiter.ts";
import { LOGIN_LIMITS } from "../auth/login-limiter.ts";

/** Login-limiter counters in the DO's `auth_failures` table; stale rows are swept when new ones are added. */
export class SqliteFailureStore implements FailureStore {
  constructor(private readonly sql: SqlStorage) {}

  get(scope: string): FailureRecord | undefined {
    const r = this.sql
      .exec<{ window_start: number; failures: number; locked_until: number }>("SELECT window_start, failures, locked_until FROM auth_failures WHERE scope = ?", scope)
      .toArray()[0];
    return r === undefined ? undefined : { windowStart: r.window_start, failures: r.failures, lockedUntil: r.locked_until };
  }

  put(scope: string, record: FailureRecord): void {
    const now = record.windowStart;
    if (record.failures === 1) {
      // A new window: sweep rows nobody needs any more, so the table stays small under a flood of sources.
      this.sql.exec("DELETE FROM auth_failures WHERE window_start < ? AND locked_until < ?", now - LOGIN_LIMITS.WINDOW_MS, now);
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO auth_failures (scope, window_start, failures, locked_until) VALUES (?, ?, ?, ?)",
      scope,
      record.windowStart,
      record.failures,
      record.lockedUntil,
    );
  }

  delete(scope: string): void {
    this.sql.exec("DELETE FROM auth_failures WHERE scope = ?", scope);
  }
}
