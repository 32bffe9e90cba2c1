import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { isLogLevel, type LogLevel } from "./log.ts";

/**
 * The agent's configuration, from command-line flags or environment
 * variables (flags win). Every problem is collected and reported at once,
 * worded so the operator can fix it. The ng secret is read from the
 * environment or a file, never from a flag (flags are visible in `ps`).
 */
export interface AgentConfig {
  /** Shared HMAC secret(s): the first signs nothing here, all verify (rotation). */
  secrets: string[];
  listen: HostPort;
  tls?: { certFile: string; keyFile: string };
  /** rtpengine's UDP ng port; keep it on loopback (PITFALLS 17, 25). */
  rtpengineNg: HostPort;
  nodeId: string;
  region: string;
  publicAddress: string;
  privateAddress: string;
  ngUrl: string;
  capacity: number;
  dynamo: { endpoint?: string; region: string; table: string };
  heartbeatIntervalMs: number;
  /** How long a record stays valid without a heartbeat (`expires_at`). */
  recordTtlMs: number;
  drainTimeoutMs: number;
  ngTimeoutMs: number;
  ngRetransmitMs: number;
  maxBodyBytes: number;
  signatureWindowMs: number;
  replayCacheMax: number;
  logLevel: LogLevel;
}

export interface HostPort {
  host: string;
  port: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid media agent configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

export const MIN_SECRET_LENGTH = 32;

/** flag name → environment variable. */
const OPTIONS = {
  "secret-file": "SIPEDGE_NG_SECRET_FILE",
  listen: "SIPEDGE_AGENT_LISTEN",
  "tls-cert": "SIPEDGE_AGENT_TLS_CERT",
  "tls-key": "SIPEDGE_AGENT_TLS_KEY",
  "rtpengine-ng": "SIPEDGE_RTPENGINE_NG",
  "node-id": "SIPEDGE_NODE_ID",
  region: "SIPEDGE_REGION",
  "public-address": "SIPEDGE_PUBLIC_ADDRESS",
  "private-address": "SIPEDGE_PRIVATE_ADDRESS",
  "ng-url": "SIPEDGE_NG_URL",
  capacity: "SIPEDGE_CAPACITY",
  "dynamodb-endpoint": "SIPEDGE_DYNAMODB_ENDPOINT",
  "dynamodb-region": "SIPEDGE_DYNAMODB_REGION",
  "dynamodb-table": "SIPEDGE_MEDIA_NODES_TABLE",
  "heartbeat-interval-ms": "SIPEDGE_HEARTBEAT_INTERVAL_MS",
  "record-ttl-ms": "SIPEDGE_RECORD_TTL_MS",
  "drain-timeout-ms": "SIPEDGE_DRAIN_TIMEOUT_MS",
  "ng-timeout-ms": "SIPEDGE_NG_TIMEOUT_MS",
  "ng-retransmit-ms": "SIPEDGE_NG_RETRANSMIT_MS",
  "max-body-bytes": "SIPEDGE_MAX_BODY_BYTES",
  "signature-window-ms": "SIPEDGE_SIGNATURE_WINDOW_MS",
  "replay-cache-max": "SIPEDGE_REPLAY_CACHE_MAX",
  "log-level": "SIPEDGE_LOG_LEVEL",
} as const;
type OptionName = keyof typeof OPTIONS;

export const USAGE = `usage: sipedge-media-agent [--flag value]...
  secret: SIPEDGE_NG_SECRET (env, >= ${MIN_SECRET_LENGTH} chars) or --secret-file PATH;
          SIPEDGE_NG_SECRET_PREVIOUS (optional) is still accepted during a rotation
${Object.entries(OPTIONS)
  .filter(([k]) => k !== "secret-file")
  .map(([flag, env]) => `  --${flag.padEnd(22)} ${env}`)
  .join("\n")}`;

export function parseAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const problems: string[] = [];
  let flags: Partial<Record<OptionName | "secret", string>>;
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: "string" as const }])), secret: { type: "string" } },
      strict: true,
      allowPositionals: false,
    });
    flags = parsed.values as typeof flags;
  } catch (err) {
    throw new ConfigError([`${(err as Error).message}\n${USAGE}`]);
  }
  if (flags.secret !== undefined) problems.push("--secret is not accepted (command lines are visible in ps); use SIPEDGE_NG_SECRET or --secret-file");

  const get = (name: OptionName): string | undefined => {
    const v = flags[name] ?? env[OPTIONS[name]];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const required = (name: OptionName): string => {
    const v = get(name);
    if (v === undefined) problems.push(`--${name} (or ${OPTIONS[name]}) is required`);
    return v ?? "";
  };
  const int = (name: OptionName, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const hostPort = (name: OptionName, fallback: string): HostPort => {
    const raw = get(name) ?? fallback;
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(raw);
    const host = m?.[1] ?? m?.[2];
    const port = Number(m?.[3]);
    if (!m || host === undefined || !(port >= 0 && port <= 65535)) {
      problems.push(`--${name} must be HOST:PORT, got "${raw}"`);
      return { host: "127.0.0.1", port: 0 };
    }
    return { host, port };
  };
  const address = (name: OptionName): string => {
    const v = required(name);
    if (v !== "" && isIP(v) === 0) problems.push(`--${name} must be an IP address, got "${v}"`);
    return v;
  };

  // The secret.
  const secrets: string[] = [];
  const secretFile = get("secret-file");
  let secret = env.SIPEDGE_NG_SECRET;
  if (secretFile !== undefined) {
    try {
      secret = readFileSync(secretFile, "utf8").trim();
    } catch (err) {
      problems.push(`--secret-file ${secretFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (secret === undefined || secret === "") problems.push("the ng secret is required: set SIPEDGE_NG_SECRET or --secret-file");
  else if (secret.length < MIN_SECRET_LENGTH) problems.push(`the ng secret must be at least ${MIN_SECRET_LENGTH} characters (it has ${secret.length})`);
  else secrets.push(secret);
  const previous = env.SIPEDGE_NG_SECRET_PREVIOUS;
  if (previous !== undefined && previous !== "") {
    if (previous.length < MIN_SECRET_LENGTH) problems.push(`SIPEDGE_NG_SECRET_PREVIOUS must be at least ${MIN_SECRET_LENGTH} characters`);
    else secrets.push(previous);
  }

  const listen = hostPort("listen", "127.0.0.1:2280");
  const rtpengineNg = hostPort("rtpengine-ng", "127.0.0.1:2223");
  if (rtpengineNg.port === 0) problems.push("--rtpengine-ng needs a real port");

  const tlsCert = get("tls-cert");
  const tlsKey = get("tls-key");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) problems.push("--tls-cert and --tls-key go together");

  const nodeId = required("node-id");
  if (nodeId !== "" && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(nodeId)) problems.push(`--node-id must be 1-64 of [A-Za-z0-9._-], got "${nodeId}"`);
  const region = required("region");
  if (region !== "" && !/^[a-z0-9][a-z0-9-]{0,31}$/.test(region)) problems.push(`--region must be lower-case like "eu-west-1", got "${region}"`);
  const publicAddress = address("public-address");
  const privateAddress = address("private-address");
  const ngUrl = required("ng-url");
  if (ngUrl !== "") {
    let url: URL | undefined;
    try {
      url = new URL(ngUrl);
    } catch {
      problems.push(`--ng-url must be an absolute URL, got "${ngUrl}"`);
    }
    if (url && url.protocol !== "https:" && url.protocol !== "http:") problems.push(`--ng-url must be http(s), got "${ngUrl}"`);
  }
  const capacityRaw = required("capacity");
  const capacity = capacityRaw === "" ? 0 : int("capacity", 0, 1, 1_000_000);

  const dynamoEndpoint = get("dynamodb-endpoint");
  if (dynamoEndpoint !== undefined && !/^https?:\/\//.test(dynamoEndpoint)) problems.push(`--dynamodb-endpoint must be an http(s) URL, got "${dynamoEndpoint}"`);
  const dynamoRegion = get("dynamodb-region") ?? env.AWS_REGION ?? "";
  if (dynamoRegion === "") problems.push("--dynamodb-region (or SIPEDGE_DYNAMODB_REGION / AWS_REGION) is required");

  const heartbeatIntervalMs = int("heartbeat-interval-ms", 5_000, 100, 600_000);
  const recordTtlMs = int("record-ttl-ms", heartbeatIntervalMs * 3, 300, 3_600_000);
  if (recordTtlMs <= heartbeatIntervalMs) problems.push("--record-ttl-ms must be longer than --heartbeat-interval-ms (a record would expire between heartbeats)");
  const ngTimeoutMs = int("ng-timeout-ms", 3_000, 10, 60_000);
  const ngRetransmitMs = int("ng-retransmit-ms", 250, 5, 60_000);
  if (ngRetransmitMs >= ngTimeoutMs) problems.push("--ng-retransmit-ms must be shorter than --ng-timeout-ms");

  const logLevel = get("log-level") ?? "info";
  if (!isLogLevel(logLevel)) problems.push(`--log-level must be debug, info, warn or error, got "${logLevel}"`);

  const config: AgentConfig = {
    secrets,
    listen,
    rtpengineNg,
    nodeId,
    region,
    publicAddress,
    privateAddress,
    ngUrl,
    capacity,
    dynamo: { region: dynamoRegion, table: get("dynamodb-table") ?? "media_nodes", ...(dynamoEndpoint !== undefined ? { endpoint: dynamoEndpoint } : {}) },
    heartbeatIntervalMs,
    recordTtlMs,
    drainTimeoutMs: int("drain-timeout-ms", 3_600_000, 0, 86_400_000),
    ngTimeoutMs,
    ngRetransmitMs,
    maxBodyBytes: int("max-body-bytes", 64 * 1024, 1024, 16 * 1024 * 1024),
    signatureWindowMs: int("signature-window-ms", 30_000, 1_000, 300_000),
    replayCacheMax: int("replay-cache-max", 200_000, 100, 10_000_000),
    logLevel: isLogLevel(logLevel) ? logLevel : "info",
    ...(tlsCert !== undefined && tlsKey !== undefined ? { tls: { certFile: tlsCert, keyFile: tlsKey } } : {}),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The configuration as it may be logged: no secret, only how many there are. */
export function describeConfig(c: AgentConfig): Record<string, string | number> {
  return {
    node_id: c.nodeId,
    region: c.region,
    listen: `${c.listen.host}:${c.listen.port}`,
    tls: c.tls ? "on" : "off",
    rtpengine_ng: `${c.rtpengineNg.host}:${c.rtpengineNg.port}`,
    public_address: c.publicAddress,
    private_address: c.privateAddress,
    ng_url: c.ngUrl,
    capacity: c.capacity,
    dynamodb_table: c.dynamo.table,
    dynamodb_endpoint: c.dynamo.endpoint ?? "aws",
    secrets_configured: c.secrets.length,
  };
}
