/**
 * Trunks, DIDs' numbers and the toll-fraud policy as pure logic (issue 5,
 * ARCHITECTURE.md "Browser to carrier", "Carrier to browser"): no
 * `cloudflare:*`, no I/O, so the UserAgent DO, the EgressLink DO, the admin
 * API and the egress proxy share it. Storage is in ../directory/trunks.ts,
 * dids.ts and call-out-policies.ts.
 */
export { dialledNumber, unroutableNumber, type DialledNumber, type NumberProblem, type NumberSource } from "./dialled-number.ts";
export { E164, E164_PREFIX, e164FromInput, isE164, isE164Prefix, longestPrefix, removeVisualSeparators } from "./e164.ts";
export { DEFAULT_NUMBERING_PLAN, globalForm, isNational, readNumberingPlan, toE164, type NumberingPlan, type NumberingPlanSettings } from "./numbering-plan.ts";
export { DEFAULT_HIGH_RISK_DESTINATIONS, highRiskMatch, type HighRiskCategory, type HighRiskDestination } from "./high-risk-destinations.ts";
export {
  CALL_OUT_DEFAULTS,
  CALL_OUT_POLICY_FIELDS,
  CallOutDenied,
  callOutPolicyPatch,
  checkDestination,
  effectiveCallOutPolicy,
  storedCallOutPolicy,
  type CallOutDenial,
  type CallOutPolicy,
  type StoredCallOutPolicy,
} from "./call-out-policy.ts";
export { MAX_CALL_AGE_MS, MemoryCallCounters, RATE_WINDOW_MS, type CallAdmission, type CallCounters, type CallLimits } from "./call-counters.ts";
export { CALL_COUNTER_MIGRATIONS, SqlCallCounters } from "./sql-call-counters.ts";
export { callerIdFor } from "./caller-id.ts";
export { routeOutboundCall, type OutboundCall, type OutboundCallRequest } from "./outbound-call.ts";
export { orderGateways, selectRoutes, trunksInOrder, type RouteCandidate, type RouteSelectionOptions } from "./trunk-selection.ts";
export { trunksForSource } from "./inbound-source.ts";
export { addressInRanges, formatAddressRange, parseAddress, parseAddressRange, rangeContains, type AddressRange } from "./address-range.ts";
export {
  gatewayIsLive,
  gatewayKey,
  SIP_TRANSPORTS,
  type CallerIdRule,
  type Gateway,
  type GatewayStatus,
  type RegistrationStatus,
  type SipTransport,
  type Trunk,
  type TrunkCredentials,
  type TrunkRecord,
  type TrunkStatus,
} from "./trunk.ts";
export { EGRESS_ID, TRUNK_ID, patchTrunk, trunkFromInput, trunkFromItem } from "./trunk-input.ts";
export { parseGatewaySpec } from "./gateway-spec.ts";
export { InputError } from "./input-error.ts";
