/**
 * RFC 3261 §17.1.1.1 and Table 4 (§A): T1 is the round-trip estimate, T2
 * the cap on non-INVITE and response retransmission intervals, T4 how long
 * a message may stay in the network. Timers B, F, H, J (and RFC 6026's L and
 * M) are 64*T1; D is at least 32 s on unreliable transports. A small T1
 * makes every timer small (tests, or a LAN); T2 and T4 are never made
 * smaller than T1 here.
 */
export interface TimerConfig {
  /** Default 500 ms. */
  t1: number;
  /** Default 4000 ms. */
  t2: number;
  /** Default 5000 ms. */
  t4: number;
  /** Timer D (client INVITE Completed, unreliable). Default 32000 ms. */
  timerD: number;
  /** §17.2.1: a server INVITE transaction sends 100 Trying if the TU has not answered within this long. Default 200 ms. */
  trying: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({ t1: 500, t2: 4000, t4: 5000, timerD: 32_000, trying: 200 });

export interface Timers extends TimerConfig {
  /** 64*T1: Timers B, F, H, J, L, M. */
  t64: number;
}

export function resolveTimers(config: Partial<TimerConfig> = {}): Readonly<Timers> {
  const t = { ...DEFAULT_TIMERS, ...config };
  for (const [name, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0) throw new TypeError(`timer ${name} must be a positive number of milliseconds, got ${v}`);
  }
  return Object.freeze({ ...t, t2: Math.max(t.t2, t.t1), t4: Math.max(t.t4, t.t1), t64: 64 * t.t1 });
}
