// The digest algorithms we implement (RFC 7616 §3.2 / RFC 8760 §2.2) and the
// hash behind each. SHA-512-256 (RFC 8760) is not offered: no SIP client we
// serve uses it, and an unknown algorithm is answered "unsupported" rather
// than guessed at.

import { md5Hex } from "./md5.ts";
import { sha256Hex } from "./sha256.ts";

export type DigestAlgorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";

/** The hash a stored HA1 was computed with: one HA1 serves X and X-sess. */
export type DigestHashName = "MD5" | "SHA-256";

/**
 * The algorithm named by an `algorithm` parameter, matched case-insensitively
 * (it is a token). An absent parameter means MD5 (RFC 2617 §3.2.1); an
 * unknown one is null.
 */
export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | null {
  if (value === undefined) return "MD5";
  switch (value.toLowerCase()) {
    case "md5":
      return "MD5";
    case "md5-sess":
      return "MD5-sess";
    case "sha-256":
      return "SHA-256";
    case "sha-256-sess":
      return "SHA-256-sess";
    default:
      return null;
  }
}

export function hashNameOf(algorithm: DigestAlgorithm): DigestHashName {
  return algorithm === "MD5" || algorithm === "MD5-sess" ? "MD5" : "SHA-256";
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm === "MD5-sess" || algorithm === "SHA-256-sess";
}

/** H(data) for the algorithm's hash, lowercase hex (RFC 7616 §3.4). */
export function digestHash(algorithm: DigestAlgorithm | DigestHashName, data: string): string {
  return algorithm === "MD5" || algorithm === "MD5-sess" ? md5Hex(data) : sha256Hex(data);
}
