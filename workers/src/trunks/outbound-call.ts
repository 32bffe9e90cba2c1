import type { Uri } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";
import { CallOutDenied, checkDestination, type CallOutPolicy } from "./call-out-policy.ts";
import type { CallAdmission, CallCounters } from "./call-counters.ts";
import { callerIdFor } from "./caller-id.ts";
import { dialledNumber, unroutableNumber, type NumberSource } from "./dialled-number.ts";
import type { NumberingPlan } from "./numbering-plan.ts";
import type { TrunkRecord } from "./trunk.ts";
import { selectRoutes, type RouteCandidate, type RouteSelectionOptions } from "./trunk-selection.ts";

export interface OutboundCallRequest extends RouteSelectionOptions {
  /** The INVITE's Request-URI. */
  uri: Uri;
  /** The authenticated caller's AOR (digest first: nothing reaches a trunk without it). */
  subscriber: string;
  callId: string;
  nowMs: number;
  /** effectiveCallOutPolicy(stored, plan) of the subscriber. */
  policy: CallOutPolicy;
  plan: NumberingPlan;
  trunks: readonly TrunkRecord[];
  counters: CallCounters;
}

/** Where an admitted call goes. The call now counts against the subscriber's limits: release it when it ends or fails. */
export interface OutboundCall {
  /** The destination in E.164. */
  number: string;
  dialled: string;
  source: NumberSource;
  /** Failover order (trunk-selection.ts); never empty. routes[0].trunk.egress is the EgressLink to use first. */
  routes: RouteCandidate[];
  /** E.164 caller ID for the first route's trunk (callerIdFor for another trunk when failing over). */
  callerId: string;
  admission: Extract<CallAdmission, { admitted: true }>;
}

/**
 * Browser to carrier, the edge's decision (ARCHITECTURE.md): undefined when
 * the Request-URI is not a telephone number (route it to a user instead);
 * otherwise the route, or a SipError to answer:
 *  - 484 / 404 for a number that cannot be E.164 (dialled-number.ts);
 *  - 403 CallOutDenied from the policy (call-out-policy.ts): not allowed out,
 *    prefix not allowed, premium or high-risk destination;
 *  - 404 "Not Found - No Route" when no enabled trunk carries the prefix;
 *    503 with Retry-After when trunks carry it but every gateway is down;
 *  - 403 CallOutDenied "no-caller-id" when the first trunk has no caller ID
 *    for this subscriber;
 *  - 403 CallOutDenied for the concurrent / per-minute limits, checked last
 *    so that only a call that would really leave counts.
 * Pure and synchronous (counters included), so nothing interleaves between
 * the limit check and the count.
 */
export function routeOutboundCall(req: OutboundCallRequest): OutboundCall | undefined {
  const dialled = dialledNumber(req.uri, req.plan);
  if (dialled === undefined) return undefined;
  if (!dialled.ok) throw unroutableNumber(dialled);
  const { number } = dialled;
  checkDestination(req.policy, number, req.plan, req.subscriber);
  const routes = selectRoutes(req.trunks, number, req);
  if (routes.length === 0) throw noRoute(req.trunks, number);
  const callerId = callerIdFor(routes[0]!.trunk, req.policy, req.subscriber, number);
  const admission = req.counters.admit(req.subscriber, req.callId, req.nowMs, req.policy);
  if (!admission.admitted) {
    throw new CallOutDenied(admission.why, req.subscriber, number, {
      active: admission.active,
      last_minute: admission.lastMinute,
      limit: admission.why === "concurrent-call-limit" ? req.policy.maxConcurrentCalls : req.policy.maxCallsPerMinute,
    });
  }
  return { number, dialled: dialled.dialled, source: dialled.source, routes, callerId, admission };
}

/** 503 when an enabled trunk carries the number but none of its gateways is up (the egress's health checks); 404 when none carries it. */
function noRoute(trunks: readonly TrunkRecord[], number: string): SipError {
  const carried = trunks.some((t) => t.enabled && t.prefixes.some((p) => number.startsWith(p)));
  if (carried) return new SipError(503, "Service Unavailable - Trunk Down", [["Retry-After", "30"]], "trunk-down");
  return new SipError(404, "Not Found - No Route", [], "no-trunk-route");
}
