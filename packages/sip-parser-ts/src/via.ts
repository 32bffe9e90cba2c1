// Via (RFC 3261 §20.42, grammar §25.1):
//
//   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
//   sent-protocol = protocol-name SLASH protocol-version SLASH transport
//   sent-by = host [ COLON port ]
//
// SLASH and COLON allow whitespace around them ("SIP  /   2.0 /UDP" in
// RFC 4475 §3.1.1.1). received may hold an IPv6 address with or without
// brackets (RFC 5118 §4.5), rport may have no value (RFC 3581 §3).

import { scanToken, skipWsp, trimWspEnd } from "./char-classes.ts";
import { malformed } from "./errors.ts";
import { isHost, isIPv4, isIPv6, readHost } from "./host.ts";
import { type ParamList, Parameterized, formatParams, parseHeaderParams, sameParams } from "./params.ts";
import { parseUint } from "./scalars.ts";

export interface ViaInit {
  protocolName?: string;
  protocolVersion?: string;
  transport: string;
  host: string;
  port?: number;
  params?: Iterable<readonly [string, string | null]>;
}

export class Via extends Parameterized {
  /** "SIP" */
  declare protocolName: string;
  /** "2.0" */
  declare protocolVersion: string;
  /** Uppercased: "UDP", "TCP", "TLS", "SCTP", "WS", "WSS", or any token (RFC 4475 §3.1.1.10). */
  declare transport: string;
  /** sent-by host; an IPv6 reference keeps its brackets. */
  declare host: string;
  declare port: number | undefined;
  /** @internal */
  declare _raw: string | undefined;

  constructor(init?: ViaInit) {
    super();
    this.protocolName = "SIP";
    this.protocolVersion = "2.0";
    this.transport = "UDP";
    this.host = "";
    this.port = undefined;
    this._raw = undefined;
    if (init === undefined) return;
    if (init.protocolName !== undefined) this.protocolName = init.protocolName;
    if (init.protocolVersion !== undefined) this.protocolVersion = init.protocolVersion;
    this.transport = init.transport.toUpperCase();
    this.host = init.host;
    this.port = init.port;
    if (init.params !== undefined) this.params = new Map(init.params);
  }

  /** The transaction's branch (§8.1.1.7); RFC 3261 branches start with "z9hG4bK". */
  get branch(): string | undefined {
    return this._param("branch") ?? undefined;
  }
  set branch(v: string | undefined) {
    setParam(this, "branch", v);
  }

  /** Source address the server saw, added by it (§18.2.1). */
  get received(): string | undefined {
    return this._param("received") ?? undefined;
  }
  set received(v: string | undefined) {
    setParam(this, "received", v);
  }

  /**
   * RFC 3581: `true` when the client asks for the source port (rport without
   * value), the port once a server filled it in, undefined when absent.
   */
  get rport(): number | true | undefined {
    const v = this._param("rport");
    if (v === undefined) return undefined;
    if (v === null) return true;
    const port = parseUint(v, 65535);
    if (port < 0) throw malformed("Via");
    return port;
  }
  set rport(v: number | true | undefined) {
    if (v === undefined) this.params.delete("rport");
    else this.params.set("rport", v === true ? null : String(v));
  }

  get maddr(): string | undefined {
    return this._param("maddr") ?? undefined;
  }

  get ttl(): number | undefined {
    const v = this._param("ttl");
    if (v === undefined) return undefined;
    const ttl = v === null ? -1 : parseUint(v, 255);
    if (ttl < 0) throw malformed("Via");
    return ttl;
  }

  override toString(): string {
    if (this._raw !== undefined) {
      const o = parseViaAt(this._raw, 0, this._raw.length, "Via");
      if (
        o.protocolName === this.protocolName && o.protocolVersion === this.protocolVersion &&
        o.transport === this.transport && o.host === this.host && o.port === this.port &&
        sameParams(o.params, this.params)
      ) {
        return this._raw;
      }
    }
    const port = this.port === undefined ? "" : ":" + this.port;
    return this.protocolName + "/" + this.protocolVersion + "/" + this.transport + " " + this.host + port + formatParams(this.params);
  }
}

function setParam(via: Via, name: string, v: string | undefined): void {
  if (v === undefined) via.params.delete(name);
  else via.params.set(name, v);
}

/** Parses one via-parm; throws SipParseError 400 "Bad Request - Malformed Via". */
export function parseVia(value: string): Via {
  return parseViaAt(value, 0, value.length, "Via");
}

/** The usual transports as literals, so the common case allocates no string. */
function knownTransport(s: string, i: number, j: number): string | undefined {
  const len = j - i;
  const a = s.charCodeAt(i) & ~0x20;
  const b = s.charCodeAt(i + 1) & ~0x20;
  if (len === 2) return a === 87 && b === 83 ? "WS" : undefined;
  if (len === 3) {
    const c = s.charCodeAt(i + 2) & ~0x20;
    if (a === 85 && b === 68 && c === 80) return "UDP";
    if (a === 84 && b === 67 && c === 80) return "TCP";
    if (a === 84 && b === 76 && c === 83) return "TLS";
    if (a === 87 && b === 83 && c === 83) return "WSS";
  }
  return undefined;
}

/** @internal Parses s[from, to). */
export function parseViaAt(s: string, from: number, to: number, what: string): Via {
  const start = skipWsp(s, from, to);
  const end = trimWspEnd(s, start, to);
  const via = new Via();
  let i: number;
  let j: number;
  if (s.startsWith("SIP/2.0/", start)) {
    // The form every stack sends; protocolName and protocolVersion keep their defaults.
    i = start + 8;
  } else {
    i = start;
    j = scanToken(s, i, end);
    if (j === i) throw malformed(what);
    via.protocolName = s.slice(i, j);
    i = skipWsp(s, j, end);
    if (s.charCodeAt(i) !== 47 /* / */) throw malformed(what);
    i = skipWsp(s, i + 1, end);
    j = scanToken(s, i, end);
    if (j === i) throw malformed(what);
    via.protocolVersion = s.slice(i, j);
    i = skipWsp(s, j, end);
    if (s.charCodeAt(i) !== 47) throw malformed(what);
    i = skipWsp(s, i + 1, end);
  }
  j = scanToken(s, i, end);
  if (j === i) throw malformed(what);
  via.transport = knownTransport(s, i, j) ?? s.slice(i, j).toUpperCase();
  // LWS is mandatory between sent-protocol and sent-by.
  if (j === end || (s.charCodeAt(j) !== 32 && s.charCodeAt(j) !== 9)) throw malformed(what);
  i = skipWsp(s, j, end);
  // sent-by
  const host = readHost(s, i, end);
  if (host === undefined) throw malformed(what);
  via.host = host;
  i += host.length;
  j = i;
  if (j < end && s.charCodeAt(j) !== 59 && s.charCodeAt(j) !== 58) j = skipWsp(s, j, end);
  if (j < end && s.charCodeAt(j) === 58 /* : */) {
    j = skipWsp(s, j + 1, end);
    const digitsStart = j;
    let port = 0;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c < 48 || c > 57) break;
      port = port * 10 + (c - 48);
      j++;
      if (j - digitsStart > 5) throw malformed(what);
    }
    if (j === digitsStart || port > 65535) throw malformed(what);
    via.port = port;
    i = j;
  }
  if (i < end) {
    const list: ParamList = [];
    parseHeaderParams(s, i, end, list, what);
    validateViaParams(list, what);
    via._pl = list;
  }
  via._raw = start === 0 && end === s.length ? s : s.slice(start, end);
  return via;
}

function validateViaParams(l: ParamList, what: string): void {
  for (let k = 0; k < l.length; k += 2) {
    const name = l[k];
    const v = l[k + 1]!;
    if (name === "branch") {
      if (v === null) throw malformed(what);
    } else if (name === "received") {
      // An IP address (§20.42); RFC 5118 §4.5: IPv6 with or without brackets.
      const ok =
        v !== null &&
        (isIPv4(v, 0, v.length) || isIPv6(v, 0, v.length) || (v.charCodeAt(0) === 91 && isHost(v, 0, v.length)));
      if (!ok) throw malformed(what);
    } else if (name === "rport") {
      if (v !== null && parseUint(v, 65535) < 0) throw malformed(what);
    } else if (name === "ttl") {
      if (v === null || parseUint(v, 255) < 0) throw malformed(what);
    } else if (name === "maddr") {
      if (v === null || !isHost(v, 0, v.length)) throw malformed(what);
    }
  }
}
