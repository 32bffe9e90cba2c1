// The authentication header fields: WWW-Authenticate / Proxy-Authenticate
// (a challenge) and Authorization / Proxy-Authorization (credentials),
// RFC 3261 §25.1 and §20.7, §20.27, §20.28, §20.44, with RFC 7616 §3.3–3.4
// for which parameters are quoted.
//
// In SIP each of these header fields carries exactly one challenge or one set
// of credentials; several are sent as several header fields, never
// comma-joined (RFC 3261 §7.3.1 names them as the exception to comma
// joining). So a second scheme inside one value is malformed here.

import { SipParseError } from "../errors.ts";
import type { DigestAlgorithm } from "./algorithm.ts";

export interface AuthHeader {
  /** As written (`Digest`); compare case-insensitively. */
  scheme: string;
  /** Parameter names lowercased; quoted values unquoted and unescaped. */
  params: Record<string, string>;
}

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "-.!%*_+`'~".includes(ch)) {
    TOKEN[c] = 1;
  }
}
const isToken = (c: number): boolean => c < 128 && TOKEN[c] === 1;
const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Parses one authentication header value:
 * `Digest realm="x", nonce="y", qop="auth,auth-int", algorithm=MD5`.
 *
 * Tolerant of extra whitespace, empty list elements and a trailing comma
 * (RFC 7230 §7 asks recipients to accept them); lenient about the characters
 * of unquoted values (some clients send `uri=sip:a@b` unquoted). One pass, no
 * regular expressions. Throws SipParseError (400) for anything else, and for a
 * parameter given twice (RFC 7616 §3.3 forbids it, and two `response` values
 * have no safe reading). `headerName` only shapes the reason phrase.
 */
export function parseAuthHeader(value: string, headerName = "Authorization"): AuthHeader {
  const fail = (): never => {
    throw new SipParseError(400, `Bad Request - Malformed ${headerName}`);
  };
  const s = value;
  const n = s.length;
  let i = 0;
  while (i < n && isWs(s.charCodeAt(i))) i++;
  const schemeStart = i;
  while (i < n && isToken(s.charCodeAt(i))) i++;
  if (i === schemeStart) fail();
  const scheme = s.slice(schemeStart, i);
  // A null-prototype object: a parameter named `__proto__` or `constructor`
  // is just a parameter.
  const params: Record<string, string> = Object.create(null);
  if (i < n && !isWs(s.charCodeAt(i))) fail();

  for (;;) {
    // Skip whitespace and empty list elements.
    while (i < n && (isWs(s.charCodeAt(i)) || s.charCodeAt(i) === 0x2c)) i++;
    if (i >= n) break;

    const nameStart = i;
    while (i < n && isToken(s.charCodeAt(i))) i++;
    if (i === nameStart) fail();
    const name = s.slice(nameStart, i).toLowerCase();
    while (i < n && isWs(s.charCodeAt(i))) i++;
    // A token without "=" is token68 or a second scheme: not ours.
    if (i >= n || s.charCodeAt(i) !== 0x3d) fail();
    i++;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (i >= n) fail();

    let val: string;
    if (s.charCodeAt(i) === 0x22) {
      // quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE; quoted-pair = "\" CHAR
      i++;
      let out = "";
      let runStart = i;
      for (;;) {
        if (i >= n) fail();
        const c = s.charCodeAt(i);
        if (c === 0x22) break;
        if (c === 0x5c) {
          if (i + 1 >= n) fail();
          out += s.slice(runStart, i);
          runStart = i + 1; // keep the escaped character, drop the backslash
          i += 2;
          continue;
        }
        i++;
      }
      val = out + s.slice(runStart, i);
      i++; // closing quote
    } else {
      const valStart = i;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c === 0x2c || isWs(c)) break;
        if (c === 0x22 || c < 0x20 || c === 0x7f) fail();
      }
      // Empty, or "=" first (token68 padding, `Bearer abc==`): not a value.
      if (i === valStart || s.charCodeAt(valStart) === 0x3d) fail();
      val = s.slice(valStart, i);
    }

    if (Object.prototype.hasOwnProperty.call(params, name)) fail();
    params[name] = val;

    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (i < n && s.charCodeAt(i) !== 0x2c) fail();
  }
  return { scheme, params };
}

/** What a server offers in one WWW-Authenticate / Proxy-Authenticate value. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** Written explicitly even for MD5: JsSIP and SIP.js accept `algorithm=MD5`. */
  algorithm?: DigestAlgorithm;
  /** qop-options, e.g. ["auth"]; written as one quoted list. */
  qop?: readonly string[];
  /** Written only when true (RFC 7616 §3.3). */
  stale?: boolean;
  domain?: string;
}

/** What a client sends in one Authorization / Proxy-Authorization value. */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: DigestAlgorithm;
  cnonce?: string;
  opaque?: string;
  qop?: string;
  /** A number is written as 8 lowercase hex digits (nc-value = 8LHEX). */
  nc?: number | string;
}

function quoted(name: string, value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // No raw control characters: a CR or LF here would end the header field.
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new RangeError(`digest ${name} contains a control character`);
  }
  let escaped = value;
  if (value.includes("\\") || value.includes('"')) {
    escaped = "";
    for (const ch of value) escaped += ch === "\\" || ch === '"' ? "\\" + ch : ch;
  }
  return `${name}="${escaped}"`;
}

function token(name: string, value: string): string {
  if (value.length === 0) throw new RangeError(`digest ${name} is empty`);
  for (let i = 0; i < value.length; i++) {
    if (!isToken(value.charCodeAt(i))) throw new RangeError(`digest ${name} is not a token: ${JSON.stringify(value)}`);
  }
  return `${name}=${value}`;
}

/** Formats a nonce count as nc-value: 8 lowercase hex digits. */
export function formatNonceCount(nc: number): string {
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new RangeError(`digest nc out of range: ${nc}`);
  return nc.toString(16).padStart(8, "0");
}

/**
 * Serializes a challenge. RFC 7616 §3.3: realm, nonce, opaque, domain and
 * the qop-options list are quoted; algorithm and stale are tokens.
 */
export function formatChallenge(challenge: DigestChallenge): string {
  const parts = [quoted("realm", challenge.realm), quoted("nonce", challenge.nonce)];
  if (challenge.opaque !== undefined) parts.push(quoted("opaque", challenge.opaque));
  if (challenge.domain !== undefined) parts.push(quoted("domain", challenge.domain));
  if (challenge.algorithm !== undefined) parts.push(token("algorithm", challenge.algorithm));
  if (challenge.qop !== undefined && challenge.qop.length > 0) {
    for (const q of challenge.qop) token("qop", q);
    parts.push(quoted("qop", challenge.qop.join(",")));
  }
  if (challenge.stale === true) parts.push("stale=true");
  return "Digest " + parts.join(", ");
}

/**
 * Serializes credentials. RFC 7616 §3.4: username, realm, nonce, uri,
 * response, cnonce and opaque are quoted; algorithm, qop and nc are not
 * ("for historical reasons, a sender MUST NOT generate the quoted string
 * syntax" for those three).
 */
export function formatCredentials(credentials: DigestCredentials): string {
  const c = credentials;
  const parts = [
    quoted("username", c.username),
    quoted("realm", c.realm),
    quoted("nonce", c.nonce),
    quoted("uri", c.uri),
    quoted("response", c.response),
  ];
  if (c.algorithm !== undefined) parts.push(token("algorithm", c.algorithm));
  if (c.cnonce !== undefined) parts.push(quoted("cnonce", c.cnonce));
  if (c.opaque !== undefined) parts.push(quoted("opaque", c.opaque));
  if (c.qop !== undefined) parts.push(token("qop", c.qop));
  if (c.nc !== undefined) parts.push(token("nc", typeof c.nc === "number" ? formatNonceCount(c.nc) : c.nc));
  return "Digest " + parts.join(", ");
}
