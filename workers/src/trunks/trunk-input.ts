import { isHostName } from "../aor.ts";
import { e164FromInput, isE164Prefix } from "./e164.ts";
import { formatAddressRange, parseAddress, parseAddressRange } from "./address-range.ts";
import { booleanField, InputError, integerIn, isObject, onlyFields, plainText } from "./input-error.ts";
import { SIP_TRANSPORTS, type CallerIdRule, type Gateway, type SipTransport, type Trunk, type TrunkCredentials, type TrunkRecord, type TrunkStatus } from "./trunk.ts";

/** A trunk id: lowercase letters, digits, "-", "_"; 1-63, starting with a letter or digit. Safe as a DynamoDB key, URL segment and log field. */
export const TRUNK_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** An egress proxy id, as it dials the edge (`/egress/:id`): 1-64 of letters, digits, ".", "_", "-". */
export const EGRESS_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const MAX_GATEWAYS = 16;
export const MAX_ALLOWED_SOURCES = 64;
export const MAX_PREFIXES = 500;
export const DEFAULT_REGISTER_EXPIRES = 3600;
export const GATEWAY_DEFAULTS = { transport: "udp" as SipTransport, priority: 10, weight: 1 };

/** The fields an operator writes (POST creates from them, PATCH replaces the ones given). */
export const TRUNK_FIELDS = ["id", "name", "enabled", "egress", "gateways", "credentials", "register", "register_expires", "allowed_sources", "prefixes", "caller_id"] as const;

/**
 * A new trunk from the admin API's JSON. Required: `id`, `egress`,
 * `gateways`. Defaults: name = id, enabled, no credentials, no registration
 * (expiry 3600 s when turned on), no allowed sources (no inbound), no
 * prefixes (no outbound), caller ID from the subscriber.
 * Throws InputError saying which field is wrong and how to write it.
 */
export function trunkFromInput(body: Record<string, unknown>, nowIso: string): Trunk {
  onlyFields(body, TRUNK_FIELDS, "a trunk");
  if (body.id === undefined) throw new InputError("missing_field", "id is required: the trunk's name in URLs and logs, e.g. \"carrier-a\"");
  const id = trunkIdField(body.id);
  if (body.egress === undefined) throw new InputError("missing_field", "egress is required: the id of the egress proxy that carries this trunk (the :id it dials the edge with, /egress/:id)");
  if (body.gateways === undefined) throw new InputError("missing_field", "gateways is required: at least one {host, port?, transport?, priority?, weight?}");
  const trunk: Trunk = {
    id,
    name: id,
    enabled: true,
    egress: "",
    gateways: [],
    register: false,
    register_expires: DEFAULT_REGISTER_EXPIRES,
    allowed_sources: [],
    prefixes: [],
    caller_id: { mode: "subscriber" },
    created_at: nowIso,
    updated_at: nowIso,
  };
  return applyFields(trunk, body);
}

/**
 * `existing` with the fields of a PATCH body replaced. `credentials: null`
 * removes them; credentials without `password` keep the stored password (so
 * a username can change without typing the secret again). `id` cannot change.
 */
export function patchTrunk(existing: Trunk, body: Record<string, unknown>, nowIso: string): Trunk {
  onlyFields(body, TRUNK_FIELDS, "a trunk");
  if (body.id !== undefined && body.id !== existing.id) throw new InputError("invalid_field", "id cannot change: create a new trunk and delete this one");
  const { id: _id, ...rest } = body;
  return applyFields({ ...existing, updated_at: nowIso }, rest, existing.credentials);
}

function applyFields(base: Trunk, body: Record<string, unknown>, oldCredentials?: TrunkCredentials): Trunk {
  const t: Trunk = { ...base };
  if (body.name !== undefined) t.name = plainText(body.name, "name", 128, "invalid_name");
  if (body.enabled !== undefined) t.enabled = booleanField(body.enabled, "enabled", "invalid_enabled");
  if (body.egress !== undefined) {
    if (typeof body.egress !== "string" || !EGRESS_ID.test(body.egress)) {
      throw new InputError("invalid_egress", `egress must be an egress proxy id: 1-64 of letters, digits, ".", "_", "-" (got ${JSON.stringify(body.egress)?.slice(0, 80)})`);
    }
    t.egress = body.egress;
  }
  if (body.gateways !== undefined) t.gateways = gatewaysField(body.gateways);
  if (body.credentials !== undefined) {
    const credentials = credentialsField(body.credentials, oldCredentials);
    if (credentials === undefined) delete t.credentials;
    else t.credentials = credentials;
  }
  if (body.register !== undefined) t.register = booleanField(body.register, "register", "invalid_register");
  if (body.register_expires !== undefined) t.register_expires = integerIn(body.register_expires, "register_expires", 60, 86400, "invalid_register");
  if (body.allowed_sources !== undefined) t.allowed_sources = allowedSourcesField(body.allowed_sources);
  if (body.prefixes !== undefined) t.prefixes = prefixesField(body.prefixes);
  if (body.caller_id !== undefined) t.caller_id = callerIdField(body.caller_id);
  return t;
}

export function trunkIdField(value: unknown): string {
  if (typeof value !== "string" || !TRUNK_ID.test(value)) {
    throw new InputError("invalid_trunk_id", `a trunk id is 1-63 of lowercase letters, digits, "-" and "_", starting with a letter or digit (got ${JSON.stringify(value)?.slice(0, 80) ?? "nothing"})`);
  }
  return value;
}

const GATEWAY_FIELDS = ["host", "port", "transport", "priority", "weight"];

function gatewaysField(value: unknown): Gateway[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_GATEWAYS) {
    throw new InputError("invalid_gateways", `gateways must be a list of 1-${MAX_GATEWAYS} gateways, each {host, port?, transport?, priority?, weight?}`);
  }
  const seen = new Set<string>();
  return value.map((g: unknown, i) => {
    const where = `gateways[${i}]`;
    if (!isObject(g)) throw new InputError("invalid_gateways", `${where} must be an object {host, port?, transport?, priority?, weight?}`);
    try {
      onlyFields(g, GATEWAY_FIELDS, where);
    } catch (err) {
      throw new InputError("invalid_gateways", (err as Error).message);
    }
    const host = gatewayHost(g.host, where);
    let transport = GATEWAY_DEFAULTS.transport;
    if (g.transport !== undefined) {
      const t = typeof g.transport === "string" ? g.transport.toLowerCase() : undefined;
      if (t === undefined || !SIP_TRANSPORTS.includes(t as SipTransport)) throw new InputError("invalid_gateways", `${where}.transport must be one of ${SIP_TRANSPORTS.join(", ")}`);
      transport = t as SipTransport;
    }
    // RFC 3261 §19.1.2: 5060 for UDP/TCP, 5061 for TLS when no port is given.
    const port = g.port === undefined ? (transport === "tls" ? 5061 : 5060) : integerIn(g.port, `${where}.port`, 1, 65535, "invalid_gateways");
    const priority = g.priority === undefined ? GATEWAY_DEFAULTS.priority : integerIn(g.priority, `${where}.priority`, 0, 65535, "invalid_gateways");
    const weight = g.weight === undefined ? GATEWAY_DEFAULTS.weight : integerIn(g.weight, `${where}.weight`, 0, 65535, "invalid_gateways");
    const key = `${host}|${port}|${transport}`;
    if (seen.has(key)) throw new InputError("invalid_gateways", `${where} repeats ${host}:${port} over ${transport}`);
    seen.add(key);
    return { host, port, transport, priority, weight };
  });
}

/** A host name (lowercased) or an IP address (canonical; IPv6 without brackets). */
export function gatewayHost(value: unknown, where = "host"): string {
  const text = typeof value === "string" ? value.trim().replace(/^\[(.*)\]$/, "$1") : undefined;
  if (text !== undefined && text !== "") {
    const ip = parseAddress(text);
    if (ip !== undefined) return formatAddressRange({ ...ip, bits: ip.family === 4 ? 32 : 128 });
    const name = text.toLowerCase().replace(/\.$/, "");
    // A name of digits and dots that is no IPv4 address ("10.0.0.256") is a typo, not a host.
    if (isHostName(name) && !/^[0-9.]+$/.test(name)) return name;
  }
  throw new InputError("invalid_gateways", `${where} must be a host name or an IP address, e.g. sip.carrier.example or 192.0.2.10 (got ${JSON.stringify(value)?.slice(0, 80) ?? "nothing"})`);
}

function credentialsField(value: unknown, old: TrunkCredentials | undefined): TrunkCredentials | undefined {
  if (value === null) return undefined;
  if (!isObject(value)) throw new InputError("invalid_credentials", "credentials must be {username, password, realm?}, or null to remove them");
  try {
    onlyFields(value, ["username", "password", "realm"], "credentials");
  } catch (err) {
    throw new InputError("invalid_credentials", (err as Error).message);
  }
  const username = plainText(value.username, "credentials.username", 128, "invalid_credentials");
  let password: string;
  if (value.password === undefined) {
    if (old === undefined) throw new InputError("invalid_credentials", "credentials.password is required");
    password = old.password;
  } else {
    if (typeof value.password !== "string" || value.password.length === 0 || value.password.length > 256 || /[\x00-\x1f\x7f]/.test(value.password)) {
      throw new InputError("invalid_credentials", "credentials.password must be 1-256 characters without control characters");
    }
    password = value.password;
  }
  const realm = value.realm === undefined || value.realm === null ? undefined : plainText(value.realm, "credentials.realm", 128, "invalid_credentials");
  return { username, password, ...(realm !== undefined ? { realm } : {}) };
}

function allowedSourcesField(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_ALLOWED_SOURCES) {
    throw new InputError("invalid_allowed_sources", `allowed_sources must be a list of at most ${MAX_ALLOWED_SOURCES} IP addresses or CIDR ranges, e.g. ["192.0.2.10", "198.51.100.0/24"]`);
  }
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== "string") throw new InputError("invalid_allowed_sources", "allowed_sources entries must be strings like \"198.51.100.0/24\"");
    const range = parseAddressRange(item.trim());
    if (typeof range === "string") throw new InputError("invalid_allowed_sources", `allowed_sources: ${range}`);
    const text = formatAddressRange(range);
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

function prefixesField(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_PREFIXES) {
    throw new InputError("invalid_prefixes", `prefixes must be a list of at most ${MAX_PREFIXES} E.164 prefixes, e.g. ["+1", "+44"], with "" for the default route`);
  }
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== "string" || (item !== "" && !isE164Prefix(item))) {
      throw new InputError("invalid_prefixes", `${JSON.stringify(item)?.slice(0, 40)} is not an E.164 prefix: "+" and 1-15 digits, not starting with 0 (e.g. "+1", "+4420"), or "" for any number`);
    }
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

function callerIdField(value: unknown): CallerIdRule {
  const usage = 'caller_id must be {"mode": "subscriber", "default_number"?: "+E164"} or {"mode": "fixed", "number": "+E164"}';
  if (!isObject(value)) throw new InputError("invalid_caller_id", usage);
  const number = (v: unknown, field: string): string => {
    const n = typeof v === "string" ? e164FromInput(v) : undefined;
    if (n === undefined) throw new InputError("invalid_caller_id", `caller_id.${field} must be an E.164 number like "+15550100199" (got ${JSON.stringify(v)?.slice(0, 40) ?? "nothing"})`);
    return n;
  };
  if (value.mode === "fixed") {
    if (Object.keys(value).some((k) => k !== "mode" && k !== "number")) throw new InputError("invalid_caller_id", usage);
    return { mode: "fixed", number: number(value.number, "number") };
  }
  if (value.mode === "subscriber") {
    if (Object.keys(value).some((k) => k !== "mode" && k !== "default_number")) throw new InputError("invalid_caller_id", usage);
    return value.default_number === undefined || value.default_number === null ? { mode: "subscriber" } : { mode: "subscriber", default_number: number(value.default_number, "default_number") };
  }
  throw new InputError("invalid_caller_id", usage);
}

/**
 * A trunk as read from DynamoDB, checked with the same rules as input: a row
 * written by hand that breaks them is reported, never routed on.
 */
export function trunkFromItem(item: Record<string, unknown>): TrunkRecord | string {
  const { created_at, updated_at, status, ...fields } = item;
  try {
    const trunk = trunkFromInput(fields, typeof created_at === "string" ? created_at : "");
    return {
      ...trunk,
      created_at: typeof created_at === "string" ? created_at : "",
      updated_at: typeof updated_at === "string" ? updated_at : "",
      ...(isObject(status) && Array.isArray(status.gateways) ? { status: status as unknown as TrunkStatus } : {}),
    };
  } catch (err) {
    return err instanceof InputError ? err.message : String(err);
  }
}
