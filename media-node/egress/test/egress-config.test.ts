import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, parseEgressConfig } from "../src/config.ts";

// The egress's settings: flags or environment, every problem said at once,
// secrets never from a flag and never in what is logged.

const SECRET = "e".repeat(40);
const ENV = { SIPEDGE_EGRESS_SECRET: SECRET, AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "aws-secret-value" };

function problems(argv: string[], env: NodeJS.ProcessEnv): string[] {
  try {
    parseEgressConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("parseEgressConfig", () => {
  it("takes flags or environment, with defaults", () => {
    const c = parseEgressConfig(["--id", "eg-1", "--edge-url", "https://sip.example.com"], { ...ENV, TABLE_TRUNKS: "prod_trunks", DYNAMODB_REGION: "eu-west-1" });
    expect(c).toMatchObject({
      id: "eg-1",
      secret: SECRET,
      sip: { host: "127.0.0.1", udpPort: 5060, tcpPort: 5060 },
      http: { host: "127.0.0.1", port: 2290 },
      dynamo: { region: "eu-west-1", trunksTable: "prod_trunks", accessKeyId: "AKIAEXAMPLE" },
      t1Ms: 500,
      gatewayTimeoutMs: 5000,
      keepaliveMs: 25_000,
    });
    expect(c.sip.tls).toBeUndefined();
    const env = parseEgressConfig([], { ...ENV, SIPEDGE_EGRESS_ID: "eg-2", SIPEDGE_EDGE_URL: "ws://127.0.0.1:8787", SIPEDGE_SIP_UDP_PORT: "off", SIPEDGE_SIP_HOST: "0.0.0.0", SIPEDGE_PUBLIC_ADDRESS: "203.0.113.10" });
    expect(env.sip).toMatchObject({ udpPort: false, host: "0.0.0.0", publicAddress: "203.0.113.10" });
  });

  it("says everything that is wrong at once", () => {
    const p = problems(["--id", "bad id", "--edge-url", "ftp://x", "--sip-host", "0.0.0.0", "--tls-cert", "c.pem", "--gateway-timeout-ms", "5s"], { SIPEDGE_EGRESS_SECRET: "short" });
    expect(p.join("\n")).toMatch(/--id must be/);
    expect(p.join("\n")).toMatch(/--edge-url must be http\(s\) or ws\(s\)/);
    expect(p.join("\n")).toMatch(/at least 32 characters/);
    expect(p.join("\n")).toMatch(/--public-address/);
    expect(p.join("\n")).toMatch(/--tls-cert and --tls-key go together/);
    expect(p.join("\n")).toMatch(/--gateway-timeout-ms must be an integer/);
    expect(p.join("\n")).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it("refuses a secret on the command line, and never describes one", () => {
    expect(problems(["--id", "eg-1", "--edge-url", "http://x", "--secret", SECRET], ENV)).toEqual([expect.stringMatching(/--secret is not accepted/)]);
    const text = JSON.stringify(describeConfig(parseEgressConfig(["--id", "eg-1", "--edge-url", "http://x"], ENV)));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("aws-secret-value");
    expect(text).not.toContain("AKIAEXAMPLE");
  });
});
