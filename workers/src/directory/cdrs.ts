import { PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { dynamoClient, type DynamoSettings } from "./dynamo.ts";

/**
 * One row of `cdrs` (directory/tables.ts: partition `call_id`, sort
 * `ended_at`, an ISO timestamp): a call whose media we anchored, written by
 * the DO that owned the media when the call ended, with the media node's
 * quality figures from its `delete` (ARCHITECTURE.md "Who owns media").
 */
export interface CdrRecord {
  call_id: string;
  ended_at: string;
  started_at: string;
  /** Absent when the call was never answered. */
  answered_at?: string;
  /** Seconds from the answer to the end; 0 when never answered. */
  duration_s: number;
  caller: string;
  callee: string;
  /** bye, rejected, cancelled, flow-closed, session-expired, … (proxy-media.ts `end`). */
  end_reason: string;
  /** The final status of a call that was not answered. */
  status?: number;
  /** Which side hung up (caller, callee), when known. */
  ended_by?: string;
  leg: string;
  media_node: string;
  media_region: string;
  rtp_packets: number;
  rtp_bytes: number;
  rtp_errors: number;
  rtcp_packets: number;
  packets_from_caller?: number;
  packets_from_callee?: number;
  mos?: number;
  jitter_ms?: number;
  packet_loss_percent?: number;
  round_trip_ms?: number;
}

export interface CdrsTableConfig {
  dynamo: DynamoSettings;
  tables: { cdrs: string };
}

export class CdrTable {
  constructor(private readonly config: CdrsTableConfig) {}

  async put(record: CdrRecord): Promise<void> {
    await dynamoClient(this.config).send(new PutItemCommand({ TableName: this.config.tables.cdrs, Item: marshall(record, { removeUndefinedValues: true }) }));
  }

  /** The rows of one call (normally one). */
  async ofCall(callId: string): Promise<CdrRecord[]> {
    const out = await dynamoClient(this.config).send(
      new QueryCommand({
        TableName: this.config.tables.cdrs,
        KeyConditionExpression: "call_id = :c",
        ExpressionAttributeValues: { ":c": { S: callId } },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => unmarshall(i) as CdrRecord);
  }
}
