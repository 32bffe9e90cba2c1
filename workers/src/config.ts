import { ConfigError } from "./config-error.ts";
import type { Env } from "./env.ts";
import { MediaRegionsError, parseMediaRegions, type MediaRegion } from "./media/media-regions.ts";
import { DEFAULT_PENALTIES, type PenaltyDurations } from "./media/node-penalties.ts";

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
  media: MediaConfig;
}

export interface MediaConfig {
  /** MEDIA_REGIONS: where each media region is (media/media-regions.ts); empty = order by load alone. */
  regions: MediaRegion[];
  /** How long a failed node is skipped (MEDIA_NODE_PENALTY_S, MEDIA_NODE_CAPACITY_PENALTY_S). */
  penalties: PenaltyDurations;
}

// ConfigError lives on its own (config-error.ts) so code that needs only it does not import Env.
export { ConfigError };

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
    media: {
      regions: mediaRegions(env.MEDIA_REGIONS),
      penalties: {
        timeoutMs: seconds(env, "MEDIA_NODE_PENALTY_S", DEFAULT_PENALTIES.timeoutMs),
        capacityMs: seconds(env, "MEDIA_NODE_CAPACITY_PENALTY_S", DEFAULT_PENALTIES.capacityMs),
      },
    },
  };
}

// readConfig runs on every request: parse each distinct MEDIA_REGIONS once.
let regionsMemo: { text: string; regions: MediaRegion[] } | undefined;

function mediaRegions(text: string | undefined): MediaRegion[] {
  const key = text ?? "";
  if (regionsMemo?.text === key) return regionsMemo.regions;
  try {
    const regions = parseMediaRegions(key);
    regionsMemo = { text: key, regions };
    return regions;
  } catch (err) {
    if (err instanceof MediaRegionsError) {
      throw new ConfigError("MEDIA_REGIONS", `${err.message}; expected name:lat:lon,… (e.g. "eu-central-1:50.11:8.68,us-east-1:38.9:-77.04") or a JSON array of {"name","lat","lon"}`);
    }
    throw err;
  }
}

function seconds(env: Env, setting: "MEDIA_NODE_PENALTY_S" | "MEDIA_NODE_CAPACITY_PENALTY_S", fallbackMs: number): number {
  const raw = env[setting]?.trim();
  if (raw === undefined || raw === "") return fallbackMs;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(setting, `"${raw}" is not a number of seconds`);
  return Number(raw) * 1000;
}
