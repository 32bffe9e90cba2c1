// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
// the value of From, To, Contact, Route, Record-Route, Path, Refer-To.
//
//   "Bob" <sip:bob@example.com;transport=ws>;tag=x   name-addr
//   Bob <sip:bob@example.com>                        display-name as tokens
//   sip:bob@example.com;tag=y                        addr-spec
//
// §20.10: when the URI is not in angle brackets, every ";" parameter after it
// is a header parameter, not a URI parameter (RFC 4475 §3.3.12 cparam01), and
// a URI carrying ",", "?" or ";" must be in brackets; an addr-spec with
// escaped headers is refused (RFC 4475 §3.1.2.13 regbadct) rather than
// guessed at.

import { CHAR, TOKEN, skipWsp, trimWspEnd } from "./char-classes.ts";
import { malformed } from "./errors.ts";
import {
  type ParamList, Parameterized, formatParams, parseHeaderParams, quote, quotedStringEnd, sameParams, unescapeQuoted,
} from "./params.ts";
import { type Uri, parseUriAt } from "./uri.ts";

export class NameAddr extends Parameterized {
  /** Display name, unquoted and unescaped; undefined when there is none. */
  declare displayName: string | undefined;
  /** @internal */
  declare _uri: Uri | undefined;
  /** @internal where the URI text is, until it is parsed */
  declare _us: string;
  /** @internal */
  declare _ua: number;
  /** @internal */
  declare _ub: number;
  /** @internal the header to name in errors */
  declare _what: string;
  /** @internal where the text this value was parsed from is in _us ([_ra, _rb), empty when built) */
  declare _ra: number;
  /** @internal */
  declare _rb: number;

  constructor(uri: Uri, displayName?: string, params?: Iterable<readonly [string, string | null]>) {
    super();
    this._us = "";
    this._ua = 0;
    this._ub = 0;
    this._what = "name-addr";
    this._ra = 0;
    this._rb = 0;
    this._uri = uri;
    this.displayName = displayName;
    if (params !== undefined) this.params = new Map(params);
  }

  /**
   * The URI. Parsed on first read (a proxy routing on tags never needs it);
   * a malformed URI throws SipParseError naming the header then.
   */
  get uri(): Uri {
    return (this._uri ??= parseUriAt(this._us, this._ua, this._ub, this._what));
  }

  set uri(uri: Uri) {
    this._uri = uri;
  }

  /** The tag parameter (RFC 3261 §19.3), identifying a dialog's end. */
  get tag(): string | undefined {
    return this._param("tag") ?? undefined;
  }

  set tag(tag: string | undefined) {
    if (tag === undefined) this.params.delete("tag");
    else this.params.set("tag", tag);
  }

  override toString(): string {
    if (this._rb > this._ra) {
      const raw = this._us.slice(this._ra, this._rb);
      const o = parseNameAddrAt(new NameAddr(NO_URI), raw, 0, raw.length, "name-addr");
      if (
        o.displayName === this.displayName && sameParams(o.params, this.params) &&
        (this._uri === undefined || o.uri.toString() === this._uri.toString())
      ) {
        return raw;
      }
    }
    // Always the name-addr form: with brackets, no parameter can be taken for
    // a URI parameter, whatever the URI contains.
    const name = this.displayName === undefined ? "" : quote(this.displayName) + " ";
    return name + "<" + this.uri.toString() + ">" + formatParams(this.params);
  }
}

/** Parses a name-addr or addr-spec with header parameters; throws SipParseError 400. */
export function parseNameAddr(s: string): NameAddr {
  const na = parseNameAddrAt(new NameAddr(NO_URI), s, 0, s.length, "name-addr");
  void na.uri; // a standalone parse validates the URI too
  return na;
}

/** @internal placeholder until the parse sets the URI */
export const NO_URI = undefined as unknown as Uri;

/** @internal Parses s[from, to) into `target`. */
export function parseNameAddrAt<T extends NameAddr>(target: T, s: string, from: number, to: number, what: string): T {
  const start = skipWsp(s, from, to);
  const end = trimWspEnd(s, start, to);
  if (start === end) throw malformed(what);
  let lt = -1; // index of "<" when the URI is bracketed
  const first = s.charCodeAt(start);
  if (first === 60 /* < */) {
    lt = start;
  } else if (first === 34 /* " */) {
    const close = quotedStringEnd(s, start, end);
    if (close < 0) throw malformed(what); // RFC 4475 §3.1.2.6 quotbal
    target.displayName = unescapeQuoted(s, start + 1, close - 1);
    const i = skipWsp(s, close, end);
    if (i === end || s.charCodeAt(i) !== 60) throw malformed(what);
    lt = i;
  } else {
    // display-name = *(token LWS): scan tokens and whitespace. Stopping at "<"
    // means a name-addr; stopping anywhere else (the ":" of a scheme) means
    // an addr-spec. Non-ASCII is tolerated in an unquoted name (it ought to
    // be quoted, but cannot be taken for structure); "," cannot (RFC 4475
    // §3.1.2.15 baddn).
    const table = CHAR;
    let j = start;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c >= 128 || (table[c]! & TOKEN) !== 0 || c === 32 || c === 9) j++;
      else break;
    }
    if (j < end && s.charCodeAt(j) === 60) {
      target.displayName = s.slice(start, trimWspEnd(s, start, j));
      lt = j;
    }
  }
  let p: number;
  let uriStart: number;
  let uriEnd: number;
  if (lt >= 0) {
    const gt = s.indexOf(">", lt + 1);
    if (gt < 0 || gt >= end) throw malformed(what);
    // Spaces inside the brackets are not allowed, but unambiguous; RFC 4475
    // §3.1.2.14 (badaspec) lets a liberal parser ignore them.
    uriStart = lt + 1;
    uriEnd = gt;
    if (s.charCodeAt(uriStart) === 32 || s.charCodeAt(gt - 1) === 32) {
      uriStart = skipWsp(s, uriStart, gt);
      uriEnd = trimWspEnd(s, uriStart, gt);
    }
    p = gt + 1;
  } else {
    uriStart = start;
    uriEnd = start;
    while (uriEnd < end) {
      const c = s.charCodeAt(uriEnd);
      if (c === 59 /* ; */ || c === 44 /* , */ || c === 32 || c === 9) break;
      if (c === 63 /* ? */ || c === 60 || c === 62 || c === 34) throw malformed(what);
      uriEnd++;
    }
    p = uriEnd;
  }
  // The URI is parsed when first read; here it must at least start with a
  // scheme and its colon (§19.1.1, §25.1 absoluteURI), which rules out "*"
  // and other things that are no URI at all.
  if (!hasScheme(s, uriStart, uriEnd)) throw malformed(what);
  target._us = s;
  target._ua = uriStart;
  target._ub = uriEnd;
  target._what = what;
  if (p < end) {
    const list: ParamList = [];
    parseHeaderParams(s, p, end, list, what);
    target._pl = list;
  }
  target._ra = start;
  target._rb = end;
  return target;
}

/** scheme ":" at s[from]: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
function hasScheme(s: string, from: number, to: number): boolean {
  if (from >= to || ((s.charCodeAt(from) | 0x20) - 97) >>> 0 > 25) return false;
  for (let i = from + 1; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) return i + 1 < to;
    const l = c | 0x20;
    if (!((l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return false;
  }
  return false;
}
