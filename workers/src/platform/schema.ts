import { logEvent } from "../log.ts";

/**
 * The UserAgent DO's SQLite schema, as named migrations applied once each,
 * in list order, and recorded in `_migrations`. To add tables (dialogs, …)
 * append a migration with a new id to `USER_AGENT_MIGRATIONS` (or concatenate
 * your own list there); never edit one that has shipped: a DO that already
 * ran it will not run it again.
 */
export interface Migration {
  /** Unique and stable, e.g. "proxy-1-dialogs". */
  id: string;
  statements: string[];
}

export const USER_AGENT_MIGRATIONS: Migration[] = [
  {
    id: "core-1",
    statements: [
      // Small facts about this DO, e.g. its AOR (a DO does not know the name it was created from).
      "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      // Registrar bindings (RFC 3261 §10.3, RFC 5626 §6). binding_key is
      // "i:<instance>#<reg-id>" under outbound rules, else "u:<contact URI>".
      // flow_id is the WebSocket that registered it: routing goes to that
      // socket, never to the (usually `.invalid`) Contact host (PITFALLS 5, 22).
      `CREATE TABLE bindings (
        binding_key TEXT PRIMARY KEY,
        uri TEXT NOT NULL,
        instance TEXT,
        reg_id INTEGER,
        flow_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        q REAL,
        call_id TEXT NOT NULL,
        cseq INTEGER NOT NULL,
        path TEXT,
        outbound INTEGER NOT NULL,
        user_agent TEXT,
        registered_at INTEGER NOT NULL
      )`,
      "CREATE INDEX bindings_flow ON bindings (flow_id)",
      "CREATE INDEX bindings_expiry ON bindings (expires_at)",
      // All of the DO's timers, multiplexed onto its one alarm (PLATFORM.md).
      "CREATE TABLE timers (key TEXT PRIMARY KEY, due_at INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT)",
      "CREATE INDEX timers_due ON timers (due_at)",
      // Digest nonce-count per nonce (RFC 7616 §3.4.5: refuse replays), kept until the nonce is stale anyway.
      "CREATE TABLE nonce_counts (nonce TEXT PRIMARY KEY, nc INTEGER NOT NULL, expires_at INTEGER NOT NULL)",
      "CREATE INDEX nonce_counts_expiry ON nonce_counts (expires_at)",
      // Failed-login counters per scope ("flow:<id>", "src:<ip>"): auth/login-limiter.ts.
      "CREATE TABLE auth_failures (scope TEXT PRIMARY KEY, window_start INTEGER NOT NULL, failures INTEGER NOT NULL, locked_until INTEGER NOT NULL)",
      // The subscriber's directory record, so a registration refresh does not read DynamoDB.
      "CREATE TABLE subscriber_cache (aor TEXT PRIMARY KEY, record TEXT, fetched_at INTEGER NOT NULL)",
    ],
  },
  {
    id: "core-2-lost-flows",
    statements: [
      // Flows that storage names but that vanished without a close (a process
      // restart): platform/lost-flows.ts. successor: the same device's new
      // flow, which carries the lost one's dialogs.
      "CREATE TABLE lost_flows (flow_id TEXT PRIMARY KEY, lost_at INTEGER NOT NULL, successor TEXT)",
      "CREATE INDEX lost_flows_successor ON lost_flows (successor)",
    ],
  },
];

/** Applies the migrations not applied yet. Costs one read when there is nothing to do. */
export function migrate(sql: SqlStorage, migrations: readonly Migration[]): void {
  let applied: Set<string>;
  try {
    applied = new Set(sql.exec<{ id: string }>("SELECT id FROM _migrations").toArray().map((r) => r.id));
  } catch {
    sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
    applied = new Set();
  }
  for (const m of migrations) {
    if (applied.has(m.id)) continue;
    for (const statement of m.statements) sql.exec(statement);
    sql.exec("INSERT INTO _migrations (id, applied_at) VALUES (?, ?)", m.id, Date.now());
    logEvent("do-migration-applied", { migration: m.id });
  }
}
