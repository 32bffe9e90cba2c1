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

/** Escapes every octet of `s` outside `keep` as %HH (UTF-8). */
export function escapePercent(s: string, keep: (c: number) => boolean): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && keep(c)) {
      out += s[i];
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      cp = 0xfffd; // a lone surrogate has no UTF-8 form
    }
    if (cp < 0x80) out += pct(cp);
    else if (cp < 0x800) out += pct(0xc0 | (cp >> 6)) + pct(0x80 | (cp & 63));
    else if (cp < 0x10000) out += pct(0xe0 | (cp >> 12)) + pct(0x80 | ((cp >> 6) & 63)) + pct(0x80 | (cp & 63));
    else out += pct(0xf0 | (cp >> 18)) + pct(0x80 | ((cp >> 12) & 63)) + pct(0x80 | ((cp >> 6) & 63)) + pct(0x80 | (cp & 63));
  }
  return out;
}

function pct(b: number): string {
  return (b < 16 ? "%0" : "%") + b.toString(16).toUpperCase();
}
