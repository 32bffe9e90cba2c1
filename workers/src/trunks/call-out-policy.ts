import { SipError } from "../sip-error.ts";
import { e164FromInput, isE164Prefix, longestPrefix } from "./e164.ts";
import { highRiskMatch } from "./high-risk-destinations.ts";
import { booleanField, InputError, integerIn, onlyFields } from "./input-error.ts";
import { isNational, type NumberingPlan } from "./numbering-plan.ts";

/**
 * A subscriber's call-out policy as stored: optional attributes of the
 * subscriber's item in the `subscribers` table (subscriber-record.ts). An
 * absent attribute means the default, so records written before these
 * fields existed keep working and cannot call out.
 */
export interface StoredCallOutPolicy {
  can_call_out?: boolean;
  /** E.164 prefixes the subscriber may call; "+" = every number. Default: the home country ("+<DEFAULT_COUNTRY_CODE>"). */
  allowed_prefixes?: string[];
  max_concurrent_calls?: number;
  max_calls_per_minute?: number;
  /** The subscriber's caller ID on trunks whose rule is `subscriber`: a DID assigned to them. */
  caller_id?: string;
}

export const CALL_OUT_POLICY_FIELDS = ["can_call_out", "allowed_prefixes", "max_concurrent_calls", "max_calls_per_minute", "caller_id"] as const;
export type CallOutPolicyField = (typeof CALL_OUT_POLICY_FIELDS)[number];

/** The policy in force for one call: stored values, defaults filled in. */
export interface CallOutPolicy {
  canCallOut: boolean;
  allowedPrefixes: string[];
  maxConcurrentCalls: number;
  maxCallsPerMinute: number;
  callerId?: string;
}

/**
 * Defaults, chosen closed (industry practice against toll fraud: an account
 * is opened for calls out on purpose, not by accident): no calls out; when
 * allowed, only national numbers; two calls at once (a call and a
 * consultation call for a transfer); five new calls a minute (more than a
 * person dials, far fewer than a fraud script tries).
 */
export const CALL_OUT_DEFAULTS = { canCallOut: false, maxConcurrentCalls: 2, maxCallsPerMinute: 5 } as const;
export const CALL_OUT_LIMITS = { maxConcurrentCalls: 1000, maxCallsPerMinute: 10_000, allowedPrefixes: 200 } as const;

export function effectiveCallOutPolicy(stored: StoredCallOutPolicy | undefined, plan: NumberingPlan): CallOutPolicy {
  return {
    canCallOut: stored?.can_call_out ?? CALL_OUT_DEFAULTS.canCallOut,
    allowedPrefixes: stored?.allowed_prefixes ?? [`+${plan.countryCode}`],
    maxConcurrentCalls: stored?.max_concurrent_calls ?? CALL_OUT_DEFAULTS.maxConcurrentCalls,
    maxCallsPerMinute: stored?.max_calls_per_minute ?? CALL_OUT_DEFAULTS.maxCallsPerMinute,
    ...(stored?.caller_id !== undefined ? { callerId: stored.caller_id } : {}),
  };
}

/**
 * The policy attributes of a subscriber item (as unmarshalled), each kept
 * only if well-formed: a malformed one counts as absent, i.e. the closed
 * default, never as "anything goes".
 */
export function storedCallOutPolicy(item: Record<string, unknown>): StoredCallOutPolicy {
  const out: StoredCallOutPolicy = {};
  if (typeof item.can_call_out === "boolean") out.can_call_out = item.can_call_out;
  if (Array.isArray(item.allowed_prefixes) && item.allowed_prefixes.every((p) => typeof p === "string" && isAllowedPrefix(p))) {
    out.allowed_prefixes = item.allowed_prefixes as string[];
  }
  const int = (v: unknown, max: number): number | undefined => (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= max ? v : undefined);
  const concurrent = int(item.max_concurrent_calls, CALL_OUT_LIMITS.maxConcurrentCalls);
  if (concurrent !== undefined) out.max_concurrent_calls = concurrent;
  const perMinute = int(item.max_calls_per_minute, CALL_OUT_LIMITS.maxCallsPerMinute);
  if (perMinute !== undefined) out.max_calls_per_minute = perMinute;
  if (typeof item.caller_id === "string" && e164FromInput(item.caller_id) === item.caller_id) out.caller_id = item.caller_id;
  return out;
}

function isAllowedPrefix(p: string): boolean {
  return p === "+" || isE164Prefix(p);
}

/** A PATCH of the policy: values to set, and fields sent as null (back to the default). */
export interface CallOutPolicyPatch {
  set: StoredCallOutPolicy;
  reset: CallOutPolicyField[];
}

/** Checks a PATCH body (admin API); throws InputError saying what is wrong. */
export function callOutPolicyPatch(body: Record<string, unknown>): CallOutPolicyPatch {
  onlyFields(body, CALL_OUT_POLICY_FIELDS, "a call-out policy");
  const set: StoredCallOutPolicy = {};
  const reset: CallOutPolicyField[] = [];
  for (const field of CALL_OUT_POLICY_FIELDS) {
    const value = body[field];
    if (value === undefined) continue;
    if (value === null) {
      reset.push(field);
      continue;
    }
    switch (field) {
      case "can_call_out":
        set.can_call_out = booleanField(value, field, "invalid_can_call_out");
        break;
      case "allowed_prefixes":
        set.allowed_prefixes = allowedPrefixes(value);
        break;
      case "max_concurrent_calls":
        set.max_concurrent_calls = integerIn(value, field, 1, CALL_OUT_LIMITS.maxConcurrentCalls, "invalid_max_concurrent_calls");
        break;
      case "max_calls_per_minute":
        set.max_calls_per_minute = integerIn(value, field, 1, CALL_OUT_LIMITS.maxCallsPerMinute, "invalid_max_calls_per_minute");
        break;
      case "caller_id": {
        const n = typeof value === "string" ? e164FromInput(value) : undefined;
        if (n === undefined) throw new InputError("invalid_caller_id", `caller_id must be an E.164 number like "+15550100199", or null for none (got ${JSON.stringify(value).slice(0, 40)})`);
        set.caller_id = n;
        break;
      }
    }
  }
  return { set, reset };
}

function allowedPrefixes(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > CALL_OUT_LIMITS.allowedPrefixes) {
    throw new InputError("invalid_allowed_prefixes", `allowed_prefixes must be a list of at most ${CALL_OUT_LIMITS.allowedPrefixes} E.164 prefixes, e.g. ["+1", "+44"]; "+" allows every number except high-risk ones`);
  }
  const out: string[] = [];
  for (const p of value) {
    if (typeof p !== "string" || !isAllowedPrefix(p)) {
      throw new InputError("invalid_allowed_prefixes", `${JSON.stringify(p)?.slice(0, 40)} is not an E.164 prefix: "+" and up to 15 digits, not starting with 0 (e.g. "+1", "+4420"), or "+" alone for every number`);
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** The machine-readable reason of a call-out refusal (the `why` of the log line). */
export type CallOutDenial =
  | "call-out-not-allowed"
  | "international-not-allowed"
  | "destination-not-allowed"
  | "premium-rate-not-allowed"
  | "high-risk-destination"
  | "concurrent-call-limit"
  | "call-rate-limit"
  | "no-caller-id";

const REASONS: Record<CallOutDenial, string> = {
  "call-out-not-allowed": "Calls Out Not Allowed",
  "international-not-allowed": "International Calls Not Allowed",
  "destination-not-allowed": "Destination Not Allowed",
  "premium-rate-not-allowed": "Premium Rate Destination",
  "high-risk-destination": "High-Risk Destination",
  "concurrent-call-limit": "Too Many Concurrent Calls",
  "call-rate-limit": "Too Many Calls Per Minute",
  "no-caller-id": "No Caller ID For This Trunk",
};

/**
 * A call refused by the toll-fraud policy: 403 "Forbidden - <reason>"
 * (RFC 3261 §21.4.4: the server understood and will not do it; retrying
 * does not help, authentication is not the issue). `why`, `subscriber` and
 * `destination` are for the log line the caller writes (issue 5: "logged
 * with the subscriber and destination"); only status and reason reach the wire.
 */
export class CallOutDenied extends SipError {
  override name = "CallOutDenied";
  constructor(
    public readonly denial: CallOutDenial,
    public readonly subscriber: string,
    public readonly destination: string,
    /** Extra facts for the log, e.g. the limit and the count. */
    public readonly detail: Record<string, string | number> = {},
  ) {
    super(403, `Forbidden - ${REASONS[denial]}`, [], denial);
  }
}

/**
 * Whether `subscriber` may call `number` (E.164) at all; throws
 * CallOutDenied otherwise. In order:
 *  1. the subscriber must be allowed to call out;
 *  2. the number must match one of the allowed prefixes (default: the home
 *     country), else it is refused as international or as not allowed;
 *  3. a high-risk destination (premium rate, satellite, known fraud ranges;
 *     high-risk-destinations.ts) needs an allowed prefix at least as specific
 *     as its entry: "+1" or "+" does not open "+1900", "+1900" does.
 * The call limits are checked after routing (call-counters.ts), so a call
 * that cannot be routed does not use up the subscriber's allowance.
 */
export function checkDestination(policy: CallOutPolicy, number: string, plan: NumberingPlan, subscriber: string): void {
  if (!policy.canCallOut) throw new CallOutDenied("call-out-not-allowed", subscriber, number);
  const allowedBy = longestPrefix(number, policy.allowedPrefixes.map((p) => (p === "+" ? "" : p)));
  if (allowedBy === undefined) {
    throw new CallOutDenied(isNational(number, plan) ? "destination-not-allowed" : "international-not-allowed", subscriber, number);
  }
  const risk = highRiskMatch(number, plan.highRisk);
  if (risk !== undefined && allowedBy.length < risk.prefix.length) {
    throw new CallOutDenied(risk.category === "premium-rate" ? "premium-rate-not-allowed" : "high-risk-destination", subscriber, number, {
      prefix: risk.prefix,
      category: risk.category,
    });
  }
}

/** The admin API's view of a policy: what is in force, and which fields are defaults rather than set. */
export interface CallOutPolicyView {
  aor: string;
  can_call_out: boolean;
  allowed_prefixes: string[];
  max_concurrent_calls: number;
  max_calls_per_minute: number;
  caller_id: string | null;
  /** Fields not set for this subscriber, i.e. following the deployment's defaults. */
  defaults: CallOutPolicyField[];
}

export function callOutPolicyView(aor: string, stored: StoredCallOutPolicy, plan: NumberingPlan): CallOutPolicyView {
  const p = effectiveCallOutPolicy(stored, plan);
  return {
    aor,
    can_call_out: p.canCallOut,
    allowed_prefixes: p.allowedPrefixes,
    max_concurrent_calls: p.maxConcurrentCalls,
    max_calls_per_minute: p.maxCallsPerMinute,
    caller_id: p.callerId ?? null,
    defaults: CALL_OUT_POLICY_FIELDS.filter((f) => f !== "caller_id" && stored[f] === undefined),
  };
}
