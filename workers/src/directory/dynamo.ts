import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** EdgeConfig["dynamo"]; declared here so code that only reads tables need not import the edge's configuration (and its Env). */
export interface DynamoSettings {
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** One DynamoDB client per isolate and endpoint: the SDK client is reusable. */
const clients = new Map<string, DynamoDBClient>();

export function dynamoClient(config: { dynamo: DynamoSettings }): DynamoDBClient {
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
