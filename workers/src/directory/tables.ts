/**
 * The directory's DynamoDB tables: their key schemas, in one place. The local
 * stack creates them from this list and terraform/modules/dynamodb declares
 * the same keys for production.
 */
export interface TableSpec {
  /** Logical name; the physical name comes from configuration (TABLE_*). */
  name: "subscribers" | "dids" | "trunks" | "media_nodes" | "cdrs";
  partitionKey: string;
  sortKey?: string;
}

export const TABLE_SPECS: readonly TableSpec[] = [
  // One item per AOR ("alice@example.com"): HA1 values, never a password.
  { name: "subscribers", partitionKey: "aor" },
  // One item per DID in E.164 ("+15551230000") → the AOR it rings.
  { name: "dids", partitionKey: "did" },
  { name: "trunks", partitionKey: "id" },
  // One item per RTPEngine node, refreshed by its agent's heartbeat.
  { name: "media_nodes", partitionKey: "id" },
  // One item per call leg that ended.
  { name: "cdrs", partitionKey: "call_id", sortKey: "ended_at" },
];
