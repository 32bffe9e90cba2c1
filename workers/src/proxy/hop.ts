/**
 * A neighbour one hop away from this UserAgent DO, as the proxy core sees it
 * (RFC 3261 §16: where a request came from, where a branch went):
 *  - a flow (RFC 5626 §3): one of this DO's own WebSockets;
 *  - a user: another AOR's UserAgent DO, reached by RPC.
 * Nothing else is ever a next hop: a `.invalid` host in a Contact or Via is
 * never resolved (PITFALLS 5).
 */
export type Hop = FlowHop | UserHop;

export interface FlowHop {
  kind: "flow";
  flowId: string;
}

export interface UserHop {
  kind: "user";
  /** `user@domain`, the DO's name. */
  aor: string;
}

export const flowHop = (flowId: string): FlowHop => ({ kind: "flow", flowId });
export const userHop = (aor: string): UserHop => ({ kind: "user", aor });

export function sameHop(a: Hop, b: Hop): boolean {
  return a.kind === "flow" ? b.kind === "flow" && a.flowId === b.flowId : b.kind === "user" && a.aor === b.aor;
}

export function describeHop(h: Hop): string {
  return h.kind === "flow" ? `flow:${h.flowId}` : `user:${h.aor}`;
}
