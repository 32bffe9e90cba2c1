// URIs in SIP: SIP and SIPS URIs (RFC 3261 §19.1, grammar §25.1), tel URIs
// (RFC 3966) and, for every other scheme, the opaque absoluteURI that §25.1
// admits wherever a URI may appear (RFC 4475 §3.3.2-3.3.4: a parser must
// accept unknown schemes; whether to serve them is the caller's decision,
// 416 Unsupported URI Scheme).
//
// Parsed URIs keep their text: toString() of a URI nobody changed returns
// exactly what was parsed (escapes, case and all), so forwarding never
// rewrites what it did not mean to.

import { scanHnv, scanParamChars, scanPassword, scanUser } from "./char-classes.ts";
import { malformed } from "./errors.ts";
import { unescapePercent } from "./escapes.ts";
import { readHost } from "./host.ts";
import { type ParamList, Parameterized, sameParams } from "./params.ts";

export type Uri = SipUri | TelUri | AbsoluteUri;

export interface SipUriInit {
  scheme?: "sip" | "sips";
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params?: Iterable<readonly [string, string | null]>;
  headers?: Iterable<readonly [string, string]>;
}

export class SipUri extends Parameterized {
  declare scheme: "sip" | "sips";
  /** The user part as written, escapes kept (RFC 3261 §19.1.2); see userDecoded. */
  declare user: string | undefined;
  declare password: string | undefined;
  /** hostname, IPv4 address, or IPv6 reference with its brackets ("[2001:db8::1]"). */
  declare host: string;
  declare port: number | undefined;
  /** @internal headers as parsed, [name, value, ...] */
  declare _hl: string[] | undefined;
  /** @internal */
  declare _hm: Map<string, string> | undefined;
  /** @internal the text this URI was parsed from */
  declare _raw: string | undefined;

  constructor(init?: SipUriInit) {
    super();
    this.scheme = "sip";
    this.user = undefined;
    this.password = undefined;
    this.host = "";
    this.port = undefined;
    this._hl = undefined;
    this._hm = undefined;
    this._raw = undefined;
    if (init === undefined) return;
    if (init.scheme !== undefined) this.scheme = init.scheme;
    this.user = init.user;
    this.password = init.password;
    this.host = init.host;
    this.port = init.port;
    if (init.params !== undefined) this.params = new Map(init.params);
    if (init.headers !== undefined) this._hm = new Map(init.headers);
  }

  /** headers after "?" (§19.1.1); names and values as written (escaped). */
  get headers(): Map<string, string> {
    if (this._hm === undefined) {
      const m = new Map<string, string>();
      const l = this._hl;
      if (l !== undefined) for (let i = 0; i < l.length; i += 2) if (!m.has(l[i]!)) m.set(l[i]!, l[i + 1]!);
      this._hm = m;
      this._hl = undefined;
    }
    return this._hm;
  }

  set headers(m: Map<string, string>) {
    this._hm = m;
    this._hl = undefined;
  }

  /** The user part with %HH escapes decoded (RFC 4475 §3.1.1.3: "sips%3Auser%40example.com" → "sips:user@example.com"). */
  get userDecoded(): string | undefined {
    return this.user === undefined ? undefined : unescapePercent(this.user);
  }

  /** A uri-parameter by name, any case: a value, null for a name without value, undefined when absent. */
  uriParam(name: string): string | null | undefined {
    return this._param(name.toLowerCase());
  }

  override toString(): string {
    if (this._raw !== undefined && this.unchangedSinceParse()) return this._raw;
    let s = this.scheme + ":";
    if (this.user !== undefined) {
      s += this.user;
      if (this.password !== undefined) s += ":" + this.password;
      s += "@";
    }
    s += this.host;
    if (this.port !== undefined) s += ":" + this.port;
    for (const [name, value] of this.params) s += value === null ? ";" + name : ";" + name + "=" + value;
    let sep = "?";
    for (const [name, value] of this.headers) {
      s += sep + name + "=" + value;
      sep = "&";
    }
    return s;
  }

  private unchangedSinceParse(): boolean {
    const o = parseUriAt(this._raw!, 0, this._raw!.length, "URI");
    if (
      !(o instanceof SipUri) || o.scheme !== this.scheme || o.user !== this.user || o.password !== this.password ||
      o.host !== this.host || o.port !== this.port || !sameParams(o.params, this.params) ||
      o.headers.size !== this.headers.size
    ) {
      return false;
    }
    const it = this.headers.entries();
    for (const [k, v] of o.headers) {
      const n = it.next();
      if (n.done || n.value[0] !== k || n.value[1] !== v) return false;
    }
    return true;
  }
}

/** tel URI (RFC 3966 §3): telephone-subscriber and its parameters. */
export class TelUri extends Parameterized {
  declare readonly scheme: "tel";
  /** global-number ("+1-201-555-0123") or local-number, visual separators kept. */
  declare number: string;
  /** @internal */
  declare _raw: string | undefined;

  constructor(number: string, params?: Iterable<readonly [string, string | null]>) {
    super();
    (this as { scheme: "tel" }).scheme = "tel";
    this.number = number;
    this._raw = undefined;
    if (params !== undefined) this.params = new Map(params);
  }

  uriParam(name: string): string | null | undefined {
    return this._param(name.toLowerCase());
  }

  override toString(): string {
    if (this._raw !== undefined) {
      const o = parseUriAt(this._raw, 0, this._raw.length, "URI");
      if (o instanceof TelUri && o.number === this.number && sameParams(o.params, this.params)) return this._raw;
    }
    let s = "tel:" + this.number;
    for (const [name, value] of this.params) s += value === null ? ";" + name : ";" + name + "=" + value;
    return s;
  }
}

/** Any other scheme, kept opaque (RFC 3261 §25.1 absoluteURI). */
export class AbsoluteUri {
  /** As written ("soap.beep", "nobodyKnowsThisScheme"); compare case-insensitively. */
  declare readonly scheme: string;
  declare readonly raw: string;

  constructor(raw: string) {
    this.raw = raw;
    this.scheme = raw.slice(0, raw.indexOf(":"));
  }

  /** Opaque URIs have no parameters we understand. */
  uriParam(_name: string): undefined {
    return undefined;
  }

  toString(): string {
    return this.raw;
  }
}

/** Parses a URI; throws SipParseError 400 "Bad Request - Malformed URI". */
export function parseUri(s: string): Uri {
  return parseUriAt(s, 0, s.length, "URI");
}

/** @internal parseUri for s[start, end), the error naming the header the URI came from. */
export function parseUriAs(s: string, what: string): Uri {
  return parseUriAt(s, 0, s.length, what);
}

/** @internal */
export function parseUriAt(s: string, start: number, end: number, what: string): Uri {
  const colon = s.indexOf(":", start);
  if (colon <= start || colon >= end) throw malformed(what);
  const len = colon - start;
  if (len === 3 || len === 4) {
    const a = s.charCodeAt(start) | 0x20;
    const b = s.charCodeAt(start + 1) | 0x20;
    const c = s.charCodeAt(start + 2) | 0x20;
    if (len === 3 && a === 115 && b === 105 && c === 112) return parseSipUri(s, start, colon + 1, end, "sip", what); // sip
    if (len === 4 && a === 115 && b === 105 && c === 112 && (s.charCodeAt(start + 3) | 0x20) === 115) {
      return parseSipUri(s, start, colon + 1, end, "sips", what);
    }
    if (len === 3 && a === 116 && b === 101 && c === 108) return parseTelUri(s, start, colon + 1, end, what); // tel
  }
  if (!isScheme(s, start, colon)) throw malformed(what);
  // absoluteURI: any visible characters, none that would end a header field
  // element (whitespace, "<", ">", DQUOTE) and no controls.
  if (colon + 1 === end) throw malformed(what);
  for (let i = colon + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 60 || c === 62 || c === 34) throw malformed(what);
  }
  return new AbsoluteUri(s.slice(start, end));
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
function isScheme(s: string, start: number, end: number): boolean {
  const f = s.charCodeAt(start) | 0x20;
  if (f < 97 || f > 122) return false;
  for (let i = start + 1; i < end; i++) {
    const c = s.charCodeAt(i);
    const l = c | 0x20;
    if (!((l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return false;
  }
  return true;
}

/** uri-parameters = *( ";" uri-parameter ) from s[p]; returns the index after them. */
function parseUriParams(s: string, p: number, n: number, out: ParamList, what: string): number {
  while (p < n && s.charCodeAt(p) === 59 /* ; */) {
    const nameStart = p + 1;
    p = scanParamChars(s, nameStart, n);
    if (p === nameStart) throw malformed(what);
    const name = s.slice(nameStart, p);
    let value: string | null = null;
    if (p < n && s.charCodeAt(p) === 61 /* = */) {
      const valueStart = p + 1;
      p = scanParamChars(s, valueStart, n);
      if (p === valueStart) throw malformed(what);
      value = s.slice(valueStart, p);
    }
    out.push(name.toLowerCase(), value);
  }
  return p;
}

/** s[start, end) is the URI; s[from..] follows "sip:" or "sips:". */
function parseSipUri(s: string, start: number, from: number, end: number, scheme: "sip" | "sips", what: string): SipUri {
  const uri = new SipUri();
  uri.scheme = scheme;
  // userinfo = user [ ":" password ] "@". ";" "?" and "," are legal in the
  // user part (RFC 4475 §3.1.1.2, §3.1.1.9) and "@" nowhere else, so the
  // user part is the run of user characters, if an "@" (or ":" password "@")
  // ends it. Scanning rather than searching for "@" keeps the work within
  // this URI when it has no user part.
  let hostStart = from;
  let q = scanUser(s, from, end);
  if (q > from && q < end) {
    const c = s.charCodeAt(q);
    if (c === 64 /* @ */) {
      uri.user = s.slice(from, q);
      hostStart = q + 1;
    } else if (c === 58 /* : */) {
      const pw = q + 1;
      q = scanPassword(s, pw, end);
      if (q < end && s.charCodeAt(q) === 64) {
        uri.user = s.slice(from, pw - 1);
        uri.password = s.slice(pw, q);
        hostStart = q + 1;
      }
    }
  }
  const host = readHost(s, hostStart, end);
  if (host === undefined) throw malformed(what);
  uri.host = host;
  let p = hostStart + host.length;
  if (p < end && s.charCodeAt(p) === 58 /* : */) {
    p++;
    let port = 0;
    const digitsStart = p;
    while (p < end) {
      const c = s.charCodeAt(p);
      if (c < 48 || c > 57) break;
      port = port * 10 + (c - 48);
      p++;
      if (p - digitsStart > 5) throw malformed(what);
    }
    if (p === digitsStart || port > 65535) throw malformed(what);
    uri.port = port;
  }
  if (p < end && s.charCodeAt(p) === 59) {
    const list: ParamList = [];
    p = parseUriParams(s, p, end, list, what);
    uri._pl = list;
  }
  if (p < end && s.charCodeAt(p) === 63 /* ? */) {
    // headers = "?" header *( "&" header ); header = hname "=" hvalue
    const list: string[] = [];
    do {
      const nameStart = p + 1;
      p = scanHnv(s, nameStart, end);
      if (p === nameStart || p >= end || s.charCodeAt(p) !== 61) throw malformed(what);
      const valueStart = p + 1;
      p = scanHnv(s, valueStart, end);
      list.push(s.slice(nameStart, valueStart - 1), s.slice(valueStart, p));
    } while (p < end && s.charCodeAt(p) === 38 /* & */);
    uri._hl = list;
  }
  if (p !== end) throw malformed(what);
  uri._raw = start === 0 && end === s.length ? s : s.slice(start, end);
  return uri;
}

/** s[start, end) is the URI; s[from..] follows "tel:". */
function parseTelUri(s: string, start: number, from: number, end: number, what: string): TelUri {
  let p = from;
  while (p < end) {
    const c = s.charCodeAt(p);
    // phonedigit-hex and visual separators (RFC 3966 §3), and the "+" of a global number.
    const l = c | 0x20;
    const ok =
      (c >= 48 && c <= 57) || (l >= 97 && l <= 102) ||
      c === 42 || c === 35 || c === 43 || c === 45 || c === 46 || c === 40 || c === 41;
    if (!ok) break;
    p++;
  }
  if (p === from) throw malformed(what);
  const uri = new TelUri(s.slice(from, p));
  if (p < end && s.charCodeAt(p) === 59) {
    const list: ParamList = [];
    p = parseUriParams(s, p, end, list, what);
    uri._pl = list;
  }
  if (p !== end) throw malformed(what);
  uri._raw = start === 0 && end === s.length ? s : s.slice(start, end);
  return uri;
}
