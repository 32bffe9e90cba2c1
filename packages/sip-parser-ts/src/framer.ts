// Framing SIP on a stream (TCP, TLS; RFC 3261 §18.3): messages follow each
// other with nothing in between, so each one's end is found from its header
// block's empty line and its Content-Length, which a stream message MUST
// carry. Between messages, RFC 5626 §3.5.1 keep-alives may appear: CRLFCRLF
// (a ping, to be answered with CRLF) and CRLF (the pong).
//
// The framer only finds message boundaries; parseMessage(event.message) does
// the rest. Any error is fatal to the connection (the stream cannot be
// resynchronized), and is reported once.
//
// Work is linear in the octets pushed: the search for the empty line resumes
// where it stopped, and the buffer is compacted or grown so that each octet
// is copied a bounded number of times.

import { CHAR, TOKEN } from "./char-classes.ts";
import { SipParseError, badRequest } from "./errors.ts";
import { type ParseLimits, resolveLimits } from "./limits.ts";
import { parseStartLine } from "./parse.ts";
import { decodeUtf8, encodeUtf8 } from "./utf8.ts";

export type FramerEvent =
  /** One complete message: start line through body. */
  | { message: Uint8Array }
  /** A CRLFCRLF ping (RFC 5626 §3.5.1); answer with a CRLF pong. */
  | { keepAlive: true }
  /** A lone CRLF: the pong to a ping of ours. */
  | { pong: true }
  /** The stream is broken; close the connection (answering 400 or 513 first if you can). */
  | { error: SipParseError };

const State = {
  /** Between messages: keep-alives, or the first octet of a message. */
  Boundary: 0,
  /** In the start line and header block. */
  Head: 1,
  /** Waiting for the body's last octet. */
  Body: 2,
  /** After an error. */
  Failed: 3,
} as const;
type State = (typeof State)[keyof typeof State];

export class StreamFramer {
  private readonly limits: Readonly<ParseLimits>;
  private buf = new Uint8Array(4096);
  /** Unconsumed octets are buf[start, end). */
  private start = 0;
  private end = 0;
  private state: State = State.Boundary;
  /** In Head: the start line has been checked. */
  private startLineOk = false;
  /** In Head: where the search for the empty line resumes. */
  private scan = 0;
  /** In Body: where the message ends. */
  private messageEnd = 0;
  private error: SipParseError | undefined;

  constructor(limits?: Partial<ParseLimits>) {
    this.limits = resolveLimits(limits);
  }

  /** Octets received but not yet handed out. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Adds received data. Call next() until it returns undefined after every push. */
  push(chunk: Uint8Array | string): void {
    if (this.state === State.Failed) return;
    const bytes = typeof chunk === "string" ? encodeUtf8(chunk) : chunk;
    if (bytes.length === 0) return;
    this.reserve(bytes.length);
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
  }

  /** The next event, or undefined when more data is needed. */
  next(): FramerEvent | undefined {
    for (;;) {
      switch (this.state) {
        case State.Failed: {
          const error = this.error;
          this.error = undefined;
          return error === undefined ? undefined : { error };
        }
        case State.Boundary: {
          const event = this.boundary();
          if (event !== null) return event;
          break;
        }
        case State.Head:
          if (!this.head() && this.error === undefined) return undefined;
          break;
        case State.Body: {
          if (this.end < this.messageEnd) return undefined;
          const message = this.buf.slice(this.start, this.messageEnd);
          this.start = this.messageEnd;
          this.state = State.Boundary;
          return { message };
        }
      }
    }
  }

  *[Symbol.iterator](): IterableIterator<FramerEvent> {
    for (let e = this.next(); e !== undefined; e = this.next()) yield e;
  }

  /** Keep-alives, or the start of a message (returns null to go on). */
  private boundary(): FramerEvent | undefined | null {
    const b = this.buf;
    const available = this.end - this.start;
    if (available === 0) return undefined;
    const s = this.start;
    const first = b[s]!;
    if (first === 13 /* CR */) {
      if (available < 2) return undefined;
      if (b[s + 1] !== 10) return this.fail(badRequest("Malformed keep-alive"));
      if (available >= 4 && b[s + 2] === 13 && b[s + 3] === 10) {
        this.start += 4;
        return { keepAlive: true };
      }
      // "\r\n\r" may still become a ping. A lone "\r\n" is taken for the
      // pong it almost always is: a 4-octet ping split between two reads
      // would read as two pongs, which beats holding a real pong back until
      // more data comes.
      if (available === 3 && b[s + 2] === 13) return undefined;
      this.start += 2;
      return { pong: true };
    }
    if (first === 10 /* bare LF: tolerated and ignored between messages */) {
      this.start += 1;
      return null;
    }
    // Methods and "SIP/2.0" begin with a token character; anything else is
    // not SIP (a TLS ClientHello on a TCP port, say).
    if (first >= 128 || (CHAR[first]! & TOKEN) === 0) return this.fail(badRequest("Not a SIP message"));
    this.state = State.Head;
    this.startLineOk = false;
    this.scan = s;
    return null;
  }

  /** Advances through the header block; true once the body is framed. */
  private head(): boolean {
    const b = this.buf;
    const s = this.start;
    const lim = this.limits;
    if (!this.startLineOk) {
      const lf = this.indexOfLf(this.scan);
      if (lf < 0) {
        this.scan = this.end;
        if (this.end - s > lim.maxHeaderLineBytes) this.fail(badRequest("Start line too long"));
        return false;
      }
      const lineEnd = lf > s && b[lf - 1] === 13 ? lf - 1 : lf;
      const line = decodeUtf8(b.subarray(s, lineEnd));
      try {
        parseStartLine(line, 0, line.length);
      } catch (e) {
        this.fail(e instanceof SipParseError ? e : badRequest("Not a SIP message"));
        return false;
      }
      this.startLineOk = true;
      this.scan = lf;
    }
    // Look for LF (CR) LF from `scan`, which always points at an LF already
    // seen or at unexamined data.
    let i = this.scan;
    for (;;) {
      const lf = this.indexOfLf(i);
      if (lf < 0) {
        this.scan = this.end;
        break;
      }
      if (lf + 1 >= this.end || (b[lf + 1] === 13 && lf + 2 >= this.end)) {
        this.scan = lf; // decide once the next octets arrive
        break;
      }
      const headEnd = b[lf + 1] === 10 ? lf + 2 : b[lf + 1] === 13 && b[lf + 2] === 10 ? lf + 3 : -1;
      if (headEnd < 0) {
        i = lf + 1;
        continue;
      }
      const length = contentLength(b, s, headEnd);
      if (typeof length === "string") {
        this.fail(badRequest(length));
        return false;
      }
      if (headEnd - s + length > lim.maxMessageBytes) {
        this.fail(new SipParseError(513, "Message Too Large"));
        return false;
      }
      this.messageEnd = headEnd + length;
      this.state = State.Body;
      return true;
    }
    if (this.end - s > lim.maxMessageBytes) this.fail(new SipParseError(513, "Message Too Large"));
    return false;
  }

  private indexOfLf(from: number): number {
    if (from >= this.end) return -1;
    // Bounded to the data: past `end` the buffer holds stale octets.
    const i = this.buf.subarray(from, this.end).indexOf(10);
    return i < 0 ? -1 : from + i;
  }

  /** Enters the failed state; null tells next() to go on and report it. */
  private fail(error: SipParseError): null {
    this.state = State.Failed;
    this.error = error;
    this.buf = new Uint8Array(0);
    this.start = this.end = 0;
    return null;
  }

  /** Makes room for `extra` more octets, compacting or growing the buffer. */
  private reserve(extra: number): void {
    if (this.end + extra <= this.buf.length) return;
    const live = this.end - this.start;
    const shift = this.start;
    if (live + extra <= this.buf.length >> 1) {
      // Compacting: at least half the buffer is then free, so the next
      // compaction is at least that many octets of input away.
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, (live + extra) * 2));
      grown.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = grown;
    }
    this.start = 0;
    this.end = live;
    this.scan -= shift;
    this.messageEnd -= shift;
  }
}

/**
 * The Content-Length of the header block b[from, to), or why there is none
 * to use: a stream message without one cannot be framed (§18.3), and two
 * values cannot both be right (RFC 4475 §3.3.9).
 */
function contentLength(buf: Uint8Array, from: number, to: number): number | string {
  const b = buf.subarray(from, to);
  const n = b.length;
  let found = -1;
  // Header lines start after each LF that is not followed by SP/HT; the first line is the start line.
  for (let lf = b.indexOf(10); lf !== -1; lf = b.indexOf(10, lf + 1)) {
    const ls = lf + 1;
    const c0 = b[ls];
    if (c0 === undefined || c0 === 32 || c0 === 9 || c0 === 13 || c0 === 10) continue;
    let p = matchName(b, ls, n);
    if (p < 0) continue;
    while (p < n && (b[p] === 32 || b[p] === 9 || b[p] === 13 || b[p] === 10)) p++;
    let value = 0;
    const digits = p;
    while (p < n && b[p]! >= 48 && b[p]! <= 57) {
      value = value * 10 + (b[p]! - 48);
      if (value > Number.MAX_SAFE_INTEGER) return "Malformed Content-Length";
      p++;
    }
    while (p < n && (b[p] === 32 || b[p] === 9 || b[p] === 13)) p++;
    if (p === digits || (p < n && b[p] !== 10)) return "Malformed Content-Length";
    if (found >= 0) return "Multiple Content-Length";
    found = value;
  }
  return found < 0 ? "Missing Content-Length" : found;
}

const CONTENT_LENGTH = "content-length";

/** If a Content-Length ("l" compact) name and its colon start at b[i], the index past the colon, else -1. */
function matchName(b: Uint8Array, i: number, to: number): number {
  let p = i;
  const c = b[p]! | 0x20;
  if (c !== 108 /* l */ && c !== 99 /* c */) return -1;
  if (c === 99) {
    for (let k = 0; k < CONTENT_LENGTH.length; k++, p++) {
      if (p >= to || (b[p]! | 0x20) !== CONTENT_LENGTH.charCodeAt(k)) return -1;
    }
  } else {
    p++;
  }
  while (p < to && (b[p] === 32 || b[p] === 9)) p++;
  return p < to && b[p] === 58 ? p + 1 : -1;
}
