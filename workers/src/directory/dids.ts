import { DeleteItemCommand, GetItemCommand, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { dynamoClient, type DynamoSettings } from "./dynamo.ts";

export interface DidsTableConfig {
  dynamo: DynamoSettings;
  tables: { dids: string };
}

/** One DID (a number callers dial, E.164) and the subscriber it rings (ARCHITECTURE.md "Carrier to browser"). */
export interface DidRecord {
  did: string;
  aor: string;
  created_at: string;
  updated_at: string;
}

export interface DidPage {
  items: DidRecord[];
  /** Opaque; pass back as `cursor`. Absent on the last page. */
  next?: string;
}

/**
 * The `dids` table (directory/tables.ts): one item per DID. The EgressLink
 * DO looks an inbound INVITE's number up with `get`; the admin API assigns
 * and removes. Numbers are E.164 exactly as stored (callers normalise with
 * trunks/e164.ts first).
 */
export class DidDirectory {
  constructor(private readonly config: DidsTableConfig) {}

  private get table(): string {
    return this.config.tables.dids;
  }

  async get(did: string): Promise<DidRecord | undefined> {
    const out = await dynamoClient(this.config).send(new GetItemCommand({ TableName: this.table, Key: { did: { S: did } }, ConsistentRead: true }));
    return out.Item === undefined ? undefined : (unmarshall(out.Item) as DidRecord);
  }

  /** Assigns `did` to `aor` (creating or moving it); `created` says whether it is new. */
  async assign(did: string, aor: string, nowIso: string): Promise<{ record: DidRecord; created: boolean }> {
    const out = await dynamoClient(this.config).send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { did: { S: did } },
        UpdateExpression: "SET #aor = :aor, #updated_at = :now, #created_at = if_not_exists(#created_at, :now)",
        ExpressionAttributeNames: { "#aor": "aor", "#updated_at": "updated_at", "#created_at": "created_at" },
        ExpressionAttributeValues: { ":aor": { S: aor }, ":now": { S: nowIso } },
        ReturnValues: "ALL_OLD",
      }),
    );
    const old = out.Attributes === undefined ? undefined : (unmarshall(out.Attributes) as Partial<DidRecord>);
    return { record: { did, aor, created_at: old?.created_at ?? nowIso, updated_at: nowIso }, created: old === undefined };
  }

  /** A page of DIDs (Scan order), optionally only those of one AOR. */
  async list(limit: number, cursor?: string, aor?: string): Promise<DidPage> {
    const out = await dynamoClient(this.config).send(
      new ScanCommand({
        TableName: this.table,
        Limit: limit,
        ConsistentRead: true,
        ...(aor !== undefined ? { FilterExpression: "#aor = :aor", ExpressionAttributeNames: { "#aor": "aor" }, ExpressionAttributeValues: { ":aor": { S: aor } } } : {}),
        ...(cursor !== undefined ? { ExclusiveStartKey: { did: { S: cursor } } } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => unmarshall(i) as DidRecord);
    const last = out.LastEvaluatedKey?.did?.S;
    return { items, ...(last !== undefined ? { next: last } : {}) };
  }

  /** Removes; false if the DID was not assigned. */
  async delete(did: string): Promise<boolean> {
    const out = await dynamoClient(this.config).send(new DeleteItemCommand({ TableName: this.table, Key: { did: { S: did } }, ReturnValues: "ALL_OLD" }));
    return out.Attributes !== undefined;
  }
}
