// Contact header field values (RFC 3261 §20.10) with the parameters a
// registrar acts on: expires and q (§10.2.1.1, §10.3 step 7), and the
// outbound ones of RFC 5626 §4.1-§5.4 (+sip.instance, reg-id, ob).

import { malformed } from "./errors.ts";
import { NO_URI, NameAddr, parseNameAddrAt } from "./name-addr.ts";
import { unquote } from "./params.ts";
import { MAX_UINT32, parseQValue, parseUint } from "./scalars.ts";

/** reg-id: "1 to (2^31 - 1)" (RFC 5626 §4.2). */
const MAX_REG_ID = 2147483647;

export class Contact extends NameAddr {
  /** The expires parameter in seconds, when present (§20.10 c-p-expires). */
  get expires(): number | undefined {
    return expiresOf(this._param("expires"));
  }

  /** The q parameter, 0 to 1, when present (§20.10 c-p-q). */
  get q(): number | undefined {
    return qOf(this._param("q"));
  }

  /**
   * The +sip.instance parameter unquoted (RFC 5626 §4.1), e.g.
   * "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>".
   */
  get instance(): string | undefined {
    const v = this._param("+sip.instance");
    return v === undefined || v === null ? undefined : unquote(v);
  }

  /** The reg-id parameter (RFC 5626 §4.2). */
  get regId(): number | undefined {
    return regIdOf(this._param("reg-id"));
  }

  /**
   * The "ob" parameter (RFC 5626 §5.4): the UA supports outbound and wants
   * this flow kept. It is a URI parameter of the Contact URI; we also accept
   * it as a header parameter, where some stacks put it.
   */
  get ob(): boolean {
    return this.uri.uriParam("ob") !== undefined || this._param("ob") !== undefined;
  }
}

function expiresOf(v: string | null | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = v === null ? -1 : parseUint(v, MAX_UINT32);
  if (n < 0) throw malformed("Contact");
  return n;
}

function qOf(v: string | null | undefined): number | undefined {
  if (v === undefined) return undefined;
  const q = v === null ? NaN : parseQValue(v);
  if (Number.isNaN(q)) throw malformed("Contact");
  return q;
}

function regIdOf(v: string | null | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = v === null ? -1 : parseUint(v, MAX_REG_ID);
  if (n < 1) throw malformed("Contact");
  return n;
}

/** @internal One Contact value (not "*") in s[from, to); throws SipParseError 400 "Bad Request - Malformed Contact". */
export function parseContactAt(s: string, from: number, to: number): Contact {
  const contact = parseNameAddrAt(new Contact(NO_URI), s, from, to, "Contact");
  // Validate the typed parameters now, so a malformed one fails the header
  // rather than a later property read.
  const l = contact._pl;
  if (l !== undefined) {
    for (let i = 0; i < l.length; i += 2) {
      const name = l[i];
      if (name === "expires") expiresOf(l[i + 1]);
      else if (name === "q") qOf(l[i + 1]);
      else if (name === "reg-id") regIdOf(l[i + 1]);
    }
  }
  return contact;
}
