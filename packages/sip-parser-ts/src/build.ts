// Building messages: a UAS's response (RFC 3261 §8.2.6) and a UAC's request
// (§8.1.1). Both are written as text and framed by the parser, so a built
// message behaves exactly like a received one.

import { isToken } from "./char-classes.ts";
import { SipParseError } from "./errors.ts";
import type { ParseLimits } from "./limits.ts";
import type { SipRequest, SipResponse } from "./message.ts";
import { type NameAddr, parseNameAddr } from "./name-addr.ts";
import { parseText } from "./parse.ts";
import { reasonPhrase } from "./reason-phrases.ts";
import type { Uri } from "./uri.ts";
import { utf8Length } from "./utf8.ts";
import { type Via, parseVia } from "./via.ts";

/** What we build ourselves is not subject to the limits set for what we receive. */
const NO_LIMITS: Readonly<ParseLimits> = { maxMessageBytes: Infinity, maxHeaders: Infinity, maxHeaderLineBytes: Infinity };

export interface ResponseOptions {
  /** The To tag to add when the request's To has none (§8.2.6.2); random if omitted. */
  toTag?: string;
  /** Extra header lines, in order, after the ones §8.2.6 copies. */
  headers?: Array<[string, string]>;
  body?: string;
  contentType?: string;
}

/**
 * A response to `req` (§8.2.6): every Via in order, From, To, Call-ID and
 * CSeq copied as received; a To tag added to every response but 100 when
 * To has none (§8.2.6.2); Timestamp echoed in a 100 (§8.2.6.1). Record-Route
 * is a dialog matter (§12.1.1): pass it in `headers` for dialog-creating
 * responses.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, opts?: ResponseOptions): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new TypeError("invalid status code: " + status);
  const phrase = reason ?? reasonPhrase(status);
  checkText("reason phrase", phrase);
  let text = "SIP/2.0 " + status + " " + phrase + "\r\n";
  for (const h of req.headers) if (h.key === "via") text += "Via: " + h.value + "\r\n";
  let to = req.get("To") ?? "";
  if (status > 100 && req.to.tag === undefined) {
    const tag = opts?.toTag ?? randomToken(10);
    if (!isToken(tag)) throw new TypeError("invalid To tag: " + JSON.stringify(tag));
    to += ";tag=" + tag;
  }
  text += "From: " + (req.get("From") ?? "") + "\r\n";
  text += "To: " + to + "\r\n";
  text += "Call-ID: " + (req.get("Call-ID") ?? "") + "\r\n";
  text += "CSeq: " + (req.get("CSeq") ?? "") + "\r\n";
  if (status === 100) {
    const timestamp = req.get("Timestamp");
    if (timestamp !== undefined) text += "Timestamp: " + timestamp + "\r\n";
  }
  text += extraHeaders(opts?.headers);
  return finish(text, opts?.body, opts?.contentType) as SipResponse;
}

export interface RequestOptions {
  method: string;
  uri: string | Uri;
  from: string | NameAddr;
  to: string | NameAddr;
  callId: string;
  /** The CSeq number; the CSeq method is `method` (§8.1.1.5). */
  cseq: number;
  /**
   * Via values, top first. A value without branch gets a fresh RFC 3261
   * branch (§8.1.1.7). Omit to let the transport add the Via.
   */
  via?: string | Via | Array<string | Via>;
  /** Default 70 (§8.1.1.6). */
  maxForwards?: number;
  contact?: string | NameAddr | Array<string | NameAddr>;
  headers?: Array<[string, string]>;
  body?: string;
  contentType?: string;
}

/**
 * A request (§8.1.1) with To, From (given a tag if it has none, §8.1.1.3),
 * Call-ID, CSeq, Max-Forwards, and optionally Via and Contact.
 */
export function createRequest(opts: RequestOptions): SipRequest {
  if (!isToken(opts.method)) throw new TypeError("invalid method: " + JSON.stringify(opts.method));
  if (!Number.isInteger(opts.cseq) || opts.cseq < 0 || opts.cseq > 0x7fffffff) throw new TypeError("invalid CSeq number: " + opts.cseq);
  const maxForwards = opts.maxForwards ?? 70;
  if (!Number.isInteger(maxForwards) || maxForwards < 0 || maxForwards > 255) throw new TypeError("invalid Max-Forwards: " + maxForwards);
  const uri = String(opts.uri);
  checkText("Request-URI", uri);
  let text = opts.method + " " + uri + " SIP/2.0\r\n";
  const vias = opts.via === undefined ? [] : Array.isArray(opts.via) ? opts.via : [opts.via];
  for (const v of vias) {
    let via: Via;
    try {
      via = typeof v === "string" ? parseVia(v) : v;
    } catch {
      throw new TypeError("invalid Via: " + JSON.stringify(String(v)));
    }
    let value = String(via);
    checkText("Via", value);
    if (via.branch === undefined) value += ";branch=" + newBranch();
    text += "Via: " + value + "\r\n";
  }
  text += "Max-Forwards: " + maxForwards + "\r\n";
  text += "To: " + nameAddrText("To", opts.to) + "\r\n";
  const from = toNameAddr("From", opts.from);
  text += "From: " + String(from) + (from.tag === undefined ? ";tag=" + randomToken(10) : "") + "\r\n";
  checkText("Call-ID", opts.callId);
  text += "Call-ID: " + opts.callId + "\r\n";
  text += "CSeq: " + opts.cseq + " " + opts.method + "\r\n";
  const contacts = opts.contact === undefined ? [] : Array.isArray(opts.contact) ? opts.contact : [opts.contact];
  for (const c of contacts) text += "Contact: " + nameAddrText("Contact", c) + "\r\n";
  text += extraHeaders(opts.headers);
  return finish(text, opts.body, opts.contentType) as SipRequest;
}

/**
 * `len` characters from [0-9A-Za-z], cryptographically random (§19.3 asks
 * tags to have at least 32 bits of randomness: 6 characters give 35).
 */
export function randomToken(len: number): string {
  const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let out = "";
  const bytes = new Uint8Array(Math.max(len, 8) * 2);
  while (out.length < len) {
    crypto.getRandomValues(bytes);
    for (let i = 0; i < bytes.length && out.length < len; i++) {
      // 248 = 4 * 62: drop the rest so every character is equally likely.
      if (bytes[i]! < 248) out += ALPHABET[bytes[i]! % 62];
    }
  }
  return out;
}

/** A branch for a new client transaction: the RFC 3261 magic cookie "z9hG4bK" and 16 random characters (§8.1.1.7). */
export function newBranch(): string {
  return "z9hG4bK" + randomToken(16);
}

function finish(text: string, body: string | undefined, contentType: string | undefined): SipRequest | SipResponse {
  const content = body ?? "";
  if (content !== "" && contentType !== undefined) {
    checkText("Content-Type", contentType);
    text += "Content-Type: " + contentType + "\r\n";
  }
  text += "Content-Length: " + utf8Length(content) + "\r\n\r\n" + content;
  try {
    return parseText(text, NO_LIMITS, false);
  } catch (e) {
    // Only what the caller gave us can fail to parse; say which message.
    if (e instanceof SipParseError) throw new TypeError("cannot build message: " + e.reason);
    throw e;
  }
}

function extraHeaders(headers: Array<[string, string]> | undefined): string {
  let text = "";
  if (headers === undefined) return text;
  for (const [name, value] of headers) {
    if (!isToken(name)) throw new TypeError("invalid header name: " + JSON.stringify(name));
    checkText(name, value);
    text += name + ": " + value + "\r\n";
  }
  return text;
}

function toNameAddr(what: string, v: string | NameAddr): NameAddr {
  if (typeof v !== "string") return v;
  try {
    return parseNameAddr(v);
  } catch {
    throw new TypeError("invalid " + what + ": " + JSON.stringify(v));
  }
}

function nameAddrText(what: string, v: string | NameAddr): string {
  const text = String(toNameAddr(what, v));
  checkText(what, text);
  return text;
}

/** A CR or LF would end the line and start a header of the caller's making. */
function checkText(what: string, s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13 || c === 10 || c === 0) throw new TypeError("invalid " + what + ": contains CR, LF or NUL");
  }
}
