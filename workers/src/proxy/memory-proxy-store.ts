import type { Dialog } from "./dialog.ts";
import type { ProxyStore } from "./proxy-store.ts";
import type { ProxyTransaction } from "./proxy-transaction.ts";

/**
 * ProxyStore in memory, for unit tests and the egress. Records are stored
 * as JSON text, like the SQL store does, so a test fails if the proxy
 * changes a record and forgets to write it back, and a "hibernated" proxy
 * (a new ProxyCore over the same store) sees only what was persisted.
 */
export class MemoryProxyStore implements ProxyStore {
  private readonly txs = new Map<string, { key: string; request: string; data: string }>();
  private readonly dialogs = new Map<string, string>();
  /** Writes so far, for tests that count them. */
  writes = 0;

  getTransaction(id: string): ProxyTransaction | undefined {
    const row = this.txs.get(id);
    return row === undefined ? undefined : { ...(JSON.parse(row.data) as Omit<ProxyTransaction, "request">), request: row.request };
  }

  findTransaction(key: string): ProxyTransaction | undefined {
    for (const [id, row] of this.txs) if (row.key === key) return this.getTransaction(id);
    return undefined;
  }

  listTransactions(): ProxyTransaction[] {
    return [...this.txs.keys()].map((id) => this.getTransaction(id)!);
  }

  insertTransaction(tx: ProxyTransaction): void {
    this.writes++;
    this.txs.set(tx.id, { key: tx.key, request: tx.request, data: withoutRequest(tx) });
  }

  updateTransaction(tx: ProxyTransaction): void {
    const row = this.txs.get(tx.id);
    if (row === undefined) return;
    this.writes++;
    row.data = withoutRequest(tx);
  }

  deleteTransaction(id: string): void {
    if (this.txs.delete(id)) this.writes++;
  }

  getDialog(id: string): Dialog | undefined {
    const d = this.dialogs.get(id);
    return d === undefined ? undefined : (JSON.parse(d) as Dialog);
  }

  listDialogs(): Dialog[] {
    return [...this.dialogs.values()].map((d) => JSON.parse(d) as Dialog);
  }

  putDialog(dialog: Dialog): void {
    this.writes++;
    this.dialogs.set(dialog.id, JSON.stringify(dialog));
  }

  deleteDialog(id: string): void {
    if (this.dialogs.delete(id)) this.writes++;
  }
}

function withoutRequest(tx: ProxyTransaction): string {
  const { request: _request, ...rest } = tx;
  return JSON.stringify(rest);
}
