import type { SipRequest } from "sip-parser-ts";
import { SipError } from "../sip-error.ts";
import type { ProxyContext } from "./proxy-context.ts";
import { decodeViaAor, parseOurBranch } from "./proxy-via.ts";

/**
 * Loop detection (RFC 3261 §16.3 item 4, with the branch of §16.6 item 8).
 * A request that comes back to the same DO, in the same role, with the same
 * Request-URI, tags, Call-ID, CSeq and Proxy-Require, carries our Via with
 * the same hash: that is a loop (482). A changed Request-URI gives a new
 * hash: a spiral, which is allowed. Proxy-Authorization is left out because
 * we strip the credentials we consumed (§22.3), so a looped copy would not
 * carry them.
 */
export function loopOf(req: SipRequest, role: "out" | "in"): string {
  return loopHash([
    role,
    req.requestUri,
    req.from.tag ?? "",
    req.to.tag ?? "",
    req.callId,
    String(req.cseq.seq),
    req.getAll("Proxy-Require").join(","),
  ]);
}

/** Throws 482 if one of our own Vias on the request carries `loop`. Costs a string scan when none is ours. */
export function detectLoop(ctx: ProxyContext, req: SipRequest, loop: string): void {
  if (!req.getAll("Via").some((v) => v.includes(ctx.uaSuffix))) return;
  for (const v of req.vias) {
    if (decodeViaAor(v.params.get("ua")) !== ctx.aor) continue;
    const b = parseOurBranch(v.branch);
    if (b !== undefined && b.kind !== "local" && b.loop === loop) throw new SipError(482, "Loop Detected");
  }
}

/** FNV-1a, 32 bits, over the fields: cheap and stable, not secret. */
export function loopHash(parts: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      h ^= part.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x1f; // field separator
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}
