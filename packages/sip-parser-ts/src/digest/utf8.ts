// UTF-8 encoding for the hash functions. Digest hashes strings as UTF-8
// (RFC 7616 §3.4.1 via `charset=UTF-8`; RFC 3261 §25 text is UTF-8). We encode
// by hand into a reused buffer rather than calling TextEncoder, because a
// digest computation hashes five or six short strings and a fresh Uint8Array
// per string costs more than the hashing itself.
//
// Lone surrogates become U+FFFD, exactly as TextEncoder and Node's Buffer do,
// so our hashes of any JS string match theirs.

/** Scratch space shared by the hash functions; valid until the next encode. */
export const scratch = { bytes: new Uint8Array(1024), length: 0 };

/** Encodes `s` into `scratch.bytes[0 .. scratch.length)`. */
export function encodeUtf8ToScratch(s: string): void {
  const n = s.length;
  // A UTF-16 code unit never needs more than 3 bytes (a pair needs 4 for 2).
  if (scratch.bytes.length < n * 3) scratch.bytes = new Uint8Array(n * 3 + 64);
  const out = scratch.bytes;
  let o = 0;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >>> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[o++] = 0xf0 | (c >>> 18);
          out[o++] = 0x80 | ((c >>> 12) & 0x3f);
          out[o++] = 0x80 | ((c >>> 6) & 0x3f);
          out[o++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd; // lone surrogate
      }
      out[o++] = 0xe0 | (c >>> 12);
      out[o++] = 0x80 | ((c >>> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  scratch.length = o;
}

/** A fresh UTF-8 copy of `s` (for keys and other values that must outlive a call). */
export function utf8Bytes(s: string): Uint8Array {
  encodeUtf8ToScratch(s);
  return scratch.bytes.slice(0, scratch.length);
}
