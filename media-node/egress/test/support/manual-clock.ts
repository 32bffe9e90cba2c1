import type { Clock, TimerHandle } from "../../src/clock.ts";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told (tests of the RFC 3261 timers, no
 * waiting). advance() fires due timers in time order, including timers
 * they set that fall due within the advance.
 */
export class ManualClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly pending = new Set<Pending>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const p: Pending = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.add(p);
    return p;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as Pending);
  }

  /** Moves time forward by `ms`, firing what falls due. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) if (p.at <= end && (next === undefined || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      if (next === undefined) break;
      this.pending.delete(next);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }

  /** Timers still pending. */
  get size(): number {
    return this.pending.size;
  }
}
