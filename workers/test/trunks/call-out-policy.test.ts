import { describe, expect, it } from "vitest";
import { SipError } from "../../src/sip-error.ts";
import {
  CALL_OUT_DEFAULTS,
  CallOutDenied,
  callOutPolicyPatch,
  callOutPolicyView,
  checkDestination,
  effectiveCallOutPolicy,
  storedCallOutPolicy,
  type CallOutPolicy,
} from "../../src/trunks/call-out-policy.ts";
import { InputError } from "../../src/trunks/input-error.ts";
import { DEFAULT_NUMBERING_PLAN as PLAN, readNumberingPlan } from "../../src/trunks/numbering-plan.ts";

const ALICE = "alice@example.com";

function denial(policy: CallOutPolicy, number: string, plan = PLAN): CallOutDenied | undefined {
  try {
    checkDestination(policy, number, plan, ALICE);
    return undefined;
  } catch (e) {
    if (e instanceof CallOutDenied) return e;
    throw e;
  }
}

const allowed = (fields: Parameters<typeof effectiveCallOutPolicy>[0] = {}): CallOutPolicy => effectiveCallOutPolicy({ can_call_out: true, ...fields }, PLAN);

describe("call-out policy defaults", () => {
  it("closed: no calls out; when opened, national only, 2 at once, 5 a minute", () => {
    expect(effectiveCallOutPolicy(undefined, PLAN)).toEqual({ canCallOut: false, allowedPrefixes: ["+1"], maxConcurrentCalls: 2, maxCallsPerMinute: 5 });
    expect(effectiveCallOutPolicy({}, readNumberingPlan({ DEFAULT_COUNTRY_CODE: "44" })).allowedPrefixes).toEqual(["+44"]);
    expect(CALL_OUT_DEFAULTS.canCallOut).toBe(false);
  });

  it("stored attributes are read leniently: a malformed one is the closed default, never open", () => {
    expect(storedCallOutPolicy({ aor: ALICE, ha1_md5: "x" })).toEqual({});
    expect(storedCallOutPolicy({ can_call_out: "yes", allowed_prefixes: ["1"], max_concurrent_calls: 0, max_calls_per_minute: 1.5, caller_id: "555" })).toEqual({});
    expect(storedCallOutPolicy({ can_call_out: true, allowed_prefixes: ["+", "+44"], max_concurrent_calls: 3, max_calls_per_minute: 10, caller_id: "+15550100100" })).toEqual({
      can_call_out: true,
      allowed_prefixes: ["+", "+44"],
      max_concurrent_calls: 3,
      max_calls_per_minute: 10,
      caller_id: "+15550100100",
    });
  });

  it("the admin view names the fields that are defaults", () => {
    expect(callOutPolicyView(ALICE, { can_call_out: true }, PLAN)).toEqual({
      aor: ALICE,
      can_call_out: true,
      allowed_prefixes: ["+1"],
      max_concurrent_calls: 2,
      max_calls_per_minute: 5,
      caller_id: null,
      defaults: ["allowed_prefixes", "max_concurrent_calls", "max_calls_per_minute"],
    });
  });
});

describe("checkDestination", () => {
  it("a subscriber not allowed out is refused, whatever the number", () => {
    const e = denial(effectiveCallOutPolicy({}, PLAN), "+12125550123");
    expect(e).toBeInstanceOf(SipError);
    expect([e?.status, e?.reason, e?.why, e?.subscriber, e?.destination]).toEqual([403, "Forbidden - Calls Out Not Allowed", "call-out-not-allowed", ALICE, "+12125550123"]);
  });

  it("national by default; international refused unless its prefix is allowed", () => {
    expect(denial(allowed(), "+12125550123")).toBeUndefined();
    expect(denial(allowed(), "+442079460000")?.why).toBe("international-not-allowed");
    expect(denial(allowed(), "+442079460000")?.reason).toBe("Forbidden - International Calls Not Allowed");
    expect(denial(allowed({ allowed_prefixes: ["+1", "+44"] }), "+442079460000")).toBeUndefined();
    expect(denial(allowed({ allowed_prefixes: ["+"] }), "+33123456789")).toBeUndefined();
  });

  it("a national number outside a narrower allowed list is 'destination not allowed'", () => {
    expect(denial(allowed({ allowed_prefixes: ["+1212"] }), "+13105550123")?.why).toBe("destination-not-allowed");
    expect(denial(allowed({ allowed_prefixes: [] }), "+12125550123")?.why).toBe("destination-not-allowed");
  });

  it("premium rate needs an allowed prefix at least as specific as the table's entry", () => {
    const e = denial(allowed(), "+19005550123");
    expect([e?.why, e?.reason, e?.detail]).toEqual(["premium-rate-not-allowed", "Forbidden - Premium Rate Destination", { prefix: "+1900", category: "premium-rate" }]);
    expect(denial(allowed({ allowed_prefixes: ["+"] }), "+19005550123")?.why).toBe("premium-rate-not-allowed");
    expect(denial(allowed({ allowed_prefixes: ["+1", "+1900"] }), "+19005550123")).toBeUndefined();
    expect(denial(allowed({ allowed_prefixes: ["+44"] }), "+449098790000")?.why).toBe("premium-rate-not-allowed");
  });

  it("satellite, international networks and high-fraud ranges: refused even with '+' allowed", () => {
    for (const n of ["+881612345678", "+882161234567", "+883510012345", "+8708123456", "+2521234567", "+18095550123"]) {
      const e = denial(allowed({ allowed_prefixes: ["+"] }), n);
      expect(e?.why, n).toBe("high-risk-destination");
      expect(e?.reason).toBe("Forbidden - High-Risk Destination");
    }
    // NANP Caribbean looks national (+1) but is not: refused under the default too.
    expect(denial(allowed(), "+18765550123")?.why).toBe("high-risk-destination");
    expect(denial(allowed({ allowed_prefixes: ["+1", "+1876"] }), "+18765550123")).toBeUndefined();
  });

  it("the table is configuration: HIGH_RISK_PREFIXES replaces it", () => {
    const plan = readNumberingPlan({ HIGH_RISK_PREFIXES: "+1212" });
    expect(denial(allowed(), "+12125550123", plan)?.why).toBe("high-risk-destination");
    expect(denial(allowed(), "+19005550123", plan)).toBeUndefined();
    expect(denial(allowed(), "+19005550123", readNumberingPlan({ HIGH_RISK_PREFIXES: "none" }))).toBeUndefined();
  });
});

describe("callOutPolicyPatch (admin input)", () => {
  it("sets values and resets nulls to the default", () => {
    expect(callOutPolicyPatch({ can_call_out: true, allowed_prefixes: ["+1", "+44", "+1"], max_concurrent_calls: 3, max_calls_per_minute: null, caller_id: "+1 555 010 0100" })).toEqual({
      set: { can_call_out: true, allowed_prefixes: ["+1", "+44"], max_concurrent_calls: 3, caller_id: "+15550100100" },
      reset: ["max_calls_per_minute"],
    });
  });

  it("refuses bad values with a code and how to write them", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ can_call_out: "yes" }, "invalid_can_call_out"],
      [{ allowed_prefixes: "+1" }, "invalid_allowed_prefixes"],
      [{ allowed_prefixes: ["44"] }, "invalid_allowed_prefixes"],
      [{ max_concurrent_calls: 0 }, "invalid_max_concurrent_calls"],
      [{ max_calls_per_minute: 2.5 }, "invalid_max_calls_per_minute"],
      [{ caller_id: "5550100" }, "invalid_caller_id"],
      [{ can_call_out: true, premium: true }, "invalid_field"],
    ];
    for (const [body, code] of cases) {
      let err: unknown;
      try {
        callOutPolicyPatch(body);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(body)).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe(code);
    }
  });
});
