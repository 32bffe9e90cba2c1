import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { EGRESS_ID } from "../../../workers/src/trunks/index.ts";
import { isLogLevel, type LogLevel } from "./log.ts";

/**
 * The egress's configuration, from command-line flags or environment
 * variables (flags win), in the media agent's style: every problem is
 * collected and reported at once, worded so the operator can fix it.
 * Secrets (the egress secret, the AWS keys) come from the environment or a
 * file, never from a flag (command lines are visible in `ps`), and are never
 * logged (describeConfig).
 */
export interface EgressConfig {
  /** The link id: the edge's `/egress/:id`, and the `egress` of the trunks we carry. */
  id: string;
  /** The edge's base URL (http(s) or ws(s)). */
  edgeUrl: string;
  /** EGRESS_SECRET, shared with the edge: signs the link token and our Record-Route tokens. */
  secret: string;
  sip: {
    host: string;
    udpPort: number | false;
    tcpPort: number | false;
    tls?: { port: number; certFile: string; keyFile: string; caFile?: string };
    /** The address carriers reach us at (Via sent-by, Record-Route); default the bound address. */
    publicAddress?: string;
  };
  http: { host: string; port: number };
  dynamo: { endpoint?: string; region: string; accessKeyId: string; secretAccessKey: string; trunksTable: string };
  /** RFC 3261 T1 (Timers A-K scale with it). */
  t1Ms: number;
  /** Failover when a gateway has not answered at all within this long. */
  gatewayTimeoutMs: number;
  /** Seconds between OPTIONS probes of each gateway (gateway-health.ts); 0: no probes, every gateway counts as up. */
  healthIntervalS: number;
  /** CRLFCRLF keep-alive interval on the link; 0 for none. */
  keepaliveMs: number;
  /** SIP domains whose users' legacy phones may register and call through us (issue 5); empty: none. */
  phoneDomains: string[];
  /** NAT keep-alive interval toward registered phones; 0 for none. */
  phoneKeepaliveMs: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid egress configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

export const MIN_SECRET_LENGTH = 32;

/** flag name → environment variable. */
const OPTIONS = {
  id: "SIPEDGE_EGRESS_ID",
  "edge-url": "SIPEDGE_EDGE_URL",
  "secret-file": "SIPEDGE_EGRESS_SECRET_FILE",
  "sip-host": "SIPEDGE_SIP_HOST",
  "udp-port": "SIPEDGE_SIP_UDP_PORT",
  "tcp-port": "SIPEDGE_SIP_TCP_PORT",
  "tls-port": "SIPEDGE_SIP_TLS_PORT",
  "tls-cert": "SIPEDGE_SIP_TLS_CERT",
  "tls-key": "SIPEDGE_SIP_TLS_KEY",
  "tls-ca": "SIPEDGE_SIP_TLS_CA",
  "public-address": "SIPEDGE_PUBLIC_ADDRESS",
  "http-listen": "SIPEDGE_EGRESS_HTTP",
  "dynamodb-endpoint": "DYNAMODB_ENDPOINT",
  "dynamodb-region": "DYNAMODB_REGION",
  "trunks-table": "TABLE_TRUNKS",
  "t1-ms": "SIPEDGE_SIP_T1_MS",
  "gateway-timeout-ms": "SIPEDGE_GATEWAY_TIMEOUT_MS",
  "health-interval-s": "SIPEDGE_GATEWAY_HEALTH_S",
  "keepalive-s": "SIPEDGE_LINK_KEEPALIVE_S",
  "phone-domains": "SIPEDGE_PHONE_DOMAINS",
  "phone-keepalive-s": "SIPEDGE_PHONE_KEEPALIVE_S",
  "log-level": "SIPEDGE_LOG_LEVEL",
} as const;
type OptionName = keyof typeof OPTIONS;

export const USAGE = `usage: sipedge-egress [--flag value]...
  secret: SIPEDGE_EGRESS_SECRET (env, the edge's EGRESS_SECRET, >= ${MIN_SECRET_LENGTH} chars) or --secret-file PATH
  DynamoDB keys: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (env only)
${Object.entries(OPTIONS)
  .filter(([k]) => k !== "secret-file")
  .map(([flag, env]) => `  --${flag.padEnd(20)} ${env}`)
  .join("\n")}`;

export function parseEgressConfig(argv: string[], env: NodeJS.ProcessEnv): EgressConfig {
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
  if (flags.secret !== undefined) problems.push("--secret is not accepted (command lines are visible in ps); use SIPEDGE_EGRESS_SECRET or --secret-file");

  const get = (name: OptionName): string | undefined => {
    const v = flags[name] ?? env[OPTIONS[name]];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const required = (name: OptionName, what: string): string => {
    const v = get(name);
    if (v === undefined) problems.push(`--${name} (or ${OPTIONS[name]}) is required: ${what}`);
    return v ?? "";
  };
  const int = (name: OptionName, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const port = (name: OptionName, fallback: number): number | false => {
    const raw = get(name);
    if (raw !== undefined && raw.toLowerCase() === "off") return false;
    return int(name, fallback, 0, 65535);
  };

  const id = required("id", "the egress id, as the trunks name it (their `egress`) and the edge's /egress/:id");
  if (id !== "" && !EGRESS_ID.test(id)) problems.push(`--id must be 1-64 of letters, digits, ".", "_", "-", got "${id}"`);

  const edgeUrl = required("edge-url", "the edge's URL, e.g. https://sip.example.com (the link dials <url>/egress/<id>)");
  if (edgeUrl !== "") {
    let url: URL | undefined;
    try {
      url = new URL(edgeUrl);
    } catch {
      problems.push(`--edge-url must be an absolute URL, got "${edgeUrl}"`);
    }
    if (url !== undefined && !["http:", "https:", "ws:", "wss:"].includes(url.protocol)) problems.push(`--edge-url must be http(s) or ws(s), got "${edgeUrl}"`);
  }

  let secret = env.SIPEDGE_EGRESS_SECRET;
  const secretFile = get("secret-file");
  if (secretFile !== undefined) {
    try {
      secret = readFileSync(secretFile, "utf8").trim();
    } catch (err) {
      problems.push(`--secret-file ${secretFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (secret === undefined || secret === "") problems.push("the egress secret is required: set SIPEDGE_EGRESS_SECRET (the edge's EGRESS_SECRET) or --secret-file");
  else if (secret.length < MIN_SECRET_LENGTH) problems.push(`the egress secret must be at least ${MIN_SECRET_LENGTH} characters (it has ${secret.length})`);

  const sipHost = get("sip-host") ?? "127.0.0.1";
  if (isIP(sipHost) === 0) problems.push(`--sip-host must be an IP address to bind, got "${sipHost}"`);
  const publicAddress = get("public-address");
  if (publicAddress !== undefined && isIP(publicAddress) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(publicAddress)) {
    problems.push(`--public-address must be an IP address or a host name, got "${publicAddress}"`);
  }
  if ((sipHost === "0.0.0.0" || sipHost === "::") && publicAddress === undefined) {
    problems.push(`--sip-host ${sipHost} binds every address: set --public-address to the one carriers reach (it goes into Via and Record-Route)`);
  }
  const udpPort = port("udp-port", 5060);
  const tcpPort = port("tcp-port", 5060);
  const tlsCert = get("tls-cert");
  const tlsKey = get("tls-key");
  const tlsCa = get("tls-ca");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) problems.push("--tls-cert and --tls-key go together");
  const tlsPort = tlsCert !== undefined && tlsKey !== undefined ? port("tls-port", 5061) : false;
  if (udpPort === false && tcpPort === false && tlsPort === false) problems.push("no SIP listener: at least one of --udp-port, --tcp-port, --tls-port must not be off");

  const httpRaw = get("http-listen") ?? "127.0.0.1:2290";
  const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(httpRaw);
  const httpHost = hp?.[1] ?? hp?.[2] ?? "";
  const httpPort = Number(hp?.[3]);
  if (hp === null || !(httpPort >= 0 && httpPort <= 65535)) problems.push(`--http-listen must be HOST:PORT, got "${httpRaw}"`);

  const dynamoEndpoint = get("dynamodb-endpoint");
  if (dynamoEndpoint !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(dynamoEndpoint)) problems.push(`--dynamodb-endpoint must be an http(s) URL, got "${dynamoEndpoint}"`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? "";
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? "";
  if (accessKeyId === "" || secretAccessKey === "") problems.push("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (environment only): the egress reads the trunks table with them");

  const keepaliveS = int("keepalive-s", 25, 0, 3600);
  const phoneKeepaliveS = int("phone-keepalive-s", 20, 0, 3600);
  const phoneDomains = (get("phone-domains") ?? "").split(",").map((d) => d.trim().toLowerCase()).filter((d) => d !== "");
  for (const d of phoneDomains) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(d)) problems.push(`--phone-domains must be SIP domains separated by commas (the edge's SIP_DOMAIN), got "${d}"`);
  }
  const t1Ms = int("t1-ms", 500, 10, 10_000);
  const gatewayTimeoutMs = int("gateway-timeout-ms", 5_000, 100, 120_000);
  const healthIntervalS = int("health-interval-s", 30, 0, 3600);
  const logLevel = get("log-level") ?? "info";
  if (!isLogLevel(logLevel)) problems.push(`--log-level must be debug, info, warn or error, got "${logLevel}"`);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    id,
    edgeUrl,
    secret: secret!,
    sip: {
      host: sipHost,
      udpPort,
      tcpPort,
      ...(tlsPort !== false ? { tls: { port: tlsPort, certFile: tlsCert!, keyFile: tlsKey!, ...(tlsCa !== undefined ? { caFile: tlsCa } : {}) } } : {}),
      ...(publicAddress !== undefined ? { publicAddress } : {}),
    },
    http: { host: httpHost, port: httpPort },
    dynamo: {
      ...(dynamoEndpoint !== undefined ? { endpoint: dynamoEndpoint } : {}),
      region: get("dynamodb-region") ?? env.AWS_REGION ?? "us-east-1",
      accessKeyId,
      secretAccessKey,
      trunksTable: get("trunks-table") ?? "trunks",
    },
    t1Ms,
    gatewayTimeoutMs,
    healthIntervalS,
    keepaliveMs: keepaliveS * 1000,
    phoneDomains,
    phoneKeepaliveMs: phoneKeepaliveS * 1000,
    logLevel: isLogLevel(logLevel) ? logLevel : "info",
  };
}

/** The configuration as it may be logged: no secret, no key. */
export function describeConfig(c: EgressConfig): Record<string, string | number | boolean> {
  return {
    id: c.id,
    edge_url: c.edgeUrl,
    sip_host: c.sip.host,
    udp_port: c.sip.udpPort === false ? "off" : c.sip.udpPort,
    tcp_port: c.sip.tcpPort === false ? "off" : c.sip.tcpPort,
    tls_port: c.sip.tls?.port ?? "off",
    public_address: c.sip.publicAddress ?? c.sip.host,
    http: `${c.http.host}:${c.http.port}`,
    dynamodb_endpoint: c.dynamo.endpoint ?? "aws",
    dynamodb_region: c.dynamo.region,
    trunks_table: c.dynamo.trunksTable,
    phone_domains: c.phoneDomains.join(",") || "none",
    t1_ms: c.t1Ms,
    gateway_timeout_ms: c.gatewayTimeoutMs,
    health_interval_s: c.healthIntervalS,
    keepalive_ms: c.keepaliveMs,
  };
}
