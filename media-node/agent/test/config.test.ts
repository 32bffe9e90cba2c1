import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, parseAgentConfig } from "../src/config.ts";

const SECRET = "k".repeat(48);
const ENV = {
  SIPEDGE_NG_SECRET: SECRET,
  SIPEDGE_NODE_ID: "fra-1",
  SIPEDGE_REGION: "eu-central-1",
  SIPEDGE_PUBLIC_ADDRESS: "203.0.113.10",
  SIPEDGE_PRIVATE_ADDRESS: "10.0.1.10",
  SIPEDGE_NG_URL: "https://fra-1.media.example.com/ng",
  SIPEDGE_CAPACITY: "2000",
  AWS_REGION: "eu-central-1",
};

function problems(argv: string[], env: Record<string, string | undefined>): string[] {
  try {
    parseAgentConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("agent configuration", () => {
  it("reads the environment and applies defaults", () => {
    const c = parseAgentConfig([], ENV);
    expect(c).toMatchObject({
      secrets: [SECRET],
      listen: { host: "127.0.0.1", port: 2280 },
      rtpengineNg: { host: "127.0.0.1", port: 2223 },
      capacity: 2000,
      dynamo: { region: "eu-central-1", table: "media_nodes" },
      heartbeatIntervalMs: 5000,
      recordTtlMs: 15000,
      signatureWindowMs: 30000,
      maxBodyBytes: 65536,
    });
  });

  it("lets flags override the environment", () => {
    const c = parseAgentConfig(["--capacity", "10", "--listen=[::1]:9000", "--dynamodb-endpoint", "http://127.0.0.1:4567"], ENV);
    expect(c.capacity).toBe(10);
    expect(c.listen).toEqual({ host: "::1", port: 9000 });
    expect(c.dynamo.endpoint).toBe("http://127.0.0.1:4567");
  });

  it("reports every problem at once, naming the flag and the variable", () => {
    const p = problems([], {});
    expect(p).toEqual(
      expect.arrayContaining([
        "the ng secret is required: set SIPEDGE_NG_SECRET or --secret-file",
        "--node-id (or SIPEDGE_NODE_ID) is required",
        "--region (or SIPEDGE_REGION) is required",
        "--capacity (or SIPEDGE_CAPACITY) is required",
      ]),
    );
    expect(p.length).toBeGreaterThanOrEqual(7);
  });

  it("validates values", () => {
    expect(problems([], { ...ENV, SIPEDGE_NG_SECRET: "short" })).toEqual(["the ng secret must be at least 32 characters (it has 5)"]);
    expect(problems(["--public-address", "media.example.com"], ENV)).toEqual(['--public-address must be an IP address, got "media.example.com"']);
    expect(problems(["--capacity", "0"], ENV)).toEqual(['--capacity must be an integer from 1 to 1000000, got "0"']);
    expect(problems(["--listen", "nowhere"], ENV)).toEqual(['--listen must be HOST:PORT, got "nowhere"']);
    expect(problems(["--ng-url", "ftp://x/ng"], ENV)).toEqual(['--ng-url must be http(s), got "ftp://x/ng"']);
    expect(problems(["--heartbeat-interval-ms", "5000", "--record-ttl-ms", "4000"], ENV)[0]).toMatch(/longer than --heartbeat-interval-ms/);
    expect(problems(["--tls-cert", "/x.pem"], ENV)).toEqual(["--tls-cert and --tls-key go together"]);
  });

  it("never takes the secret on the command line, and reads it from a file", () => {
    expect(problems(["--secret", SECRET], ENV)[0]).toMatch(/--secret is not accepted/);
    const dir = mkdtempSync(join(tmpdir(), "agent-config-"));
    writeFileSync(join(dir, "secret"), "f".repeat(40) + "\n");
    expect(parseAgentConfig(["--secret-file", join(dir, "secret")], { ...ENV, SIPEDGE_NG_SECRET: undefined }).secrets).toEqual(["f".repeat(40)]);
    expect(problems(["--secret-file", join(dir, "missing")], ENV)[0]).toMatch(/cannot be read: ENOENT/);
  });

  it("refuses unknown flags with the usage text", () => {
    expect(problems(["--capacityy", "3"], ENV)[0]).toMatch(/Unknown option '--capacityy'[\s\S]*usage: sipedge-media-agent/);
  });

  it("keeps secrets out of what it logs", () => {
    const c = parseAgentConfig([], { ...ENV, SIPEDGE_NG_SECRET_PREVIOUS: "p".repeat(40) });
    const logged = JSON.stringify(describeConfig(c));
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain("p".repeat(40));
    expect(describeConfig(c).secrets_configured).toBe(2);
  });
});
