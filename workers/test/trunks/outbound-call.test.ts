import { parseUri } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { SipError } from "../../src/sip-error.ts";
import { MemoryCallCounters } from "../../src/trunks/call-counters.ts";
import { CallOutDenied, effectiveCallOutPolicy, type StoredCallOutPolicy } from "../../src/trunks/call-out-policy.ts";
import { callerIdFor } from "../../src/trunks/caller-id.ts";
import { DEFAULT_NUMBERING_PLAN as PLAN } from "../../src/trunks/numbering-plan.ts";
import { routeOutboundCall, type OutboundCallRequest } from "../../src/trunks/outbound-call.ts";
import type { TrunkRecord } from "../../src/trunks/trunk.ts";
import { cycle, trunk } from "./fixtures.ts";

const ALICE = "alice@example.com";
const T0 = 1_700_000_000_000;

function request(uri: string, fields: { policy?: StoredCallOutPolicy; trunks?: TrunkRecord[]; counters?: MemoryCallCounters; callId?: string; nowMs?: number } = {}): OutboundCallRequest {
  return {
    uri: parseUri(uri),
    subscriber: ALICE,
    callId: fields.callId ?? "call-1",
    nowMs: fields.nowMs ?? T0,
    policy: effectiveCallOutPolicy(fields.policy ?? { can_call_out: true, caller_id: "+15550100100" }, PLAN),
    plan: PLAN,
    trunks: fields.trunks ?? [trunk("us", { prefixes: ["+1"] }), trunk("default", { prefixes: [""] })],
    counters: fields.counters ?? new MemoryCallCounters(),
    random: cycle(0),
  };
}

function refusal(req: OutboundCallRequest): SipError {
  try {
    routeOutboundCall(req);
  } catch (e) {
    if (e instanceof SipError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("routeOutboundCall (browser to carrier)", () => {
  it("a user of ours is not a number: undefined, and nothing is counted", () => {
    const counters = new MemoryCallCounters();
    expect(routeOutboundCall(request("sip:bob@example.com", { counters }))).toBeUndefined();
    expect(routeOutboundCall(request("sip:1001@example.com", { counters }))).toBeUndefined();
    expect(counters.active(ALICE, T0)).toBe(0);
  });

  it("an allowed number: the routes in failover order, the caller ID, and the call counted", () => {
    const counters = new MemoryCallCounters();
    const call = routeOutboundCall(request("sip:+1-212-555-0123@example.com;user=phone", { counters }))!;
    expect(call.number).toBe("+12125550123");
    expect(call.source).toBe("user=phone");
    expect(call.routes.map((r) => r.trunk.id)).toEqual(["us", "default"]);
    expect(call.routes[0]!.trunk.egress).toBe("local");
    expect(call.callerId).toBe("+15550100100");
    expect(call.admission).toEqual({ admitted: true, active: 1, lastMinute: 1 });
    expect(counters.active(ALICE, T0)).toBe(1);
  });

  it("refusals in order, each with status, reason and why; none of them counts a call", () => {
    const counters = new MemoryCallCounters();
    const cases: Array<[OutboundCallRequest, number, string]> = [
      [request("tel:+1-55", { counters }), 484, "number-too-short"],
      [request("sip:*67@example.com;user=phone", { counters }), 404, "number-not-digits"],
      [request("tel:+12125550123", { counters, policy: {} }), 403, "call-out-not-allowed"],
      [request("tel:+442079460000", { counters }), 403, "international-not-allowed"],
      [request("tel:+19005550123", { counters }), 403, "premium-rate-not-allowed"],
      [request("tel:+881612345678", { counters, policy: { can_call_out: true, allowed_prefixes: ["+"], caller_id: "+15550100100" } }), 403, "high-risk-destination"],
      [request("tel:+12125550123", { counters, trunks: [trunk("uk", { prefixes: ["+44"] })] }), 404, "no-trunk-route"],
      [request("tel:+12125550123", { counters, policy: { can_call_out: true } }), 403, "no-caller-id"],
    ];
    for (const [req, status, why] of cases) {
      const e = refusal(req);
      expect([e.status, e.why], `${req.uri}`).toEqual([status, why]);
      if (status === 403) {
        expect(e).toBeInstanceOf(CallOutDenied);
        expect(e.reason).toMatch(/^Forbidden - /);
        expect((e as CallOutDenied).subscriber).toBe(ALICE);
      }
    }
    expect(counters.active(ALICE, T0)).toBe(0);
  });

  it("every gateway down: 503 with Retry-After", () => {
    const down = trunk("us", { prefixes: ["+1"] });
    down.status = { updated_at: "x", gateways: [{ host: "us.example", port: 5060, transport: "udp", up: false, checked_at: "x" }] };
    const e = refusal(request("tel:+12125550123", { trunks: [down] }));
    expect([e.status, e.reason, e.why, e.headers]).toEqual([503, "Service Unavailable - Trunk Down", "trunk-down", [["Retry-After", "30"]]]);
  });

  it("the concurrent limit, then the per-minute limit, as 403 with the counts for the log", () => {
    const counters = new MemoryCallCounters();
    const policy = { can_call_out: true, caller_id: "+15550100100", max_concurrent_calls: 2, max_calls_per_minute: 3 };
    routeOutboundCall(request("tel:+12125550001", { counters, policy, callId: "a" }));
    routeOutboundCall(request("tel:+12125550002", { counters, policy, callId: "b" }));
    const busy = refusal(request("tel:+12125550003", { counters, policy, callId: "c" })) as CallOutDenied;
    expect([busy.status, busy.reason, busy.why, busy.destination, busy.detail]).toEqual([403, "Forbidden - Too Many Concurrent Calls", "concurrent-call-limit", "+12125550003", { active: 2, last_minute: 2, limit: 2 }]);
    counters.release(ALICE, "a");
    counters.release(ALICE, "b");
    routeOutboundCall(request("tel:+12125550003", { counters, policy, callId: "c" }));
    counters.release(ALICE, "c");
    const rate = refusal(request("tel:+12125550004", { counters, policy, callId: "d", nowMs: T0 + 1000 })) as CallOutDenied;
    expect([rate.reason, rate.why, rate.detail]).toEqual(["Forbidden - Too Many Calls Per Minute", "call-rate-limit", { active: 0, last_minute: 3, limit: 3 }]);
    expect(routeOutboundCall(request("tel:+12125550004", { counters, policy, callId: "d", nowMs: T0 + 61_000 }))?.admission.admitted).toBe(true);
  });

  it("the same INVITE again (a retransmission or the re-sent INVITE after 407) counts once", () => {
    const counters = new MemoryCallCounters();
    const policy = { can_call_out: true, caller_id: "+15550100100", max_concurrent_calls: 1, max_calls_per_minute: 1 };
    routeOutboundCall(request("tel:+12125550001", { counters, policy, callId: "x" }));
    expect(routeOutboundCall(request("tel:+12125550001", { counters, policy, callId: "x" }))?.admission).toEqual({ admitted: true, active: 1, lastMinute: 1 });
  });
});

describe("callerIdFor", () => {
  const policy = effectiveCallOutPolicy({ can_call_out: true, caller_id: "+15550100100" }, PLAN);
  const none = effectiveCallOutPolicy({ can_call_out: true }, PLAN);
  it("fixed: the trunk's number; subscriber: theirs, else the trunk's default, else refused", () => {
    expect(callerIdFor({ caller_id: { mode: "fixed", number: "+15559990000" } }, policy, ALICE, "+1")).toBe("+15559990000");
    expect(callerIdFor({ caller_id: { mode: "subscriber" } }, policy, ALICE, "+1")).toBe("+15550100100");
    expect(callerIdFor({ caller_id: { mode: "subscriber", default_number: "+15559990001" } }, none, ALICE, "+1")).toBe("+15559990001");
    expect(() => callerIdFor({ caller_id: { mode: "subscriber" } }, none, ALICE, "+1")).toThrow(CallOutDenied);
  });
});
