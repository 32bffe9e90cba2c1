/**
 * Headers the Worker adds when it hands a WebSocket upgrade to a UserAgent
 * DO. The DO is reachable only through the Worker, so it can trust them.
 */
export const FLOW_HEADERS = {
  aor: "X-Sipedge-Aor",
  /** JSON ClientLocation from `request.cf`. */
  location: "X-Sipedge-Location",
  /** CF-Connecting-IP, when present: the key of per-source login lock-outs. */
  clientIp: "X-Sipedge-Client-Ip",
} as const;

/** Where the client is, from the upgrade's `request.cf` (PLATFORM.md): for choosing a media region. */
export interface ClientLocation {
  colo?: string;
  country?: string;
  continent?: string;
  region?: string;
  city?: string;
  latitude?: number;
  longitude?: number;
}
