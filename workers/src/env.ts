import type { EgressLink } from "./platform/egress-link.ts";
import type { UserAgent } from "./platform/user-agent.ts";

/** Bindings and settings the edge reads (wrangler.toml [vars] and secrets). */
export interface Env {
  USER_AGENT: DurableObjectNamespace<UserAgent>;
  EGRESS_LINK: DurableObjectNamespace<EgressLink>;
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
  /** Numbering plan and toll-fraud defaults (trunks/numbering-plan.ts readNumberingPlan): home country code, default "1". */
  DEFAULT_COUNTRY_CODE?: string;
  /** National (trunk) prefix removed when a number is made E.164: default "1" in NANP, else "0"; "" for none. */
  NATIONAL_PREFIX?: string;
  /** International prefix replaced by "+": default "011" in NANP, else "00". */
  INTERNATIONAL_PREFIX?: string;
  /** Prefixes denied unless a subscriber allows them explicitly: "default" (the built-in table), "none", or E.164 prefixes, comma-separated. */
  HIGH_RISK_PREFIXES?: string;
}
