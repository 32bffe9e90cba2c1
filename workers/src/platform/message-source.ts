import type { Flow } from "./flow.ts";

/**
 * Where a SIP message came from, and so where its answer goes: one of this
 * AOR's sockets, another user's DO (RPC `deliver`), or an EgressLink DO.
 */
export type MessageSource =
  | { kind: "flow"; flow: Flow; ws: WebSocket }
  | { kind: "user"; aor: string }
  | { kind: "egress"; link?: string };

/** The sender named in an RPC `deliver` call. */
export interface DeliverFrom {
  aor?: string;
  kind: "user" | "egress";
}
