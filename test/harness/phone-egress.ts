import { startEgress, type EgressOptions, type EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { freeSipPort, freeTcpPort } from "../../packages/sipedge/src/stack/ports.ts";
import type { StackInfo } from "./stack-info.ts";

/**
 * An egress of a test's own for legacy phones of the stack's domain, on
 * loopback: one port for its SIP over UDP and TCP, no trunk health checks
 * (it carries no trunk). `extra`: TLS, the keep-alive interval.
 */
export async function startPhoneEgress(
  stack: StackInfo,
  id: string,
  log: (line: string) => void,
  extra: Pick<EgressOptions, "tls" | "phoneKeepaliveS"> = {},
): Promise<EgressProcess> {
  return startEgress({
    id,
    host: "127.0.0.1",
    sipPort: await freeSipPort(),
    httpPort: await freeTcpPort(),
    edgeUrl: stack.edgeUrl,
    dynamoEndpoint: stack.dynamoEndpoint,
    secret: stack.secrets.EGRESS_SECRET,
    healthIntervalS: 0,
    phoneDomains: [stack.domain],
    ...extra,
    log,
  });
}
