import type { Dialog } from "./dialog.ts";
import type { ProxyStore } from "./proxy-store.ts";
import type { ProxyTransaction } from "./proxy-transaction.ts";

/**
 * The one thing the SQL store needs, shaped like a Durable Object's
 * `ctx.storage.sql` (`exec` returns an iterable cursor of row objects), so
 * the DO passes `ctx.storage.sql` as it is. Synchronous: DO SQLite commits
 * all writes of one event together, which is our per-message batch.
 */
export interface SqlExec {
  exec(query: string, ...bindings: Array<string | number | null>): Iterable<Record<string, unknown>>;
}

/** ProxyStore over SQLite; the tables are in proxy-schema.ts. A thin mapping: whole records as JSON. */
export class SqlProxyStore implements ProxyStore {
  constructor(
    private readonly sql: SqlExec,
    private readonly now: () => number = Date.now,
  ) {}

  getTransaction(id: string): ProxyTransaction | undefined {
    return txFromRow(first(this.sql.exec("SELECT request, data FROM proxy_transactions WHERE id = ?", id)));
  }

  findTransaction(key: string): ProxyTransaction | undefined {
    return txFromRow(first(this.sql.exec("SELECT request, data FROM proxy_transactions WHERE match_key = ? LIMIT 1", key)));
  }

  listTransactions(): ProxyTransaction[] {
    const out: ProxyTransaction[] = [];
    for (const row of this.sql.exec("SELECT request, data FROM proxy_transactions")) out.push(txFromRow(row)!);
    return out;
  }

  insertTransaction(tx: ProxyTransaction): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO proxy_transactions (id, match_key, request, data, updated_at) VALUES (?, ?, ?, ?, ?)",
      tx.id,
      tx.key,
      tx.request,
      txData(tx),
      this.now(),
    );
  }

  updateTransaction(tx: ProxyTransaction): void {
    this.sql.exec("UPDATE proxy_transactions SET data = ?, updated_at = ? WHERE id = ?", txData(tx), this.now(), tx.id);
  }

  deleteTransaction(id: string): void {
    this.sql.exec("DELETE FROM proxy_transactions WHERE id = ?", id);
  }

  getDialog(id: string): Dialog | undefined {
    const row = first(this.sql.exec("SELECT data FROM proxy_dialogs WHERE id = ?", id));
    return row === undefined ? undefined : (JSON.parse(String(row["data"])) as Dialog);
  }

  listDialogs(): Dialog[] {
    const out: Dialog[] = [];
    for (const row of this.sql.exec("SELECT data FROM proxy_dialogs")) out.push(JSON.parse(String(row["data"])) as Dialog);
    return out;
  }

  putDialog(dialog: Dialog): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO proxy_dialogs (id, call_id, data, updated_at) VALUES (?, ?, ?, ?)",
      dialog.id,
      dialog.callId,
      JSON.stringify(dialog),
      this.now(),
    );
  }

  deleteDialog(id: string): void {
    this.sql.exec("DELETE FROM proxy_dialogs WHERE id = ?", id);
  }
}

function first(rows: Iterable<Record<string, unknown>>): Record<string, unknown> | undefined {
  for (const row of rows) return row;
  return undefined;
}

function txData(tx: ProxyTransaction): string {
  const { request: _request, ...rest } = tx;
  return JSON.stringify(rest);
}

function txFromRow(row: Record<string, unknown> | undefined): ProxyTransaction | undefined {
  if (row === undefined) return undefined;
  return { ...(JSON.parse(String(row["data"])) as Omit<ProxyTransaction, "request">), request: String(row["request"]) };
}
