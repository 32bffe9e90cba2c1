import { describe, expect, it } from "vitest";
import { LOGIN_LIMITS, LoginLimiter, type FailureRecord, type FailureStore } from "../src/auth/login-limiter.ts";

class MapFailureStore implements FailureStore {
  readonly rows = new Map<string, FailureRecord>();
  get(s: string): FailureRecord | undefined {
    return this.rows.get(s);
  }
  put(s: string, r: FailureRecord): void {
    this.rows.set(s, r);
  }
  delete(s: string): void {
    this.rows.delete(s);
  }
}

describe("LoginLimiter", () => {
  it("slows from SLOW_AFTER failures, locks at LOCK_AFTER for LOCK_MS, per scope", () => {
    const store = new MapFailureStore();
    const l = new LoginLimiter(store);
    const t = 1_000_000;
    const scopes = ["flow:a", "src:1.2.3.4"];
    const verdicts = Array.from({ length: LOGIN_LIMITS.LOCK_AFTER }, (_, i) => l.recordFailure(scopes, t + i));
    expect(verdicts.map((v) => v.delayMs)).toEqual([0, 0, 250, 500, 0]);
    expect(verdicts.at(-1)!.locked).toBe(true);
    expect(l.lockedUntil(scopes, t + 10)).toBe(t + 4 + LOGIN_LIMITS.LOCK_MS);
    // Another source (the real user elsewhere) is not locked.
    expect(l.lockedUntil(["flow:b", "src:5.6.7.8"], t + 10)).toBeUndefined();
    expect(l.lockedUntil(scopes, t + 5 + LOGIN_LIMITS.LOCK_MS)).toBeUndefined();
  });

  it("forgets failures after the window, and a success clears them", () => {
    const store = new MapFailureStore();
    const l = new LoginLimiter(store);
    l.recordFailure(["s"], 0);
    l.recordFailure(["s"], 1);
    expect(l.recordFailure(["s"], LOGIN_LIMITS.WINDOW_MS + 10).delayMs).toBe(0);
    expect(store.get("s")!.failures).toBe(1);
    l.recordSuccess(["s"]);
    expect(store.get("s")).toBeUndefined();
  });
});
