#!/usr/bin/env -S npx tsx
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { MediaAgent } from "./agent.ts";
import { ConfigError, describeConfig, parseAgentConfig, USAGE } from "./config.ts";
import { jsonLogger } from "./log.ts";

/**
 * Entry point: `tsx media-node/agent/src/main.ts [flags]` (systemd unit in
 * media-node/rtpengine/). SIGTERM or SIGINT drains (the node gets no new
 * calls, keeps its calls), then exits 0; a second signal exits at once.
 * Exit codes: 0 done, 1 runtime failure, 2 bad configuration.
 */
async function main(): Promise<void> {
  if (process.argv.includes("--help")) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  let config;
  try {
    config = parseAgentConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + "\n");
      process.exit(2);
    }
    throw err;
  }
  const log = jsonLogger(config.logLevel);
  log.info("agent_config", describeConfig(config));
  const dynamo = new DynamoDBClient({ region: config.dynamo.region, ...(config.dynamo.endpoint ? { endpoint: config.dynamo.endpoint } : {}) });
  const agent = await MediaAgent.start(config, { dynamo, log });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn("agent_forced_exit", { signal });
      process.exit(1);
    }
    log.info("agent_signal", { signal });
    agent.drainAndStop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("drain_failed", { error: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level: "error", event: "agent_failed", error: (err as Error).message }) + "\n");
  process.exit(1);
});
