// A Durable Object that runs the ProxyStore conformance suite over its own
// SQLite (ctx.storage.sql), bundled and loaded into workerd by
// proxy-store.test.ts. Each request gets fresh tables.

import { PROXY_MIGRATIONS } from "../src/proxy/proxy-schema.ts";
import { SqlProxyStore, type SqlExec } from "../src/proxy/sql-proxy-store.ts";
import { runProxyStoreConformance, sampleTransaction } from "./proxy-store-conformance.ts";

interface State {
  storage: { sql: SqlExec };
}

export class StoreTest {
  constructor(private readonly state: State) {}

  async fetch(request: Request): Promise<Response> {
    const sql = this.state.storage.sql;
    const url = new URL(request.url);
    if (url.pathname === "/persisted") {
      // Written by an earlier request (an earlier "instance"): read back through a new store object.
      const tx = new SqlProxyStore(sql).getTransaction("persist");
      return Response.json({ found: tx !== undefined, request: tx?.request });
    }
    const failures = runProxyStoreConformance(() => {
      for (const t of ["proxy_transactions", "proxy_dialogs"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      for (const m of PROXY_MIGRATIONS) for (const statement of m.statements) sql.exec(statement);
      return new SqlProxyStore(sql, () => 1);
    });
    new SqlProxyStore(sql).insertTransaction(sampleTransaction("persist", "kp"));
    return Response.json({ failures });
  }
}

export default {
  async fetch(request: Request, env: { STORE: { idFromName(n: string): unknown; get(id: unknown): { fetch(r: Request): Promise<Response> } } }): Promise<Response> {
    return env.STORE.get(env.STORE.idFromName("t")).fetch(request);
  },
};
