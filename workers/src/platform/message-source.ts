import type { Flow } from "./flow.ts";

/**
 * Where a SIP message the platform answers itself (REGISTER, OPTIONS to the
 * domain, an unparsable frame) came from: one of this AOR's sockets, or a
 * legacy phone's flow through an egress (proxy/path-flow.ts). Every
 * other message, and everything another DO sends by RPC, goes to the proxy
 * core, which knows its own hops (proxy/hop.ts).
 */
export type MessageSource = { kind: "flow"; flow: Flow; ws: WebSocket } | { kind: "path"; flow: Flow };

/** The sender named in an RPC `deliver` call. */
export interface DeliverFrom {
  aor?: string;
  kind: "user" | "egress";
}

/**
 * What `deliver` answers: accepted means this DO has the message (the proxy
 * core relies on that, proxy-host.ts `sendToUser`); a refusal is returned,
 * never thrown, so the caller treats it as a failed hop (503, RFC 3261 §16.9).
 */
export type DeliverResult = { accepted: true } | { accepted: false; why: string };
