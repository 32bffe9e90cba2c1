import type { ClientLocation } from "./flow-headers.ts";

/**
 * A flow (RFC 5626 §3): here, one WebSocket. Its state lives in the socket's
 * attachment (≤ 16 KiB, survives hibernation; PLATFORM.md), namespaced so
 * other layers can add their own keys, and read back defensively.
 */
export interface Flow {
  id: string;
  connectedAt: number;
  /** CF-Connecting-IP when known: the key of per-source lock-outs. */
  ip?: string;
  location: ClientLocation;
  /**
   * This socket has proven its user's password (a REGISTER or a request
   * passed digest): in-dialog requests on it are not challenged again.
   */
  authenticated?: boolean;
}

const NS = "sipedge.flow";

type Attachment = Record<string, unknown>;

/**
 * Flows already read, per socket object: deserializing an attachment costs
 * more than the rest of handling a small message, and a DO instance sees
 * the same WebSocket object for a socket every time. Lost with the instance
 * (hibernation), like any memory; `attachFlow` keeps it current.
 */
const known = new WeakMap<WebSocket, Flow>();

export function attachFlow(ws: WebSocket, flow: Flow): void {
  const current = (ws.deserializeAttachment() as Attachment | null) ?? {};
  ws.serializeAttachment({ ...current, [NS]: { v: 1, ...flow } });
  known.set(ws, { ...flow });
}

export function flowOf(ws: WebSocket): Flow | undefined {
  const seen = known.get(ws);
  if (seen !== undefined) return { ...seen };
  const flow = readFlow(ws);
  if (flow !== undefined) known.set(ws, { ...flow });
  return flow;
}

function readFlow(ws: WebSocket): Flow | undefined {
  let att: unknown;
  try {
    att = ws.deserializeAttachment();
  } catch {
    return undefined;
  }
  const f = (att as Attachment | null)?.[NS] as Partial<Flow> & { v?: number } | undefined;
  if (typeof f !== "object" || f === null || typeof f.id !== "string" || typeof f.connectedAt !== "number") return undefined;
  return {
    id: f.id,
    connectedAt: f.connectedAt,
    ...(typeof f.ip === "string" ? { ip: f.ip } : {}),
    location: typeof f.location === "object" && f.location !== null ? f.location : {},
    ...(f.authenticated === true ? { authenticated: true } : {}),
  };
}

/** A fresh flow id: random, URL- and token-safe (it goes into flow tokens in Record-Route later). */
export function newFlowId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += b.toString(36).padStart(2, "0");
  return "f" + s;
}
