/**
 * A media node as its agent writes it into `media_nodes` (the writer is
 * media-node/agent/src/media-node-record.ts; the shape is shared by
 * contract, tested in media-node/agent/test against this reader). Items
 * come unmarshalled (`@aws-sdk/util-dynamodb` `unmarshall`) or as plain
 * objects; anything malformed is skipped, never guessed.
 */
export interface MediaNode {
  id: string;
  region: string;
  publicAddress: string;
  privateAddress: string;
  ngUrl: string;
  capacity: number;
  sessions: number;
  /** 0..1, the larger of sessions/capacity and media-port use. */
  load: number;
  state: "active" | "draining";
  /** Unix ms of the last heartbeat. */
  heartbeatAt: number;
  /** Unix seconds after which the row is dead. */
  expiresAt: number;
}

export function parseMediaNode(item: Record<string, unknown>): MediaNode | undefined {
  const s = (k: string): string | undefined => (typeof item[k] === "string" && item[k] !== "" ? (item[k] as string) : undefined);
  const n = (k: string): number | undefined => {
    const v = typeof item[k] === "string" ? Number(item[k]) : item[k];
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
  };
  const id = s("id");
  const region = s("region");
  const publicAddress = s("public_address");
  const privateAddress = s("private_address");
  const ngUrl = s("ng_url");
  const capacity = n("capacity");
  const sessions = n("sessions");
  const load = n("load");
  const heartbeatAt = n("heartbeat_at");
  const expiresAt = n("expires_at");
  const stored = s("state");
  if (!id || !region || !publicAddress || !privateAddress || !ngUrl) return undefined;
  if (capacity === undefined || sessions === undefined || load === undefined || heartbeatAt === undefined || expiresAt === undefined) return undefined;
  // Anything but "active" (an operator's typo included) takes no new calls.
  const state = stored === "active" ? "active" : "draining";
  return { id, region, publicAddress, privateAddress, ngUrl, capacity, sessions, load, state, heartbeatAt, expiresAt };
}

/** A node that may get a new call: alive, active, under capacity (ARCHITECTURE.md "Choosing a media node"). */
export function acceptsNewCalls(node: MediaNode, nowMs: number): boolean {
  return node.state === "active" && node.expiresAt * 1000 > nowMs && node.sessions < node.capacity;
}
