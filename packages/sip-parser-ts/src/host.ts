// host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1). IPv6 text
// is checked against RFC 4291 §2.2, with one tolerance: RFC 3261's ABNF lets
// "::" be followed by ":" and an IPv4 address ("[2001:db8:::192.0.2.1]"),
// and RFC 5118 §4.10 asks implementations to tolerate that form.

import { isHexDigit, scanHostChars } from "./char-classes.ts";

/**
 * Where the host starting at s[i] ends (before a ":" port, ";" or end), or
 * -1 when there is no valid host there.
 */
function scanHost(s: string, i: number, end: number): number {
  if (i >= end) return -1;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf("]", i);
    if (close < 0 || close >= end || !isIPv6(s, i + 1, close)) return -1;
    return close + 1;
  }
  const j = scanHostChars(s, i, end);
  return j > i && isHostname(s.slice(i, j)) ? j : -1;
}

/**
 * The host starting at s[i] (up to a ":" port, ";" or end), or undefined
 * when there is no valid host there; it ends at i + host.length.
 */
export function readHost(s: string, i: number, end: number): string | undefined {
  if (i >= end) return undefined;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf("]", i);
    if (close < 0 || close >= end || !isIPv6(s, i + 1, close)) return undefined;
    return s.slice(i, close + 1);
  }
  const j = scanHostChars(s, i, end);
  if (j === i) return undefined;
  const host = s.slice(i, j);
  return isHostname(host) ? host : undefined;
}

/** Validates a whole string as a host: "example.com", "192.0.2.1" or "[2001:db8::1]". */
export function isHost(s: string, from: number, to: number): boolean {
  return scanHost(s, from, to) === to;
}

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ], or an IPv4address, for
 * text already known to be made of alphanumerics, "-", "." and "_" ("_" is
 * not in the grammar but is found in real hostnames).
 */
function isHostname(h: string): boolean {
  const n = h.length;
  // Empty labels are invalid; one trailing dot makes a fully qualified name.
  if (h.charCodeAt(0) === 46 || h.indexOf("..") >= 0) return false;
  const last = h.charCodeAt(n - 1) === 46 ? n - 1 : n;
  const top = h.lastIndexOf(".", last - 1) + 1;
  const c = h.charCodeAt(top);
  // toplabel starts with ALPHA; a name whose last label starts with a digit
  // must be an IPv4 address ("1.2.3" and "256.0.0.1" are neither).
  if (c >= 48 && c <= 57) return isIPv4(h, 0, n);
  return true;
}

/** IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each 0-255. */
export function isIPv4(s: string, from: number, to: number): boolean {
  let parts = 0;
  let i = from;
  while (i < to) {
    let value = 0;
    let digits = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || value > 255) return false;
    parts++;
    if (i === to) break;
    if (s.charCodeAt(i) !== 46 || parts === 4) return false;
    i++;
    if (i === to) return false;
  }
  return parts === 4;
}

/** IPv6address (RFC 4291 §2.2 text forms), without brackets. */
export function isIPv6(s: string, from: number, to: number): boolean {
  if (from >= to) return false;
  let i = from;
  let groups = 0;
  let compressed = false;
  if (s.charCodeAt(i) === 58 /* : */) {
    if (i + 1 >= to || s.charCodeAt(i + 1) !== 58) return false;
    compressed = true;
    i += 2;
    if (i === to) return true;
  }
  while (i < to) {
    let j = i;
    while (j < to && isHexDigit(s.charCodeAt(j))) j++;
    if (j < to && s.charCodeAt(j) === 46 /* . */) {
      // An embedded IPv4 address ends the address and counts as two groups.
      if (!isIPv4(s, i, to)) return false;
      groups += 2;
      i = to;
      break;
    }
    const len = j - i;
    if (len === 0 || len > 4) return false;
    groups++;
    i = j;
    if (i === to) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i === to) return false; // a single trailing colon
    if (s.charCodeAt(i) === 58) {
      if (compressed) return false; // "::" may appear once
      compressed = true;
      i++;
      if (i === to) break;
      // RFC 5118 §4.10: ":::" before an embedded IPv4 address.
      if (s.charCodeAt(i) === 58 && isIPv4(s, i + 1, to)) i++;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}
