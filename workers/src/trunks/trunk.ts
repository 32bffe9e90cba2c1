/**
 * A trunk as stored in the `trunks` table (directory/trunks.ts): a carrier
 * (or a PBX) reached through one egress proxy, with the gateways it answers
 * on, how we authenticate to it, which numbers it carries out, and which
 * addresses may send us its calls. Field names are the stored and API names.
 */
export type SipTransport = "udp" | "tcp" | "tls";

export const SIP_TRANSPORTS: readonly SipTransport[] = ["udp", "tcp", "tls"];

/**
 * One address of the carrier. Ordered like DNS SRV records (RFC 2782; RFC
 * 3263 §4.4 uses them the same way for SIP): lowest `priority` first, and
 * among equal priorities at random in proportion to `weight`.
 */
export interface Gateway {
  /** Host name, IPv4 address or IPv6 address (without brackets). */
  host: string;
  port: number;
  transport: SipTransport;
  /** 0-65535, lower is tried first. */
  priority: number;
  /** 0-65535, share among gateways of equal priority; 0 = only when no other of that priority is left. */
  weight: number;
}

/**
 * What the egress answers a carrier's 401/407 with (RFC 3261 §22.2, §22.3)
 * and registers with. The password is kept as written because digest needs
 * it for a realm the carrier names only in its challenge (RFC 7616 §3.4.2:
 * HA1 hashes the realm in, so it cannot be precomputed).
 *
 * How it is protected: it sits only in the `trunks` table, which DynamoDB
 * always encrypts at rest and whose IAM policy should let only the edge's
 * identity read it; the admin API takes it but returns it only as
 * `"set"` (publicTrunk); no log line carries it (log.ts drops `password` and
 * `credentials` fields as a second line of defence); the egress receives it
 * over its authenticated WSS only.
 */
export interface TrunkCredentials {
  username: string;
  password: string;
  /** If set, answer only challenges from this realm (a credential sent to whoever asks is a credential leaked). */
  realm?: string;
}

/**
 * The caller ID (the From user part) a call leaves on this trunk with:
 * `fixed` always sends `number`; `subscriber` sends the calling
 * subscriber's `caller_id` (a DID assigned to them), else `default_number`,
 * else the call is refused (caller-id.ts): carriers reject or mislabel calls
 * from numbers that are not ours.
 */
export type CallerIdRule = { mode: "subscriber"; default_number?: string } | { mode: "fixed"; number: string };

export interface Trunk {
  /** Lowercase letters, digits, "-" and "_", 1-63: the key, a URL segment and a log field. */
  id: string;
  name: string;
  /** A disabled trunk carries no new call either way. */
  enabled: boolean;
  /** The egress proxy that carries this trunk: the id it dials the edge with (`/egress/:id`), one EgressLink DO. */
  egress: string;
  gateways: Gateway[];
  credentials?: TrunkCredentials;
  /** Register to the gateways (RFC 3261 §10) and refresh before `register_expires` seconds run out. */
  register: boolean;
  register_expires: number;
  /** IPv4/IPv6 addresses or CIDR ranges that may send us calls over this trunk; empty = none. */
  allowed_sources: string[];
  /** E.164 prefixes this trunk carries outbound ("+1", "+44"); "" = any number (the default route); empty = inbound only. */
  prefixes: string[];
  caller_id: CallerIdRule;
  created_at: string;
  updated_at: string;
}

/** One gateway as the egress last saw it (OPTIONS health checks). */
export interface GatewayStatus {
  host: string;
  port: number;
  transport: SipTransport;
  up: boolean;
  checked_at: string;
  last_error?: string;
}

export interface RegistrationStatus {
  state: "registered" | "registering" | "failed" | "unregistered";
  expires_at?: string;
  last_error?: string;
  updated_at: string;
}

/**
 * What the egress reports about a trunk (written with
 * TrunkDirectory.setStatus, shown by GET /v1/trunks/:id). Absent until the
 * egress reports; a gateway without an entry counts as up.
 */
export interface TrunkStatus {
  updated_at: string;
  /** Whether the egress proxy's WSS to the edge is up. */
  link_connected?: boolean;
  gateways: GatewayStatus[];
  registration?: RegistrationStatus;
  active_calls?: number;
}

export interface TrunkRecord extends Trunk {
  status?: TrunkStatus;
}

/** "host:port;transport" — how a gateway is named in status, logs and the CLI. */
export function gatewayKey(g: Pick<Gateway, "host" | "port" | "transport">): string {
  const host = g.host.includes(":") ? `[${g.host}]` : g.host;
  return `${host}:${g.port};transport=${g.transport}`;
}

/** Whether the egress's last report says this gateway is down (no report: up). */
export function gatewayIsLive(status: TrunkStatus | undefined, gateway: Gateway): boolean {
  const seen = status?.gateways.find((s) => s.host === gateway.host && s.port === gateway.port && s.transport === gateway.transport);
  return seen === undefined || seen.up;
}
