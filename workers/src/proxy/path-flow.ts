import { base64urlDecode, base64urlEncode } from "./base64url.ts";

/**
 * A legacy phone's flow (issue 5): a UDP/TCP/TLS phone reaches its user's DO
 * through an egress proxy, which adds a Path (RFC 3327) naming itself and
 * the phone's address, as the phone saw it (`received`/`rport`, so NAT holds).
 * To the proxy core the phone is a flow of its user like a WebSocket: the
 * caller side of its calls (digest, From check), a fork target, the flow a
 * Record-Route token names. The flow's id carries everything needed to
 * reach it, so no lookup and no hibernation loses it:
 *
 *   p<base64url(link id NUL path URI)>
 *
 * the EgressLink it hangs off (proxy/egress-hop.ts) and the egress's
 * phone-side Path URI, preloaded as the Route of every request to the phone.
 * The egress Record-Routes dialogs with that same URI on the phone side; the
 * edge side needs no entry of its own (the flow stands for it), so the
 * proxy core takes the URI in a Route after our token as part of the flow.
 */
export interface PathFlow {
  linkId: string;
  /** The egress's phone-side Path URI, no angle brackets. */
  route: string;
}

const PREFIX = "p";

export function pathFlowId(flow: PathFlow): string {
  return PREFIX + base64urlEncode(`${flow.linkId}\u0000${flow.route}`);
}

/** The path flow an id names, or undefined for a WebSocket flow (`f…`, platform/flow.ts). */
export function parsePathFlow(flowId: string): PathFlow | undefined {
  if (!flowId.startsWith(PREFIX)) return undefined;
  const plain = base64urlDecode(flowId.slice(PREFIX.length));
  const nul = plain?.indexOf("\u0000") ?? -1;
  if (plain === undefined || nul <= 0 || nul === plain.length - 1) return undefined;
  return { linkId: plain.slice(0, nul), route: plain.slice(nul + 1) };
}

export function isPathFlow(flowId: string): boolean {
  return parsePathFlow(flowId) !== undefined;
}

/**
 * The header an egress puts on SIP it passes from a legacy phone (not a
 * carrier): the phone's Path URI. Only an authenticated egress can set it
 * (it removes every `X-Sipedge-*` a phone or carrier sends); the user's DO
 * removes it and takes the message as from the path flow.
 */
export const PHONE_HEADER = "X-Sipedge-Phone";
