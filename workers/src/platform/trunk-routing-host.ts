import type { SipRequest } from "sip-parser-ts";
import type { Aor } from "../aor.ts";
import { readConfig } from "../config.ts";
import { readCallOutPolicy } from "../directory/call-out-policies.ts";
import { trunkCache } from "../directory/trunks.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import type { TrunkRoute } from "../proxy/proxy-host.ts";
import { SipError } from "../sip-error.ts";
import { dialledNumber, effectiveCallOutPolicy, readNumberingPlan, routeOutboundCall, SqlCallCounters } from "../trunks/index.ts";

/** Header fields the edge adds for the egress proxy, which removes them before anything leaves (media-node/egress). */
export const EGRESS_TRUNK_HEADER = "X-Sipedge-Trunk";

/**
 * The UserAgent DO's side of "Browser to carrier" (ARCHITECTURE.md): the
 * ProxyHost's `routeToTrunk` and `callEnded`. The toll-fraud policy runs
 * before anything leaves (trunks/outbound-call.ts): the caller has passed
 * digest already (the proxy core admits before it routes), the subscriber
 * must be allowed out, the destination prefix allowed and not high-risk, and
 * the call within the subscriber's concurrent and per-minute limits, counted
 * in this DO's SQLite. Every denial is logged with subscriber and number.
 */
export function trunkRouterFor(env: Env, sql: SqlStorage, aor: Aor): { routeToTrunk(req: SipRequest): Promise<TrunkRoute | undefined>; callEnded(callId: string): void } {
  const counters = new SqlCallCounters(sql);
  return {
    async routeToTrunk(req) {
      const plan = readNumberingPlan(env);
      const uri = req.uri;
      if (dialledNumber(uri, plan) === undefined) return undefined; // a name, not a number: no I/O spent
      const config = readConfig(env);
      try {
        if (req.method !== "INVITE") throw new SipError(403, "Forbidden - Only calls go to trunks", [], "non-invite-to-number");
        const [stored, trunks] = await Promise.all([readCallOutPolicy(config, aor.aor), trunkCache(config).trunks()]);
        const call = routeOutboundCall({
          uri,
          subscriber: aor.aor,
          callId: req.callId,
          nowMs: Date.now(),
          policy: effectiveCallOutPolicy(stored, plan),
          plan,
          trunks,
          counters,
        });
        if (call === undefined) return undefined;
        const { trunk, gateway } = call.routes[0]!;
        // A trunk whose egress proxy is not connected is down: 503 now, rather than a failed hop (which §16.7 step 6 makes a 500).
        if (!(await env.EGRESS_LINK.get(env.EGRESS_LINK.idFromName(trunk.egress)).connected())) {
          counters.release(aor.aor, req.callId);
          throw new SipError(503, "Service Unavailable - Trunk Unreachable", [["Retry-After", "30"]], `egress-${trunk.egress}-not-connected`);
        }
        const host = gateway.host.includes(":") ? `[${gateway.host}]` : gateway.host;
        logEvent("call-out", { aor: aor.aor, call_id: req.callId, number: call.number, trunk: trunk.id, egress: trunk.egress, active: call.admission.active });
        return {
          linkId: trunk.egress,
          requestUri: `sip:${call.number}@${host}:${gateway.port};user=phone`,
          headers: [
            [EGRESS_TRUNK_HEADER, trunk.id],
            // The caller ID the trunk presents (trunks/caller-id.ts), RFC 3325.
            ["P-Asserted-Identity", `<sip:${call.callerId}@${aor.domain};user=phone>`],
          ],
        };
      } catch (err) {
        if (err instanceof SipError) {
          logEvent("call-out-denied", { aor: aor.aor, call_id: req.callId, destination: req.requestUri.slice(0, 80), status: err.status, why: err.why }, "warn");
        }
        throw err;
      }
    },
    callEnded(callId) {
      counters.release(aor.aor, callId);
    },
  };
}
