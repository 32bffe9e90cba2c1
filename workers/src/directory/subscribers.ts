import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { computeHA1 } from "sip-parser-ts";
import type { EdgeConfig } from "../config.ts";
import { dynamoClient } from "./dynamo.ts";
import type { SubscriberRecord } from "./subscriber-record.ts";

/** What the admin API shows of a subscriber: never an HA1 value. */
export interface PublicSubscriber {
  aor: string;
  display_name?: string;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export function publicView(r: SubscriberRecord): PublicSubscriber {
  return {
    aor: r.aor,
    ...(r.display_name !== undefined ? { display_name: r.display_name } : {}),
    enabled: r.enabled,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export interface SubscriberPatch {
  enabled?: boolean;
  password?: string;
  display_name?: string;
}

export interface SubscriberPage {
  items: PublicSubscriber[];
  /** Opaque; pass back as `cursor` for the next page. Absent on the last page. */
  next?: string;
}

// Attribute names through placeholders: several (e.g. "enabled") could collide
// with DynamoDB's reserved words list one day.
const PUBLIC_ATTRS = ["aor", "display_name", "enabled", "created_at", "updated_at"];
const PUBLIC_NAMES = Object.fromEntries(PUBLIC_ATTRS.map((a, i) => [`#p${i}`, a]));
const PUBLIC_PROJECTION = Object.keys(PUBLIC_NAMES).join(", ");

/**
 * The `subscribers` table (directory/tables.ts): one item per AOR. Every
 * method is one DynamoDB call; callers cache (the UserAgent DO does).
 */
export class SubscriberDirectory {
  constructor(private readonly config: EdgeConfig) {}

  private get table(): string {
    return this.config.tables.subscribers;
  }

  async get(aor: string): Promise<SubscriberRecord | undefined> {
    const out = await dynamoClient(this.config).send(new GetItemCommand({ TableName: this.table, Key: { aor: { S: aor } }, ConsistentRead: true }));
    return out.Item === undefined ? undefined : (unmarshall(out.Item) as SubscriberRecord);
  }

  /** Stores a new subscriber; false if the AOR already exists. */
  async create(record: SubscriberRecord): Promise<boolean> {
    try {
      await dynamoClient(this.config).send(
        new PutItemCommand({ TableName: this.table, Item: marshall(record, { removeUndefinedValues: true }), ConditionExpression: "attribute_not_exists(aor)" }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async list(limit: number, cursor?: string): Promise<SubscriberPage> {
    const out = await dynamoClient(this.config).send(
      new ScanCommand({
        TableName: this.table,
        Limit: limit,
        ProjectionExpression: PUBLIC_PROJECTION,
        ExpressionAttributeNames: PUBLIC_NAMES,
        ...(cursor !== undefined ? { ExclusiveStartKey: { aor: { S: cursor } } } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => unmarshall(i) as PublicSubscriber);
    const last = out.LastEvaluatedKey?.aor?.S;
    return { items, ...(last !== undefined ? { next: last } : {}) };
  }

  /** Applies a patch; undefined if no such subscriber. A new password replaces both HA1 values. */
  async update(aor: string, patch: SubscriberPatch, nowIso: string): Promise<SubscriberRecord | undefined> {
    const sets: string[] = ["#updated_at = :updated_at"];
    const names: Record<string, string> = { "#updated_at": "updated_at" };
    const values: Record<string, AttributeValue> = { ":updated_at": { S: nowIso } };
    if (patch.enabled !== undefined) {
      sets.push("#enabled = :enabled");
      names["#enabled"] = "enabled";
      values[":enabled"] = { BOOL: patch.enabled };
    }
    if (patch.display_name !== undefined) {
      sets.push("#display_name = :display_name");
      names["#display_name"] = "display_name";
      values[":display_name"] = { S: patch.display_name };
    }
    if (patch.password !== undefined) {
      const at = aor.lastIndexOf("@");
      const user = aor.slice(0, at);
      const realm = aor.slice(at + 1);
      sets.push("#ha1_md5 = :ha1_md5", "#ha1_sha256 = :ha1_sha256");
      names["#ha1_md5"] = "ha1_md5";
      names["#ha1_sha256"] = "ha1_sha256";
      values[":ha1_md5"] = { S: computeHA1("MD5", user, realm, patch.password) };
      values[":ha1_sha256"] = { S: computeHA1("SHA-256", user, realm, patch.password) };
    }
    names["#aor"] = "aor";
    try {
      const out = await dynamoClient(this.config).send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { aor: { S: aor } },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "attribute_exists(#aor)",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes === undefined ? undefined : (unmarshall(out.Attributes) as SubscriberRecord);
    } catch (err) {
      if ((err as { name?: string }).name === "ConditionalCheckFailedException") return undefined;
      throw err;
    }
  }

  /** Deletes; false if there was no such subscriber. */
  async delete(aor: string): Promise<boolean> {
    const out = await dynamoClient(this.config).send(new DeleteItemCommand({ TableName: this.table, Key: { aor: { S: aor } }, ReturnValues: "ALL_OLD" }));
    return out.Attributes !== undefined;
  }
}
