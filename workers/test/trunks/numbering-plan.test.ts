import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.ts";
import { DEFAULT_HIGH_RISK_DESTINATIONS, highRiskMatch } from "../../src/trunks/high-risk-destinations.ts";
import { DEFAULT_NUMBERING_PLAN, isNational, readNumberingPlan } from "../../src/trunks/numbering-plan.ts";

describe("readNumberingPlan", () => {
  it("unset: NANP with the built-in high-risk table", () => {
    const plan = readNumberingPlan({});
    expect(plan).toEqual(DEFAULT_NUMBERING_PLAN);
    expect(plan.highRisk).toBe(DEFAULT_HIGH_RISK_DESTINATIONS);
  });

  it("a country code brings that plan's usual prefixes unless they are set", () => {
    expect(readNumberingPlan({ DEFAULT_COUNTRY_CODE: "+44" })).toMatchObject({ countryCode: "44", nationalPrefix: "0", internationalPrefix: "00" });
    expect(readNumberingPlan({ DEFAULT_COUNTRY_CODE: "1" })).toMatchObject({ nationalPrefix: "1", internationalPrefix: "011" });
    expect(readNumberingPlan({ DEFAULT_COUNTRY_CODE: "39", NATIONAL_PREFIX: "" })).toMatchObject({ countryCode: "39", nationalPrefix: "", internationalPrefix: "00" });
  });

  it("HIGH_RISK_PREFIXES replaces, extends (default) or empties (none) the table", () => {
    expect(readNumberingPlan({ HIGH_RISK_PREFIXES: "+1555" }).highRisk).toEqual([{ prefix: "+1555", category: "configured", note: "HIGH_RISK_PREFIXES" }]);
    const extended = readNumberingPlan({ HIGH_RISK_PREFIXES: "default, +1555" }).highRisk;
    expect(extended.length).toBe(DEFAULT_HIGH_RISK_DESTINATIONS.length + 1);
    expect(readNumberingPlan({ HIGH_RISK_PREFIXES: "none" }).highRisk).toEqual([]);
  });

  it("a malformed setting is a ConfigError naming it and the expected form", () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ DEFAULT_COUNTRY_CODE: "0" }, "DEFAULT_COUNTRY_CODE"],
      [{ DEFAULT_COUNTRY_CODE: "1234" }, "DEFAULT_COUNTRY_CODE"],
      [{ NATIONAL_PREFIX: "x" }, "NATIONAL_PREFIX"],
      [{ INTERNATIONAL_PREFIX: "00000" }, "INTERNATIONAL_PREFIX"],
      [{ HIGH_RISK_PREFIXES: "default,1900" }, "HIGH_RISK_PREFIXES"],
    ];
    for (const [env, setting] of cases) {
      let err: unknown;
      try {
        readNumberingPlan(env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).setting).toBe(setting);
      expect((err as ConfigError).message).toMatch(/e\.g\./);
    }
  });

  it("isNational compares with the home country code", () => {
    expect(isNational("+12125550123", DEFAULT_NUMBERING_PLAN)).toBe(true);
    expect(isNational("+442079460000", DEFAULT_NUMBERING_PLAN)).toBe(false);
  });
});

describe("the default high-risk table", () => {
  it("covers the brief's examples and the NANP Caribbean, most specific entry first", () => {
    for (const n of ["+19005550123", "+19765550123", "+449098790000", "+881612345678", "+882161234567", "+883510012345", "+18095550123", "+8708123456"]) {
      expect(highRiskMatch(n, DEFAULT_HIGH_RISK_DESTINATIONS), n).toBeDefined();
    }
    expect(highRiskMatch("+12125550123", DEFAULT_HIGH_RISK_DESTINATIONS)).toBeUndefined();
    expect(highRiskMatch("+442079460000", DEFAULT_HIGH_RISK_DESTINATIONS)).toBeUndefined();
    expect(highRiskMatch("+44871234567", DEFAULT_HIGH_RISK_DESTINATIONS)?.prefix).toBe("+44871");
  });

  it("every entry is a well-formed, unique E.164 prefix", () => {
    const prefixes = DEFAULT_HIGH_RISK_DESTINATIONS.map((d) => d.prefix);
    for (const p of prefixes) expect(p).toMatch(/^\+[1-9][0-9]{0,14}$/);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });
});
