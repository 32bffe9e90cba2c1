import { ApiError } from "./api-error.ts";

const encoder = new TextEncoder();

/**
 * Compares two secrets in time independent of where they differ: both are
 * hashed first (so lengths do not leak either), then every byte is compared.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** Checks `Authorization: Bearer <ADMIN_TOKEN>`; throws the ApiError to answer otherwise. */
export async function requireAdminToken(authorization: string | undefined, adminToken: string | undefined): Promise<void> {
  if (adminToken === undefined || adminToken.length === 0) {
    throw new ApiError(503, "admin_disabled", "the admin API is disabled: ADMIN_TOKEN is not set (wrangler secret put ADMIN_TOKEN)");
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (m === null) throw new ApiError(401, "unauthorized", "missing bearer token: send Authorization: Bearer <ADMIN_TOKEN>");
  if (!(await secretsEqual(m[1]!, adminToken))) throw new ApiError(401, "unauthorized", "invalid bearer token");
}
