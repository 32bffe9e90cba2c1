import type { Context } from "hono";
import { EGRESS_ID } from "../trunks/index.ts";
import { verifyEgressToken } from "../egress/egress-token.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { EGRESS_HEADERS } from "../platform/egress-link.ts";

/**
 * `GET /egress/:id`: an egress proxy (media-node/egress) opens its link
 * (ARCHITECTURE.md "Browser to carrier"). It must present
 * `Authorization: Bearer <token>` signed with EGRESS_SECRET
 * (egress/egress-token.ts); the EgressLink DO refuses a token used before.
 * Refusals: 400 bad id, 401 no or bad token, 426 not a WebSocket with
 * subprotocol `sip`, 503 when EGRESS_SECRET is not set.
 */
export async function egressWebSocket(c: Context<{ Bindings: Env }>): Promise<Response> {
  const id = c.req.param("id") ?? "";
  if (!EGRESS_ID.test(id)) return refuse(400, "Bad Request: the egress id must be 1-64 letters, digits, '.', '_' or '-'", id);
  const secret = c.env.EGRESS_SECRET ?? "";
  if (secret === "") {
    logEvent("config-error", { setting: "EGRESS_SECRET", message: "not set: egress proxies cannot connect" }, "error");
    return refuse(503, "Service Unavailable: EGRESS_SECRET is not set on the edge", id);
  }
  const auth = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "");
  if (auth === null) return refuse(401, "Unauthorized: send Authorization: Bearer <token signed with EGRESS_SECRET>", id);
  const check = verifyEgressToken([secret], id, auth[1]!, Date.now());
  if (!check.ok) return refuse(401, `Unauthorized: ${check.why}`, id);
  if ((c.req.header("Upgrade") ?? "").toLowerCase() !== "websocket") return refuse(426, "Upgrade Required: open a WebSocket with subprotocol \"sip\"", id);
  const protocols = (c.req.header("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim().toLowerCase());
  if (!protocols.includes("sip")) return refuse(426, "Upgrade Required: the WebSocket subprotocol \"sip\" must be offered", id);
  const headers = new Headers(c.req.raw.headers);
  headers.delete("Authorization");
  headers.set(EGRESS_HEADERS.id, id);
  headers.set(EGRESS_HEADERS.nonce, check.nonce);
  return c.env.EGRESS_LINK.get(c.env.EGRESS_LINK.idFromName(id)).fetch(new Request(c.req.raw.url, { method: "GET", headers }));
}

function refuse(status: 400 | 401 | 426 | 503, reason: string, id: string): Response {
  logEvent("egress-upgrade-refused", { status, reason, egress: id.slice(0, 64) }, "warn");
  return new Response(reason + "\n", { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}
