import { ScanCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { dynamoClient, type DynamoSettings } from "./dynamo.ts";

/** Every item of a small table (Scan, every page), unmarshalled. */
export async function scanAll(config: { dynamo: DynamoSettings }, table: string, signal?: AbortSignal): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamoClient(config).send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }), signal !== undefined ? { abortSignal: signal } : {});
    for (const item of page.Items ?? []) items.push(unmarshall(item));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** A failed conditional write, by name: the SDK's class is not always the one thrown across bundles. */
export function isConditionFailed(err: unknown): boolean {
  return (err as { name?: string }).name === "ConditionalCheckFailedException";
}
