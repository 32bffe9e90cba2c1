import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import type { EdgeConfig } from "../config.ts";
import { dynamoClient } from "../directory/dynamo.ts";
import { mediaNodeDirectory } from "../directory/media-nodes.ts";
import { unusableReason } from "../media/node-selection.ts";
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
  media: MediaHealth;
}

/** Per region: live nodes (fresh heartbeat), how many of them take new calls, draining ones, sessions/capacity of the live. */
export interface RegionHealth {
  live: number;
  accepting: number;
  draining: number;
  sessions: number;
  capacity: number;
}

export interface MediaHealth {
  liveNodes: number;
  acceptingNodes: number;
  regions: Record<string, RegionHealth>;
  error?: string;
}

/**
 * What `GET /healthz` answers: our version, which backends answer us, and
 * the media nodes as this isolate sees them (the cached `media_nodes` list,
 * at most a few seconds old). `ok` is about the edge only: with no media
 * node, registrations and signaling still work and calls get 503.
 */
export async function checkHealth(config: EdgeConfig, now: number = Date.now()): Promise<Health> {
  const [dynamodb, media] = await Promise.all([checkDynamo(config), checkMedia(config, now)]);
  return { service: "sipedge-edge", version: EDGE_VERSION, ok: dynamodb.reachable && !dynamodb.missingTables?.length, backends: { dynamodb }, media };
}

async function checkMedia(config: EdgeConfig, now: number): Promise<MediaHealth> {
  const health: MediaHealth = { liveNodes: 0, acceptingNodes: 0, regions: {} };
  try {
    for (const node of await mediaNodeDirectory(config).nodes()) {
      const why = unusableReason(node, now);
      if (why === "stale") continue;
      const r = (health.regions[node.region] ??= { live: 0, accepting: 0, draining: 0, sessions: 0, capacity: 0 });
      r.live++;
      r.sessions += node.sessions;
      r.capacity += node.capacity;
      health.liveNodes++;
      if (why === "draining") r.draining++;
      if (why === undefined) {
        r.accepting++;
        health.acceptingNodes++;
      }
    }
  } catch (err) {
    health.error = err instanceof Error ? err.message : String(err);
  }
  return health;
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
