import type { IncomingMessage, ServerResponse } from "node:http";
import type { AgentMetrics } from "./agent-metrics.ts";
import { BodyTooLargeError, readBody } from "./http-body.ts";
import type { Logger } from "./log.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
import type { NgRelay } from "./ng-relay.ts";
import type { ReplayCache } from "./replay-cache.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyNgRequest } from "./request-signature.ts";

/**
 * The agent's HTTP API:
 *   POST /ng       signed ng dictionary (JSON) → rtpengine's reply (JSON)
 *   GET  /healthz  200 when rtpengine answers `ping`, else 503
 *   GET  /metrics  Prometheus text
 */
export interface RouteContext {
  secrets: readonly string[];
  signatureWindowMs: number;
  maxBodyBytes: number;
  replays: ReplayCache;
  relay: NgRelay;
  metrics: AgentMetrics;
  log: Logger;
  now: () => number;
  health: () => Promise<{ ok: boolean; body: Record<string, unknown> }>;
}

function send(res: ServerResponse, status: number, body: string, contentType: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), "cache-control": "no-store", ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), "application/json", extra);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v; // a repeated auth header is malformed, not "first wins"
}

export async function handleRequest(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  let route = "other";
  try {
    if (path === "/ng") {
      route = "ng";
      if (req.method !== "POST") return sendJson(res, 405, { error: "method-not-allowed" }, { allow: "POST" });
      return await handleNg(req, res, ctx);
    }
    if (path === "/healthz") {
      route = "healthz";
      if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method-not-allowed" }, { allow: "GET" });
      const h = await ctx.health();
      return sendJson(res, h.ok ? 200 : 503, h.body);
    }
    if (path === "/metrics") {
      route = "metrics";
      if (req.method !== "GET") return sendJson(res, 405, { error: "method-not-allowed" }, { allow: "GET" });
      return send(res, 200, ctx.metrics.registry.render(), PROMETHEUS_CONTENT_TYPE);
    }
    return sendJson(res, 404, { error: "not-found" });
  } catch (err) {
    ctx.log.error("http_handler_failed", { path, error: (err as Error).message });
    if (!res.headersSent) sendJson(res, 500, { error: "internal" });
    else res.destroy();
  } finally {
    // Every answer is complete here (handlers end the response before they
    // return); counted now rather than from a per-request "finish" listener.
    if (res.writableEnded) ctx.metrics.httpRequests.inc({ route, status: String(res.statusCode) });
  }
}

async function handleNg(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, ctx.maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      ctx.metrics.authFailures.inc({ reason: "too-large" });
      return sendJson(res, 413, { error: "payload-too-large", reason: err.message }, { connection: "close" });
    }
    throw err;
  }
  // Authenticate before parsing: nothing unsigned is interpreted, let alone relayed.
  const auth = verifyNgRequest({ timestamp: header(req, TIMESTAMP_HEADER), signature: header(req, SIGNATURE_HEADER) }, body, {
    secrets: ctx.secrets,
    windowMs: ctx.signatureWindowMs,
    now: ctx.now(),
    replays: ctx.replays,
  });
  if (!auth.ok) {
    ctx.metrics.authFailures.inc({ reason: auth.reason });
    ctx.log.warn("ng_auth_refused", { reason: auth.reason, remote: req.socket.remoteAddress });
    if (auth.reason === "replay-cache-full") return sendJson(res, 503, { error: "busy", reason: auth.reason }, { "retry-after": "1" });
    return sendJson(res, 401, { error: "unauthorized", reason: auth.reason });
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return sendJson(res, 400, { error: "bad-request", reason: "the body is not JSON" });
  }
  const answer = await ctx.relay.relay(json);
  sendJson(res, answer.status, answer.body);
}
