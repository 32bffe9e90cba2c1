import { SipUri, type NameAddr } from "sip-parser-ts";
import { encodeFlowToken, peekFlowToken, verifyFlowToken, type FlowToken, type TokenSigner } from "./flow-token.ts";

/**
 * Our Record-Route entry (RFC 3261 §16.6 item 4) with a flow token in the
 * user part (RFC 5626 §5.3; PITFALLS 4, 5):
 *
 *   Record-Route: <sip:<flow token>@example.com;transport=ws;lr>
 *
 * The domain is the edge's own; every hop here is a WebSocket (browsers
 * reuse their one connection whatever the URI says, RFC 7118 §5), so one
 * entry per DO is enough: no double Record-Route (PITFALLS 4 is about
 * transport changes, which happen only at the egress proxy).
 */
export function recordRouteValue(domain: string, token: FlowToken, signer: TokenSigner): string {
  return `<sip:${encodeFlowToken(token, signer)}@${domain};transport=ws;lr>`;
}

/**
 * What a Route entry means to us (§16.4):
 *  - edge: one of our DOs' entries, MAC verified;
 *  - forged: looks like ours but the MAC is wrong (a client making up a route
 *    into someone's socket): refused 403;
 *  - domain: our domain with no user (a preloaded outbound-proxy route such
 *    as `<sip:example.com;lr>`): it names the edge, so it is consumed;
 *  - foreign: anything else.
 */
export type RouteEntry =
  | { kind: "edge"; token: FlowToken }
  | { kind: "forged" }
  | { kind: "domain" }
  | { kind: "foreign"; uri: string };

export function classifyRoute(
  route: NameAddr,
  isLocalDomain: (host: string) => boolean,
  signer: TokenSigner,
  /** Tokens already verified (text → content): a dialog's Route entries repeat on every request. */
  verified?: Map<string, FlowToken>,
): RouteEntry {
  const uri = route.uri;
  if (!(uri instanceof SipUri) || !isLocalDomain(uri.host.toLowerCase())) return { kind: "foreign", uri: uri.toString() };
  if (uri.user === undefined) return { kind: "domain" };
  const known = verified?.get(uri.user);
  if (known !== undefined) return { kind: "edge", token: known };
  if (peekFlowToken(uri.user) === undefined) return { kind: "foreign", uri: uri.toString() };
  const token = verifyFlowToken(uri.user, signer);
  if (token === undefined) return { kind: "forged" };
  if (verified !== undefined) {
    if (verified.size >= 1024) verified.clear();
    verified.set(uri.user, token);
  }
  return { kind: "edge", token };
}
