import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freeTcpPort, freeUdpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { demoUsers, newSecrets } from "../../packages/sipedge/src/stack/seed.ts";
import { startStack, type Stack } from "../../packages/sipedge/src/stack/stack.ts";
import type { StackInfo } from "./stack-info.ts";

let stack: Stack | undefined;

/**
 * Starts the same stack as `npm start` once for the integration tests, on
 * ports the kernel hands out (so a running `npm start` does not collide) and
 * with fresh state in a temporary folder. Component logs go to files there.
 */
export async function setup(project: TestProject): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "sipedge-test-"));
  const logDir = join(stateDir, "logs");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(logDir, { recursive: true });
  const domain = "example.com";
  const users = demoUsers(domain);
  const secrets = newSecrets();
  const rtpPorts = { min: 31000, max: 31999 };
  stack = await startStack({
    host: "127.0.0.1",
    ports: { edge: await freeTcpPort(), dynalite: await freeTcpPort(), ng: await freeUdpPort(), agent: await freeTcpPort(), rtpMin: rtpPorts.min, rtpMax: rtpPorts.max, egressSip: await freeTcpPort(), egressHttp: await freeTcpPort() },
    stateDir,
    persistDirectory: false,
    domain,
    secrets,
    users,
    logFor: (name) => {
      const out = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
      return (line) => out.write(line + "\n");
    },
  });
  process.stdout.write(`[integration] stack up: edge ${stack.edgeUrl}, logs in ${logDir}\n`);
  const info: StackInfo = {
    edgeUrl: stack.edgeUrl,
    dynamoEndpoint: stack.dynamoEndpoint,
    ngAddress: stack.ngAddress,
    mediaAgentUrl: stack.mediaAgentUrl,
    rtpPorts,
    domain,
    users,
    secrets,
    logDir,
  };
  project.provide("stack", info);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}
