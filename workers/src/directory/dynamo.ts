import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { EdgeConfig } from "../config.ts";

/** One DynamoDB client per isolate and endpoint: the SDK client is reusable. */
const clients = new Map<string, DynamoDBClient>();

export function dynamoClient(config: EdgeConfig): DynamoDBClient {
  const { endpoint, region, accessKeyId, secretAccessKey } = config.dynamo;
  const key = `${endpoint ?? ""}|${region}|${accessKeyId}`;
  let client = clients.get(key);
  if (client === undefined) {
    client = new DynamoDBClient({
      region,
      ...(endpoint !== undefined ? { endpoint } : {}),
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 2,
    });
    clients.set(key, client);
  }
  return client;
}
