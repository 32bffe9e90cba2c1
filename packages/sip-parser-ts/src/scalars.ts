// Numeric header values. delta-seconds and friends are 1*DIGIT in the
// grammar (RFC 3261 §25.1) but bounded in the prose; a value past its bound
// is malformed (RFC 4475 §3.1.2.4 scalar02 expects such a request refused).
// Hand-rolled so that no value can be long enough to cost more than its
// length, and "0068" (RFC 4475 §3.1.1.1) is 68.

/** delta-seconds and 32-bit counters: "between 0 and (2**32)-1" (§20.19, §8.1.1.5). */
export const MAX_UINT32 = 4294967295;

/**
 * s as an unsigned decimal integer not above `max`, with surrounding
 * whitespace allowed; -1 when it is anything else.
 */
export function parseUint(s: string, max: number): number {
  let i = 0;
  let n = s.length;
  while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  while (n > i && (s.charCodeAt(n - 1) === 32 || s.charCodeAt(n - 1) === 9)) n--;
  if (i === n) return -1;
  let v = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
    if (v > max) return -1;
  }
  return v;
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (§25.1); NaN when malformed. */
export function parseQValue(s: string): number {
  const n = s.length;
  if (n === 0 || n > 5) return NaN;
  const first = s.charCodeAt(0);
  if (first !== 48 && first !== 49) return NaN;
  if (n === 1) return first - 48;
  if (s.charCodeAt(1) !== 46) return NaN;
  let fraction = 0;
  let scale = 1;
  for (let i = 2; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
    if (first === 49 && c !== 48) return NaN;
    fraction = fraction * 10 + (c - 48);
    scale *= 10;
  }
  return first - 48 + fraction / scale;
}
