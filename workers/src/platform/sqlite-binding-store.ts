import type { Binding, BindingChanges, BindingStore } from "../registrar/binding.ts";

interface Row extends Record<string, SqlStorageValue> {
  binding_key: string;
  uri: string;
  instance: string | null;
  reg_id: number | null;
  flow_id: string;
  expires_at: number;
  q: number | null;
  call_id: string;
  cseq: number;
  path: string | null;
  outbound: number;
  user_agent: string | null;
  registered_at: number;
}

function toBinding(r: Row): Binding {
  return {
    key: r.binding_key,
    uri: r.uri,
    ...(r.instance !== null ? { instance: r.instance } : {}),
    ...(r.reg_id !== null ? { regId: r.reg_id } : {}),
    flowId: r.flow_id,
    expiresAt: r.expires_at,
    ...(r.q !== null ? { q: r.q } : {}),
    callId: r.call_id,
    cseq: r.cseq,
    path: r.path === null ? [] : (JSON.parse(r.path) as string[]),
    outbound: r.outbound === 1,
    ...(r.user_agent !== null ? { userAgent: r.user_agent } : {}),
    registeredAt: r.registered_at,
  };
}

/** The registrar's BindingStore over the DO's SQLite `bindings` table (platform/schema.ts). */
export class SqliteBindingStore implements BindingStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {}

  list(nowMs: number): Binding[] {
    return this.sql.exec<Row>("SELECT * FROM bindings WHERE expires_at > ?", nowMs).toArray().map(toBinding);
  }

  commit(changes: BindingChanges): void {
    // One transaction: a REGISTER is applied completely or not at all (RFC 3261 §10.3).
    this.storage.transactionSync(() => {
      for (const key of changes.removeKeys) this.sql.exec("DELETE FROM bindings WHERE binding_key = ?", key);
      for (const b of changes.put) {
        this.sql.exec(
          `INSERT OR REPLACE INTO bindings (binding_key, uri, instance, reg_id, flow_id, expires_at, q, call_id, cseq, path, outbound, user_agent, registered_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          b.key,
          b.uri,
          b.instance ?? null,
          b.regId ?? null,
          b.flowId,
          b.expiresAt,
          b.q ?? null,
          b.callId,
          b.cseq,
          b.path.length > 0 ? JSON.stringify(b.path) : null,
          b.outbound ? 1 : 0,
          b.userAgent ?? null,
          b.registeredAt,
        );
      }
    });
  }

  removeFlow(flowId: string): Binding[] {
    return this.sql.exec<Row>("DELETE FROM bindings WHERE flow_id = ? RETURNING *", flowId).toArray().map(toBinding);
  }

  removeAll(): Binding[] {
    return this.sql.exec<Row>("DELETE FROM bindings RETURNING *").toArray().map(toBinding);
  }

  removeExpired(nowMs: number): number {
    return this.sql.exec("DELETE FROM bindings WHERE expires_at <= ?", nowMs).rowsWritten;
  }

  nextExpiry(): number | undefined {
    const row = this.sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM bindings").toArray()[0];
    return row?.next ?? undefined;
  }
}
