import type { SipRequest } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";
import { egressHop, egressLinkOfRoute } from "./egress-hop.ts";
import type { FlowToken } from "./flow-token.ts";
import { userHop, type Hop } from "./hop.ts";
import { parsePathFlow } from "./path-flow.ts";
import type { ProxyContext, RouteInfo } from "./proxy-context.ts";

/**
 * §16.4 (and §16.12's loose routing): a Route naming this DO (our flow
 * token) or our bare domain is removed; what follows is the next hop. At
 * most one token of ours is removed: a user calling herself has two (one
 * per socket) in her route set, consumed on two passes through this DO. A
 * token with a wrong MAC is refused (RFC 5626 §5.2: no forged routes into
 * someone's socket).
 */
export function consumeRoute(ctx: ProxyContext, req: SipRequest): RouteInfo {
  let popped: FlowToken | undefined;
  for (const r of req.routes) {
    const e = ctx.classifyRoute(r);
    if (e.kind === "forged") throw new SipError(403, "Forbidden", [], "forged-flow-token");
    if (e.kind === "domain" || (e.kind === "edge" && e.token.aor === ctx.aor && popped === undefined)) {
      req.removeFirst("Route");
      if (e.kind === "edge") popped = e.token;
      continue;
    }
    // A legacy phone's egress entry right after our token for its flow is part of that flow (path-flow.ts).
    if (e.kind === "foreign" && popped !== undefined && sameUri(e.uri, parsePathFlow(popped.flowId)?.route)) {
      req.removeFirst("Route");
      continue;
    }
    return { popped, next: e };
  }
  return { popped };
}

/** The hop the Route left on top names: another DO's entry, or an egress proxy's (egress-hop.ts); undefined for anything else. */
export function nextHopOf(route: RouteInfo): Hop | undefined {
  const next = route.next;
  if (next?.kind === "edge") return userHop(next.token.aor);
  if (next?.kind === "foreign") {
    const link = egressLinkOfRoute(next.uri);
    if (link !== undefined) return egressHop(link);
  }
  return undefined;
}

function sameUri(a: string, b: string | undefined): boolean {
  return b !== undefined && a.toLowerCase() === b.toLowerCase();
}
