import { expect } from "vitest";
import { type AnswerMode, type Baresip, type BaresipRegistration, freeBaresipPort, startBaresip } from "../../packages/sipedge/src/stack/baresip.ts";
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

/**
 * Debian's baresip as a legacy phone on loopback, registered as
 * `registration.aor` through an egress (`registration.outboundProxy`), with
 * its SIP trace; resolves once the registrar's 200 came.
 */
export async function startPhoneThrough(o: { registration: BaresipRegistration; dir: string; answerMode?: AnswerMode; log: (line: string) => void; logs: string }): Promise<Baresip> {
  const phone = await startBaresip({ host: "127.0.0.1", sipPort: await freeBaresipPort(), answerMode: o.answerMode ?? "auto", dir: o.dir, sipTrace: true, registration: o.registration, log: o.log });
  expect(await phone.waitForRegistration(30_000), o.logs).toMatchObject({ state: "registered", detail: "200 OK" });
  return phone;
}
