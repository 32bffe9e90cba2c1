import type { Context } from "hono";
import { parseAor } from "../aor.ts";
import { readConfig } from "../config.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { FLOW_HEADERS, type ClientLocation } from "../platform/flow-headers.ts";

/**
 * `GET /ws/:aor` and `GET /ws?aor=`: the SIP WebSocket (RFC 7118). The AOR is
 * in the URL because the socket must land in that user's DO before any SIP is
 * read (ARCHITECTURE.md). Refusals are plain HTTP statuses with a reason:
 *
 * - 400 the AOR is not `user@domain`;
 * - 404 its domain is not served here (SIP_DOMAINS);
 * - 403 an Origin header not on ALLOWED_ORIGINS nor this Worker's own (the
 *   softphone page at `/`). A request *without* Origin
 *   is allowed: browsers always send one on a WebSocket upgrade, so only
 *   non-browser clients (SIP stacks in Node, SIPp-like tools) omit it, and the
 *   check exists against cross-site WebSocket hijacking, which needs a
 *   browser. Our sockets carry no ambient credential anyway: every REGISTER
 *   and INVITE is digest-authenticated;
 * - 426 not a WebSocket upgrade, or the subprotocol `sip` not offered.
 *
 * Then the upgrade goes to `USER_AGENT.idFromName(aor)`, which accepts the
 * socket and echoes `Sec-WebSocket-Protocol: sip` itself (PLATFORM.md).
 */
export async function sipWebSocket(c: Context<{ Bindings: Env }>): Promise<Response> {
  const config = readConfig(c.env);
  const raw = c.req.param("aor") ?? c.req.query("aor");
  const aor = parseAor(raw);
  if (aor === undefined) return refuse(400, "Bad Request: the AOR must look like user@domain, e.g. /ws/alice@example.com", raw);
  if (!config.domains.includes(aor.domain)) return refuse(404, `Not Found: domain ${aor.domain} is not served here`, aor.aor);
  const origin = c.req.header("Origin");
  // The softphone page this Worker serves at `/` is same-origin: always allowed.
  if (origin !== undefined && !sameOrigin(origin, c.req.url) && !originAllowed(origin, config.allowedOrigins)) {
    return refuse(403, `Forbidden: Origin ${origin} is not allowed`, aor.aor);
  }
  if ((c.req.header("Upgrade") ?? "").toLowerCase() !== "websocket") {
    return refuse(426, "Upgrade Required: open a WebSocket with subprotocol \"sip\" (RFC 7118)", aor.aor, { Upgrade: "websocket" });
  }
  const protocols = (c.req.header("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim().toLowerCase());
  if (!protocols.includes("sip")) {
    return refuse(426, "Upgrade Required: the WebSocket subprotocol \"sip\" must be offered (RFC 7118 §4)", aor.aor, { Upgrade: "websocket" });
  }

  const headers = new Headers(c.req.raw.headers);
  headers.set(FLOW_HEADERS.aor, aor.aor);
  headers.set(FLOW_HEADERS.location, JSON.stringify(clientLocation(c.req.raw)));
  const ip = c.req.header("CF-Connecting-IP");
  if (ip !== undefined) headers.set(FLOW_HEADERS.clientIp, ip);
  else headers.delete(FLOW_HEADERS.clientIp);
  const stub = c.env.USER_AGENT.get(c.env.USER_AGENT.idFromName(aor.aor));
  return stub.fetch(new Request(c.req.raw.url, { method: "GET", headers }));
}

function sameOrigin(origin: string, requestUrl: string): boolean {
  return origin.toLowerCase().replace(/\/$/, "") === new URL(requestUrl).origin.toLowerCase();
}

function originAllowed(origin: string, allowed: string[]): boolean {
  if (allowed.includes("*")) return true;
  const o = origin.toLowerCase().replace(/\/$/, "");
  return allowed.some((a) => a.toLowerCase().replace(/\/$/, "") === o);
}

/** The browser's location as Cloudflare saw it: later used to pick a media region. */
function clientLocation(request: Request): ClientLocation {
  const cf = (request as { cf?: Record<string, unknown> }).cf ?? {};
  const loc: ClientLocation = {};
  for (const key of ["colo", "country", "continent", "region", "city"] as const) {
    if (typeof cf[key] === "string") loc[key] = cf[key];
  }
  for (const key of ["latitude", "longitude"] as const) {
    const n = Number(cf[key]);
    if (cf[key] !== undefined && Number.isFinite(n)) loc[key] = n;
  }
  return loc;
}

function refuse(status: 400 | 403 | 404 | 426, reason: string, aor: string | undefined, extra: Record<string, string> = {}): Response {
  logEvent("ws-upgrade-refused", { status, reason, aor: aor?.slice(0, 100) });
  return new Response(reason + "\n", { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...extra } });
}
