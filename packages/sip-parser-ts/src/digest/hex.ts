// Lowercase hex, the form digest uses everywhere (RFC 7616 §3.4: "the
// representation ... MUST be in lowercase hexadecimal").

/** HEX[b] is the two-character lowercase hex of byte b. */
export const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => (b < 16 ? "0" : "") + b.toString(16));

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}
