import { DeleteItemCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";

/**
 * This node's row in the DynamoDB `media_nodes` table (partition key `id`,
 * `workers/src/directory/tables.ts`), refreshed by every heartbeat
 * (ARCHITECTURE.md, "Choosing a media node"). The edge reads it with
 * `workers/src/media/media-node-record.ts`.
 *
 *   id, region, public_address, private_address, ng_url   identity
 *   capacity, sessions, load                               how busy (load 0..1)
 *   state              "active" | "draining" — set by an operator or by us
 *   heartbeat_at       Unix ms of this heartbeat
 *   expires_at         Unix seconds after which the row is dead (DynamoDB TTL
 *                      attribute format); the edge ignores expired rows even
 *                      before DynamoDB's TTL sweep removes them
 *
 * The heartbeat never overwrites `state` unless we are draining ourselves:
 * `if_not_exists` keeps what an operator set (`sipedge node drain`, the admin
 * API), and the row comes back in the same request so the agent follows it.
 */
export type NodeState = "active" | "draining";

export interface NodeIdentity {
  id: string;
  region: string;
  publicAddress: string;
  privateAddress: string;
  ngUrl: string;
  capacity: number;
}

export interface Heartbeat {
  sessions: number;
  load: number;
  now: number;
  ttlMs: number;
  /** Set `state = draining` (SIGTERM) instead of keeping the stored state. */
  draining: boolean;
}

export class MediaNodeRecord {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly node: NodeIdentity,
  ) {}

  /** Writes the heartbeat; returns the state stored in the row afterwards. */
  async heartbeat(h: Heartbeat): Promise<{ state: NodeState; storedState: string }> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { id: { S: this.node.id } },
        UpdateExpression:
          "SET #region = :region, #public = :public, #private = :private, #ngUrl = :ngUrl, #capacity = :capacity, " +
          "#sessions = :sessions, #load = :load, #heartbeatAt = :heartbeatAt, #expiresAt = :expiresAt, " +
          (h.draining ? "#state = :draining" : "#state = if_not_exists(#state, :active)"),
        ExpressionAttributeNames: {
          "#region": "region",
          "#public": "public_address",
          "#private": "private_address",
          "#ngUrl": "ng_url",
          "#capacity": "capacity",
          "#sessions": "sessions",
          "#load": "load",
          "#heartbeatAt": "heartbeat_at",
          "#expiresAt": "expires_at",
          "#state": "state",
        },
        ExpressionAttributeValues: {
          ":region": { S: this.node.region },
          ":public": { S: this.node.publicAddress },
          ":private": { S: this.node.privateAddress },
          ":ngUrl": { S: this.node.ngUrl },
          ":capacity": { N: String(this.node.capacity) },
          ":sessions": { N: String(h.sessions) },
          ":load": { N: String(h.load) },
          ":heartbeatAt": { N: String(h.now) },
          ":expiresAt": { N: String(Math.ceil((h.now + h.ttlMs) / 1000)) },
          ...(h.draining ? { ":draining": { S: "draining" } } : { ":active": { S: "active" } }),
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    const storedState = out.Attributes?.state?.S ?? "";
    // Anything but "active" gets no new calls: an operator's typo must not
    // put a node back into rotation.
    return { state: storedState === "active" ? "active" : "draining", storedState };
  }

  async remove(): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { id: { S: this.node.id } } }));
  }
}
