import { Hono, type Context } from "hono";
import { parseAor, type Aor } from "../aor.ts";
import { ConfigError, readConfig, type EdgeConfig } from "../config.ts";
import { newSubscriberRecord } from "../directory/subscriber-record.ts";
import { publicView, SubscriberDirectory, type SubscriberPatch } from "../directory/subscribers.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { adminMediaNodes } from "./admin-media-nodes.ts";
import { adminCallOut } from "./admin-call-out.ts";
import { adminDids } from "./admin-dids.ts";
import { adminTrunks } from "./admin-trunks.ts";
import { ApiError } from "./api-error.ts";
import { requireAdminToken } from "./bearer-auth.ts";

/** Minimal password rule: long enough that digest guessing is not trivial. */
export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 256;
const MAX_DISPLAY_NAME_LENGTH = 128;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

type AdminContext = Context<{ Bindings: Env }>;

/**
 * The admin API under /v1 (issue 3): subscribers CRUD and a user's
 * registrations and dialogs. Bearer token auth; JSON errors
 * `{error:{code,message}}`. Passwords are turned into HA1 values at once and
 * are never returned or logged.
 */
export function adminApi(): Hono<{ Bindings: Env }> {
  const api = new Hono<{ Bindings: Env }>();

  api.use("*", async (c, next) => {
    await requireAdminToken(c.req.header("Authorization"), c.env.ADMIN_TOKEN);
    await next();
  });

  api.post("/subscribers", async (c) => {
    const config = readConfig(c.env);
    const body = await jsonBody(c);
    const aor = servedAor(config, body.aor);
    const password = passwordField(body.password, true)!;
    const displayName = displayNameField(body.display_name);
    const record = newSubscriberRecord(aor.aor, password, new Date().toISOString(), displayName);
    if (!(await new SubscriberDirectory(config).create(record))) throw new ApiError(409, "exists", `subscriber ${aor.aor} already exists`);
    // A REGISTER for this AOR may have been refused moments ago: let the DO forget its negative cache.
    await userAgent(c, aor).subscriberChanged(aor.aor, "created");
    logEvent("admin-subscriber-created", { aor: aor.aor });
    return c.json(publicView(record), 201);
  });

  api.get("/subscribers", async (c) => {
    const config = readConfig(c.env);
    const limitText = c.req.query("limit");
    const limit = limitText === undefined ? DEFAULT_PAGE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ApiError(400, "invalid_limit", `limit must be an integer from 1 to ${MAX_PAGE}`);
    const cursor = c.req.query("cursor");
    const page = await new SubscriberDirectory(config).list(limit, cursor === undefined || cursor === "" ? undefined : cursor);
    return c.json({ subscribers: page.items, ...(page.next !== undefined ? { next_cursor: page.next } : {}) });
  });

  api.get("/subscribers/:aor", async (c) => {
    const config = readConfig(c.env);
    const aor = servedAor(config, c.req.param("aor"));
    const record = await new SubscriberDirectory(config).get(aor.aor);
    if (record === undefined) throw notFound(aor);
    return c.json(publicView(record));
  });

  api.patch("/subscribers/:aor", async (c) => {
    const config = readConfig(c.env);
    const aor = servedAor(config, c.req.param("aor"));
    const body = await jsonBody(c);
    const patch: SubscriberPatch = {};
    for (const key of Object.keys(body)) {
      if (!["enabled", "password", "display_name"].includes(key)) throw new ApiError(400, "invalid_field", `unknown field "${key}" (allowed: enabled, password, display_name)`);
    }
    if (body.enabled !== undefined) {
      if (typeof body.enabled !== "boolean") throw new ApiError(400, "invalid_enabled", "enabled must be true or false");
      patch.enabled = body.enabled;
    }
    const password = passwordField(body.password, false);
    if (password !== undefined) patch.password = password;
    const displayName = displayNameField(body.display_name);
    if (displayName !== undefined) patch.display_name = displayName;
    const record = await new SubscriberDirectory(config).update(aor.aor, patch, new Date().toISOString());
    if (record === undefined) throw notFound(aor);
    // Disabling must take effect at once (issue 3): the DO drops its cached
    // credentials and, when disabled, its sockets and bindings.
    await userAgent(c, aor).subscriberChanged(aor.aor, record.enabled ? "updated" : "disabled");
    logEvent("admin-subscriber-updated", { aor: aor.aor, enabled: record.enabled, password_changed: password !== undefined });
    return c.json(publicView(record));
  });

  api.delete("/subscribers/:aor", async (c) => {
    const config = readConfig(c.env);
    const aor = servedAor(config, c.req.param("aor"));
    if (!(await new SubscriberDirectory(config).delete(aor.aor))) throw notFound(aor);
    await userAgent(c, aor).subscriberChanged(aor.aor, "deleted");
    logEvent("admin-subscriber-deleted", { aor: aor.aor });
    return c.body(null, 204);
  });

  api.get("/subscribers/:aor/registrations", async (c) => {
    const aor = servedAor(readConfig(c.env), c.req.param("aor"));
    return c.json({ aor: aor.aor, registrations: await userAgent(c, aor).registrations(aor.aor) });
  });

  api.get("/subscribers/:aor/dialogs", async (c) => {
    const aor = servedAor(readConfig(c.env), c.req.param("aor"));
    return c.json({ aor: aor.aor, dialogs: await userAgent(c, aor).dialogs(aor.aor) });
  });

  api.route("/media-nodes", adminMediaNodes());
  api.route("/trunks", adminTrunks());
  api.route("/dids", adminDids());
  api.route("/subscribers", adminCallOut());

  api.notFound(() => new ApiError(404, "not_found", "no such admin endpoint").toResponse());
  api.onError((err) => {
    if (err instanceof ApiError) return err.toResponse();
    if (err instanceof ConfigError) return new ApiError(500, "config", err.message).toResponse();
    logEvent("admin-failed", { message: err.message }, "error");
    return new ApiError(500, "internal", "internal error").toResponse();
  });
  return api;
}

function userAgent(c: AdminContext, aor: Aor) {
  return c.env.USER_AGENT.get(c.env.USER_AGENT.idFromName(aor.aor));
}

function notFound(aor: Aor): ApiError {
  return new ApiError(404, "not_found", `no subscriber ${aor.aor}`);
}

export function servedAor(config: EdgeConfig, value: unknown): Aor {
  const aor = typeof value === "string" ? parseAor(value) : undefined;
  if (aor === undefined) throw new ApiError(400, "invalid_aor", `aor must look like user@domain (got ${JSON.stringify(value)?.slice(0, 80) ?? "nothing"})`);
  if (!config.domains.includes(aor.domain)) throw new ApiError(400, "domain_not_served", `domain ${aor.domain} is not served by this edge (SIP_DOMAINS: ${config.domains.join(", ")})`);
  return aor;
}

function passwordField(value: unknown, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== "string") throw new ApiError(400, "invalid_password", "password is required and must be a string");
  if (value.length < MIN_PASSWORD_LENGTH) throw new ApiError(400, "weak_password", `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (value.length > MAX_PASSWORD_LENGTH) throw new ApiError(400, "invalid_password", `password must have at most ${MAX_PASSWORD_LENGTH} characters`);
  return value;
}

function displayNameField(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length > MAX_DISPLAY_NAME_LENGTH || /[\x00-\x1f\x7f"]/.test(value)) {
    throw new ApiError(400, "invalid_display_name", `display_name must be a string of at most ${MAX_DISPLAY_NAME_LENGTH} printable characters without quotes`);
  }
  return value;
}

export async function jsonBody(c: AdminContext): Promise<Record<string, unknown>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, "unsupported_media_type", "send the body as Content-Type: application/json");
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError(400, "invalid_json", "the body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError(400, "invalid_json", "the body must be a JSON object");
  return body as Record<string, unknown>;
}
