import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { newSubscriberRecord } from "../../../../workers/src/directory/subscriber-record.ts";

export interface DemoUser {
  aor: string;
  password: string;
}

export interface LocalSecrets {
  ADMIN_TOKEN: string;
  NONCE_SECRET: string;
  NG_SECRET: string;
  EGRESS_SECRET: string;
}

function token(): string {
  return randomBytes(24).toString("base64url");
}

export function newSecrets(): LocalSecrets {
  return { ADMIN_TOKEN: token(), NONCE_SECRET: token(), NG_SECRET: token(), EGRESS_SECRET: token() };
}

/** Reads a JSON file of ours under .state, or creates it with `make()` (mode 0600: it holds secrets). */
export function loadOrCreate<T>(file: string, make: () => T): T {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as T;
  const value = make();
  writeFileSync(file, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
  return value;
}

/** A demo password: 12 base64url characters (letters, digits, `-`, `_`: a legacy phone's config file takes them as they are). */
export function demoPassword(): string {
  return token().slice(0, 12);
}

export function demoUsers(domain: string): DemoUser[] {
  return ["alice", "bob"].map((user) => ({ aor: `${user}@${domain}`, password: demoPassword() }));
}

/** Puts the demo subscribers into the directory (overwriting, so their passwords match the file). */
export async function seedSubscribers(client: DynamoDBClient, table: string, users: DemoUser[]): Promise<void> {
  const now = new Date().toISOString();
  for (const u of users) {
    const record = newSubscriberRecord(u.aor, u.password, now, u.aor.slice(0, u.aor.indexOf("@")));
    await client.send(new PutItemCommand({ TableName: table, Item: marshall(record) }));
  }
}
