import type { NonceCountStore } from "sip-parser-ts";

/**
 * The last nonce-count seen per nonce (RFC 7616 §3.4.5: a server that keeps
 * it can refuse replays), in the DO's `nonce_counts` table. Rows live as
 * long as their nonce is fresh; expired ones are swept when a new nonce is
 * first used.
 */
export class SqliteNonceCounts implements NonceCountStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  accept(nonce: string, nc: number): boolean {
    const row = this.sql.exec<{ nc: number }>("SELECT nc FROM nonce_counts WHERE nonce = ?", nonce).toArray()[0];
    if (row !== undefined) {
      if (nc <= row.nc) return false;
      this.sql.exec("UPDATE nonce_counts SET nc = ? WHERE nonce = ?", nc, nonce);
      return true;
    }
    const now = this.now();
    this.sql.exec("DELETE FROM nonce_counts WHERE expires_at < ?", now);
    // The nonce was minted at most maxAge ago, so it cannot outlive now + maxAge.
    this.sql.exec("INSERT INTO nonce_counts (nonce, nc, expires_at) VALUES (?, ?, ?)", nonce, nc, now + this.maxAgeMs);
    return true;
  }
}
