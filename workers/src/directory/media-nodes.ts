import { ScanCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { logEvent, type LogFields } from "../log.ts";
import { parseMediaNode, type MediaNode } from "../media/media-node-record.ts";
import { dynamoClient, type DynamoSettings } from "./dynamo.ts";

/** The parts of EdgeConfig this table needs (structurally; no import of config.ts, so Node tools can use it). */
export interface MediaNodesTableConfig {
  dynamo: DynamoSettings;
  tables: { mediaNodes: string };
}

/**
 * The `media_nodes` table as the edge sees it: every node's last heartbeat
 * (media-node/agent writes it every 5 s). A small table, read whole with a
 * Scan and kept for `cacheMs` in the isolate, so a call does not read
 * DynamoDB (ARCHITECTURE.md "Choosing a media node").
 *
 * The cache must stay well under a row's life: the agent's row lives 15 s
 * past its heartbeat and is rewritten every 5 s, so with 5 s of cache a live
 * node never looks dead. Liveness itself is judged at call time from the
 * row's `expires_at` (media/node-selection.ts), never from the cache's age.
 *
 * No single-flight of concurrent refreshes: in the stateless Worker a
 * promise started by one request must not be awaited by another (Workers
 * forbid I/O across request contexts); a miss costs one Scan.
 */
export type MediaNodeSource = () => Promise<Record<string, unknown>[]>;

export interface MediaNodeDirectoryOptions {
  /** How long a read is reused; default 5 s. */
  cacheMs?: number;
  /** When DynamoDB fails, the last list is used while younger than this; default 60 s. */
  staleIfErrorMs?: number;
  now?: () => number;
  log?: (event: string, fields: LogFields, level: "info" | "warn" | "error") => void;
}

export const MEDIA_NODES_CACHE_MS = 5_000;
/** A directory read waits this long at most: a call set-up must not hang on DynamoDB. */
export const MEDIA_NODES_READ_TIMEOUT_MS = 2_000;

export class MediaNodeDirectory {
  private cached: { nodes: MediaNode[]; fetchedAt: number } | undefined;
  /** Bumped by invalidate(), so a read that was in flight then does not store the list from before. */
  private generation = 0;
  private readonly cacheMs: number;
  private readonly staleIfErrorMs: number;
  private readonly now: () => number;
  private readonly log: NonNullable<MediaNodeDirectoryOptions["log"]>;

  constructor(
    private readonly source: MediaNodeSource,
    options: MediaNodeDirectoryOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? MEDIA_NODES_CACHE_MS;
    this.staleIfErrorMs = options.staleIfErrorMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? logEvent;
  }

  /** Every well-formed row, live or not (the selection judges liveness). Throws when DynamoDB fails and nothing recent is cached. */
  async nodes(): Promise<readonly MediaNode[]> {
    const now = this.now();
    if (this.cached !== undefined && now - this.cached.fetchedAt < this.cacheMs) return this.cached.nodes;
    const generation = this.generation;
    let items: Record<string, unknown>[];
    try {
      items = await this.source();
    } catch (err) {
      const age = this.cached === undefined ? undefined : now - this.cached.fetchedAt;
      if (this.cached !== undefined && age !== undefined && age < this.staleIfErrorMs) {
        this.log("media-nodes-read-failed", { error: (err as Error).message, using_cached_ms: age }, "warn");
        return this.cached.nodes;
      }
      throw err;
    }
    const nodes: MediaNode[] = [];
    const malformed: string[] = [];
    for (const item of items) {
      const node = parseMediaNode(item);
      if (node === undefined) malformed.push(typeof item.id === "string" ? item.id : "?");
      else nodes.push(node);
    }
    // Skipped, never guessed (media-node-record.ts); said once per read.
    if (malformed.length > 0) this.log("media-node-row-malformed", { ids: malformed.slice(0, 20), count: malformed.length }, "warn");
    if (generation === this.generation) this.cached = { nodes, fetchedAt: now };
    return nodes;
  }

  /**
   * A new call was placed on `nodeId`: count it in the cached row until the
   * next read, so calls set up within one cache period spread over the
   * region's nodes instead of all landing on the one that looked least
   * loaded at the last heartbeat.
   */
  recordNewSession(nodeId: string): void {
    const nodes = this.cached?.nodes;
    if (nodes === undefined) return;
    const i = nodes.findIndex((n) => n.id === nodeId);
    const node = nodes[i];
    if (node === undefined) return;
    const sessions = node.sessions + 1;
    nodes[i] = { ...node, sessions, load: Math.max(node.load, node.capacity > 0 ? sessions / node.capacity : 1) };
  }

  /**
   * The next nodes() reads DynamoDB, and a read already under way does not
   * refill the cache with what it got (an operator's drain must not be
   * undone by a Scan that started just before it).
   */
  invalidate(): void {
    this.cached = undefined;
    this.generation++;
  }
}

/** Reads the whole `media_nodes` table (Scan, every page), each row unmarshalled. */
export function dynamoMediaNodeSource(config: MediaNodesTableConfig, timeoutMs = MEDIA_NODES_READ_TIMEOUT_MS): MediaNodeSource {
  return async () => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    const signal = AbortSignal.timeout(timeoutMs);
    do {
      const page = await dynamoClient(config).send(new ScanCommand({ TableName: config.tables.mediaNodes, ExclusiveStartKey: start }), { abortSignal: signal });
      for (const item of page.Items ?? []) items.push(unmarshall(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  };
}

/** One directory per isolate and table (the cache is the point). */
const directories = new Map<string, MediaNodeDirectory>();

export function mediaNodeDirectory(config: MediaNodesTableConfig): MediaNodeDirectory {
  const key = `${config.dynamo.endpoint ?? ""}|${config.dynamo.region}|${config.tables.mediaNodes}`;
  let directory = directories.get(key);
  if (directory === undefined) {
    directory = new MediaNodeDirectory(dynamoMediaNodeSource(config));
    directories.set(key, directory);
  }
  return directory;
}
