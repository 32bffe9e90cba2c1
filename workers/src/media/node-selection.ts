import type { MediaNode } from "./media-node-record.ts";
import { greatCircleKm, type GeoPoint, type MediaRegion } from "./media-regions.ts";
import type { NodePenalties } from "./node-penalties.ts";

/**
 * Which media nodes may take a new call, best first (ARCHITECTURE.md,
 * "Choosing a media node"):
 *
 *  1. regions by great-circle distance from the browser (its WebSocket
 *     upgrade's `request.cf` location); without a location, in the order of
 *     MEDIA_REGIONS; a region missing from the table comes after all known
 *     ones (by name), so a node the operator forgot to list still serves;
 *     with an empty table, every node is ranked by load alone;
 *  2. within a region, the least loaded node (`load`, then sessions/capacity,
 *     then the id, so the order is stable);
 *  3. only live nodes: a fresh heartbeat (`expires_at` not passed and
 *     `heartbeat_at` not older than `maxHeartbeatAgeMs`), state `active`
 *     (a draining node keeps its calls and gets no new ones), sessions under
 *     capacity, and not penalised after a recent failure (PITFALLS 25).
 *
 * When every otherwise usable node is penalised, they are offered anyway,
 * the one whose penalty ends first first (Kamailio's
 * `aggressive_redetection`): one failed try costs less than refusing every
 * call for a minute after a blip. `redetect: false` turns that off.
 *
 * Pure: the caller passes the node list (MediaNodeDirectory), the clock and
 * the penalty table.
 */
export type SkipReason = "stale" | "draining" | "full" | "penalised";

export interface SkippedNode {
  id: string;
  region: string;
  reason: SkipReason;
}

export interface NodeRanking {
  /** The nodes to try, in order. */
  candidates: MediaNode[];
  /** Nodes not offered, and why: for the log when no node can serve. */
  skipped: SkippedNode[];
  /** True when `candidates` are penalised nodes offered as a last resort. */
  redetecting: boolean;
}

export interface RankOptions {
  /** A heartbeat older than this is stale even if its `expires_at` says otherwise; default 60 s. */
  maxHeartbeatAgeMs?: number;
  /** Offer penalised nodes when nothing else is left; default true. */
  redetect?: boolean;
}

export const DEFAULT_MAX_HEARTBEAT_AGE_MS = 60_000;

/** Why `node` takes no new call at `now`, or undefined when it may (penalties aside). */
export function unusableReason(node: MediaNode, now: number, maxHeartbeatAgeMs = DEFAULT_MAX_HEARTBEAT_AGE_MS): Exclude<SkipReason, "penalised"> | undefined {
  if (node.expiresAt * 1000 <= now || now - node.heartbeatAt > maxHeartbeatAgeMs) return "stale";
  if (node.state !== "active") return "draining";
  if (node.sessions >= node.capacity || node.load >= 1) return "full";
  return undefined;
}

/** Region name → rank (0 = try first). */
export function regionOrder(regions: readonly MediaRegion[], location: GeoPoint | undefined): Map<string, number> {
  const indexed = regions.map((r, i) => ({ r, i, km: location === undefined ? 0 : greatCircleKm(location, r) }));
  indexed.sort((a, b) => a.km - b.km || a.i - b.i);
  return new Map(indexed.map((x, rank) => [x.r.name, rank]));
}

export function rankNodes(
  nodes: readonly MediaNode[],
  location: GeoPoint | undefined,
  now: number,
  penalties: NodePenalties,
  regions: readonly MediaRegion[],
  options: RankOptions = {},
): NodeRanking {
  const order = regionOrder(regions, location);
  const unknown = order.size;
  const regionRank = (n: MediaNode): number => order.get(n.region) ?? unknown;
  // With no region table at all there is no geography: order by load alone.
  const grouped = order.size > 0;
  const byPreference = (a: MediaNode, b: MediaNode): number =>
    regionRank(a) - regionRank(b) ||
    (grouped && regionRank(a) === unknown ? a.region.localeCompare(b.region) : 0) ||
    a.load - b.load ||
    a.sessions / a.capacity - b.sessions / b.capacity ||
    a.id.localeCompare(b.id);

  const candidates: MediaNode[] = [];
  const penalised: Array<{ node: MediaNode; until: number }> = [];
  const skipped: SkippedNode[] = [];
  for (const node of nodes) {
    const reason = unusableReason(node, now, options.maxHeartbeatAgeMs);
    if (reason !== undefined) {
      skipped.push({ id: node.id, region: node.region, reason });
      continue;
    }
    const penalty = penalties.get(node.id, now);
    if (penalty !== undefined) {
      penalised.push({ node, until: penalty.until });
      skipped.push({ id: node.id, region: node.region, reason: "penalised" });
      continue;
    }
    candidates.push(node);
  }
  candidates.sort(byPreference);
  if (candidates.length === 0 && penalised.length > 0 && options.redetect !== false) {
    penalised.sort((a, b) => a.until - b.until || byPreference(a.node, b.node));
    return { candidates: penalised.map((p) => p.node), skipped, redetecting: true };
  }
  return { candidates, skipped, redetecting: false };
}

/** The ordered candidates only (see rankNodes). */
export function chooseNode(
  nodes: readonly MediaNode[],
  location: GeoPoint | undefined,
  now: number,
  penalties: NodePenalties,
  regions: readonly MediaRegion[],
  options: RankOptions = {},
): MediaNode[] {
  return rankNodes(nodes, location, now, penalties, regions, options).candidates;
}
