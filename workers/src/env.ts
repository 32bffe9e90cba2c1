import type { UserAgent } from "./platform/user-agent.ts";

/** Bindings and settings the edge reads (wrangler.toml [vars] and secrets). */
export interface Env {
  USER_AGENT: DurableObjectNamespace<UserAgent>;
  EGRESS_LINK: DurableObjectNamespace;
  DYNAMODB_ENDPOINT?: string;
  DYNAMODB_REGION?: string;
  TABLE_SUBSCRIBERS?: string;
  TABLE_DIDS?: string;
  TABLE_TRUNKS?: string;
  TABLE_MEDIA_NODES?: string;
  TABLE_CDRS?: string;
  SIP_DOMAINS?: string;
  ALLOWED_ORIGINS?: string;
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  ADMIN_TOKEN?: string;
  NONCE_SECRET?: string;
  NG_SECRET?: string;
  EGRESS_SECRET?: string;
  /** Seconds a device whose socket a restart took has to register again before its calls end (platform/lost-flows.ts); default 120. */
  LOST_FLOW_GRACE_S?: string;
  /** Media regions and their coordinates: `name:lat:lon,…` or JSON (media/media-regions.ts). */
  MEDIA_REGIONS?: string;
  /** Seconds a media node that timed out or could not be reached is skipped; default 60 (Kamailio rtpengine_disable_tout). */
  MEDIA_NODE_PENALTY_S?: string;
  /** Seconds a media node that answered a capacity error is skipped; default 10. */
  MEDIA_NODE_CAPACITY_PENALTY_S?: string;
}
