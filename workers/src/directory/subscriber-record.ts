import { computeHA1 } from "sip-parser-ts";
import type { StoredCallOutPolicy } from "../trunks/call-out-policy.ts";

/**
 * A subscriber as stored in the `subscribers` table. Passwords are never
 * stored: only the digest HA1 values (RFC 7616 §3.4.2), one per algorithm,
 * over `username:realm:password`, where username is the AOR's user part and
 * realm its domain.
 *
 * The call-out policy (can_call_out, allowed_prefixes, max_concurrent_calls,
 * max_calls_per_minute, caller_id) is optional attributes of the same item:
 * absent means the closed default (trunks/call-out-policy.ts), so records
 * written before they existed cannot call out.
 */
export interface SubscriberRecord extends StoredCallOutPolicy {
  aor: string;
  username: string;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  enabled: boolean;
  display_name?: string;
  created_at: string;
  updated_at: string;
}

/** Builds the stored record for an AOR and its password (the password itself is dropped). */
export function newSubscriberRecord(aor: string, password: string, nowIso: string, displayName?: string): SubscriberRecord {
  const at = aor.lastIndexOf("@");
  const username = aor.slice(0, at);
  const realm = aor.slice(at + 1);
  return {
    aor,
    username,
    realm,
    ha1_md5: computeHA1("MD5", username, realm, password),
    ha1_sha256: computeHA1("SHA-256", username, realm, password),
    enabled: true,
    ...(displayName !== undefined ? { display_name: displayName } : {}),
    created_at: nowIso,
    updated_at: nowIso,
  };
}
