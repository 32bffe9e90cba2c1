import { Hono, type Context } from "hono";
import { readConfig } from "../config.ts";
import { publicTrunk, trunkCache, TrunkDirectory } from "../directory/trunks.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import type { Trunk } from "../trunks/trunk.ts";
import { patchTrunk, trunkFromInput, trunkIdField } from "../trunks/trunk-input.ts";
import { jsonBody } from "./admin.ts";
import { checkInput } from "./admin-input.ts";
import { ApiError } from "./api-error.ts";

type AdminContext = Context<{ Bindings: Env }>;

/**
 * `/v1/trunks` (issue 5): the carriers calls leave and arrive through.
 * Mounted by admin.ts under its bearer-token check and error handler.
 *
 *   POST   /trunks        create (201; 409 exists; 400 says which field is wrong)
 *   GET    /trunks        every trunk, with the egress's status if it reported one
 *   GET    /trunks/:id    one trunk
 *   PATCH  /trunks/:id    replace the fields given (credentials without password keep it; null removes them)
 *   DELETE /trunks/:id    204
 *
 * Credentials go in and never come out: every answer shows the password as
 * "set" (directory/trunks.ts publicTrunk), and no log line carries it.
 * A change reaches call routing at once in this isolate and within
 * TRUNKS_CACHE_MS (5 s) elsewhere.
 */
export function adminTrunks(): Hono<{ Bindings: Env }> {
  const api = new Hono<{ Bindings: Env }>();

  api.post("/", async (c) => {
    const config = readConfig(c.env);
    const body = await jsonBody(c);
    const trunk = checkInput(() => trunkFromInput(body, new Date().toISOString()));
    if (!(await new TrunkDirectory(config).create(trunk))) throw new ApiError(409, "exists", `trunk ${trunk.id} already exists (PATCH /v1/trunks/${trunk.id} changes it)`);
    trunkCache(config).invalidate();
    logEvent("admin-trunk-created", summary(trunk));
    return c.json(publicTrunk(trunk), 201);
  });

  api.get("/", async (c) => {
    const trunks = await new TrunkDirectory(readConfig(c.env)).list();
    return c.json({ trunks: trunks.map(publicTrunk) });
  });

  api.get("/:id", async (c) => {
    const id = trunkId(c);
    const trunk = await new TrunkDirectory(readConfig(c.env)).get(id);
    if (trunk === undefined) throw notFound(id);
    return c.json(publicTrunk(trunk));
  });

  api.patch("/:id", async (c) => {
    const config = readConfig(c.env);
    const id = trunkId(c);
    const body = await jsonBody(c);
    const directory = new TrunkDirectory(config);
    const existing = await directory.get(id);
    if (existing === undefined) throw notFound(id);
    const { status, ...current } = existing;
    const trunk = checkInput(() => patchTrunk(current, body, new Date().toISOString()));
    const outcome = await directory.replace(trunk, existing.updated_at);
    if (outcome === "missing") throw notFound(id);
    if (outcome === "conflict") throw new ApiError(409, "conflict", `trunk ${id} was changed by someone else meanwhile; read it again and retry`);
    trunkCache(config).invalidate();
    logEvent("admin-trunk-updated", { ...summary(trunk), fields: Object.keys(body) });
    return c.json(publicTrunk({ ...trunk, ...(status !== undefined ? { status } : {}) }));
  });

  api.delete("/:id", async (c) => {
    const config = readConfig(c.env);
    const id = trunkId(c);
    if (!(await new TrunkDirectory(config).delete(id))) throw notFound(id);
    trunkCache(config).invalidate();
    logEvent("admin-trunk-deleted", { trunk_id: id });
    return c.body(null, 204);
  });

  return api;
}

function trunkId(c: AdminContext): string {
  return checkInput(() => trunkIdField(c.req.param("id")));
}

function notFound(id: string): ApiError {
  return new ApiError(404, "not_found", `no trunk ${id} (GET /v1/trunks lists them)`);
}

/** What a log line says about a trunk: never its credentials. */
function summary(t: Trunk): Record<string, string | number | boolean | string[]> {
  return {
    trunk_id: t.id,
    egress: t.egress,
    enabled: t.enabled,
    gateways: t.gateways.length,
    prefixes: t.prefixes,
    register: t.register,
    has_credentials: t.credentials !== undefined,
  };
}
