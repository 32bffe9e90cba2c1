import { createResponse, type SipRequest, type SipResponse } from "sip-parser-ts";
import { SipError } from "./sip-error.ts";

/**
 * The one place a SipError becomes a response (STYLE.md point 4), and the
 * helper every local answer goes through. `toTag` is required on every
 * final response by RFC 3261 §8.2.6.2; it is left out when the request
 * already carries one.
 */
export function respond(req: SipRequest, status: number, reason: string, headers: ReadonlyArray<readonly [string, string]>, toTag: string): SipResponse {
  const res = createResponse(req, status, reason, req.to.tag === undefined && status > 100 ? { toTag } : {});
  for (const [name, value] of headers) res.append(name, value);
  return res;
}

export function errorResponse(req: SipRequest, err: SipError, toTag: string): SipResponse {
  return respond(req, err.status, err.reason, err.headers, toTag);
}
