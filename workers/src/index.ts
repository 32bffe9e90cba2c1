import { Hono } from "hono";
import { ConfigError, readConfig } from "./config.ts";
import type { Env } from "./env.ts";
import { checkHealth } from "./http/healthz.ts";

export { UserAgent } from "./platform/user-agent.ts";
export { EgressLink } from "./platform/egress-link.ts";

const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", async (c) => {
  const health = await checkHealth(readConfig(c.env));
  return c.json(health, health.ok ? 200 : 503);
});

app.onError((err, c) => {
  if (err instanceof ConfigError) {
    console.error(JSON.stringify({ event: "config-error", setting: err.setting, message: err.message }));
    return c.json({ error: { code: "config", message: err.message } }, 500);
  }
  console.error(JSON.stringify({ event: "unhandled", message: err.message }));
  return c.json({ error: { code: "internal", message: "internal error" } }, 500);
});

export default app;
