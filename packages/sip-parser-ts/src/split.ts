// Header fields whose value is a comma-separated list (RFC 3261 §7.3.1:
// "Header field ... values can be combined ... into one header field ...
// separated by commas" — only for fields whose grammar is a #list). Every
// other field, including unknown ones, is one value: WWW-Authenticate and
// Authorization contain commas between their parameters (§7.3.1 calls them
// out), Date contains one, and we cannot know the grammar of a field we do
// not know.

import { trimWspEnd, skipWsp } from "./char-classes.ts";

/** Lowercased full names of the list-valued header fields. */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  "accept", "accept-contact", "accept-encoding", "accept-language", "accept-resource-priority",
  "alert-info", "allow", "allow-events", "call-info", "contact", "content-encoding",
  "content-language", "error-info", "feature-caps", "history-info", "in-reply-to",
  "p-asserted-identity", "p-associated-uri", "p-early-media", "p-preferred-identity",
  "p-visited-network-id", "path", "permission-missing", "proxy-require", "reason",
  "record-route", "recv-info", "reject-contact", "request-disposition", "require",
  "resource-priority", "route", "security-client", "security-server", "security-verify",
  "service-route", "supported", "trigger-consent", "unsupported", "via", "warning",
]);

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}

/**
 * Splits a list value on the commas that separate elements: never inside a
 * quoted-string (whose backslash escapes are honoured) nor inside <...>.
 * Elements are trimmed; empty ones are kept as "" so that a typed parser can
 * refuse them (RFC 4475 §3.1.2.1: "Via: ...;;,;,,").
 */
export function splitHeaderValues(value: string): string[] {
  const n = value.length;
  if (value.indexOf(",") === -1) return [trim(value, 0, n)];
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (inQuotes) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inQuotes = false;
    } else if (c === 34) {
      inQuotes = true;
    } else if (c === 60 /* < */) {
      inAngle = true;
    } else if (c === 62 /* > */) {
      inAngle = false;
    } else if (c === 44 /* , */ && !inAngle) {
      out.push(trim(value, start, i));
      start = i + 1;
    }
  }
  out.push(trim(value, start, n));
  return out;
}

/**
 * Where the list element starting at `from` in the value s ends: at its
 * separating comma, or at the end of s.
 */
export function elementEnd(s: string, from: number): number {
  const n = s.length;
  const comma = s.indexOf(",", from);
  if (comma < 0) return n;
  let inQuotes = false;
  let inAngle = false;
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    if (inQuotes) {
      if (c === 92) i++;
      else if (c === 34) inQuotes = false;
    } else if (c === 34) {
      inQuotes = true;
    } else if (c === 60) {
      inAngle = true;
    } else if (c === 62) {
      inAngle = false;
    } else if (c === 44 && !inAngle) {
      return i;
    }
  }
  return n;
}

function trim(s: string, from: number, to: number): string {
  const a = skipWsp(s, from, to);
  const b = trimWspEnd(s, a, to);
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
