import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import type { EdgeConfig } from "../config.ts";
import { dynamoClient } from "../directory/dynamo.ts";
import { EDGE_VERSION } from "../version.ts";

const PROBE_TIMEOUT_MS = 2000;

export interface BackendState {
  reachable: boolean;
  latencyMs?: number;
  error?: string;
  missingTables?: string[];
}

export interface Health {
  service: "sipedge-edge";
  version: string;
  ok: boolean;
  backends: { dynamodb: BackendState };
}

/** What `GET /healthz` answers: our version and which backends answer us. */
export async function checkHealth(config: EdgeConfig): Promise<Health> {
  const dynamodb = await checkDynamo(config);
  return { service: "sipedge-edge", version: EDGE_VERSION, ok: dynamodb.reachable && !dynamodb.missingTables?.length, backends: { dynamodb } };
}

async function checkDynamo(config: EdgeConfig): Promise<BackendState> {
  const started = Date.now();
  try {
    const found = new Set<string>();
    let start: string | undefined;
    do {
      // A health probe answers fast or says the backend is down: no retries.
      const page = await dynamoClient(config).send(new ListTablesCommand({ ExclusiveStartTableName: start }), {
        abortSignal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      for (const name of page.TableNames ?? []) found.add(name);
      start = page.LastEvaluatedTableName;
    } while (start !== undefined);
    const missingTables = Object.values(config.tables).filter((t) => !found.has(t));
    return { reachable: true, latencyMs: Date.now() - started, missingTables };
  } catch (err) {
    return { reachable: false, latencyMs: Date.now() - started, error: err instanceof Error ? err.message : String(err) };
  }
}
