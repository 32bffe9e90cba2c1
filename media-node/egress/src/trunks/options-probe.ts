// The OPTIONS a health check sends to a gateway (RFC 3261 §11), and what
// its answer says about the gateway.
import { type SipRequest, type SipResponse, createRequest, randomToken } from "sip-parser-ts";
import type { LocalFailure } from "../transaction/client-transaction.ts";
import { hostReference } from "../transport/via-stamp.ts";
import { type Gateway, gatewayUri } from "./egress-trunk.ts";

/**
 * OPTIONS to the gateway itself (Request-URI and To without a user part:
 * we ask the server, not a user behind it, §11.1), a fresh Call-ID each
 * time, Accept: application/sdp as §11.1 shows. No Contact: nothing is set
 * up, and a gateway answers to the Via.
 */
export function optionsRequest(gateway: Pick<Gateway, "host" | "port" | "transport">, fromHost: string): SipRequest {
  const uri = gatewayUri(gateway);
  return createRequest({
    method: "OPTIONS",
    uri,
    from: `<sip:sipedge-egress@${hostReference(fromHost)}>`,
    to: `<${uri}>`,
    callId: `${randomToken(20)}@${hostReference(fromHost)}`,
    cseq: 1,
    headers: [["Accept", "application/sdp"]],
  });
}

export type ProbeFailure = "timeout" | "transport-error" | "408" | "503";

/**
 * What an OPTIONS final response says: any answer from the gateway means
 * it is alive — 404, 405, 501 and 401/407 too (a gateway that does not
 * implement OPTIONS, or challenges it, is still there to take calls) —
 * except those a call would fail over on (issue 5: timeout, 408, 503): no
 * response in 64*T1 (our local 408), a transport error (our local 503),
 * and a 408 or 503 from the gateway (overloaded, or nothing behind it).
 */
export function probeFailure(response: SipResponse, localFailure: LocalFailure | undefined): ProbeFailure | undefined {
  if (localFailure !== undefined) return localFailure;
  if (response.status === 408) return "408";
  if (response.status === 503) return "503";
  return undefined;
}

/** The failure as a log field and a GatewayStatus.last_error. */
export function describeProbeFailure(failure: ProbeFailure, response: SipResponse): string {
  switch (failure) {
    case "timeout":
      return "no response to OPTIONS (timeout)";
    case "transport-error":
      return "transport error";
    default:
      return `${response.status} ${response.reason}`;
  }
}
