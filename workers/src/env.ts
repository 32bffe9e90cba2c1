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
}
