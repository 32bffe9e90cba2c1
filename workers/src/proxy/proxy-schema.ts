/**
 * The proxy's tables in the UserAgent DO's SQLite. Shaped like the
 * platform's `Migration` (platform/schema.ts) without importing it (this
 * layer sits below the platform): the DO appends `PROXY_MIGRATIONS` to its
 * migration list. Never edit a shipped migration; add a new one.
 *
 * Records are JSON in a `data` column: the proxy reads and writes whole
 * records by key (one row per message), never queries inside them, and the
 * record types (proxy-transaction.ts, dialog.ts) document the fields. The
 * INVITE's text sits in its own column, written once, so the row updates on
 * 180/200 do not rewrite a 5 KB SDP.
 */
export const PROXY_MIGRATIONS: ReadonlyArray<{ id: string; statements: string[] }> = [
  {
    id: "proxy-1",
    statements: [
      // Server transactions with their response context and client branches (RFC 3261 §16.6, §16.7).
      // match_key: top-Via branch + sent-by of the request as received (§17.2.3), found again by CANCEL.
      `CREATE TABLE proxy_transactions (
        id TEXT PRIMARY KEY,
        match_key TEXT NOT NULL,
        request TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      "CREATE INDEX proxy_transactions_match ON proxy_transactions (match_key)",
      // Dialogs (§12) this DO's user is in: routing after eviction, BYE on socket close, session timers.
      `CREATE TABLE proxy_dialogs (
        id TEXT PRIMARY KEY,
        call_id TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
    ],
  },
];
