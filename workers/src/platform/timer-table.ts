import { logEvent } from "../log.ts";

/** Runs when a timer is due. At-least-once: it may run again after a crash, so it must be idempotent. */
export type TimerHandler = (key: string, payload: string | null, dueAt: number) => void | Promise<void>;

/** A handler that throws is retried after this long. */
const RETRY_MS = 5_000;

/**
 * The DO's timers in the `timers` table, multiplexed onto its single alarm
 * (PLATFORM.md: one alarm per DO, at-least-once, retried): the alarm is
 * always armed at the earliest due timer. Keys are unique; scheduling a key
 * again moves it.
 */
export class TimerTable {
  private readonly handlers = new Map<string, TimerHandler>();
  /** When the alarm is armed; undefined until known (after a restart we re-arm once). */
  private armedAt: number | null | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {}

  on(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
  }

  schedule(key: string, dueAt: number, kind: string, payload: string | null = null): void {
    this.sql.exec(
      "INSERT INTO timers (key, due_at, kind, payload) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at, kind = excluded.kind, payload = excluded.payload",
      key,
      dueAt,
      kind,
      payload,
    );
    if (this.armedAt === undefined || this.armedAt === null || dueAt < this.armedAt) this.arm(dueAt);
  }

  /**
   * Schedules `key` at `dueAt` unless it is already due earlier: for sweeps
   * (binding expiry) where firing early is harmless and moving the timer on
   * every refresh would cost a write each time.
   */
  scheduleNoLaterThan(key: string, dueAt: number, kind: string): void {
    const row = this.sql.exec<{ due_at: number }>("SELECT due_at FROM timers WHERE key = ?", key).toArray()[0];
    if (row !== undefined && row.due_at <= dueAt) return;
    this.schedule(key, dueAt, kind);
  }

  cancel(key: string): void {
    this.sql.exec("DELETE FROM timers WHERE key = ?", key);
  }

  /** Runs every due timer, then re-arms at the earliest one left. Called from `alarm()`. */
  async fire(nowMs: number): Promise<void> {
    this.armedAt = null; // the alarm that woke us is spent
    const due = this.sql.exec<{ key: string; due_at: number; kind: string; payload: string | null }>(
      "SELECT key, due_at, kind, payload FROM timers WHERE due_at <= ? ORDER BY due_at LIMIT 500",
      nowMs,
    ).toArray();
    for (const t of due) {
      const handler = this.handlers.get(t.kind);
      try {
        if (handler === undefined) logEvent("timer-without-handler", { key: t.key, kind: t.kind }, "warn");
        else await handler(t.key, t.payload, t.due_at);
        // A handler may have moved its own timer: delete only the firing we ran.
        this.sql.exec("DELETE FROM timers WHERE key = ? AND due_at = ?", t.key, t.due_at);
      } catch (err) {
        logEvent("timer-failed", { key: t.key, kind: t.kind, message: err instanceof Error ? err.message : String(err) }, "error");
        this.sql.exec("UPDATE timers SET due_at = ? WHERE key = ? AND due_at = ?", nowMs + RETRY_MS, t.key, t.due_at);
      }
    }
    this.rearm();
  }

  /** Arms the alarm at the earliest timer, or clears it when there is none. */
  rearm(): void {
    const row = this.sql.exec<{ next: number | null }>("SELECT MIN(due_at) AS next FROM timers").toArray()[0];
    const next = row?.next ?? null;
    if (next === null) {
      if (this.armedAt !== null) void this.storage.deleteAlarm();
      this.armedAt = null;
    } else if (next !== this.armedAt) {
      this.arm(next);
    }
  }

  private arm(at: number): void {
    this.armedAt = at;
    void this.storage.setAlarm(at);
  }
}
