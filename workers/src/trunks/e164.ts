/**
 * E.164 numbers as the edge stores and routes them: "+", a country code that
 * never starts with 0, at most 15 digits in all (ITU-T E.164 §6.2.1). The
 * shortest numbers in service (e.g. Niue, +683 and 4 digits) have 7 digits.
 */
export const E164 = /^\+[1-9][0-9]{6,14}$/;

/** A prefix of an E.164 number: "+" and 1-15 digits, the first not 0 ("+1", "+44", "+1900"). */
export const E164_PREFIX = /^\+[1-9][0-9]{0,14}$/;

export function isE164(text: string): boolean {
  return E164.test(text);
}

export function isE164Prefix(text: string): boolean {
  return E164_PREFIX.test(text);
}

/** RFC 3966 §3: visual-separator = "-" / "." / "(" / ")"; they carry no meaning and are removed before comparing numbers (§4). */
export function removeVisualSeparators(text: string): string {
  return text.replace(/[-.()]/g, "");
}

/**
 * A number an operator typed (admin API, CLI): "+1 (555) 010-0199" →
 * "+15550100199". Spaces are tolerated here, never in a SIP URI.
 * Undefined when the result is not E.164.
 */
export function e164FromInput(text: string): string | undefined {
  const compact = removeVisualSeparators(text.replace(/\s+/g, ""));
  return isE164(compact) ? compact : undefined;
}

/** The longest of `prefixes` that `number` starts with ("" matches every number), or undefined. */
export function longestPrefix(number: string, prefixes: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const p of prefixes) if (number.startsWith(p) && (best === undefined || p.length > best.length)) best = p;
  return best;
}
