// REGISTER toward a carrier (RFC 3261 §10.2) and what its 2xx grants
// (§10.2.4).
import { SipUri, type SipRequest, type SipResponse, type Uri, createRequest, parseUri } from "sip-parser-ts";
import { bareHost, hostReference } from "../transport/via-stamp.ts";
import type { Authorization } from "./carrier-digest.ts";
import { type Gateway, escapeUser, gatewayUri } from "./egress-trunk.ts";

export interface RegisterInit {
  gateway: Pick<Gateway, "host" | "port" | "transport">;
  /** The trunk's credentials user name: the user part of the address-of-record. */
  username: string;
  /** Our Contact URI (contactUri()). */
  contact: string;
  callId: string;
  fromTag: string;
  cseq: number;
  /** Seconds; 0 removes the binding (§10.2.2). */
  expires: number;
  authorization: readonly Authorization[];
}

/**
 * The address-of-record we register: `sip:<username>@<gateway host>`.
 *
 * The domain is the gateway's host — the registrar we send to — and not the
 * credentials' `realm`: a digest realm names a protection space (RFC 7616
 * §3.3), often "asterisk" or a carrier's brand, not a SIP domain, and §10.2
 * says the Request-URI names the registrar's domain, which the To must be
 * in. Carriers that register by IP expect exactly their gateway's address.
 */
export function addressOfRecord(gateway: Pick<Gateway, "host">, username: string): string {
  return `sip:${escapeUser(username)}@${hostReference(gateway.host)}`;
}

/** Where carriers send calls for this trunk: `sip:<username>@<our public host>:<port>[;transport=…]`, in the gateway's transport. */
export function contactUri(username: string, host: string, port: number, transport: Gateway["transport"]): string {
  return `sip:${escapeUser(username)}@${hostReference(host)}:${port}${transport === "udp" ? "" : `;transport=${transport}`}`;
}

/**
 * §10.2.1: Request-URI the registrar's domain (no user part), To and From
 * the address-of-record (From with our tag), one Call-ID for all REGISTERs
 * to this registrar and an increasing CSeq (§10.2: so the registrar can
 * order them), our Contact, and the interval asked for in Expires
 * (§10.2.1.1). The transaction layer adds the Via.
 */
export function registerRequest(init: RegisterInit): SipRequest {
  const aor = addressOfRecord(init.gateway, init.username);
  return createRequest({
    method: "REGISTER",
    uri: gatewayUri(init.gateway),
    from: `<${aor}>;tag=${init.fromTag}`,
    to: `<${aor}>`,
    callId: init.callId,
    cseq: init.cseq,
    contact: `<${init.contact}>`,
    headers: [["Expires", String(init.expires)], ...init.authorization.map((a): [string, string] => [a.header, a.value])],
  });
}

/**
 * The interval the registrar granted our binding (§10.2.4): the `expires`
 * parameter of our Contact in the 2xx, else the Expires header field, else
 * what we asked for. Our Contact is found by user, host and port (a
 * registrar may add parameters). Returns where the value came from too, for
 * the log.
 */
export function grantedExpires(response: SipResponse, contact: string, requested: number): { seconds: number; from: "contact" | "expires-header" | "requested" } {
  try {
    const ours = response.contacts === "*" ? undefined : response.contacts.find((c) => sameContact(c.uri, contact));
    const e = ours?.expires;
    if (e !== undefined) return { seconds: e, from: "contact" };
  } catch {
    // A malformed Contact in the 2xx: fall back to the Expires header field.
  }
  try {
    const e = response.expires;
    if (e !== undefined) return { seconds: e, from: "expires-header" };
  } catch {
    // malformed Expires: what we asked for
  }
  return { seconds: requested, from: "requested" };
}

function sameContact(uri: Uri, contact: string): boolean {
  const ours = parseUri(contact);
  if (!(uri instanceof SipUri) || !(ours instanceof SipUri)) return false;
  return (uri.userDecoded ?? "") === (ours.userDecoded ?? "") && bareHost(uri.host) === bareHost(ours.host) && portOf(uri) === portOf(ours);
}

/** §19.1.2: a URI without a port means 5060, or 5061 for sips: and TLS. */
function portOf(u: SipUri): number {
  return u.port ?? (u.scheme === "sips" || u.uriParam("transport")?.toLowerCase() === "tls" ? 5061 : 5060);
}
