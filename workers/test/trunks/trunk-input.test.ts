import { describe, expect, it } from "vitest";
import { publicTrunk } from "../../src/directory/trunks.ts";
import { parseGatewaySpec } from "../../src/trunks/gateway-spec.ts";
import { InputError } from "../../src/trunks/input-error.ts";
import { patchTrunk, trunkFromInput, trunkFromItem } from "../../src/trunks/trunk-input.ts";
import type { Trunk } from "../../src/trunks/trunk.ts";

const NOW = "2026-05-01T10:00:00.000Z";
const LATER = "2026-05-01T11:00:00.000Z";

function errorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

const minimal = { id: "carrier-a", egress: "local", gateways: [{ host: "127.0.0.1" }] };

describe("trunk input", () => {
  it("fills in defaults: name = id, enabled, UDP 5060, priority 10 weight 1, no credentials, no registration, inbound/outbound closed, caller ID of the subscriber", () => {
    expect(trunkFromInput(minimal, NOW)).toEqual({
      id: "carrier-a",
      name: "carrier-a",
      enabled: true,
      egress: "local",
      gateways: [{ host: "127.0.0.1", port: 5060, transport: "udp", priority: 10, weight: 1 }],
      register: false,
      register_expires: 3600,
      allowed_sources: [],
      prefixes: [],
      caller_id: { mode: "subscriber" },
      created_at: NOW,
      updated_at: NOW,
    });
  });

  it("takes every field, normalising hosts, ranges and numbers", () => {
    const t = trunkFromInput(
      {
        id: "carrier_b",
        name: "Carrier B",
        enabled: false,
        egress: "egress-eu.1",
        gateways: [
          { host: "SIP.Carrier.Example.", transport: "TLS", priority: 5, weight: 3 },
          { host: "[2001:DB8::5]", port: 5080, transport: "tcp" },
        ],
        credentials: { username: "acct", password: "pa ss:wörd", realm: "carrier.example" },
        register: true,
        register_expires: 600,
        allowed_sources: ["198.51.100.0/24", "2001:DB8:0::1", "198.51.100.0/24"],
        prefixes: ["+1", "+44", "", "+1"],
        caller_id: { mode: "fixed", number: "+1 (555) 010-0100" },
      },
      NOW,
    );
    expect(t.gateways).toEqual([
      { host: "sip.carrier.example", port: 5061, transport: "tls", priority: 5, weight: 3 },
      { host: "2001:db8::5", port: 5080, transport: "tcp", priority: 10, weight: 1 },
    ]);
    expect(t.credentials).toEqual({ username: "acct", password: "pa ss:wörd", realm: "carrier.example" });
    expect(t.allowed_sources).toEqual(["198.51.100.0/24", "2001:db8::1"]);
    expect(t.prefixes).toEqual(["+1", "+44", ""]);
    expect(t.caller_id).toEqual({ mode: "fixed", number: "+15550100100" });
  });

  it("refuses bad input with a code and a message that says how to write it", () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ ...minimal, id: "Carrier A" }, "invalid_trunk_id", /lowercase letters/],
      [{ egress: "local", gateways: [{ host: "x.example" }] }, "missing_field", /id is required/],
      [{ id: "a", gateways: [{ host: "x.example" }] }, "missing_field", /egress is required/],
      [{ id: "a", egress: "local" }, "missing_field", /gateways is required/],
      [{ ...minimal, egress: "no spaces" }, "invalid_egress", /egress proxy id/],
      [{ ...minimal, gateways: [] }, "invalid_gateways", /1-16 gateways/],
      [{ ...minimal, gateways: [{ host: "bad host" }] }, "invalid_gateways", /host name or an IP address/],
      [{ ...minimal, gateways: [{ host: "10.0.0.256" }] }, "invalid_gateways", /host name or an IP address/],
      [{ ...minimal, gateways: [{ host: "a.example", port: 70000 }] }, "invalid_gateways", /port must be an integer from 1 to 65535/],
      [{ ...minimal, gateways: [{ host: "a.example", transport: "sctp" }] }, "invalid_gateways", /udp, tcp, tls/],
      [{ ...minimal, gateways: [{ host: "a.example", prio: 1 }] }, "invalid_gateways", /unknown field "prio"/],
      [{ ...minimal, gateways: [{ host: "a.example" }, { host: "A.example" }] }, "invalid_gateways", /repeats/],
      [{ ...minimal, credentials: { username: "u" } }, "invalid_credentials", /password is required/],
      [{ ...minimal, credentials: { username: 'a"b', password: "x" } }, "invalid_credentials", /without quotes/],
      [{ ...minimal, credentials: "user:pass" }, "invalid_credentials", /username, password/],
      [{ ...minimal, register: "yes" }, "invalid_register", /true or false/],
      [{ ...minimal, register_expires: 30 }, "invalid_register", /60 to 86400/],
      [{ ...minimal, allowed_sources: ["192.0.2.1/24"] }, "invalid_allowed_sources", /192\.0\.2\.0\/24/],
      [{ ...minimal, allowed_sources: "192.0.2.1" }, "invalid_allowed_sources", /list/],
      [{ ...minimal, prefixes: ["1"] }, "invalid_prefixes", /E\.164 prefix/],
      [{ ...minimal, prefixes: ["+"] }, "invalid_prefixes", /"" for any number/],
      [{ ...minimal, caller_id: { mode: "fixed" } }, "invalid_caller_id", /caller_id\.number/],
      [{ ...minimal, caller_id: { mode: "pass" } }, "invalid_caller_id", /mode/],
      [{ ...minimal, colour: "blue" }, "invalid_field", /unknown field "colour"/],
      [{ ...minimal, status: {} }, "invalid_field", /unknown field "status"/],
    ];
    for (const [body, code, message] of cases) {
      const e = errorOf(() => trunkFromInput(body, NOW));
      expect(e.code, JSON.stringify(body)).toBe(code);
      expect(e.message, JSON.stringify(body)).toMatch(message);
    }
  });

  it("never repeats a password in an error", () => {
    const e = errorOf(() => trunkFromInput({ ...minimal, credentials: { username: "u", password: "secret\n-value" } }, NOW));
    expect(e.message).not.toContain("secret");
  });

  it("PATCH replaces the given fields; credentials without a password keep it; null removes them; id cannot change", () => {
    const base: Trunk = trunkFromInput({ ...minimal, credentials: { username: "old", password: "keep-me" } }, NOW);
    const renamed = patchTrunk(base, { credentials: { username: "new" }, prefixes: ["+1"], enabled: false }, LATER);
    expect(renamed.credentials).toEqual({ username: "new", password: "keep-me" });
    expect(renamed).toMatchObject({ prefixes: ["+1"], enabled: false, created_at: NOW, updated_at: LATER, gateways: base.gateways });
    expect(patchTrunk(base, { credentials: null }, LATER).credentials).toBeUndefined();
    expect(patchTrunk(base, { id: "carrier-a", name: "A" }, LATER).name).toBe("A");
    expect(errorOf(() => patchTrunk(base, { id: "other" }, LATER)).message).toMatch(/id cannot change/);
    expect(errorOf(() => patchTrunk(base, { gateways: [] }, LATER)).code).toBe("invalid_gateways");
  });

  it("publicTrunk shows the password only as \"set\"", () => {
    const t = trunkFromInput({ ...minimal, credentials: { username: "u", password: "hunter2-secret" } }, NOW);
    const shown = publicTrunk(t);
    expect(shown.credentials).toEqual({ username: "u", password: "set" });
    expect(JSON.stringify(shown)).not.toContain("hunter2");
    expect(publicTrunk(trunkFromInput(minimal, NOW)).credentials).toBeUndefined();
  });

  it("trunkFromItem: a stored row is checked with the same rules, keeping timestamps and status", () => {
    const t = trunkFromInput(minimal, NOW);
    const status = { updated_at: LATER, gateways: [{ host: "127.0.0.1", port: 5060, transport: "udp", up: false, checked_at: LATER }] };
    expect(trunkFromItem({ ...t, updated_at: LATER, status })).toEqual({ ...t, updated_at: LATER, status });
    expect(trunkFromItem({ ...t, gateways: "nope" })).toMatch(/gateways/);
  });
});

describe("gateway spec (CLI)", () => {
  it("host[:port][;transport][;priority][;weight], sip:/sips:, IPv6 in brackets", () => {
    expect(parseGatewaySpec("192.0.2.10")).toEqual({ host: "192.0.2.10" });
    expect(parseGatewaySpec("sip.carrier.example:5080;transport=TCP;priority=20;weight=5")).toEqual({ host: "sip.carrier.example", port: 5080, transport: "tcp", priority: 20, weight: 5 });
    expect(parseGatewaySpec("sips:sip.carrier.example")).toEqual({ host: "sip.carrier.example", transport: "tls" });
    expect(parseGatewaySpec("[2001:db8::5]:5061;transport=tls")).toEqual({ host: "2001:db8::5", port: 5061, transport: "tls" });
  });

  it("says how to write it when it cannot read it", () => {
    expect(() => parseGatewaySpec("a.example;color=red")).toThrow(/unknown parameter "color"/);
    expect(() => parseGatewaySpec("a.example;priority=high")).toThrow(/takes a number/);
    expect(() => parseGatewaySpec("2001:db8::5:5060")).toThrow(/host\[:port\]/);
  });
});
