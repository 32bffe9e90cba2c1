import type { Dialog } from "./dialog.ts";
import type { ProxyTransaction } from "./proxy-transaction.ts";

/**
 * Where the proxy keeps everything it needs to process a later message:
 * transactions (with their branches and response context) and dialogs. In
 * the UserAgent DO it is SQLite (`SqlProxyStore`), which is synchronous and
 * commits all writes of one event together, so the proxy stays synchronous
 * between its awaits and a message costs one implicit transaction.
 *
 * Contract: records go in and come out as copies (what you read is what was
 * last written); a `ProxyTransaction` is one row, branches included, so a
 * message usually costs one write.
 */
export interface ProxyStore {
  getTransaction(id: string): ProxyTransaction | undefined;
  /** By server transaction match key (RFC 3261 §17.2.3), e.g. for CANCEL. */
  findTransaction(key: string): ProxyTransaction | undefined;
  /** Every live transaction (a user has few): for flowClosed. */
  listTransactions(): ProxyTransaction[];
  insertTransaction(tx: ProxyTransaction): void;
  /** Writes everything but `request`, which never changes. */
  updateTransaction(tx: ProxyTransaction): void;
  deleteTransaction(id: string): void;

  getDialog(id: string): Dialog | undefined;
  listDialogs(): Dialog[];
  putDialog(dialog: Dialog): void;
  deleteDialog(id: string): void;
}
