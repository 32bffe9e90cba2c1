import type { Env } from "./env.ts";

export interface Tables {
  subscribers: string;
  dids: string;
  trunks: string;
  mediaNodes: string;
  cdrs: string;
}

export interface EdgeConfig {
  dynamo: { endpoint?: string; region: string; accessKeyId: string; secretAccessKey: string };
  tables: Tables;
  /** Lowercased SIP domains served (the host part of every AOR). */
  domains: string[];
  /** Allowed Origins for the SIP WebSocket; `["*"]` allows any. */
  allowedOrigins: string[];
}

/** A setting that is missing or malformed, named so an operator can fix it. */
export class ConfigError extends Error {
  constructor(public readonly setting: string, problem: string) {
    super(`${setting}: ${problem} (set it in wrangler.toml [vars], or with \`wrangler secret put ${setting}\`)`);
    this.name = "ConfigError";
  }
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

export function readConfig(env: Env): EdgeConfig {
  const domains = list(env.SIP_DOMAINS).map((d) => d.toLowerCase());
  if (domains.length === 0) throw new ConfigError("SIP_DOMAINS", "no SIP domain configured");
  const endpoint = env.DYNAMODB_ENDPOINT?.trim() || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(endpoint)) {
    throw new ConfigError("DYNAMODB_ENDPOINT", `"${endpoint}" is not an http(s) URL`);
  }
  return {
    dynamo: {
      endpoint,
      region: env.DYNAMODB_REGION?.trim() || "us-east-1",
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "",
    },
    tables: {
      subscribers: env.TABLE_SUBSCRIBERS || "subscribers",
      dids: env.TABLE_DIDS || "dids",
      trunks: env.TABLE_TRUNKS || "trunks",
      mediaNodes: env.TABLE_MEDIA_NODES || "media_nodes",
      cdrs: env.TABLE_CDRS || "cdrs",
    },
    domains,
    allowedOrigins: list(env.ALLOWED_ORIGINS),
  };
}
