import { Hono } from "hono";
import { ConfigError, readConfig } from "./config.ts";
import type { Env } from "./env.ts";
import { adminApi } from "./http/admin.ts";
import { ApiError } from "./http/api-error.ts";
import { egressWebSocket } from "./http/egress-websocket.ts";
import { checkHealth } from "./http/healthz.ts";
import { sipWebSocket } from "./http/sip-websocket.ts";
import { softphonePage, softphoneScript, softphoneStyle } from "./http/softphone.ts";
import { logEvent } from "./log.ts";

export { UserAgent } from "./platform/user-agent.ts";
export { EgressLink } from "./platform/egress-link.ts";

const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", async (c) => {
  const health = await checkHealth(readConfig(c.env));
  return c.json(health, health.ok ? 200 : 503);
});

// The SIP WebSocket (RFC 7118): /ws/alice@example.com or /ws?aor=alice@example.com.
app.get("/ws/:aor", sipWebSocket);
app.get("/ws", sipWebSocket);

// An egress proxy's link (media-node/egress), authenticated with a token signed with EGRESS_SECRET.
app.get("/egress/:id", egressWebSocket);

app.route("/v1", adminApi());

// The softphone page and its assets (workers/softphone/, bundled as text).
app.get("/", softphonePage);
app.get("/softphone.js", softphoneScript);
app.get("/softphone.css", softphoneStyle);

// Hono ignores a sub-app's notFound once it is mounted: the admin API's JSON error style for unknown paths is set here.
app.notFound((c) => {
  if (new URL(c.req.url).pathname.startsWith("/v1/")) return c.json({ error: { code: "not_found", message: `no such admin endpoint: ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404);
  return c.text("Not Found\n", 404);
});

app.onError((err, c) => {
  if (err instanceof ApiError) return err.toResponse();
  if (err instanceof ConfigError) {
    logEvent("config-error", { setting: err.setting, message: err.message }, "error");
    return c.json({ error: { code: "config", message: err.message } }, 500);
  }
  logEvent("unhandled", { path: new URL(c.req.url).pathname, message: err.message }, "error");
  return c.json({ error: { code: "internal", message: "internal error" } }, 500);
});

export default app;
