import { createResponse } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { escapeUser, gatewayUri } from "../src/trunks/egress-trunk.ts";
import { addressOfRecord, contactUri, grantedExpires, registerRequest } from "../src/trunks/register-request.ts";
import { backoffDelayMs, refreshDelayMs } from "../src/trunks/retry-schedule.ts";
import { gateway } from "./support/trunk-fixtures.ts";

describe("REGISTER toward a carrier: addresses and grants", () => {
  it("escapes a user name into a URI user part (§19.1.2) and brackets IPv6 hosts", () => {
    expect(escapeUser("alice")).toBe("alice");
    expect(escapeUser("+4420;x=1&y")).toBe("+4420;x=1&y");
    expect(escapeUser("a b@c:d é")).toBe("a%20b%40c%3Ad%20%C3%A9");
    expect(addressOfRecord(gateway("2001:db8::1"), "trunk user")).toBe("sip:trunk%20user@[2001:db8::1]");
    expect(contactUri("u", "2001:db8::2", 5061, "tls")).toBe("sip:u@[2001:db8::2]:5061;transport=tls");
    expect(gatewayUri(gateway("carrier.example", { transport: "tcp", port: 5080 }))).toBe("sip:carrier.example:5080;transport=tcp");
  });

  it("reads the grant for our Contact even when the registrar lists others or adds parameters", () => {
    const contact = contactUri("trunk-user", "203.0.113.10", 5061, "tls");
    const req = registerRequest({ gateway: gateway("192.0.2.30"), username: "trunk-user", contact, callId: "c", fromTag: "f", cseq: 1, expires: 600, authorization: [] });
    const ok = (headers: Array<[string, string]>) => createResponse(req, 200, undefined, { headers });
    expect(grantedExpires(ok([["Contact", "<sip:trunk-user@203.0.113.11:5061;transport=tls>;expires=5, <sip:trunk-user@203.0.113.10;transport=TLS;received=x>;expires=120"]]), contact, 600)).toEqual({ seconds: 120, from: "contact" });
    expect(grantedExpires(ok([["Contact", "<sip:trunk-user@203.0.113.10:5061;transport=tls>"], ["Expires", "300"]]), contact, 600)).toEqual({ seconds: 300, from: "expires-header" });
    expect(grantedExpires(ok([["Contact", "<sip:trunk-user@203.0.113.10:5061>;expires=nope"], ["Expires", "90"]]), contact, 600)).toEqual({ seconds: 90, from: "expires-header" });
    expect(grantedExpires(ok([]), contact, 600)).toEqual({ seconds: 600, from: "requested" });
  });

  it("schedules refreshes and backoff as documented", () => {
    expect([3600, 60, 2].map((g) => refreshDelayMs(g, 60))).toEqual([3540_000, 30_000, 1_000]);
    const b = { baseMs: 30_000, maxMs: 1_800_000 };
    expect([1, 2, 3, 7, 8, 50].map((n) => backoffDelayMs(n, b, () => 0))).toEqual([30_000, 60_000, 120_000, 1_800_000, 1_800_000, 1_800_000]);
    expect(backoffDelayMs(1, b, () => 0.5)).toBe(22_500);
  });
});
