import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, type AttributeDefinition, type KeySchemaElement } from "@aws-sdk/client-dynamodb";
import { TABLE_SPECS } from "../../../../workers/src/directory/tables.ts";
import { spawnStackChild } from "./child.ts";
import type { Log } from "./log.ts";
import { waitUntil } from "./ports.ts";

export interface DynaliteOptions {
  host: string;
  port: number;
  /** LevelDB folder; in memory when absent. */
  path?: string;
  log: Log;
}

export interface Dynalite {
  endpoint: string;
  client: DynamoDBClient;
  process: ChildProcess;
}

/** Credentials dynalite accepts (it checks none); real AWS ones come from secrets. */
export const LOCAL_AWS = { region: "us-east-1", accessKeyId: "local", secretAccessKey: "local" };

export function dynamoClientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS.region,
    credentials: { accessKeyId: LOCAL_AWS.accessKeyId, secretAccessKey: LOCAL_AWS.secretAccessKey },
  });
}

export async function startDynalite(opts: DynaliteOptions): Promise<Dynalite> {
  const cli = createRequire(import.meta.url).resolve("dynalite/cli.js");
  const args = [cli, "--host", opts.host, "--port", String(opts.port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"];
  if (opts.path !== undefined) args.push("--path", opts.path);
  const child = spawnStackChild(process.execPath, args, opts.log);
  const endpoint = `http://${opts.host}:${opts.port}`;
  const client = dynamoClientFor(endpoint);
  await waitUntil("dynalite", async () => (await client.send(new ListTablesCommand({}))).TableNames !== undefined, 15_000, child);
  return { endpoint, client, process: child };
}

/** Creates every directory table that does not exist yet (idempotent). */
export async function createTables(client: DynamoDBClient, physicalName: (logical: string) => string = (n) => n): Promise<string[]> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  const created: string[] = [];
  for (const spec of TABLE_SPECS) {
    const name = physicalName(spec.name);
    if (existing.has(name)) continue;
    const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey, KeyType: "HASH" }];
    const attrs: AttributeDefinition[] = [{ AttributeName: spec.partitionKey, AttributeType: "S" }];
    if (spec.sortKey !== undefined) {
      keys.push({ AttributeName: spec.sortKey, KeyType: "RANGE" });
      attrs.push({ AttributeName: spec.sortKey, AttributeType: "S" });
    }
    await client.send(new CreateTableCommand({ TableName: name, KeySchema: keys, AttributeDefinitions: attrs, BillingMode: "PAY_PER_REQUEST" }));
    created.push(name);
  }
  return created;
}
