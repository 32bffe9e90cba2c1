import { DurableObject } from "cloudflare:workers";
import { createResponse, parseMessage, randomToken, SipRequest, type SipResponse } from "sip-parser-ts";
import { readConfig } from "../config.ts";
import { DidDirectory } from "../directory/dids.ts";
import { routeFromEgress } from "../egress/link-routing.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { EGRESS_HOP_PREFIX } from "../proxy/egress-hop.ts";
import { readNumberingPlan } from "../trunks/index.ts";
import { errorResponse } from "../sip-responses.ts";
import type { DeliverFrom, DeliverResult } from "./message-source.ts";
import { errorText, safeCallId } from "./sip-frames.ts";

/** Headers the Worker adds when it hands over a verified egress upgrade (http/egress-websocket.ts). */
export const EGRESS_HEADERS = { id: "X-Sipedge-Egress-Id", nonce: "X-Sipedge-Egress-Nonce" } as const;

/** A DID's user is cached this long in the DO (an assignment change takes effect within it). */
const DID_CACHE_MS = 30_000;
/** Nonces of accepted upgrades are kept past the token window, so a replayed upgrade is refused. */
const NONCE_KEEP_MS = 5 * 60_000;

/**
 * One per egress proxy (ARCHITECTURE.md "Browser to carrier", "Carrier to
 * browser"): holds the proxy's WebSocket with the Hibernation API and
 * relays SIP between it and the users' DOs (egress/link-routing.ts). The
 * users' DOs reach it by the same `deliver` RPC as each other, under the
 * name `egress:<id>` (proxy/egress-hop.ts). A newer connection of the same
 * egress (a reconnect) replaces the older one.
 */
export class EgressLink extends DurableObject<Env> {
  private id: string | undefined;
  /** The To tag of the responses this DO builds itself (RFC 3261 §8.2.6.2). */
  private readonly toTag = randomToken(10);
  private readonly didCache = new Map<string, { aor: string | undefined; at: number }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("\r\n\r\n", "\r\n"));
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS upgrade_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
      this.id = ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'id'").toArray()[0]?.value;
    });
  }

  override async fetch(request: Request): Promise<Response> {
    const id = request.headers.get(EGRESS_HEADERS.id);
    const nonce = request.headers.get(EGRESS_HEADERS.nonce);
    if (id === null || nonce === null || !this.env.EGRESS_LINK.idFromName(id).equals(this.ctx.id)) return new Response("bad egress hand-over\n", { status: 400 });
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    sql.exec("DELETE FROM upgrade_nonces WHERE expires_at < ?", now);
    if (sql.exec("SELECT 1 FROM upgrade_nonces WHERE nonce = ?", nonce).toArray().length > 0) {
      logEvent("egress-upgrade-refused", { egress: id, why: "replayed token" }, "warn");
      return new Response("Unauthorized: this token was already used\n", { status: 401 });
    }
    sql.exec("INSERT INTO upgrade_nonces (nonce, expires_at) VALUES (?, ?)", nonce, now + NONCE_KEEP_MS);
    if (this.id === undefined) {
      this.id = id;
      sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('id', ?)", id);
    }
    for (const old of this.ctx.getWebSockets()) {
      try {
        old.close(4000, "replaced by a newer connection");
      } catch {
        // already closing
      }
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], ["egress"]);
    logEvent("egress-connected", { egress: id });
    return new Response(null, { status: 101, webSocket: pair[0], headers: { "Sec-WebSocket-Protocol": "sip" } });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const text = typeof message === "string" ? message : new TextDecoder().decode(message);
    if (text.trim() === "") return;
    let msg: SipRequest | SipResponse;
    try {
      msg = parseMessage(text);
    } catch (err) {
      logEvent("egress-frame-dropped", { egress: this.id, why: errorText(err) }, "warn");
      return;
    }
    try {
      const config = readConfig(this.env);
      const route = await routeFromEgress(msg, {
        didToAor: (did) => this.didToAor(did),
        isLocalDomain: (h) => config.domains.includes(h),
        plan: readNumberingPlan(this.env),
      });
      if (route.kind === "user") {
        const stub = this.env.USER_AGENT.get(this.env.USER_AGENT.idFromName(route.aor));
        const result = await stub.deliver(route.aor, route.text, { kind: "egress", aor: EGRESS_HOP_PREFIX + (this.id ?? "") });
        if (!result.accepted && msg instanceof SipRequest && msg.method !== "ACK") {
          ws.send(createResponse(msg, 503, "Service Unavailable").toString());
        }
      } else if (route.kind === "answer" && msg instanceof SipRequest) {
        ws.send(errorResponse(msg, route.error, this.toTag).toString());
        logEvent("egress-request-refused", { egress: this.id, call_id: safeCallId(msg), method: msg.method, status: route.error.status, why: route.error.why });
      } else if (route.kind === "ok" && msg instanceof SipRequest) {
        ws.send(createResponse(msg, 200, "OK").toString());
      } else if (route.kind === "drop") {
        logEvent("egress-message-dropped", { egress: this.id, why: route.why });
      }
    } catch (err) {
      logEvent("egress-message-failed", { egress: this.id, message: errorText(err) }, "error");
      if (msg instanceof SipRequest && msg.method !== "ACK") {
        try {
          ws.send(createResponse(msg, 500, "Server Internal Error").toString());
        } catch {
          // the socket is gone
        }
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason.slice(0, 100));
    } catch {
      // already closed
    }
    logEvent("egress-disconnected", { egress: this.id, code, reason: reason.slice(0, 100) });
  }

  /**
   * RPC from a user's DO: SIP for the egress proxy (a call to a trunk, a
   * response to a carrier's request, an in-dialog request). Refused when the
   * egress is not connected: the DO's proxy counts that as 503 (RFC 3261 §16.9).
   */
  async deliver(_to: string, message: string, _from: DeliverFrom): Promise<DeliverResult> {
    const ws = this.ctx.getWebSockets("egress").find((s) => s.readyState === WebSocket.READY_STATE_OPEN);
    if (ws === undefined) return { accepted: false, why: "egress not connected" };
    try {
      ws.send(message);
      return { accepted: true };
    } catch (err) {
      return { accepted: false, why: errorText(err) };
    }
  }

  /** Whether the egress proxy is connected now (for /healthz and the admin API). */
  async connected(): Promise<boolean> {
    return this.ctx.getWebSockets("egress").some((s) => s.readyState === WebSocket.READY_STATE_OPEN);
  }

  private async didToAor(did: string): Promise<string | undefined> {
    const hit = this.didCache.get(did);
    if (hit !== undefined && Date.now() - hit.at < DID_CACHE_MS) return hit.aor;
    const record = await new DidDirectory(readConfig(this.env)).get(did);
    if (this.didCache.size > 1000) this.didCache.clear();
    this.didCache.set(did, { aor: record?.aor, at: Date.now() });
    return record?.aor;
  }
}
