import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { dynamoClient } from "./dynamo.ts";
import type { MediaNodesTableConfig } from "./media-nodes.ts";

/**
 * Single rows of `media_nodes` as an operator reads and changes them (the
 * admin API's `/v1/media-nodes/:id`). The agent owns every other field of
 * its row (media-node/agent/src/media-node-record.ts); the operator owns
 * `state`, which the agent's heartbeat keeps (`if_not_exists`) and follows.
 */
export type OperatorNodeState = "active" | "draining";

/** The row, unmarshalled; undefined if there is none. A consistent read: an operator wants what is there now. */
export async function readMediaNodeRow(config: MediaNodesTableConfig, id: string): Promise<Record<string, unknown> | undefined> {
  const out = await dynamoClient(config).send(new GetItemCommand({ TableName: config.tables.mediaNodes, Key: { id: { S: id } }, ConsistentRead: true }));
  return out.Item === undefined ? undefined : unmarshall(out.Item);
}

/**
 * Sets `state` on an existing row and returns it as it is now, with the
 * state it had before (`undefined` when there is no such row). Conditional
 * on the row existing, so an unknown id never creates a half row the edge
 * would skip as malformed; setting the state it already has is a no-op
 * that succeeds (idempotent).
 */
export async function setMediaNodeState(
  config: MediaNodesTableConfig,
  id: string,
  state: OperatorNodeState,
): Promise<{ row: Record<string, unknown>; previousState: string | undefined } | undefined> {
  try {
    const out = await dynamoClient(config).send(
      new UpdateItemCommand({
        TableName: config.tables.mediaNodes,
        Key: { id: { S: id } },
        UpdateExpression: "SET #state = :state",
        ConditionExpression: "attribute_exists(#id)",
        ExpressionAttributeNames: { "#state": "state", "#id": "id" },
        ExpressionAttributeValues: { ":state": { S: state } },
        ReturnValues: "ALL_OLD",
      }),
    );
    const old = out.Attributes === undefined ? {} : unmarshall(out.Attributes);
    return { row: { ...old, id, state }, previousState: typeof old.state === "string" ? old.state : undefined };
  } catch (err) {
    if ((err as { name?: string }).name === "ConditionalCheckFailedException") return undefined;
    throw err;
  }
}
