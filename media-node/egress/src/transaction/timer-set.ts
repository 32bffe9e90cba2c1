import type { Clock, TimerHandle } from "../clock.ts";

/** A transaction's named timers (A, B, D…): setting one replaces it, clearAll() on termination. */
export class TimerSet {
  private readonly handles = new Map<string, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  set(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    const handle = this.clock.setTimeout(() => {
      if (this.handles.get(name) !== handle) return;
      this.handles.delete(name);
      fn();
    }, ms);
    this.handles.set(name, handle);
  }

  clear(name: string): void {
    const h = this.handles.get(name);
    if (h === undefined) return;
    this.clock.clearTimeout(h);
    this.handles.delete(name);
  }

  clearAll(): void {
    for (const h of this.handles.values()) this.clock.clearTimeout(h);
    this.handles.clear();
  }

  has(name: string): boolean {
    return this.handles.has(name);
  }
}
