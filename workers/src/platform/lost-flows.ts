/**
 * Flows that storage names (bindings, transactions, dialogs) but that
 * vanished without a close event: after a process restart, or a deploy,
 * every WebSocket is gone while the DO's SQLite is not. A close event would
 * have ended their calls at once (PITFALLS 13); a restart is the edge's
 * doing, not the user's, so their dialogs are kept for a grace period:
 *
 *  - the same device registering again on a new socket (same `+sip.instance`
 *    and reg-id, or the same Contact URI: RFC 5626 §6) *adopts* the lost
 *    flow: in-dialog requests routed by the lost flow's token go to the new
 *    socket (`successorOf`), and the new socket's close later ends them;
 *  - a lost flow nobody adopts within the grace period is closed as if its
 *    socket had closed: bindings removed, dialogs ended with a BYE to the
 *    other side.
 *
 * Rows live in `lost_flows` (platform/schema.ts). The row count is kept in
 * memory so that the common case, no lost flows, costs no query.
 */
export class LostFlows {
  private count: number;

  constructor(private readonly sql: SqlStorage) {
    this.count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM lost_flows").toArray()[0]?.n ?? 0;
  }

  get any(): boolean {
    return this.count > 0;
  }

  /** Records flows found without a socket; returns the ones not known before. */
  record(flowIds: Iterable<string>, nowMs: number): string[] {
    const added: string[] = [];
    for (const id of flowIds) {
      // RETURNING, not rowsWritten: the latter counts index rows too.
      const row = this.sql.exec("INSERT INTO lost_flows (flow_id, lost_at, successor) VALUES (?, ?, NULL) ON CONFLICT (flow_id) DO NOTHING RETURNING flow_id", id, nowMs).toArray();
      if (row.length > 0) added.push(id);
    }
    this.count += added.length;
    return added;
  }

  /** The flow that carries a lost flow's dialogs now, if its device came back. */
  successorOf(flowId: string): string | undefined {
    if (this.count === 0) return undefined;
    return this.sql.exec<{ successor: string | null }>("SELECT successor FROM lost_flows WHERE flow_id = ?", flowId).toArray()[0]?.successor ?? undefined;
  }

  /**
   * A REGISTER on `flow` replaced the bindings of `replaced`: those of them
   * that are lost (and the lost flows they had adopted) now belong to `flow`.
   * Returns how many lost flows were adopted.
   */
  adopt(replaced: readonly string[], flow: string): number {
    if (this.count === 0 || replaced.length === 0) return 0;
    const marks = replaced.map(() => "?").join(", ");
    return this.sql.exec(`UPDATE lost_flows SET successor = ? WHERE flow_id IN (${marks}) OR successor IN (${marks}) RETURNING flow_id`, flow, ...replaced, ...replaced).toArray().length;
  }

  /** Forgets the lost flows `flow` had adopted and returns them (the caller closes them with it). */
  takeAdopted(flow: string): string[] {
    if (this.count === 0) return [];
    const ids = this.sql.exec<{ flow_id: string }>("DELETE FROM lost_flows WHERE successor = ? RETURNING flow_id", flow).toArray().map((r) => r.flow_id);
    this.count -= ids.length;
    return ids;
  }

  /** Forgets one flow (it closed for good). */
  forget(flowId: string): void {
    if (this.count === 0) return;
    this.count -= this.sql.exec("DELETE FROM lost_flows WHERE flow_id = ? RETURNING flow_id", flowId).toArray().length;
  }

  /** Lost flows nobody adopted whose grace period is over. */
  expired(nowMs: number, graceMs: number): string[] {
    if (this.count === 0) return [];
    return this.sql
      .exec<{ flow_id: string }>("SELECT flow_id FROM lost_flows WHERE successor IS NULL AND lost_at <= ?", nowMs - graceMs)
      .toArray()
      .map((r) => r.flow_id);
  }

  /** When the next unadopted lost flow's grace period ends. */
  nextExpiry(graceMs: number): number | undefined {
    if (this.count === 0) return undefined;
    const next = this.sql.exec<{ next: number | null }>("SELECT MIN(lost_at) AS next FROM lost_flows WHERE successor IS NULL").toArray()[0]?.next ?? null;
    return next === null ? undefined : next + graceMs;
  }
}
