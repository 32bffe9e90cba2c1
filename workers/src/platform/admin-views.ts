import type { DialogSummary } from "../proxy/index.ts";
import { parsePathFlow } from "../proxy/path-flow.ts";
import type { Binding } from "../registrar/binding.ts";
import type { Flow } from "./flow.ts";
import type { ClientLocation } from "./flow-headers.ts";

/** What the admin API shows of a binding. */
export interface RegistrationView {
  contact: string;
  instance?: string;
  reg_id?: number;
  flow_id: string;
  /** Its WebSocket is open, or (a legacy phone's binding) it is registered through an egress. */
  flow_connected: boolean;
  /** A legacy phone's binding: the egress it registered through, and the Path it gave (RFC 3327). */
  egress?: string;
  path?: string[];
  outbound: boolean;
  expires_in: number;
  expires_at: string;
  registered_at: string;
  q?: number;
  call_id: string;
  cseq: number;
  user_agent?: string;
  location?: ClientLocation;
}

/** What the admin API shows of a dialog (proxy/dialog.ts). */
export interface DialogView {
  call_id: string;
  side: "caller" | "callee";
  caller: string;
  callee: string;
  flow_id: string;
  flow_connected: boolean;
  created_at: string;
  last_activity_at: string;
  /** RFC 4028 interval in seconds, 0 when no session timer runs. */
  session_expires: number;
  /** When the DO ends the dialog on its own unless it is refreshed (session expiry or lifetime limit). */
  expires_at: string;
}

export function registrationView(b: Binding, now: number, flow: Flow | undefined): RegistrationView {
  const phone = parsePathFlow(b.flowId);
  return {
    contact: b.uri,
    ...(b.instance !== undefined ? { instance: b.instance } : {}),
    ...(b.regId !== undefined ? { reg_id: b.regId } : {}),
    flow_id: b.flowId,
    flow_connected: flow !== undefined || phone !== undefined,
    ...(phone !== undefined ? { egress: phone.linkId } : {}),
    ...(b.path.length > 0 ? { path: b.path } : {}),
    outbound: b.outbound,
    expires_in: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
    expires_at: new Date(b.expiresAt).toISOString(),
    registered_at: new Date(b.registeredAt).toISOString(),
    ...(b.q !== undefined ? { q: b.q } : {}),
    call_id: b.callId,
    cseq: b.cseq,
    ...(b.userAgent !== undefined ? { user_agent: b.userAgent } : {}),
    ...(flow !== undefined ? { location: flow.location } : {}),
  };
}

export function dialogView(d: DialogSummary, connected: boolean): DialogView {
  return {
    call_id: d.callId,
    side: d.side,
    caller: d.caller,
    callee: d.callee,
    flow_id: d.flowId,
    flow_connected: connected,
    created_at: new Date(d.createdAt).toISOString(),
    last_activity_at: new Date(d.lastActivityAt).toISOString(),
    session_expires: d.sessionExpires,
    expires_at: new Date(d.expiresAt).toISOString(),
  };
}
