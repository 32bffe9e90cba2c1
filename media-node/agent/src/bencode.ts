/**
 * Bencode, the ng protocol's native dictionary encoding (rtpengine
 * docs/ng_control_protocol.md: "Internally rtpengine uses bencoding
 * natively"). Only the four bencode types exist: integers, byte strings,
 * lists and dictionaries. The ng protocol carries text, so byte strings
 * are UTF-8 here: a string's length prefix counts its UTF-8 bytes, not its
 * UTF-16 code units (an SDP with a non-ASCII `s=` or `i=` line would
 * otherwise be cut short).
 *
 * The decoder is strict: no leading zeros, no `-0`, no trailing bytes, no
 * duplicate keys, no invalid UTF-8, a nesting limit. It does not insist on
 * sorted keys because rtpengine does not sort them ("The requirement
 * stipulated by the bencode standard that dictionary keys must be present
 * in lexicographical order is not currently honoured").
 */

export type BencodeValue = number | string | BencodeValue[] | { [key: string]: BencodeValue };

export class BencodeError extends Error {
  override name = "BencodeError";
}

const MAX_DEPTH = 32;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Encodes a value; dictionary keys are written in byte order as the spec asks. */
export function bencode(value: unknown): Buffer {
  return Buffer.from(bencodeText(value), "utf8");
}

/**
 * The bencoding of `value` as a JS string whose UTF-8 bytes are the
 * encoding: length prefixes count UTF-8 bytes. Built as one string and
 * encoded once, because encoding every piece on its own cost ~10× more
 * (a Chrome offer took ~160 µs on the agent's hot path).
 */
export function bencodeText(value: unknown): string {
  const out: string[] = [];
  encodeInto(value, out, 0);
  return out.join("");
}

/** A code unit where UTF-16 order and UTF-8 byte order can disagree (surrogates vs U+E000–U+FFFF). */
const NON_BMP_ORDER = /[\uD800-\uFFFF]/;

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function encodeInto(value: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) throw new BencodeError(`nested deeper than ${MAX_DEPTH}`);
  if (typeof value === "string") {
    out.push(`${Buffer.byteLength(value, "utf8")}:`, value);
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new BencodeError(`not an integer: ${value}`);
    out.push(`i${value}e`);
  } else if (Array.isArray(value)) {
    out.push("l");
    for (const item of value) encodeInto(item, out, depth + 1);
    out.push("e");
  } else if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const dict = value as Record<string, unknown>;
    const keys = Object.keys(dict);
    // String order is byte order unless a key holds a code unit at or above U+D800.
    if (keys.some((k) => NON_BMP_ORDER.test(k))) keys.sort(byteOrder);
    else keys.sort();
    out.push("d");
    for (const k of keys) {
      out.push(`${Buffer.byteLength(k, "utf8")}:`, k);
      encodeInto(dict[k], out, depth + 1);
    }
    out.push("e");
  } else {
    // JSON's true/false/null and floats have no bencode form; the ng protocol
    // never uses them, so refusing is safer than guessing.
    throw new BencodeError(`no bencode form for ${value === null ? "null" : typeof value}`);
  }
}

/** Decodes exactly one value spanning the whole input. */
export function bdecode(input: Uint8Array): BencodeValue {
  const reader = { buf: Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength), pos: 0 };
  const value = decodeAt(reader, 0);
  if (reader.pos !== input.length) throw new BencodeError(`${input.length - reader.pos} trailing bytes at offset ${reader.pos}`);
  return value;
}

interface Reader {
  buf: Buffer;
  pos: number;
}

const C_0 = 0x30;
const C_9 = 0x39;
const C_COLON = 0x3a;
const C_MINUS = 0x2d;
const C_D = 0x64;
const C_E = 0x65;
const C_I = 0x69;
const C_L = 0x6c;

function decodeAt(r: Reader, depth: number): BencodeValue {
  if (depth > MAX_DEPTH) throw new BencodeError(`nested deeper than ${MAX_DEPTH}`);
  const c = r.buf[r.pos];
  if (c === undefined) throw new BencodeError("unexpected end of input");
  if (c === C_I) {
    r.pos++;
    const n = readInteger(r, C_E);
    r.pos++; // 'e'
    return n;
  }
  if (c >= C_0 && c <= C_9) return readString(r);
  if (c === C_L) {
    r.pos++;
    const list: BencodeValue[] = [];
    while (peek(r) !== C_E) list.push(decodeAt(r, depth + 1));
    r.pos++;
    return list;
  }
  if (c === C_D) {
    r.pos++;
    // A plain object (JSON.stringify and equality checks behave) filled by
    // define, not assignment: a "__proto__" key stays an ordinary key.
    const dict: Record<string, BencodeValue> = {};
    while (peek(r) !== C_E) {
      const at = r.pos;
      const first = r.buf[r.pos];
      if (first === undefined || first < C_0 || first > C_9) throw new BencodeError(`dictionary key at offset ${at} is not a byte string`);
      const key = readString(r);
      if (Object.hasOwn(dict, key)) throw new BencodeError(`duplicate dictionary key "${key}" at offset ${at}`);
      const value = decodeAt(r, depth + 1);
      if (key === "__proto__") Object.defineProperty(dict, key, { value, enumerable: true, writable: true, configurable: true });
      else dict[key] = value;
    }
    r.pos++;
    return dict;
  }
  throw new BencodeError(`unexpected byte 0x${c.toString(16)} at offset ${r.pos}`);
}

function peek(r: Reader): number {
  const c = r.buf[r.pos];
  if (c === undefined) throw new BencodeError("unexpected end of input");
  return c;
}

/** Reads a decimal integer up to (not including) `terminator`. */
function readInteger(r: Reader, terminator: number): number {
  const start = r.pos;
  let negative = false;
  if (r.buf[r.pos] === C_MINUS) {
    if (terminator !== C_E) throw new BencodeError(`negative length at offset ${start}`);
    negative = true;
    r.pos++;
  }
  const digitsStart = r.pos;
  let n = 0;
  for (;;) {
    const c = r.buf[r.pos];
    if (c === undefined) throw new BencodeError("unexpected end of input");
    if (c === terminator) break;
    if (c < C_0 || c > C_9) throw new BencodeError(`unexpected byte 0x${c.toString(16)} in integer at offset ${r.pos}`);
    n = n * 10 + (c - C_0);
    if (!Number.isSafeInteger(n)) throw new BencodeError(`integer too large at offset ${start}`);
    r.pos++;
  }
  const digits = r.pos - digitsStart;
  if (digits === 0) throw new BencodeError(`empty integer at offset ${start}`);
  if (digits > 1 && r.buf[digitsStart] === C_0) throw new BencodeError(`leading zero at offset ${start}`);
  if (negative && n === 0) throw new BencodeError(`negative zero at offset ${start}`);
  return negative ? -n : n;
}

/**
 * Keys and most values in ng replies are short ASCII (a `delete` reply has
 * ~300 of them): building those in JS is ~2× faster than a call into the
 * strict decoder for each; anything longer or non-ASCII goes through it.
 */
const SHORT_STRING = 64;

function asciiText(buf: Buffer, start: number, end: number): string | undefined {
  let t = "";
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return undefined;
    t += String.fromCharCode(b);
  }
  return t;
}

function readString(r: Reader): string {
  const length = readInteger(r, C_COLON);
  r.pos++; // ':'
  const end = r.pos + length;
  if (end > r.buf.length) throw new BencodeError(`byte string of ${length} bytes runs past the end of input`);
  let text: string;
  const short = length <= SHORT_STRING ? asciiText(r.buf, r.pos, end) : undefined;
  if (short !== undefined) {
    text = short;
  } else {
    try {
      text = strictUtf8.decode(r.buf.subarray(r.pos, end));
    } catch {
      throw new BencodeError(`byte string at offset ${r.pos} is not valid UTF-8`);
    }
  }
  r.pos = end;
  return text;
}
