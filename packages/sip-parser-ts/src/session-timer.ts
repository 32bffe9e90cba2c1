// Session timer headers (RFC 4028 §4): Session-Expires and Min-SE.

import { malformed } from "./errors.ts";
import { type ParamList, parseHeaderParams } from "./params.ts";
import { MAX_UINT32, parseUint } from "./scalars.ts";

export interface SessionExpires {
  /** delta-seconds */
  delta: number;
  /** Which side refreshes; absent when the UAC leaves it to the UAS (RFC 4028 §7.1). */
  refresher?: "uac" | "uas";
}

/** Session-Expires = delta-seconds *( SEMI se-params ) (RFC 4028 §4). */
export function parseSessionExpires(value: string): SessionExpires {
  const list: ParamList = [];
  const delta = parseDeltaWithParams(value, list, "Session-Expires");
  const at = list.indexOf("refresher");
  if (at < 0 || at % 2 !== 0) return { delta };
  const refresher = list[at + 1];
  const r = refresher === null || refresher === undefined ? "" : refresher.toLowerCase();
  if (r !== "uac" && r !== "uas") throw malformed("Session-Expires");
  return { delta, refresher: r };
}

/** Min-SE = delta-seconds *( SEMI generic-param ) (RFC 4028 §5). */
export function parseMinSE(value: string): number {
  return parseDeltaWithParams(value, [], "Min-SE");
}

/** delta-seconds, then parameters into `params`. */
function parseDeltaWithParams(value: string, params: ParamList, what: string): number {
  const semi = value.indexOf(";");
  const delta = parseUint(semi === -1 ? value : value.slice(0, semi), MAX_UINT32);
  if (delta < 0) throw malformed(what);
  if (semi !== -1) parseHeaderParams(value, semi, value.length, params, what);
  return delta;
}
