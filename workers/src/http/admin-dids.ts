import { Hono, type Context } from "hono";
import { readConfig } from "../config.ts";
import { DidDirectory } from "../directory/dids.ts";
import { SubscriberDirectory } from "../directory/subscribers.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { e164FromInput } from "../trunks/e164.ts";
import { onlyFields } from "../trunks/input-error.ts";
import { jsonBody, servedAor } from "./admin.ts";
import { checkInput, pageLimit } from "./admin-input.ts";
import { ApiError } from "./api-error.ts";

type AdminContext = Context<{ Bindings: Env }>;

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/**
 * `/v1/dids` (issue 5): which subscriber an inbound number rings
 * (ARCHITECTURE.md "Carrier to browser"). Mounted by admin.ts.
 *
 *   PUT    /dids/:number  {aor}   assign (201 new, 200 moved); the subscriber must exist
 *   GET    /dids?aor=&limit=&cursor=
 *   GET    /dids/:number
 *   DELETE /dids/:number          204
 *
 * `:number` is E.164; visual separators are accepted and removed
 * ("+1-555-010-0199"), and "+" may be sent as %2B.
 */
export function adminDids(): Hono<{ Bindings: Env }> {
  const api = new Hono<{ Bindings: Env }>();

  api.put("/:number", async (c) => {
    const config = readConfig(c.env);
    const did = didParam(c);
    const body = await jsonBody(c);
    checkInput(() => onlyFields(body, ["aor"], "a DID assignment"));
    const aor = servedAor(config, body.aor);
    if ((await new SubscriberDirectory(config).get(aor.aor)) === undefined) {
      throw new ApiError(400, "unknown_subscriber", `no subscriber ${aor.aor}: create it first (POST /v1/subscribers)`);
    }
    const { record, created } = await new DidDirectory(config).assign(did, aor.aor, new Date().toISOString());
    logEvent("admin-did-assigned", { did, aor: aor.aor, created });
    return c.json(record, created ? 201 : 200);
  });

  api.get("/", async (c) => {
    const config = readConfig(c.env);
    const limit = pageLimit(c.req.query("limit"), DEFAULT_PAGE, MAX_PAGE);
    const cursor = c.req.query("cursor");
    const aorText = c.req.query("aor");
    const aor = aorText === undefined || aorText === "" ? undefined : servedAor(config, aorText).aor;
    const page = await new DidDirectory(config).list(limit, cursor === undefined || cursor === "" ? undefined : cursor, aor);
    return c.json({ dids: page.items, ...(page.next !== undefined ? { next_cursor: page.next } : {}) });
  });

  api.get("/:number", async (c) => {
    const did = didParam(c);
    const record = await new DidDirectory(readConfig(c.env)).get(did);
    if (record === undefined) throw notFound(did);
    return c.json(record);
  });

  api.delete("/:number", async (c) => {
    const did = didParam(c);
    if (!(await new DidDirectory(readConfig(c.env)).delete(did))) throw notFound(did);
    logEvent("admin-did-removed", { did });
    return c.body(null, 204);
  });

  return api;
}

function didParam(c: AdminContext): string {
  const text = c.req.param("number") ?? "";
  const did = e164FromInput(text);
  if (did === undefined) throw new ApiError(400, "invalid_did", `a DID is an E.164 number: "+", country code and number, 7-15 digits (e.g. +15550100199; got ${JSON.stringify(text.slice(0, 40))})`);
  return did;
}

function notFound(did: string): ApiError {
  return new ApiError(404, "not_found", `DID ${did} is not assigned (GET /v1/dids lists them)`);
}
