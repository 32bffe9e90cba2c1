import { Hono, type Context } from "hono";
import { readConfig } from "../config.ts";
import { readMediaNodeRow, setMediaNodeState, type OperatorNodeState } from "../directory/media-node-rows.ts";
import { dynamoMediaNodeSource, mediaNodeDirectory } from "../directory/media-nodes.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { MEDIA_NODE_ID, mediaNodeView, mediaNodeViews } from "../media/media-node-status.ts";
import { ApiError } from "./api-error.ts";

type AdminContext = Context<{ Bindings: Env }>;

/**
 * `/v1/media-nodes` (issue 4): the operator's view of `media_nodes` and
 * drain. Mounted by admin.ts under its bearer-token check and error handler
 * (an ApiError thrown here becomes `{error:{code,message}}`).
 *
 *   GET  /media-nodes               every row, live or not, with the edge's judgement
 *   GET  /media-nodes/:id           one row
 *   POST /media-nodes/:id/drain     state = draining: keeps its calls, gets no new ones
 *   POST /media-nodes/:id/activate  state = active
 *
 * Reads go to DynamoDB, never the isolate's 5 s node cache: the operator
 * sees the row as it is. A drain reaches new calls
 *  - at once in this isolate (its cached list is dropped; locally workerd
 *    runs the Worker and the DOs in one isolate, so at once for every call),
 *  - within MEDIA_NODES_CACHE_MS (5 s) in every other isolate, when its
 *    cached list expires,
 *  - and within one agent heartbeat (5 s) on the node itself, which from then
 *    on refuses offers for new calls ("Node is draining"), a capacity error
 *    the edge fails over on — so even an isolate with an old list sends no
 *    new call there.
 * Activate is as prompt, except that an isolate which saw the node refuse an
 * offer while draining skips it for MEDIA_NODE_CAPACITY_PENALTY_S (10 s)
 * unless it is the only node left (node-penalties.ts).
 */
export function adminMediaNodes(): Hono<{ Bindings: Env }> {
  const api = new Hono<{ Bindings: Env }>();

  api.get("/", async (c) => {
    const rows = await dynamoMediaNodeSource(readConfig(c.env))();
    return c.json({ media_nodes: mediaNodeViews(rows, Date.now()) });
  });

  api.get("/:id", async (c) => {
    const id = nodeId(c);
    const row = await readMediaNodeRow(readConfig(c.env), id);
    if (row === undefined) throw notFound(id);
    return c.json(mediaNodeView(row, Date.now()));
  });

  api.post("/:id/drain", (c) => setState(c, "draining"));
  api.post("/:id/activate", (c) => setState(c, "active"));

  return api;
}

async function setState(c: AdminContext, state: OperatorNodeState): Promise<Response> {
  const id = nodeId(c);
  const config = readConfig(c.env);
  const changed = await setMediaNodeState(config, id, state);
  if (changed === undefined) throw notFound(id);
  mediaNodeDirectory(config).invalidate();
  logEvent("admin-media-node-state", { node_id: id, state, previous_state: changed.previousState ?? null });
  return c.json({ ...mediaNodeView(changed.row, Date.now()), previous_state: changed.previousState ?? null });
}

function nodeId(c: AdminContext): string {
  const id = c.req.param("id") ?? "";
  if (!MEDIA_NODE_ID.test(id)) throw new ApiError(400, "invalid_node_id", `a media node id is 1-64 of [A-Za-z0-9._-], starting with a letter or digit (got ${JSON.stringify(id.slice(0, 80))})`);
  return id;
}

function notFound(id: string): ApiError {
  return new ApiError(404, "not_found", `no media node ${id} in media_nodes (GET /v1/media-nodes lists them)`);
}
