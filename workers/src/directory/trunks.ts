import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { logEvent } from "../log.ts";
import type { Trunk, TrunkRecord, TrunkStatus } from "../trunks/trunk.ts";
import { trunkFromItem } from "../trunks/trunk-input.ts";
import { dynamoClient, type DynamoSettings } from "./dynamo.ts";
import { isConditionFailed, scanAll } from "./scan-all.ts";

/** The parts of EdgeConfig this table needs (structurally, so Node tools can use it too). */
export interface TrunksTableConfig {
  dynamo: DynamoSettings;
  tables: { trunks: string };
}

/** What the admin API shows of a trunk: the password only as "set". */
export type PublicTrunk = Omit<TrunkRecord, "credentials"> & { credentials?: { username: string; password: "set"; realm?: string } };

export function publicTrunk(t: TrunkRecord): PublicTrunk {
  const { credentials, ...rest } = t;
  if (credentials === undefined) return rest;
  return { ...rest, credentials: { username: credentials.username, password: "set", ...(credentials.realm !== undefined ? { realm: credentials.realm } : {}) } };
}

/** Every field an operator sets, i.e. all but the key and `status` (which the egress owns). */
const CONFIG_FIELDS = ["name", "enabled", "egress", "gateways", "credentials", "register", "register_expires", "allowed_sources", "prefixes", "caller_id", "created_at", "updated_at"] as const;

/**
 * The `trunks` table (directory/tables.ts): one item per trunk id, its
 * configuration (trunk.ts) plus the `status` attribute the egress writes. A
 * small table: listing is a Scan. Rows are checked on the way out with the
 * admin API's rules (trunk-input.ts); one that breaks them is logged and
 * skipped, never routed on.
 */
export class TrunkDirectory {
  constructor(private readonly config: TrunksTableConfig) {}

  private get table(): string {
    return this.config.tables.trunks;
  }

  async get(id: string): Promise<TrunkRecord | undefined> {
    const out = await dynamoClient(this.config).send(new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: true }));
    return out.Item === undefined ? undefined : checked(unmarshall(out.Item));
  }

  /** Every well-formed trunk, sorted by id. */
  async list(signal?: AbortSignal): Promise<TrunkRecord[]> {
    const trunks: TrunkRecord[] = [];
    for (const item of await scanAll(this.config, this.table, signal)) {
      const t = checked(item);
      if (t !== undefined) trunks.push(t);
    }
    return trunks.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Stores a new trunk; false if the id exists. */
  async create(trunk: Trunk): Promise<boolean> {
    try {
      await dynamoClient(this.config).send(
        new PutItemCommand({ TableName: this.table, Item: marshall(trunk, { removeUndefinedValues: true }), ConditionExpression: "attribute_not_exists(id)" }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Writes the configuration of an existing trunk, keeping its `status`, if
   * nobody changed it since it was read (`updated_at` still `readAt`): two
   * operators patching at once must not undo each other silently.
   */
  async replace(trunk: Trunk, readAt: string): Promise<"replaced" | "missing" | "conflict"> {
    const names: Record<string, string> = { "#id": "id" };
    const values: Record<string, unknown> = { ":read_at": readAt };
    const sets: string[] = [];
    const removes: string[] = [];
    CONFIG_FIELDS.forEach((field, i) => {
      names[`#f${i}`] = field;
      const value = trunk[field];
      if (value === undefined) removes.push(`#f${i}`);
      else {
        sets.push(`#f${i} = :f${i}`);
        values[`:f${i}`] = value;
      }
    });
    const updatedAtName = `#f${CONFIG_FIELDS.indexOf("updated_at")}`;
    try {
      await dynamoClient(this.config).send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: trunk.id } },
          UpdateExpression: `SET ${sets.join(", ")}${removes.length > 0 ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ConditionExpression: `attribute_exists(#id) AND ${updatedAtName} = :read_at`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
        }),
      );
      return "replaced";
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return (await this.exists(trunk.id)) ? "conflict" : "missing";
    }
  }

  /** Deletes; false if there was no such trunk. */
  async delete(id: string): Promise<boolean> {
    const out = await dynamoClient(this.config).send(new DeleteItemCommand({ TableName: this.table, Key: { id: { S: id } }, ReturnValues: "ALL_OLD" }));
    return out.Attributes !== undefined;
  }

  /**
   * Records what the egress sees of a trunk (gateway health, registration):
   * only the `status` attribute, so it never races an operator's edit.
   * False if the trunk does not exist (it was deleted meanwhile).
   */
  async setStatus(id: string, status: TrunkStatus): Promise<boolean> {
    try {
      await dynamoClient(this.config).send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: id } },
          UpdateExpression: "SET #status = :status",
          ConditionExpression: "attribute_exists(#id)",
          ExpressionAttributeNames: { "#status": "status", "#id": "id" },
          ExpressionAttributeValues: marshall({ ":status": status }, { removeUndefinedValues: true }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  private async exists(id: string): Promise<boolean> {
    const out = await dynamoClient(this.config).send(
      new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: true, ProjectionExpression: "#id", ExpressionAttributeNames: { "#id": "id" } }),
    );
    return out.Item !== undefined;
  }
}

function checked(item: Record<string, unknown>): TrunkRecord | undefined {
  const t = trunkFromItem(item);
  if (typeof t !== "string") return t;
  // Never the item itself: it may hold a password.
  logEvent("trunk-row-malformed", { trunk_id: typeof item.id === "string" ? item.id : "?", problem: t }, "warn");
  return undefined;
}

/** How long an isolate reuses the trunk list; an admin change is seen within this in other isolates (at once in the admin's own). */
export const TRUNKS_CACHE_MS = 5_000;
/** A trunk list read waits this long at most: a call set-up must not hang on DynamoDB. */
export const TRUNKS_READ_TIMEOUT_MS = 2_000;

/**
 * The trunk list as call routing reads it: cached in the isolate for
 * TRUNKS_CACHE_MS, and when DynamoDB fails, the last list for up to 60 s
 * (then the error: the caller answers 503). As MediaNodeDirectory, no
 * single-flight: Workers forbid awaiting another request's I/O.
 */
export class TrunkCache {
  private cached: { trunks: TrunkRecord[]; at: number } | undefined;

  constructor(
    private readonly load: () => Promise<TrunkRecord[]>,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = TRUNKS_CACHE_MS,
    private readonly staleIfErrorMs = 60_000,
  ) {}

  async trunks(): Promise<readonly TrunkRecord[]> {
    const now = this.now();
    if (this.cached !== undefined && now - this.cached.at < this.cacheMs) return this.cached.trunks;
    try {
      const trunks = await this.load();
      this.cached = { trunks, at: now };
      return trunks;
    } catch (err) {
      if (this.cached !== undefined && now - this.cached.at < this.staleIfErrorMs) {
        logEvent("trunks-read-failed", { error: (err as Error).message, using_cached_ms: now - this.cached.at }, "warn");
        return this.cached.trunks;
      }
      throw err;
    }
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

const caches = new Map<string, TrunkCache>();

/** One TrunkCache per isolate and table. */
export function trunkCache(config: TrunksTableConfig): TrunkCache {
  const key = `${config.dynamo.endpoint ?? ""}|${config.dynamo.region}|${config.tables.trunks}`;
  let cache = caches.get(key);
  if (cache === undefined) {
    const directory = new TrunkDirectory(config);
    cache = new TrunkCache(() => directory.list(AbortSignal.timeout(TRUNKS_READ_TIMEOUT_MS)));
    caches.set(key, cache);
  }
  return cache;
}
