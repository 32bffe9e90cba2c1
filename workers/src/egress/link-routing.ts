import { SipRequest, SipUri, type SipResponse } from "sip-parser-ts";
import { peekFlowToken } from "../proxy/flow-token.ts";
import { PHONE_HEADER } from "../proxy/path-flow.ts";
import { aorOfUri } from "../proxy/uri-aor.ts";
import { decodeViaAor } from "../proxy/proxy-via.ts";
import { SipError } from "../sip-error.ts";
import { dialledNumber, removeVisualSeparators, toE164, type NumberingPlan } from "../trunks/index.ts";

/**
 * Where a message the egress proxy sent over its link goes (ARCHITECTURE.md
 * "Carrier to browser"). The EgressLink DO is a stateless relay between its
 * socket and the users' DOs, which proxy statefully; it adds no Via:
 *
 *  - a response goes to the DO named by the top Via's `ua` parameter (the
 *    DO that sent the request, proxy/proxy-via.ts);
 *  - a request whose top Route is one of our flow tokens (in a dialog)
 *    goes to the token's DO, which checks the MAC (RFC 5626 §5.2);
 *  - an out-of-dialog request (and its CANCEL, and the ACK of its non-2xx,
 *    which carry the same Request-URI) is for a DID: the `dids` table names
 *    the user, and the Request-URI becomes the user's AOR;
 *  - an out-of-dialog request from a legacy phone (X-Sipedge-Phone, which
 *    only the egress sets) goes to its user's DO, which challenges it like
 *    a browser: a REGISTER to its To's, anything else to its From's;
 *  - a request for the domain itself (OPTIONS keep-alive) is answered here.
 */
export type LinkRoute =
  | { kind: "user"; aor: string; text: string }
  | { kind: "answer"; error: SipError }
  | { kind: "ok" }
  | { kind: "drop"; why: string };

export interface LinkRoutingDeps {
  /** The AOR a DID (E.164) rings, or undefined. */
  didToAor(did: string): Promise<string | undefined>;
  isLocalDomain(host: string): boolean;
  plan: NumberingPlan;
}

export async function routeFromEgress(msg: SipRequest | SipResponse, deps: LinkRoutingDeps): Promise<LinkRoute> {
  if (!(msg instanceof SipRequest)) {
    const aor = decodeViaAor(msg.topVia.params.get("ua"));
    return aor === undefined ? { kind: "drop", why: "response-not-for-a-user" } : { kind: "user", aor, text: msg.toString() };
  }
  const top = msg.routes[0];
  if (top !== undefined) {
    const uri = top.uri;
    const token = uri instanceof SipUri && uri.user !== undefined && deps.isLocalDomain(uri.host.toLowerCase()) ? peekFlowToken(uri.user) : undefined;
    if (token !== undefined) return { kind: "user", aor: token.aor, text: msg.toString() };
    if (msg.method === "ACK") return { kind: "drop", why: "ack-with-foreign-route" };
    return { kind: "answer", error: new SipError(404, "Not Found", [], "route-not-ours") };
  }
  if (msg.has(PHONE_HEADER)) {
    const aor = aorOfUri(msg.method === "REGISTER" ? msg.to.uri : msg.from.uri);
    if (aor === undefined || !deps.isLocalDomain(aor.slice(aor.lastIndexOf("@") + 1))) {
      if (msg.method === "ACK") return { kind: "drop", why: "phone-ack-for-no-user" };
      return { kind: "answer", error: new SipError(403, "Forbidden - Not a user of this domain", [], "phone-not-our-user") };
    }
    return { kind: "user", aor, text: msg.toString() };
  }
  if (msg.method === "REGISTER") {
    // Only legacy phones register through an egress (marked above); a carrier has nothing to register here.
    return { kind: "answer", error: new SipError(403, "Forbidden - Carriers do not register here", [], "register-from-trunk") };
  }
  const ruri = msg.uri;
  if (ruri instanceof SipUri && ruri.user === undefined && deps.isLocalDomain(ruri.host.toLowerCase())) {
    if (msg.method === "OPTIONS") return { kind: "ok" };
    return { kind: "answer", error: new SipError(405, "Method Not Allowed", [], "request-for-the-domain") };
  }
  const did = didOf(msg, deps.plan);
  const aor = did === undefined ? undefined : await deps.didToAor(did);
  if (aor === undefined) {
    if (msg.method === "ACK") return { kind: "drop", why: "ack-for-unknown-did" };
    return { kind: "answer", error: new SipError(404, "Not Found", [], did === undefined ? "not-a-number" : `unknown-did ${did}`) };
  }
  msg.setUri(`sip:${aor}`);
  return { kind: "user", aor, text: msg.toString() };
}

/**
 * The DID a carrier's request is for, E.164. Carriers send numbers in every
 * form — `+15550100`, `15550100`, `tel:`, `user=phone` — and a trunk's
 * Request-URI is always a number, so plain digits count as one here (on a
 * browser's request they would be a user name).
 */
function didOf(req: SipRequest, plan: NumberingPlan): string | undefined {
  const d = dialledNumber(req.uri, plan);
  if (d !== undefined) return d.ok ? d.number : undefined;
  const uri = req.uri;
  if (!(uri instanceof SipUri) || uri.user === undefined) return undefined;
  const digits = removeVisualSeparators(uri.userDecoded ?? "");
  return /^[0-9]+$/.test(digits) ? toE164(digits, plan) : undefined;
}
