import { GetItemCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { storedCallOutPolicy, type CallOutPolicyPatch, type StoredCallOutPolicy } from "../trunks/call-out-policy.ts";
import { dynamoClient, type DynamoSettings } from "./dynamo.ts";
import { isConditionFailed } from "./scan-all.ts";

export interface SubscribersTableConfig {
  dynamo: DynamoSettings;
  tables: { subscribers: string };
}

/**
 * A subscriber's call-out policy lives on its own item in `subscribers`
 * (optional attributes, subscriber-record.ts): the DO reads credentials and
 * policy with the one GetItem it already makes, and a subscriber's deletion
 * takes its policy with it.
 */
export async function readCallOutPolicy(config: SubscribersTableConfig, aor: string): Promise<StoredCallOutPolicy | undefined> {
  const out = await dynamoClient(config).send(
    new GetItemCommand({
      TableName: config.tables.subscribers,
      Key: { aor: { S: aor } },
      ConsistentRead: true,
      // Never the HA1 values: this path has no use for them.
      ProjectionExpression: "#aor, #a, #b, #c, #d, #e",
      ExpressionAttributeNames: POLICY_NAMES,
    }),
  );
  return out.Item === undefined ? undefined : storedCallOutPolicy(unmarshall(out.Item));
}

const POLICY_NAMES = {
  "#aor": "aor",
  "#a": "can_call_out",
  "#b": "allowed_prefixes",
  "#c": "max_concurrent_calls",
  "#d": "max_calls_per_minute",
  "#e": "caller_id",
};

/** Sets and resets (null → default) policy attributes; undefined if there is no such subscriber. */
export async function updateCallOutPolicy(config: SubscribersTableConfig, aor: string, patch: CallOutPolicyPatch, nowIso: string): Promise<StoredCallOutPolicy | undefined> {
  const names: Record<string, string> = { "#aor": "aor", "#updated_at": "updated_at" };
  const values: Record<string, unknown> = { ":updated_at": nowIso };
  const sets = ["#updated_at = :updated_at"];
  const removes: string[] = [];
  for (const [field, value] of Object.entries(patch.set)) {
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    sets.push(`#${field} = :${field}`);
  }
  for (const field of patch.reset) {
    names[`#${field}`] = field;
    removes.push(`#${field}`);
  }
  try {
    const out = await dynamoClient(config).send(
      new UpdateItemCommand({
        TableName: config.tables.subscribers,
        Key: { aor: { S: aor } },
        UpdateExpression: `SET ${sets.join(", ")}${removes.length > 0 ? ` REMOVE ${removes.join(", ")}` : ""}`,
        ConditionExpression: "attribute_exists(#aor)",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values) as Record<string, AttributeValue>,
        ReturnValues: "ALL_NEW",
      }),
    );
    return storedCallOutPolicy(unmarshall(out.Attributes ?? {}));
  } catch (err) {
    if (isConditionFailed(err)) return undefined;
    throw err;
  }
}
