/**
 * Signatures seen within the acceptance window, so a captured request cannot
 * be sent again (issue 4: "a replayed signature is refused").
 *
 * A signature is acceptable only while |now - timestamp| <= window, so once
 * `window * 2` has passed since we first saw it, its timestamp is stale and
 * the staleness check refuses it anyway: entries are kept that long, in
 * insertion order (a Map), so expiry is a scan from the front. Memory is
 * bounded by `max`: when full of live entries the cache refuses new ones
 * (fail closed) rather than forget one that could then be replayed.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** "fresh" the first time, "replayed" after; "full" when it cannot remember more. */
  remember(signature: string, now: number): "fresh" | "replayed" | "full" {
    this.expire(now);
    if (this.seen.has(signature)) return "replayed";
    if (this.seen.size >= this.max) return "full";
    this.seen.set(signature, now + 2 * this.windowMs);
    return "fresh";
  }

  private expire(now: number): void {
    for (const [sig, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(sig);
    }
  }
}
