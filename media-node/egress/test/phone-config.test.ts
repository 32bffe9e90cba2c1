import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, parseEgressConfig } from "../src/config.ts";

// The egress's legacy-phone settings (issue 5): which SIP domains' phones may
// register through it (--phone-domains) and how often they get a NAT
// keep-alive (--phone-keepalive-s). A bad value is named, with what it should be.

const ENV = { SIPEDGE_EGRESS_SECRET: "e".repeat(40), AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "aws-secret-value" };
const BASE = ["--id", "eg-1", "--edge-url", "https://sip.example.com"];

function problems(argv: string[], env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    parseEgressConfig([...BASE, ...argv], env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("parseEgressConfig: legacy phones", () => {
  it("defaults: no phone domain (no phone may register), a keep-alive every 20 s", () => {
    const c = parseEgressConfig(BASE, ENV);
    expect(c.phoneDomains).toEqual([]);
    expect(c.phoneKeepaliveMs).toBe(20_000);
    expect(describeConfig(c)).toMatchObject({ phone_domains: "none" });
  });

  it("takes domains separated by commas, trimmed and lower-cased, from the flag or the environment", () => {
    const c = parseEgressConfig([...BASE, "--phone-domains", " Example.COM, voice.example.org ,", "--phone-keepalive-s", "0"], ENV);
    expect(c.phoneDomains).toEqual(["example.com", "voice.example.org"]);
    expect(c.phoneKeepaliveMs).toBe(0);
    expect(describeConfig(c)).toMatchObject({ phone_domains: "example.com,voice.example.org" });
    const env = parseEgressConfig(BASE, { ...ENV, SIPEDGE_PHONE_DOMAINS: "example.com", SIPEDGE_PHONE_KEEPALIVE_S: "45" });
    expect(env.phoneDomains).toEqual(["example.com"]);
    expect(env.phoneKeepaliveMs).toBe(45_000);
  });

  it("names each domain that is not a SIP domain, and says what one looks like", () => {
    const p = problems(["--phone-domains", "example.com,bad domain,sip:alice@example.com,-x.example"]);
    expect(p).toEqual([
      '--phone-domains must be SIP domains separated by commas (the edge\'s SIP_DOMAIN), got "bad domain"',
      '--phone-domains must be SIP domains separated by commas (the edge\'s SIP_DOMAIN), got "sip:alice@example.com"',
      '--phone-domains must be SIP domains separated by commas (the edge\'s SIP_DOMAIN), got "-x.example"',
    ]);
    expect(problems([], { ...ENV, SIPEDGE_PHONE_DOMAINS: "example.com;other.example" })).toEqual([expect.stringMatching(/--phone-domains .* got "example\.com;other\.example"/)]);
  });

  it("refuses a keep-alive interval that is not a whole number of seconds from 0 to 3600", () => {
    for (const bad of ["20s", "-1", "3601", "1.5"]) {
      expect(problems([`--phone-keepalive-s=${bad}`]), bad).toEqual([`--phone-keepalive-s must be an integer from 0 to 3600, got "${bad}"`]);
    }
  });

  it("says a phone problem together with the others", () => {
    const p = problems(["--phone-domains", "a b", "--phone-keepalive-s", "x", "--gateway-timeout-ms", "5s"]);
    expect(p).toHaveLength(3);
  });
});
