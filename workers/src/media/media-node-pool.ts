import type { EdgeConfig } from "../config.ts";
import { mediaNodeDirectory, type MediaNodeDirectory } from "../directory/media-nodes.ts";
import { logEvent } from "../log.ts";
import type { MediaNode } from "./media-node-record.ts";
import type { GeoPoint, MediaRegion } from "./media-regions.ts";
import { NoMediaNodeError, withMediaNode, type Served } from "./node-failover.ts";
import { NodePenalties } from "./node-penalties.ts";
import { rankNodes, type RankOptions } from "./node-selection.ts";

/**
 * What a call set-up needs to place its media: the node list (cached), the
 * penalty table, the region table. One per isolate, as Kamailio keeps one
 * node table per process; tests build their own.
 */
export interface MediaNodePool {
  directory: MediaNodeDirectory;
  penalties: NodePenalties;
  regions: readonly MediaRegion[];
  maxAttempts?: number;
  rank?: RankOptions;
  now?: () => number;
}

let isolatePenalties: NodePenalties | undefined;

/** The isolate's pool for this configuration (directory per table, one penalty table). */
export function isolateMediaNodePool(config: EdgeConfig): MediaNodePool {
  isolatePenalties ??= new NodePenalties(config.media.penalties);
  return { directory: mediaNodeDirectory(config), penalties: isolatePenalties, regions: config.media.regions };
}

/**
 * Chooses a node for a new call and runs `attempt` (the `offer`) on it,
 * failing over as withMediaNode does. `location` is the browser's, from its
 * WebSocket upgrade (`geoPointOf(request.cf)`). Throws NoMediaNodeError
 * (→ 503 + Retry-After) when no node serves, including when the node list
 * cannot be read at all.
 */
export async function withNearestMediaNode<T>(pool: MediaNodePool, location: GeoPoint | undefined, attempt: (node: MediaNode) => Promise<T>): Promise<Served<T>> {
  const now = pool.now ?? Date.now;
  let nodes: readonly MediaNode[];
  try {
    nodes = await pool.directory.nodes();
  } catch (err) {
    const why = `media_nodes cannot be read: ${(err as Error).message}`;
    logEvent("media-node-none", { why, retry_after_s: 5 }, "error");
    throw new NoMediaNodeError(5, [], [], why);
  }
  const ranking = rankNodes(nodes, location, now(), pool.penalties, pool.regions, pool.rank);
  const served = await withMediaNode(ranking.candidates, attempt, {
    penalties: pool.penalties,
    now,
    skipped: ranking.skipped,
    ...(pool.maxAttempts !== undefined ? { maxAttempts: pool.maxAttempts } : {}),
  });
  pool.directory.recordNewSession(served.node.id);
  return served;
}
