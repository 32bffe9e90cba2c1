// A header field line (RFC 3261 §7.3): name, HCOLON, value, possibly folded
// over several lines (§7.3.1). Lines parsed from a message point into its
// text and slice their name and value only when asked, so headers nobody
// reads cost no strings; lines we create hold their name and value.

/** One header field line as received (or as set): name as written, lowercased full name, value. */
export interface HeaderField {
  /** As written: "v", "CALL-ID", "Via". */
  readonly name: string;
  /** Lowercased full name: "via", "call-id". */
  readonly key: string;
  /** The value, unfolded (§7.3.1: folding is equivalent to one SP) and trimmed. */
  readonly value: string;
}

/**
 * @internal One header field line. Lines parsed from a message point into
 * its text and slice their name and value only when asked; lines we create
 * hold their name and value.
 */
export class HeaderLine implements HeaderField {
  /** @internal */
  declare _name: string | undefined;
  /** @internal */
  declare _value: string | undefined;
  /** @internal the string holding the value at [_va, _vb) (unless _folded) */
  declare _vs: string;
  /** @internal */
  declare _va: number;
  /** @internal */
  declare _vb: number;

  /** Lowercased full name: "via", "call-id". */
  declare readonly key: string;
  /** @internal the message text holding the line as received ("" for lines we create) */
  declare _src: string;
  /** @internal where the line starts in _src; -1 for lines we create */
  declare _start: number;
  /** @internal */
  declare _nameEnd: number;
  /** @internal where the line ends, before its CRLF */
  declare _end: number;
  /** @internal the value spans folded lines and must be unfolded */
  declare _folded: boolean;
  /** @internal the line is folded with a bare LF, to be written back with CRLF */
  declare _bareLf: boolean;

  constructor(
    key: string, src: string, start: number, nameEnd: number, valueStart: number, valueEnd: number, end: number,
    folded: boolean, bareLf: boolean,
  ) {
    (this as { key: string }).key = key;
    this._src = src;
    this._start = start;
    this._nameEnd = nameEnd;
    this._end = end;
    this._folded = folded;
    this._bareLf = bareLf;
    this._name = undefined;
    this._value = undefined;
    this._vs = src;
    this._va = valueStart;
    this._vb = valueEnd;
  }

  /** @internal a line of our making */
  static created(name: string, key: string, value: string): HeaderLine {
    const line = new HeaderLine(key, "", -1, 0, 0, value.length, 0, false, false);
    line._name = name;
    line._value = value;
    line._vs = value;
    return line;
  }

  get name(): string {
    return (this._name ??= this._src.slice(this._start, this._nameEnd));
  }

  get value(): string {
    if (this._value === undefined) {
      this._value = this._folded ? unfold(this._vs, this._va, this._vb) : this._vs.slice(this._va, this._vb);
    }
    return this._value;
  }

  /** @internal makes [_va, _vb) of _vs the unfolded value */
  _flat(): this {
    if (this._folded) {
      this._vs = this.value;
      this._va = 0;
      this._vb = this._vs.length;
      this._folded = false;
    }
    return this;
  }
}

/** The value with every LWS run that contains a line break replaced by one SP (§7.3.1). */
function unfold(src: string, from: number, to: number): string {
  let out = "";
  let segment = from;
  let i = from;
  while (i < to) {
    const c = src.charCodeAt(i);
    if (c !== 13 && c !== 10) {
      i++;
      continue;
    }
    let end = i;
    while (end > segment && (src.charCodeAt(end - 1) === 32 || src.charCodeAt(end - 1) === 9)) end--;
    out += src.slice(segment, end) + " ";
    while (i < to) {
      const d = src.charCodeAt(i);
      if (d !== 13 && d !== 10 && d !== 32 && d !== 9) break;
      i++;
    }
    segment = i;
  }
  return out + src.slice(segment, to);
}

