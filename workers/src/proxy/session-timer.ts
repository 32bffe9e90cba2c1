import type { SipRequest, SipResponse } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";

/**
 * RFC 4028 §8.1, a proxy's part in session timers, for INVITE and UPDATE:
 *  - a Session-Expires below our minimum from a UAC that supports timers
 *    ("Supported: timer") is refused with 422 and our Min-SE (PITFALLS 19:
 *    JsSIP can be configured to ask for 60 s; the RFC floor is 90);
 *  - from a UAC that does not, the proxy may not answer 422: it raises
 *    Session-Expires and Min-SE to its minimum instead (refresher untouched).
 * A request without Session-Expires is left alone: the UAs did not ask.
 */
export function enforceMinSE(req: SipRequest, minSE: number): void {
  const se = req.sessionExpires;
  if (se === undefined || se.delta >= minSE) return;
  if (req.supported.includes("timer")) {
    throw new SipError(422, "Session Interval Too Small", [["Min-SE", String(minSE)]], `session-expires-${se.delta}`);
  }
  req.set("Session-Expires", se.refresher === undefined ? String(minSE) : `${minSE};refresher=${se.refresher}`);
  req.set("Min-SE", String(minSE));
}

/**
 * The session interval a 2xx settles on (RFC 4028 §7.2, §9: the UAS puts the
 * final Session-Expires in its 2xx), in seconds; 0 when the 2xx has none (no
 * session timer) or an unreadable one (we will not end a call on a guess).
 */
export function negotiatedInterval(res: SipResponse): number {
  try {
    return res.sessionExpires?.delta ?? 0;
  } catch {
    return 0;
  }
}
