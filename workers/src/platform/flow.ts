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
}

const NS = "sipedge.flow";

type Attachment = Record<string, unknown>;

export function attachFlow(ws: WebSocket, flow: Flow): void {
  const current = (ws.deserializeAttachment() as Attachment | null) ?? {};
  ws.serializeAttachment({ ...current, [NS]: { v: 1, ...flow } });
}

export function flowOf(ws: WebSocket): Flow | undefined {
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
