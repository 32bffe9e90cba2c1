// Parameters: header parameters, *( SEMI generic-param ) with generic-param
// = token [ EQUAL gen-value ] (RFC 3261 §25.1), and the uri-parameters of
// SIP and tel URIs. SEMI and EQUAL allow whitespace on both sides
// (SEMI = SWS ";" SWS), which RFC 4475 §3.1.1.1 exercises with
// "; tag = 98asjd8". Parameter names are case-insensitive (§7.3.1), so
// names are lowercased; values are kept as written, quotes included, so an
// unchanged value serializes exactly as received.
//
// Parsers collect parameters into a flat [name, value, ...] list, and the
// Map that the API exposes is built only when someone asks for it: most
// messages are routed on a tag or a branch, which a list scan finds
// without building a hash table per header.

import { scanGenValue, scanToken, skipWsp } from "./char-classes.ts";
import { malformed } from "./errors.ts";

export type Params = Map<string, string | null>;
/** [name, value, name, value, ...]; names lowercased. */
export type ParamList = Array<string | null>;

/** Something with parameters, stored as a list until the Map is asked for. */
export abstract class Parameterized {
  /** @internal parameters as parsed */
  declare _pl: ParamList | undefined;
  /** @internal parameters once materialized */
  declare _pm: Params | undefined;

  constructor() {
    this._pl = undefined;
    this._pm = undefined;
  }

  /** Parameters; names lowercased, values as written, null for a name without value. */
  get params(): Params {
    if (this._pm === undefined) {
      const m: Params = new Map();
      const l = this._pl;
      // A repeated parameter keeps its first value (RFC 3261 leaves
      // duplicates undefined; the first is what a sequential reader acts on).
      if (l !== undefined) for (let i = 0; i < l.length; i += 2) if (!m.has(l[i]!)) m.set(l[i]!, l[i + 1]!);
      this._pm = m;
      this._pl = undefined;
    }
    return this._pm;
  }

  set params(m: Params) {
    this._pm = m;
    this._pl = undefined;
  }

  /** @internal a parameter by lowercased name: value, null without value, undefined when absent */
  _param(name: string): string | null | undefined {
    if (this._pm !== undefined) return this._pm.get(name);
    const l = this._pl;
    if (l !== undefined) for (let i = 0; i < l.length; i += 2) if (l[i] === name) return l[i + 1];
    return undefined;
  }

  /** @internal */
  _hasParams(): boolean {
    return this._pm !== undefined ? this._pm.size > 0 : this._pl !== undefined && this._pl.length > 0;
  }
}

/** Parses s[i, end) as *( SEMI generic-param ), appending to `out`; anything else is malformed. */
export function parseHeaderParams(s: string, i: number, end: number, out: ParamList, what: string): void {
  for (;;) {
    if (i < end && s.charCodeAt(i) !== 59) i = skipWsp(s, i, end);
    if (i === end) return;
    if (s.charCodeAt(i) !== 59 /* ; */) throw malformed(what);
    i++;
    if (i < end && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i = skipWsp(s, i, end);
    const nameStart = i;
    i = scanToken(s, i, end);
    // ";;" and a trailing ";" (RFC 4475 §3.1.2.1 badinv01) have no parameter.
    if (i === nameStart) throw malformed(what);
    const name = s.slice(nameStart, i).toLowerCase();
    let value: string | null = null;
    let j = i;
    if (j < end && s.charCodeAt(j) !== 61 && s.charCodeAt(j) !== 59) j = skipWsp(s, j, end);
    if (j < end && s.charCodeAt(j) === 61 /* = */) {
      j++;
      if (j < end && (s.charCodeAt(j) === 32 || s.charCodeAt(j) === 9)) j = skipWsp(s, j, end);
      if (j < end && s.charCodeAt(j) === 34 /* " */) {
        const close = quotedStringEnd(s, j, end);
        if (close < 0) throw malformed(what);
        value = s.slice(j, close);
        i = close;
      } else {
        const valueStart = j;
        j = scanGenValue(s, j, end);
        if (j === valueStart) throw malformed(what);
        value = s.slice(valueStart, j);
        i = j;
      }
    } else {
      i = j;
    }
    out.push(name, value);
  }
}

/**
 * s[i] is the opening DQUOTE of a quoted-string; returns the index just past
 * its closing DQUOTE, or -1 when it is unterminated (RFC 4475 §3.1.2.6).
 * quoted-pair = "\" followed by any character but CR and LF.
 */
export function quotedStringEnd(s: string, i: number, end: number): number {
  let k = i + 1;
  for (;;) {
    const close = s.indexOf('"', k);
    if (close < 0 || close >= end) return -1;
    // A backslash escapes the next character. Searched for only up to the
    // quote: an unbounded search could scan the rest of the message every time.
    let b: number;
    if (close - k <= 16) {
      b = k;
      while (b < close && s.charCodeAt(b) !== 92 /* \ */) b++;
    } else {
      b = s.slice(k, close).indexOf("\\");
      b = b < 0 ? close : k + b;
    }
    if (b === close) return close + 1;
    k = b + 2;
    if (k >= end) return -1;
  }
}

/** The contents of a quoted-string with quoted-pairs resolved; a token is returned as is. */
export function unquote(v: string): string {
  if (v.length < 2 || v.charCodeAt(0) !== 34 || v.charCodeAt(v.length - 1) !== 34) return v;
  return unescapeQuoted(v, 1, v.length - 1);
}

/** s[from, to) (the inside of a quoted-string) with quoted-pairs resolved. */
export function unescapeQuoted(s: string, from: number, to: number): string {
  let b = from;
  while (b < to && s.charCodeAt(b) !== 92) b++;
  if (b === to) return s.slice(from, to);
  let out = "";
  let segment = from;
  for (; b < to; b++) {
    if (s.charCodeAt(b) === 92 && b + 1 < to) {
      out += s.slice(segment, b) + s[b + 1];
      b++;
      segment = b + 1;
    }
  }
  return out + s.slice(segment, to);
}

/** A quoted-string for `text`, escaping "\" and DQUOTE (§25.1 quoted-pair). */
export function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c === '"' || c === "\\" ? "\\" + c : c;
  }
  return out + '"';
}

export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = "";
  for (const [name, value] of params) out += value === null ? ";" + name : ";" + name + "=" + value;
  return out;
}

/** Same entries in the same order. */
export function sameParams(a: ReadonlyMap<string, string | null>, b: ReadonlyMap<string, string | null>): boolean {
  if (a.size !== b.size) return false;
  const ib = b.entries();
  for (const [k, v] of a) {
    const next = ib.next();
    if (next.done || next.value[0] !== k || next.value[1] !== v) return false;
  }
  return true;
}
