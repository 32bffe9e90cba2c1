/**
 * Address-of-record syntax as the edge accepts it: `user@domain`, the
 * userinfo and host of a SIP URI (RFC 3261 §19.1.1) without scheme or
 * parameters. The domain is case-insensitive and lowercased; the user part is
 * case-sensitive in SIP and kept as given. We accept a conservative subset of
 * RFC 3261 `user` (unreserved characters plus `+`, no escapes), so an AOR is
 * also a safe Durable Object name, URL path segment and DynamoDB key.
 */
export interface Aor {
  /** `user@domain`, domain lowercased. */
  aor: string;
  user: string;
  domain: string;
}

const USER = /^[A-Za-z0-9_.!~*'+-]{1,64}$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseAor(text: string | undefined | null): Aor | undefined {
  if (typeof text !== "string" || text.length > 320) return undefined;
  const at = text.lastIndexOf("@");
  if (at <= 0) return undefined;
  const user = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  if (!USER.test(user) || !isHostName(domain)) return undefined;
  return { aor: `${user}@${domain}`, user, domain };
}

export function isHostName(domain: string): boolean {
  if (domain.length === 0 || domain.length > 253) return false;
  return domain.split(".").every((label) => LABEL.test(label));
}
