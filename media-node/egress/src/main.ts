#!/usr/bin/env -S npx tsx
import { ConfigError, describeConfig, parseEgressConfig, USAGE } from "./config.ts";
import { TrunkService } from "./trunk-service.ts";
import type { EgressService } from "./egress-service.ts";
import { startEgress } from "./egress.ts";
import { jsonLogger } from "./log.ts";

/**
 * Entry point: `node --import tsx media-node/egress/src/main.ts [flags]`
 * (README.md lists the settings). SIGTERM or SIGINT closes the link and the
 * sockets and exits 0; calls in progress survive a restart (their Route
 * sets carry everything, proxy/egress-routes.ts). Exit codes: 0 done,
 * 1 runtime failure, 2 bad configuration.
 */
async function main(): Promise<void> {
  if (process.argv.includes("--help")) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  let config;
  try {
    config = parseEgressConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + "\n");
      process.exit(2);
    }
    throw err;
  }
  const logger = jsonLogger(config.logLevel);
  logger.info("egress-config", describeConfig(config));
  // What runs beside the proxy: trunk registration (trunk-registration.ts) and
  // gateway OPTIONS health checks (gateway-health.ts) plug in here (egress-service.ts).
  // Registration to carriers and OPTIONS health checks of their gateways (trunk-service.ts), with their defaults.
  const healthMs = config.healthIntervalS * 1000;
  const services: EgressService[] = [
    new TrunkService(healthMs > 0 ? { health: { intervalMs: healthMs, downIntervalMs: Math.min(healthMs, 10_000) } } : { checkGateways: false }),
  ];
  const egress = await startEgress(config, { logger, services });
  logger.info("egress-started", { id: config.id, http_port: egress.httpPort });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn("egress-forced-exit", { signal });
      process.exit(1);
    }
    logger.info("egress-signal", { signal });
    egress.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error("egress-stop-failed", { error: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level: "error", event: "egress-failed", error: (err as Error).message }) + "\n");
  process.exit(1);
});
