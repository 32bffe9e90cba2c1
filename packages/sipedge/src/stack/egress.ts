import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../paths.ts";
import { spawnStackChild } from "./child.ts";
import { LOCAL_AWS } from "./dynalite.ts";
import type { Log } from "./log.ts";
import { StackError, waitUntil } from "./ports.ts";

export interface EgressOptions {
  /** The egress id: trunks whose `egress` is this go through it; it dials `${edgeUrl}/egress/${id}`. */
  id: string;
  host: string;
  /** SIP over UDP and TCP on this port (0: the kernel chooses, but then Record-Routes change across restarts). */
  sipPort: number;
  /** /healthz and /metrics. */
  httpPort: number;
  edgeUrl: string;
  dynamoEndpoint: string;
  /** The edge's EGRESS_SECRET. */
  secret: string;
  log: Log;
  /** Failover to the next gateway after this long without any answer (default 5000). */
  gatewayTimeoutMs?: number;
  /** RFC 3261 T1 (default 500). */
  t1Ms?: number;
  /** Seconds between OPTIONS probes of each gateway; 0 turns them off (default 30). */
  healthIntervalS?: number;
  logLevel?: "debug" | "info" | "warn" | "error";
  /** SIP domains whose users' legacy phones may register and call through this egress (default none). */
  phoneDomains?: readonly string[];
  /** Seconds between NAT keep-alives to registered phones (default 20). */
  phoneKeepaliveS?: number;
  /**
   * SIP over TLS too, on this port with this certificate and key (PEM files;
   * the key never leaves its file); `caFile`: what it trusts when it dials a
   * TLS gateway (default the system store).
   */
  tls?: { port: number; certFile: string; keyFile: string; caFile?: string };
  /** How long to wait for the link to the edge to come up (default 30 s). */
  readyTimeoutMs?: number;
}

export interface EgressProcess {
  process: ChildProcess;
  /** Where carriers send SIP: `host:port` over UDP and TCP. */
  sip: { host: string; port: number };
  httpUrl: string;
  /** SIGTERM (the egress closes its link and sockets), then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

/**
 * Runs media-node/egress as it runs on an egress VM, against the local edge
 * and DynamoDB. Secrets (the egress secret, the AWS keys) go through the
 * environment, never the command line (it would show in `ps`). Resolves
 * once /healthz says the link to the edge is up.
 */
export async function startEgress(opts: EgressOptions): Promise<EgressProcess> {
  const httpUrl = `http://${opts.host}:${opts.httpPort}`;
  const args = [
    "--import",
    "tsx",
    join(REPO_ROOT, "media-node/egress/src/main.ts"),
    "--id", opts.id,
    "--edge-url", opts.edgeUrl,
    "--sip-host", opts.host,
    "--udp-port", String(opts.sipPort),
    "--tcp-port", String(opts.sipPort),
    "--http-listen", `${opts.host}:${opts.httpPort}`,
    "--dynamodb-endpoint", opts.dynamoEndpoint,
    "--dynamodb-region", LOCAL_AWS.region,
    "--gateway-timeout-ms", String(opts.gatewayTimeoutMs ?? 5_000),
    "--t1-ms", String(opts.t1Ms ?? 500),
    "--health-interval-s", String(opts.healthIntervalS ?? 30),
    "--log-level", opts.logLevel ?? "info",
    ...(opts.phoneDomains !== undefined && opts.phoneDomains.length > 0 ? ["--phone-domains", opts.phoneDomains.join(",")] : []),
    ...(opts.phoneKeepaliveS !== undefined ? ["--phone-keepalive-s", String(opts.phoneKeepaliveS)] : []),
    ...(opts.tls !== undefined ? ["--tls-port", String(opts.tls.port), "--tls-cert", opts.tls.certFile, "--tls-key", opts.tls.keyFile] : []),
    ...(opts.tls?.caFile !== undefined ? ["--tls-ca", opts.tls.caFile] : []),
  ];
  const child = spawnStackChild(process.execPath, args, opts.log, {
    ...process.env,
    SIPEDGE_EGRESS_SECRET: opts.secret,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  const stop = (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), 3_000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  };
  try {
    await waitUntil("the egress proxy (its link to the edge)", async () => (await fetch(`${httpUrl}/healthz`)).ok, opts.readyTimeoutMs ?? 30_000, child);
  } catch (err) {
    await stop();
    throw err instanceof StackError ? err : new StackError(String(err));
  }
  return { process: child, sip: { host: opts.host, port: opts.sipPort }, httpUrl, stop };
}
