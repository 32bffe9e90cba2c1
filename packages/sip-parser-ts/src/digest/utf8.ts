// UTF-8 encoding for the hash functions. Digest hashes strings as UTF-8
// (RFC 7616 §3.4.1 via `charset=UTF-8`; RFC 3261 §25 text is UTF-8). We
// encode into a reused buffer with TextEncoder.encodeInto: a digest
// computation hashes five or six short strings, and both a fresh Uint8Array
// per string (encode()) and a charCodeAt loop over the concatenated (cons)
// strings being hashed cost several times the hashing itself.
//
// Lone surrogates become U+FFFD, as with TextEncoder.encode and Node's Buffer.

const encoder = new TextEncoder();

/** Scratch space shared by the hash functions; valid until the next encode. */
export const scratch = { bytes: new Uint8Array(1024), length: 0 };

/** Encodes `s` into `scratch.bytes[0 .. scratch.length)`. */
export function encodeUtf8ToScratch(s: string): void {
  // A UTF-16 code unit never needs more than 3 bytes (a pair needs 4 for 2).
  if (scratch.bytes.length < s.length * 3) scratch.bytes = new Uint8Array(s.length * 3 + 64);
  scratch.length = encoder.encodeInto(s, scratch.bytes).written;
}

/** A fresh UTF-8 copy of `s` (for keys and other values that must outlive a call). */
export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}
