import { SipUri, parseNameAddr } from "sip-parser-ts";
import { userHop, type Hop } from "./hop.ts";

/**
 * The egress proxy as a hop of the proxy core (issue 5; ARCHITECTURE.md
 * "Browser to carrier", "Carrier to browser"). An egress proxy's link to the
 * edge is an EgressLink DO, reached by the same RPC as a user's DO
 * (`deliver`), so the core names it like one: a user hop whose name is
 * `egress:<link id>`. The platform maps that name to the EgressLink
 * namespace (platform/proxy-host-adapter.ts).
 *
 * On its WebSocket side the egress proxy Record-Routes as
 * `<sip:<link id>@egress.invalid;transport=ws;lr>`: a name, never resolved
 * (PITFALLS 5); a Route with it goes to that link.
 */
export const EGRESS_HOP_PREFIX = "egress:";
export const EGRESS_ROUTE_HOST = "egress.invalid";

export function egressHop(linkId: string): Hop {
  return userHop(EGRESS_HOP_PREFIX + linkId);
}

/** The link id of an egress hop, or undefined for a user's DO or a flow. */
export function egressLinkOf(hop: Hop): string | undefined {
  return hop.kind === "user" && hop.aor.startsWith(EGRESS_HOP_PREFIX) ? hop.aor.slice(EGRESS_HOP_PREFIX.length) : undefined;
}

/** The link a Route entry names (the egress's own Record-Route), or undefined. */
export function egressLinkOfRoute(uri: string): string | undefined {
  let parsed;
  try {
    parsed = parseNameAddr(`<${uri}>`).uri;
  } catch {
    return undefined;
  }
  if (!(parsed instanceof SipUri) || parsed.host.toLowerCase() !== EGRESS_ROUTE_HOST || parsed.user === undefined) return undefined;
  return parsed.user;
}

/** The egress's Record-Route value for a link (what media-node/egress inserts on its WebSocket side). */
export function egressRecordRoute(linkId: string): string {
  return `<sip:${linkId}@${EGRESS_ROUTE_HOST};transport=ws;lr>`;
}
