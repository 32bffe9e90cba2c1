// %HH escapes (RFC 3261 §19.1.2, §25.1 escaped). Escaped octets are UTF-8
// (§19.1.1 says the user part is "a sequence of octets"; we decode them as
// UTF-8, replacing invalid sequences with U+FFFD, so nothing here throws the
// URIError that decodeURIComponent would).

import { isHexDigit } from "./char-classes.ts";

let decoder: TextDecoder | undefined;

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}

/** Decodes %HH escapes; a "%" not followed by two hex digits is kept as is. */
export function unescapePercent(s: string): string {
  const first = s.indexOf("%");
  if (first === -1) return s;
  const n = s.length;
  const bytes: number[] = [];
  let ascii = true;
  let out = "";
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < n && isHexDigit(s.charCodeAt(i + 1)) && isHexDigit(s.charCodeAt(i + 2))) {
      const b = hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2));
      if (b >= 0x80) ascii = false;
      bytes.push(b);
      i += 3;
    } else if (c < 0x80) {
      bytes.push(c);
      i++;
    } else {
      // Non-ASCII text next to escapes: flush the octets so far, keep the text.
      out += decodeOctets(bytes, ascii);
      bytes.length = 0;
      ascii = true;
      out += s[i];
      i++;
    }
  }
  return out + decodeOctets(bytes, ascii);
}

function decodeOctets(bytes: number[], ascii: boolean): string {
  if (bytes.length === 0) return "";
  if (ascii) {
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  decoder ??= new TextDecoder("utf-8");
  return decoder.decode(new Uint8Array(bytes));
}
