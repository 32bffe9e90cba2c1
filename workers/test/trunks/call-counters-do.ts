// A Durable Object that runs the CallCounters conformance suite over its own
// SQLite (ctx.storage.sql), bundled and loaded into workerd by
// call-counters.test.ts. Each run gets a fresh table.

import type { SqlExec } from "../../src/proxy/sql-proxy-store.ts";
import { CALL_COUNTER_MIGRATIONS, SqlCallCounters } from "../../src/trunks/sql-call-counters.ts";
import { runCallCountersConformance } from "./call-counters-conformance.ts";

export class CountersTest {
  constructor(private readonly state: { storage: { sql: SqlExec } }) {}

  async fetch(): Promise<Response> {
    const sql = this.state.storage.sql;
    const failures = runCallCountersConformance(() => {
      sql.exec("DROP TABLE IF EXISTS call_out_calls");
      for (const m of CALL_COUNTER_MIGRATIONS) for (const statement of m.statements) sql.exec(statement);
      return new SqlCallCounters(sql);
    });
    return Response.json({ failures });
  }
}

export default {
  async fetch(request: Request, env: { COUNTERS: { idFromName(n: string): unknown; get(id: unknown): { fetch(r: Request): Promise<Response> } } }): Promise<Response> {
    return env.COUNTERS.get(env.COUNTERS.idFromName("t")).fetch(request);
  },
};
