// SIP messages (RFC 3261 §7). A parsed message is a view of its text: the
// start line, an ordered list of header field lines (each remembering where
// it was in the text), and the body. Typed accessors parse a header the first
// time they are asked and cache the result; any change clears the cache.
// Serializing a message nobody changed returns the text it was parsed from;
// after a change, the header block is rebuilt from the lines, untouched lines
// keeping their original text (README "Byte-exact").
//
// Objects handed out by accessors (Via, NameAddr, ...) are parsed copies:
// changing one does not change the message. Write it back with set(),
// prepend() or append().

import { isToken, scanWord } from "./char-classes.ts";
import { type Contact, parseContactAt } from "./contact.ts";
import { parseMediaType } from "./content-type.ts";
import { type CSeq, type RAck, parseCSeqAt, parseRAck } from "./cseq.ts";
import { type AuthHeader, parseAuthHeader } from "./digest/auth-header.ts";
import { badRequest, malformed } from "./errors.ts";
import { type EventHeader, parseEvent } from "./event.ts";
import { type HeaderField, HeaderLine } from "./header-line.ts";
import { canonicalHeaderName, headerKey } from "./header-names.ts";
import { NO_URI, NameAddr, parseNameAddrAt } from "./name-addr.ts";
import { type ReferTo, parseReferTo } from "./refer-to.ts";
import { MAX_UINT32, parseUint } from "./scalars.ts";
import { type SessionExpires, parseMinSE, parseSessionExpires } from "./session-timer.ts";
import { elementEnd, isListHeader, splitHeaderValues } from "./split.ts";
import { type Uri, parseUriAs } from "./uri.ts";
import { concatBytes, decodeUtf8, encodeUtf8, utf8Length } from "./utf8.ts";
import { type Via, parseViaAt } from "./via.ts";

export type { HeaderField };

/** Cached accessor results; null records "header absent". */
class AccessorCache {
  declare uri: Uri | undefined;
  declare vias: Via[] | undefined;
  declare topVia: Via | undefined;
  declare from: NameAddr | undefined;
  declare to: NameAddr | undefined;
  declare callId: string | undefined;
  declare cseq: CSeq | undefined;
  declare maxForwards: number | null | undefined;
  declare contacts: Contact[] | "*" | undefined;
  declare routes: NameAddr[] | undefined;
  declare recordRoutes: NameAddr[] | undefined;
  declare paths: NameAddr[] | undefined;
  declare expires: number | null | undefined;
  declare minExpires: number | null | undefined;
  declare authorization: AuthHeader[] | undefined;
  declare proxyAuthorization: AuthHeader[] | undefined;
  declare wwwAuthenticate: AuthHeader[] | undefined;
  declare proxyAuthenticate: AuthHeader[] | undefined;
  declare contentType: string | null | undefined;
  declare supported: string[] | undefined;
  declare require: string[] | undefined;
  declare proxyRequire: string[] | undefined;
  declare allow: string[] | undefined;
  declare unsupported: string[] | undefined;
  declare sessionExpires: SessionExpires | null | undefined;
  declare minSE: number | null | undefined;
  declare rseq: number | null | undefined;
  declare rack: RAck | null | undefined;
  declare event: EventHeader | null | undefined;
  declare referTo: ReferTo | null | undefined;
  declare flowTimer: number | null | undefined;

  constructor() {
    this.uri = undefined;
    this.vias = undefined;
    this.topVia = undefined;
    this.from = undefined;
    this.to = undefined;
    this.callId = undefined;
    this.cseq = undefined;
    this.maxForwards = undefined;
    this.contacts = undefined;
    this.routes = undefined;
    this.recordRoutes = undefined;
    this.paths = undefined;
    this.expires = undefined;
    this.minExpires = undefined;
    this.authorization = undefined;
    this.proxyAuthorization = undefined;
    this.wwwAuthenticate = undefined;
    this.proxyAuthenticate = undefined;
    this.contentType = undefined;
    this.supported = undefined;
    this.require = undefined;
    this.proxyRequire = undefined;
    this.allow = undefined;
    this.unsupported = undefined;
    this.sessionExpires = undefined;
    this.minSE = undefined;
    this.rseq = undefined;
    this.rack = undefined;
    this.event = undefined;
    this.referTo = undefined;
    this.flowTimer = undefined;
  }
}

export abstract class SipMessage {
  /** @internal text holding the start line and header block (and, for text input, the body) */
  declare _src: string;
  /** @internal start line in _src */
  declare _slStart: number;
  /** @internal */
  declare _slEnd: number;
  /** @internal index in _src just past the empty line ending the header block */
  declare _headEnd: number;
  /** @internal index in _src where the message ends (text input) */
  declare _rawEnd: number;
  /** @internal */
  declare _headers: HeaderLine[];
  /** @internal the body as text, when known */
  declare _body: string | undefined;
  /** @internal the body as octets, when known */
  declare _bodyBytes: Uint8Array | undefined;
  /** @internal the message octets as received (octet input) */
  declare _bytes: Uint8Array | undefined;
  /** @internal where the body starts in _bytes */
  declare _bodyOffset: number;
  /** @internal */
  declare _headChanged: boolean;
  /** @internal */
  declare _startLineChanged: boolean;
  /** @internal */
  declare _bodyChanged: boolean;
  /** @internal */
  declare _c: AccessorCache | undefined;
  /** @internal */
  declare _rawText: string | undefined;
  /** @internal */
  declare _version: string;

  /** @internal Messages come from parseMessage, createRequest and createResponse. */
  constructor(src: string, slStart: number, slEnd: number, version: string) {
    this._headEnd = 0;
    this._rawEnd = 0;
    this._headers = [];
    this._body = undefined;
    this._bodyBytes = undefined;
    this._bytes = undefined;
    this._bodyOffset = 0;
    this._headChanged = false;
    this._startLineChanged = false;
    this._bodyChanged = false;
    this._c = undefined;
    this._rawText = undefined;
    this._src = src;
    this._slStart = slStart;
    this._slEnd = slEnd;
    this._version = version;
  }

  /** "SIP/2.0". Another version is not a parse error: answering 505 (§21.5.7) is the caller's call. */
  get version(): string {
    return this._version;
  }

  /**
   * The message as received: start line through the end of the body (CRLFs
   * before the start line and octets after the body in a datagram, which
   * §7.5 and §18.3 say to ignore, are not part of it).
   */
  get raw(): string {
    if (this._rawText !== undefined) return this._rawText;
    const src = this._src;
    if (this._bytes !== undefined) {
      this._rawText = src.slice(this._slStart, this._headEnd) + decodeUtf8(this._bytes.subarray(this._bodyOffset));
    } else {
      this._rawText = this._slStart === 0 && this._rawEnd === src.length ? src : src.slice(this._slStart, this._rawEnd);
    }
    return this._rawText;
  }

  /** The header field lines in order. */
  get headers(): readonly HeaderField[] {
    return this._headers;
  }

  // ---- generic header access ---------------------------------------------

  /** The value of the first line of a header (any name form: "v", "Via", "VIA"), as written. */
  get(name: string): string | undefined {
    return this._line(headerKey(name))?.value;
  }

  /**
   * Every value of a header across its lines; list-valued headers (split.ts)
   * are split on their separating commas, and empty elements dropped.
   */
  getAll(name: string): string[] {
    const key = headerKey(name);
    if (!isListHeader(key)) {
      const out: string[] = [];
      for (const h of this._headers) if (h.key === key) out.push(h.value);
      return out;
    }
    return this._elements(key).filter((v) => v !== "");
  }

  has(name: string): boolean {
    return this._line(headerKey(name)) !== undefined;
  }

  /** Replaces every line of the header with one line, where the first one was (else at the end). */
  set(name: string, value: string | { toString(): string }): this {
    const line = newLine(name, value);
    const kept: HeaderLine[] = [];
    let at = -1;
    for (const h of this._headers) {
      if (h.key === line.key) {
        if (at < 0) at = kept.length;
      } else {
        kept.push(h);
      }
    }
    kept.splice(at < 0 ? kept.length : at, 0, line);
    this._headers = kept;
    this._touch();
    return this;
  }

  /** Adds a line after the last line of the same header (else at the end). */
  append(name: string, value: string | { toString(): string }): this {
    const line = newLine(name, value);
    const hs = this._headers;
    let at = hs.length;
    for (let i = hs.length - 1; i >= 0; i--) {
      if (hs[i]!.key === line.key) {
        at = i + 1;
        break;
      }
    }
    hs.splice(at, 0, line);
    this._touch();
    return this;
  }

  /**
   * Adds a line before the first line of the same header (else first of all):
   * the place of a proxy's Via (§16.6 step 8) or Record-Route (§16.6 step 4).
   */
  prepend(name: string, value: string | { toString(): string }): this {
    const line = newLine(name, value);
    const hs = this._headers;
    let at = 0;
    for (let i = 0; i < hs.length; i++) {
      if (hs[i]!.key === line.key) {
        at = i;
        break;
      }
    }
    hs.splice(at, 0, line);
    this._touch();
    return this;
  }

  /** Removes every line of the header; true if there was one. */
  remove(name: string): boolean {
    const key = headerKey(name);
    const before = this._headers.length;
    this._headers = this._headers.filter((h) => h.key !== key);
    if (this._headers.length === before) return false;
    this._touch();
    return true;
  }

  /**
   * Removes the topmost value of a header and returns it: the whole first
   * line, or for a list header its first comma-separated element (a proxy
   * removing its Via from a response, §16.7 step 3, or a Route it consumed,
   * §16.4).
   */
  removeFirst(name: string): string | undefined {
    const key = headerKey(name);
    const hs = this._headers;
    const i = hs.findIndex((h) => h.key === key);
    if (i < 0) return undefined;
    const line = hs[i]!;
    const values = isListHeader(key) ? splitHeaderValues(line.value) : [line.value];
    const first = values.shift()!;
    if (values.length === 0) hs.splice(i, 1);
    else hs[i] = HeaderLine.created(line.name, key, values.join(", "));
    this._touch();
    return first;
  }

  // ---- body --------------------------------------------------------------

  /** The body as text (UTF-8 decoded; invalid octets become U+FFFD). */
  get body(): string {
    return (this._body ??= decodeUtf8(this._bodyBytes!));
  }

  /** The body as octets, exactly as received when the message was parsed from octets. */
  get bodyBytes(): Uint8Array {
    return (this._bodyBytes ??= encodeUtf8(this._body!));
  }

  /** Body length in octets (§20.14), what Content-Length says once serialized. */
  get contentLength(): number {
    return this._bodyBytes !== undefined ? this._bodyBytes.length : utf8Length(this._body!);
  }

  /**
   * Replaces the body and sets Content-Length to its length in octets. With
   * a contentType, sets Content-Type; with an empty body and none, removes
   * Content-Type (it would describe a body that is gone).
   */
  setBody(body: string | Uint8Array, contentType?: string): this {
    if (typeof body === "string") {
      this._body = body;
      this._bodyBytes = undefined;
    } else {
      this._bodyBytes = body;
      this._body = undefined;
    }
    this._bodyChanged = true;
    const length = this.contentLength;
    this.set("Content-Length", String(length));
    if (contentType !== undefined) this.set("Content-Type", contentType);
    else if (length === 0) this.remove("Content-Type");
    return this;
  }

  // ---- serialization ------------------------------------------------------

  /** The message text: exactly as received if unchanged, else rebuilt with a correct Content-Length. */
  toString(): string {
    if (!this._headChanged && !this._bodyChanged) return this.raw;
    return this._head() + this.body;
  }

  /** The message octets: exactly as received if unchanged (binary bodies included). */
  toBytes(): Uint8Array {
    if (!this._headChanged && !this._bodyChanged) return this._bytes ?? encodeUtf8(this.raw);
    if (this._bodyBytes === undefined) return encodeUtf8(this._head() + this._body!);
    return concatBytes(encodeUtf8(this._head()), this._bodyBytes);
  }

  /** @internal */
  abstract _startLine(): string;

  /** @internal start line and header block, with the empty line */
  _head(): string {
    const src = this._src;
    let out = (this._startLineChanged ? this._startLine() : src.slice(this._slStart, this._slEnd)) + "\r\n";
    const length = String(this.contentLength);
    let sawLength = false;
    for (const h of this._headers) {
      if (h.key === "content-length") {
        sawLength = true;
        if (h.value !== length) {
          out += h.name + ": " + length + "\r\n";
          continue;
        }
      }
      if (h._start >= 0) {
        const text = h._src.slice(h._start, h._end);
        out += (h._bareLf ? text.replace(/\r?\n/g, "\r\n") : text) + "\r\n";
      } else {
        out += h.name + ": " + h.value + "\r\n";
      }
    }
    // Streams need it (§18.3), and a rebuilt message should say what it carries.
    if (!sawLength) out += "Content-Length: " + length + "\r\n";
    return out + "\r\n";
  }

  /** @internal */
  _touch(): void {
    this._headChanged = true;
    this._c = undefined;
  }

  // ---- lookups -------------------------------------------------------------

  /** @internal */
  _cache(): AccessorCache {
    return (this._c ??= new AccessorCache());
  }

  /** @internal first line of a header */
  _line(key: string): HeaderLine | undefined {
    const hs = this._headers;
    for (let i = 0; i < hs.length; i++) if (hs[i]!.key === key) return hs[i];
    return undefined;
  }

  /** @internal the line of a single-valued header; two lines are malformed (RFC 4475 §3.3.8 multi01) */
  _only(key: string, what: string): HeaderLine | undefined {
    const hs = this._headers;
    let found: HeaderLine | undefined;
    for (let i = 0; i < hs.length; i++) {
      if (hs[i]!.key === key) {
        if (found !== undefined) throw badRequest("Multiple " + what);
        found = hs[i];
      }
    }
    return found;
  }

  /** @internal */
  _required(key: string, what: string): HeaderLine {
    // Parsing made sure From, To, Call-ID and CSeq appear once; until the
    // headers change, the first line is the only one.
    const h = this._headChanged ? this._only(key, what) : this._line(key);
    if (h === undefined) throw badRequest("Missing " + what);
    return h;
  }

  /** @internal elements of a list header across its lines, empty ones kept */
  _elements(key: string): string[] {
    let out: string[] | undefined;
    for (const h of this._headers) {
      if (h.key !== key) continue;
      const values = splitHeaderValues(h.value);
      if (out === undefined) out = values;
      else for (const v of values) out.push(v);
    }
    return out ?? [];
  }

  /** @internal */
  _nameAddrs(key: string, what: string): NameAddr[] {
    const out: NameAddr[] = [];
    for (const v of this._elements(key)) out.push(parseNameAddrAt(new NameAddr(NO_URI), v, 0, v.length, what));
    return out;
  }

  /** @internal option-tags and methods: tokens, empty list allowed */
  _tokens(key: string, what: string): string[] {
    const out: string[] = [];
    for (const v of this._elements(key)) {
      if (v === "") continue;
      if (!isToken(v)) throw malformed(what);
      out.push(v);
    }
    return out;
  }

  /** @internal */
  _uint(key: string, what: string, max: number): number | null {
    const h = this._only(key, what);
    if (h === undefined) return null;
    const n = parseUint(h.value, max);
    if (n < 0) throw malformed(what);
    return n;
  }

  /** @internal one parsed value per line; whatever the digest parser throws becomes a 400 naming the header */
  _auth(key: string, what: string): AuthHeader[] {
    const out: AuthHeader[] = [];
    for (const h of this._headers) {
      if (h.key !== key) continue;
      try {
        out.push(parseAuthHeader(h.value));
      } catch {
        throw malformed(what);
      }
    }
    return out;
  }

  // ---- typed accessors -------------------------------------------------------

  /** Every Via value, top first (§20.42). Missing Via is malformed. */
  get vias(): Via[] {
    const c = this._cache();
    if (c.vias === undefined) {
      const values = this._elements("via");
      if (values.length === 0) throw badRequest("Missing Via");
      const vias: Via[] = [];
      for (const v of values) vias.push(parseViaAt(v, 0, v.length, "Via"));
      // topVia and vias[0] are one object, whichever was asked for first.
      if (c.topVia !== undefined) vias[0] = c.topVia;
      c.vias = vias;
    }
    return c.vias;
  }

  /** The topmost Via, parsed without parsing the others. */
  get topVia(): Via {
    const c = this._cache();
    if (c.topVia === undefined) {
      if (c.vias !== undefined) {
        c.topVia = c.vias[0]!;
      } else {
        const line = this._line("via");
        if (line === undefined) throw badRequest("Missing Via");
        const v = line.value;
        c.topVia = parseViaAt(v, 0, elementEnd(v, 0), "Via");
      }
    }
    return c.topVia;
  }

  get from(): NameAddr {
    const c = this._cache();
    if (c.from === undefined) {
      const h = this._required("from", "From")._flat();
      c.from = parseNameAddrAt(new NameAddr(NO_URI), h._vs, h._va, h._vb, "From");
    }
    return c.from;
  }

  get to(): NameAddr {
    const c = this._cache();
    if (c.to === undefined) {
      const h = this._required("to", "To")._flat();
      c.to = parseNameAddrAt(new NameAddr(NO_URI), h._vs, h._va, h._vb, "To");
    }
    return c.to;
  }

  /** callid = word [ "@" word ] (§25.1). */
  get callId(): string {
    const c = this._cache();
    if (c.callId === undefined) {
      const h = this._required("call-id", "Call-ID");
      const value = h.value;
      if (!isCallId(value)) throw malformed("Call-ID");
      c.callId = value;
    }
    return c.callId;
  }

  get cseq(): CSeq {
    const c = this._cache();
    if (c.cseq === undefined) {
      const h = this._required("cseq", "CSeq")._flat();
      c.cseq = parseCSeqAt(h._vs, h._va, h._vb, "CSeq");
    }
    return c.cseq;
  }

  /** 0-255 (§20.22); absent is not an error (§16.3 step 2 lets a proxy add it). */
  get maxForwards(): number | undefined {
    const c = this._cache();
    if (c.maxForwards === undefined) c.maxForwards = this._uint("max-forwards", "Max-Forwards", 255);
    return c.maxForwards ?? undefined;
  }

  /** Every Contact value, or "*" for the wildcard of a REGISTER (§10.2.2); [] when absent. */
  get contacts(): Contact[] | "*" {
    const c = this._cache();
    if (c.contacts === undefined) {
      const values = this._elements("contact");
      if (values.length === 1 && values[0] === "*") {
        c.contacts = "*";
      } else {
        const contacts: Contact[] = [];
        // "*" only stands alone (§20.10: STAR / contact-param list).
        for (const v of values) {
          if (v === "*") throw malformed("Contact");
          contacts.push(parseContactAt(v, 0, v.length));
        }
        c.contacts = contacts;
      }
    }
    return c.contacts;
  }

  get routes(): NameAddr[] {
    const c = this._cache();
    return (c.routes ??= this._nameAddrs("route", "Route"));
  }

  get recordRoutes(): NameAddr[] {
    const c = this._cache();
    return (c.recordRoutes ??= this._nameAddrs("record-route", "Record-Route"));
  }

  /** Path (RFC 3327). */
  get paths(): NameAddr[] {
    const c = this._cache();
    return (c.paths ??= this._nameAddrs("path", "Path"));
  }

  /** delta-seconds, 0 to 2^32-1 (§20.19). */
  get expires(): number | undefined {
    const c = this._cache();
    if (c.expires === undefined) c.expires = this._uint("expires", "Expires", MAX_UINT32);
    return c.expires ?? undefined;
  }

  get minExpires(): number | undefined {
    const c = this._cache();
    if (c.minExpires === undefined) c.minExpires = this._uint("min-expires", "Min-Expires", MAX_UINT32);
    return c.minExpires ?? undefined;
  }

  /** One parsed value per Authorization line (§20.7). */
  get authorization(): AuthHeader[] {
    const c = this._cache();
    return (c.authorization ??= this._auth("authorization", "Authorization"));
  }

  get proxyAuthorization(): AuthHeader[] {
    const c = this._cache();
    return (c.proxyAuthorization ??= this._auth("proxy-authorization", "Proxy-Authorization"));
  }

  get wwwAuthenticate(): AuthHeader[] {
    const c = this._cache();
    return (c.wwwAuthenticate ??= this._auth("www-authenticate", "WWW-Authenticate"));
  }

  get proxyAuthenticate(): AuthHeader[] {
    const c = this._cache();
    return (c.proxyAuthenticate ??= this._auth("proxy-authenticate", "Proxy-Authenticate"));
  }

  /** The media type, lowercased, without parameters: "application/sdp". */
  get contentType(): string | undefined {
    const c = this._cache();
    if (c.contentType === undefined) {
      const h = this._only("content-type", "Content-Type");
      c.contentType = h === undefined ? null : parseMediaType(h.value);
    }
    return c.contentType ?? undefined;
  }

  get supported(): string[] {
    const c = this._cache();
    return (c.supported ??= this._tokens("supported", "Supported"));
  }

  get require(): string[] {
    const c = this._cache();
    return (c.require ??= this._tokens("require", "Require"));
  }

  get proxyRequire(): string[] {
    const c = this._cache();
    return (c.proxyRequire ??= this._tokens("proxy-require", "Proxy-Require"));
  }

  get allow(): string[] {
    const c = this._cache();
    return (c.allow ??= this._tokens("allow", "Allow"));
  }

  get unsupported(): string[] {
    const c = this._cache();
    return (c.unsupported ??= this._tokens("unsupported", "Unsupported"));
  }

  /** Session-Expires (RFC 4028 §4). */
  get sessionExpires(): SessionExpires | undefined {
    const c = this._cache();
    if (c.sessionExpires === undefined) {
      const h = this._only("session-expires", "Session-Expires");
      c.sessionExpires = h === undefined ? null : parseSessionExpires(h.value);
    }
    return c.sessionExpires ?? undefined;
  }

  /** Min-SE (RFC 4028 §5). */
  get minSE(): number | undefined {
    const c = this._cache();
    if (c.minSE === undefined) {
      const h = this._only("min-se", "Min-SE");
      c.minSE = h === undefined ? null : parseMinSE(h.value);
    }
    return c.minSE ?? undefined;
  }

  /** RSeq, 1 to 2^32-1 (RFC 3262 §7.1). */
  get rseq(): number | undefined {
    const c = this._cache();
    if (c.rseq === undefined) {
      const n = this._uint("rseq", "RSeq", MAX_UINT32);
      if (n === 0) throw malformed("RSeq");
      c.rseq = n;
    }
    return c.rseq ?? undefined;
  }

  /** RAck (RFC 3262 §7.2). */
  get rack(): RAck | undefined {
    const c = this._cache();
    if (c.rack === undefined) {
      const h = this._only("rack", "RAck");
      c.rack = h === undefined ? null : parseRAck(h.value);
    }
    return c.rack ?? undefined;
  }

  /** Event (RFC 6665 §8.2.1). */
  get event(): EventHeader | undefined {
    const c = this._cache();
    if (c.event === undefined) {
      const h = this._only("event", "Event");
      c.event = h === undefined ? null : parseEvent(h.value);
    }
    return c.event ?? undefined;
  }

  /** Refer-To (RFC 3515 §2.1) with the Replaces it carries (RFC 3891). */
  get referTo(): ReferTo | undefined {
    const c = this._cache();
    if (c.referTo === undefined) {
      const h = this._only("refer-to", "Refer-To");
      c.referTo = h === undefined ? null : parseReferTo(h.value);
    }
    return c.referTo ?? undefined;
  }

  /** Flow-Timer (RFC 5626 §10.4): seconds between keep-alives the registrar expects. */
  get flowTimer(): number | undefined {
    const c = this._cache();
    if (c.flowTimer === undefined) c.flowTimer = this._uint("flow-timer", "Flow-Timer", MAX_UINT32);
    return c.flowTimer ?? undefined;
  }
}

export class SipRequest extends SipMessage {
  /** @internal */
  declare _method: string;
  /** @internal */
  declare _requestUri: string;

  /** @internal */
  constructor(src: string, slStart: number, slEnd: number, method: string, requestUri: string, version: string) {
    super(src, slStart, slEnd, version);
    this._method = method;
    this._requestUri = requestUri;
  }

  /** Case-sensitive token (§7.1): "INVITE", or any extension method. */
  get method(): string {
    return this._method;
  }

  /** The Request-URI as written. */
  get requestUri(): string {
    return this._requestUri;
  }

  /** The Request-URI, parsed; throws SipParseError "Bad Request - Malformed Request-URI". */
  get uri(): Uri {
    const c = this._cache();
    return (c.uri ??= parseUriAs(this._requestUri, "Request-URI"));
  }

  /** Replaces the Request-URI (a proxy retargeting, §16.5 / §16.6 step 2). */
  setUri(uri: string | Uri): this {
    const text = typeof uri === "string" ? uri : uri.toString();
    try {
      parseUriAs(text, "Request-URI");
    } catch {
      throw new TypeError("invalid Request-URI: " + JSON.stringify(text));
    }
    this._requestUri = text;
    this._startLineChanged = true;
    this._touch();
    return this;
  }

  /** @internal */
  _startLine(): string {
    return this._method + " " + this._requestUri + " " + this._version;
  }
}

export class SipResponse extends SipMessage {
  /** @internal */
  declare _status: number;
  /** @internal */
  declare _reason: string;

  /** @internal */
  constructor(src: string, slStart: number, slEnd: number, version: string, status: number, reason: string) {
    super(src, slStart, slEnd, version);
    this._status = status;
    this._reason = reason;
  }

  /** 100-699 */
  get status(): number {
    return this._status;
  }

  /** Reason-Phrase, possibly empty (RFC 4475 §3.1.1.13). */
  get reason(): string {
    return this._reason;
  }

  /** @internal */
  _startLine(): string {
    return this._version + " " + this._status + " " + this._reason;
  }
}

function newLine(name: string, value: string | { toString(): string }): HeaderLine {
  if (!isToken(name)) throw new TypeError("invalid header name: " + JSON.stringify(name));
  const text = typeof value === "string" ? value : String(value);
  // A CR or LF would end the line and inject headers of its own; NUL is cut
  // short by C parsers downstream.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 || c === 10 || c === 0) throw new TypeError("invalid header value for " + name);
  }
  return HeaderLine.created(canonicalHeaderName(name), headerKey(name), text.trim());
}

/** callid = word [ "@" word ] */
function isCallId(s: string): boolean {
  const n = s.length;
  let i = scanWord(s, 0, n);
  if (i === 0) return false;
  if (i === n) return true;
  if (s.charCodeAt(i) !== 64 /* @ */) return false;
  const j = scanWord(s, i + 1, n);
  return j === n && j > i + 1;
}
