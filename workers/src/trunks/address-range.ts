/**
 * IPv4/IPv6 addresses and CIDR ranges (RFC 4632 §3.1, RFC 4291 §2.3), for a
 * trunk's `allowed_sources`: only those may send us calls (issue 5: a request
 * from an address no trunk allows is refused). Written without a library so
 * the same code runs in the Worker and in the egress proxy.
 */
export interface AddressRange {
  family: 4 | 6;
  bytes: Uint8Array;
  /** Prefix length: 32 / 128 for a single address. */
  bits: number;
}

/** A single address, IPv4 dotted quad or IPv6 (RFC 4291 §2.2, embedded IPv4 allowed, no zone). */
export function parseAddress(text: string): { family: 4 | 6; bytes: Uint8Array } | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  return v6 === undefined ? undefined : { family: 6, bytes: v6 };
}

function parseIPv4(text: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1]!;
    // "010" is octal to some parsers and decimal to others: refuse it rather than guess.
    if (part.length > 1 && part.startsWith("0")) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIPv6(text: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || text.length > 45) return undefined;
  let body = text;
  const tail: number[] = [];
  if (body.includes(".")) {
    // The last 32 bits written as IPv4 ("::ffff:192.0.2.1"): two groups.
    const lastColon = body.lastIndexOf(":");
    const v4 = lastColon < 0 ? undefined : parseIPv4(body.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith("::")) body = body.slice(0, -1);
  }
  const halves = body.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  const given = head.length + rest.length + tail.length;
  let all: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    all = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  } else {
    if (given !== 8) return undefined;
    all = [...head, ...tail];
  }
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** An address or `address/bits`; a string saying what is wrong otherwise. */
export function parseAddressRange(text: string): AddressRange | string {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (address === undefined) return `"${text}" is not an IPv4 or IPv6 address or CIDR range (e.g. 192.0.2.10, 198.51.100.0/24, 2001:db8::/32)`;
  const max = address.family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b) || Number(b) > max) return `"${text}": the prefix length must be 0-${max}`;
    bits = Number(b);
  }
  const range: AddressRange = { family: address.family, bytes: address.bytes, bits };
  const network = maskTo(range.bytes, bits);
  if (!network.every((v, i) => v === range.bytes[i])) {
    return `"${text}" has bits set after the /${bits}; the range is ${formatAddressRange({ ...range, bytes: network })}`;
  }
  return range;
}

function maskTo(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Canonical text: dotted quad, or RFC 5952 for IPv6 (lowercase, longest zero run as "::"); "/bits" unless a single address. */
export function formatAddressRange(range: AddressRange): string {
  const address = range.family === 4 ? [...range.bytes].join(".") : formatIPv6(range.bytes);
  return range.bits === (range.family === 4 ? 32 : 128) ? address : `${address}/${range.bits}`;
}

function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 §4.2: the longest run of two or more zero groups (the first if tied) becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** The address family and bytes a source address really has: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is IPv4. */
function unmapped(a: { family: 4 | 6; bytes: Uint8Array }): { family: 4 | 6; bytes: Uint8Array } {
  if (a.family === 6 && a.bytes.slice(0, 10).every((b) => b === 0) && a.bytes[10] === 0xff && a.bytes[11] === 0xff) {
    return { family: 4, bytes: a.bytes.slice(12) };
  }
  return a;
}

export function rangeContains(range: AddressRange, address: string): boolean {
  const parsed = parseAddress(address);
  if (parsed === undefined) return false;
  const a = unmapped(parsed);
  if (a.family !== range.family) return false;
  const masked = maskTo(a.bytes, range.bits);
  return masked.every((v, i) => v === range.bytes[i]);
}

/** Whether `address` (as a socket reports it, e.g. "::ffff:192.0.2.1") is in any of `ranges` (as stored). Malformed entries match nothing. */
export function addressInRanges(address: string, ranges: readonly string[]): boolean {
  for (const text of ranges) {
    const range = parseAddressRange(text);
    if (typeof range !== "string" && rangeContains(range, address)) return true;
  }
  return false;
}
