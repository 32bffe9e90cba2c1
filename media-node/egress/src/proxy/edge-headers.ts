import type { SipMessage } from "sip-parser-ts";

/**
 * Header fields the edge adds for the egress (`X-Sipedge-Trunk`, …,
 * workers/src/platform/trunk-routing-host.ts). They are the edge's
 * instructions to us: none may leave toward a carrier, and none a carrier
 * sends may reach the edge, where it could pose as one.
 */
export const EDGE_HEADER_PREFIX = "x-sipedge-";

export const TRUNK_HEADER = "X-Sipedge-Trunk";
/** On what we pass to the edge from a legacy phone: the phone's Path entry (workers/src/proxy/path-flow.ts). */
export { PHONE_HEADER } from "../../../../workers/src/proxy/path-flow.ts";

/** Removes every `X-Sipedge-*` field; returns how many distinct names were removed. */
export function removeEdgeHeaders(msg: SipMessage): number {
  const names = new Set<string>();
  for (const h of msg.headers) if (h.key.startsWith(EDGE_HEADER_PREFIX)) names.add(h.key);
  for (const name of names) msg.remove(name);
  return names.size;
}
