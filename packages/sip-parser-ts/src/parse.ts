// Framing one message (RFC 3261 §7): start line, header field lines, empty
// line, body. Only what framing needs is checked here, eagerly:
//
// - the start line (§7.1, §7.2), and that each header line is
//   `token HCOLON value` (§7.3.1);
// - the limits (513 Message Too Large, §21.5.14, for size; 400 otherwise);
// - Content-Length (§20.14): octets, not characters; extra octets after the
//   body are discarded (§18.3), missing octets are a 400, and without
//   Content-Length the body is the rest of the datagram (§18.3 / RFC 4475
//   §3.4.1 inv2543);
// - Via, From, To, Call-ID and CSeq present, From/To/Call-ID/CSeq not
//   repeated (§8.1.1, RFC 4475 §3.3.1 insuf and §3.3.8 multi01), and a
//   request's CSeq method equal to its method (§8.1.1.5, RFC 4475 §3.1.2.17
//   mismatch01; ACK and CANCEL too: their CSeq says ACK and CANCEL).
//
// Everything else is parsed when an accessor first asks (message.ts).

import { scanToken } from "./char-classes.ts";
import { SipParseError, badRequest, malformed } from "./errors.ts";
import { keyAt } from "./header-names.ts";
import { type ParseLimits, resolveLimits } from "./limits.ts";
import { HeaderLine } from "./header-line.ts";
import { type SipMessage, SipRequest, SipResponse } from "./message.ts";
import { decodeUtf8, indexAfterOctets, utf8Length } from "./utf8.ts";

/**
 * Parses one SIP message from text or octets (UTF-8). Throws SipParseError
 * (and nothing else) when it cannot be framed or misses what every message
 * must have; `partial` then holds what was framed, if the start line and
 * header block could be read.
 */
export function parseMessage(input: string | Uint8Array, limits?: Partial<ParseLimits>): SipRequest | SipResponse {
  const lim = resolveLimits(limits);
  if (typeof input === "string") return parseText(input, lim, true);
  if (input instanceof Uint8Array) return parseOctets(input, lim, true);
  throw badRequest("Not a SIP message");
}

/** @internal */
export function parseText(src: string, lim: Readonly<ParseLimits>, check: boolean): SipRequest | SipResponse {
  const n = src.length;
  // Every code unit is at least one octet and at most three.
  if (n > lim.maxMessageBytes || (n * 3 > lim.maxMessageBytes && utf8Length(src) > lim.maxMessageBytes)) {
    throw new SipParseError(513, "Message Too Large");
  }
  const pos = skipLeadingCrlf(src, n);
  const head = scanHead(src, pos, lim);
  const msg = head.message;
  const bodyStart = msg._headEnd;
  msg._rawEnd = n;
  if (head.lengthProblem !== undefined) {
    msg._body = src.slice(bodyStart);
    throw new SipParseError(400, "Bad Request - " + head.lengthProblem, msg);
  }
  let bodyEnd = n;
  if (head.contentLength >= 0) {
    bodyEnd = indexAfterOctets(src, bodyStart, head.contentLength);
    if (bodyEnd < 0) {
      msg._body = src.slice(bodyStart);
      throw new SipParseError(400, "Bad Request - Content-Length mismatch", msg);
    }
  }
  msg._body = bodyStart === bodyEnd ? "" : src.slice(bodyStart, bodyEnd);
  msg._rawEnd = bodyEnd;
  if (check) checkMessage(head);
  return msg;
}

function parseOctets(bytes: Uint8Array, lim: Readonly<ParseLimits>, check: boolean): SipRequest | SipResponse {
  const n = bytes.length;
  if (n > lim.maxMessageBytes) throw new SipParseError(513, "Message Too Large");
  let pos = 0;
  while (pos < n && (bytes[pos] === 13 || bytes[pos] === 10)) pos++;
  if (pos === n) throw badRequest("Empty message");
  const headEnd = findHeadEnd(bytes, pos);
  // Without an empty line, let the text scanner report what is wrong.
  const text = decodeUtf8(bytes.subarray(pos, headEnd < 0 ? n : headEnd));
  const head = scanHead(text, 0, lim);
  if (headEnd < 0) throw badRequest("Truncated message");
  const msg = head.message;
  // UTF-8 decoding never turns other octets into CR or LF, nor swallows them,
  // so the empty line is where findHeadEnd saw it.
  const available = n - headEnd;
  let bodyEnd = n;
  if (head.lengthProblem === undefined && head.contentLength >= 0) bodyEnd = head.contentLength <= available ? headEnd + head.contentLength : -1;
  msg._bytes = bytes.subarray(pos, bodyEnd < 0 ? n : bodyEnd);
  msg._bodyOffset = headEnd - pos;
  msg._bodyBytes = msg._bytes.subarray(msg._bodyOffset);
  msg._rawEnd = text.length;
  if (head.lengthProblem !== undefined) throw new SipParseError(400, "Bad Request - " + head.lengthProblem, msg);
  if (bodyEnd < 0) throw new SipParseError(400, "Bad Request - Content-Length mismatch", msg);
  if (check) checkMessage(head);
  return msg;
}

/** §7.5: CRLFs before the start line are ignored (they are keep-alives, RFC 5626 §3.5.1). */
function skipLeadingCrlf(src: string, n: number): number {
  let pos = 0;
  while (pos < n) {
    const c = src.charCodeAt(pos);
    if (c !== 13 && c !== 10) break;
    pos++;
  }
  if (pos === n) throw badRequest("Empty message");
  return pos;
}

/** Index just past the empty line (CRLF CRLF, or a bare LF in either place), or -1. */
function findHeadEnd(b: Uint8Array, from: number): number {
  let i = from;
  for (;;) {
    const lf = b.indexOf(10, i);
    if (lf < 0) return -1;
    const next = b[lf + 1];
    if (next === 10) return lf + 2;
    if (next === 13 && b[lf + 2] === 10) return lf + 3;
    i = lf + 1;
  }
}

interface Head {
  message: SipRequest | SipResponse;
  /** Declared Content-Length, -1 when absent. */
  contentLength: number;
  /** Why Content-Length cannot be used, when it cannot. */
  lengthProblem: string | undefined;
  /** What §8.1.1 requires and is missing or repeated. */
  requiredProblem: string | undefined;
}

/**
 * Scans the start line and header block from src[pos]. Lines end in CRLF;
 * a bare LF is accepted too (be liberal: RFC 4475 has no test of it, and
 * stacks written against LF-only tools send it), a CR anywhere else is
 * refused: a downstream parser that breaks lines on it would see headers we
 * did not.
 */
function scanHead(src: string, pos: number, lim: Readonly<ParseLimits>): Head {
  const n = src.length;
  const maxLine = lim.maxHeaderLineBytes;
  const lf0 = src.indexOf("\n", pos);
  if (lf0 < 0) throw badRequest(n - pos > maxLine ? "Start line too long" : "Truncated message");
  const slEnd = lf0 > pos && src.charCodeAt(lf0 - 1) === 13 ? lf0 - 1 : lf0;
  if (slEnd - pos > maxLine) throw badRequest("Start line too long");
  let nextCr = src.indexOf("\r", pos);
  if (nextCr !== -1 && nextCr < slEnd) throw badRequest("Malformed start line");
  const msg = parseStartLine(src, pos, slEnd);
  const headers = msg._headers;
  let contentLength = -1;
  let lengthProblem: string | undefined;
  let via = 0;
  let from = 0;
  let to = 0;
  let callId = 0;
  let cseq = 0;
  let p = lf0 + 1;
  for (;;) {
    if (p >= n) throw badRequest("Truncated message");
    const first = src.charCodeAt(p);
    if (first === 10) {
      p += 1;
      break;
    }
    if (first === 13) {
      if (src.charCodeAt(p + 1) !== 10) throw badRequest("Malformed header line");
      p += 2;
      break;
    }
    // A continuation line right after the start line continues nothing.
    if (first === 32 || first === 9) throw badRequest("Malformed header line");
    const lineStart = p;
    // The logical line ends at the first LF not followed by SP or HTAB (§7.3.1 folding).
    let lf = src.indexOf("\n", p);
    let folded = false;
    for (;;) {
      if (lf < 0) throw badRequest(n - lineStart > maxLine ? "Header line too long" : "Truncated message");
      const c = src.charCodeAt(lf + 1);
      if (c !== 32 && c !== 9) break;
      folded = true;
      lf = src.indexOf("\n", lf + 1);
    }
    // Every CR before this LF must be followed by LF.
    while (nextCr !== -1 && nextCr < lf) {
      if (src.charCodeAt(nextCr + 1) !== 10) throw badRequest("Malformed header line");
      nextCr = src.indexOf("\r", nextCr + 2);
    }
    const lineEnd = src.charCodeAt(lf - 1) === 13 ? lf - 1 : lf;
    if (lineEnd - lineStart > maxLine) throw badRequest("Header line too long");
    // header-name HCOLON: a token, optional whitespace, ":".
    const colon = src.indexOf(":", lineStart);
    if (colon < 0 || colon >= lineEnd) throw badRequest("Malformed header line");
    let nameEnd = colon;
    while (nameEnd > lineStart && isLws(src.charCodeAt(nameEnd - 1))) nameEnd--;
    if (nameEnd === lineStart) throw badRequest("Malformed header line");
    let key = keyAt(src, lineStart, nameEnd);
    if (key === undefined) {
      if (scanToken(src, lineStart, nameEnd) !== nameEnd) throw badRequest("Malformed header line");
      key = src.slice(lineStart, nameEnd).toLowerCase();
    }
    // Usually exactly one SP after the colon and nothing at the end.
    let valueStart = colon + 1;
    if (valueStart < lineEnd && src.charCodeAt(valueStart) === 32) valueStart++;
    if (valueStart < lineEnd && isLws(src.charCodeAt(valueStart))) {
      while (valueStart < lineEnd && isLws(src.charCodeAt(valueStart))) valueStart++;
    }
    let valueEnd = lineEnd;
    if (valueEnd > valueStart && isLws(src.charCodeAt(valueEnd - 1))) {
      while (valueEnd > valueStart && isLws(src.charCodeAt(valueEnd - 1))) valueEnd--;
    }
    headers.push(
      new HeaderLine(key, src, lineStart, nameEnd, valueStart, valueEnd, lineEnd, folded, folded && hasBareLf(src, lineStart, lineEnd)),
    );
    if (headers.length > lim.maxHeaders) throw badRequest("Too many headers");
    if (key === "via") via++;
    else if (key === "from") from++;
    else if (key === "to") to++;
    else if (key === "call-id") callId++;
    else if (key === "cseq") cseq++;
    else if (key === "content-length") {
      // RFC 4475 §3.3.9 mcl01, §3.1.2.3 ncl.
      if (contentLength >= 0 || lengthProblem !== undefined) {
        lengthProblem = "Multiple Content-Length";
      } else {
        const line = headers[headers.length - 1]!;
        contentLength = folded ? parseUintAt(line.value, 0, line.value.length) : parseUintAt(src, valueStart, valueEnd);
        if (contentLength < 0) lengthProblem = "Malformed Content-Length";
      }
    }
    p = lf + 1;
  }
  msg._headEnd = p;
  // §8.1.1 (RFC 4475 §3.3.1 insuf, §3.3.8 multi01).
  const requiredProblem =
    via === 0 ? "Missing Via" :
    from === 0 ? "Missing From" :
    to === 0 ? "Missing To" :
    callId === 0 ? "Missing Call-ID" :
    cseq === 0 ? "Missing CSeq" :
    from > 1 ? "Multiple From" :
    to > 1 ? "Multiple To" :
    callId > 1 ? "Multiple Call-ID" :
    cseq > 1 ? "Multiple CSeq" :
    undefined;
  return { message: msg, contentLength, lengthProblem, requiredProblem };
}

function isLws(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** Unsigned decimal in s[from, to) up to 2^53-1; -1 when anything else. */
function parseUintAt(s: string, from: number, to: number): number {
  if (from === to) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
    if (v > Number.MAX_SAFE_INTEGER) return -1;
  }
  return v;
}

function hasBareLf(src: string, from: number, to: number): boolean {
  for (let i = src.indexOf("\n", from); i !== -1 && i < to; i = src.indexOf("\n", i + 1)) {
    if (src.charCodeAt(i - 1) !== 13) return true;
  }
  return false;
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version (§7.1)
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2)
 *
 * Exactly one SP between elements: extra or trailing whitespace (RFC 4475
 * §3.1.2.8-§3.1.2.10) and a Request-URI in <> (§3.1.2.7) are refused, which
 * the RFC deems reasonable and which keeps us from forwarding them.
 * @internal
 */
export function parseStartLine(src: string, s: number, e: number): SipRequest | SipResponse {
  if (e - s > 4 && isSipSlash(src, s)) {
    const sp = src.indexOf(" ", s);
    if (sp < 0 || sp + 4 > e || !isVersion(src, s, sp)) throw malformed("Status-Line");
    let status = 0;
    for (let i = sp + 1; i < sp + 4; i++) {
      const c = src.charCodeAt(i);
      if (c < 48 || c > 57) throw malformed("Status-Line");
      status = status * 10 + (c - 48);
    }
    // RFC 4475 §3.1.2.19 bigcode: a code is three digits, 100 to 699.
    if (status < 100 || status > 699) throw malformed("Status-Line");
    if (sp + 4 < e && src.charCodeAt(sp + 4) !== 32) throw malformed("Status-Line");
    // An empty Reason-Phrase is legal (RFC 4475 §3.1.1.13); so is none at all after the code, liberally.
    const reason = sp + 4 < e ? src.slice(sp + 5, e) : "";
    const version = sp - s === 7 && src.startsWith("SIP/2.0", s) ? "SIP/2.0" : src.slice(s, sp);
    return new SipResponse(src, s, e, version, status, reason);
  }
  const sp1 = src.indexOf(" ", s);
  if (sp1 <= s || sp1 >= e || scanToken(src, s, sp1) !== sp1) throw malformed("Request-Line");
  const sp2 = src.lastIndexOf(" ", e - 1);
  if (sp2 <= sp1 + 1 || !isVersion(src, sp2 + 1, e)) throw malformed("Request-Line");
  const requestUri = src.slice(sp1 + 1, sp2);
  if (!URI_SHAPE.test(requestUri)) throw malformed("Request-Line");
  const version = e - sp2 === 8 && src.startsWith("SIP/2.0", sp2 + 1) ? "SIP/2.0" : src.slice(sp2 + 1, e);
  return new SipRequest(src, s, e, src.slice(s, sp1), requestUri, version);
}

function isSipSlash(src: string, i: number): boolean {
  return (
    (src.charCodeAt(i) | 0x20) === 115 && (src.charCodeAt(i + 1) | 0x20) === 105 &&
    (src.charCodeAt(i + 2) | 0x20) === 112 && src.charCodeAt(i + 3) === 47
  );
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive, §7.1 ABNF). */
function isVersion(src: string, s: number, e: number): boolean {
  if (e - s < 7 || !isSipSlash(src, s)) return false;
  let i = s + 4;
  const major = i;
  while (i < e && src.charCodeAt(i) >= 48 && src.charCodeAt(i) <= 57) i++;
  if (i === major || i >= e || src.charCodeAt(i) !== 46) return false;
  i++;
  const minor = i;
  while (i < e && src.charCodeAt(i) >= 48 && src.charCodeAt(i) <= 57) i++;
  return i > minor && i === e;
}

/**
 * A cheap shape check of the Request-URI at framing time: a scheme, a colon,
 * and no character that cannot appear in any URI (whitespace, controls, "<",
 * ">", DQUOTE). The full parse is lazy (SipRequest.uri). Linear: the scheme
 * class excludes ":", so the match has one way to proceed.
 */
const URI_SHAPE = /^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f<>"]+$/;

/** The checks every message must pass, with the framed message as `partial`. */
function checkMessage(head: Head): void {
  const msg = head.message;
  if (head.requiredProblem !== undefined) throw new SipParseError(400, "Bad Request - " + head.requiredProblem, msg);
  if (msg instanceof SipRequest) {
    let method: string;
    try {
      method = msg.cseq.method;
    } catch (e) {
      throw withPartial(e, msg);
    }
    if (method !== msg.method) throw new SipParseError(400, "Bad Request - CSeq method mismatch", msg);
  }
}

function withPartial(e: unknown, msg: SipMessage): SipParseError {
  const err = e instanceof SipParseError ? e : badRequest("Malformed CSeq");
  err.partial = msg;
  return err;
}
