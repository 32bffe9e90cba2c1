import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { readCallOutPolicy, updateCallOutPolicy } from "../../../../workers/src/directory/call-out-policies.ts";
import { DidDirectory } from "../../../../workers/src/directory/dids.ts";
import { callOutPolicyPatch } from "../../../../workers/src/trunks/call-out-policy.ts";
import { trunkFromInput } from "../../../../workers/src/trunks/trunk-input.ts";
import { type Baresip, startBaresip } from "./baresip.ts";
import { LOCAL_AWS } from "./dynalite.ts";
import type { Log } from "./log.ts";
import type { DemoUser } from "./seed.ts";

/**
 * `npm start`'s legacy phone: a baresip on loopback reached as the gateway
 * of a demo trunk (registration of legacy phones through the egress is not
 * built yet), so a browser can call a SIP phone on the same machine, and a
 * DID that rings the second demo user when the phone (or anyone the trunk
 * allows) calls it.
 */
export const DEMO_LEGACY_PHONE = {
  trunk: "demo-legacy-phone",
  /** What the softphone dials to reach the phone; the trunk carries exactly this number. */
  number: "+15550100200",
  /** The second demo user's DID. */
  did: "+15550100100",
  /** The caller ID of calls out on the demo trunk. */
  mainNumber: "+15550100000",
} as const;

export interface DemoLegacyPhoneOptions {
  host: string;
  /** baresip's SIP port, UDP and TCP (it also takes the next one for TLS). */
  sipPort: number;
  /** The egress proxy the demo trunk goes through (its id). */
  egressId: string;
  dynamo: { client: DynamoDBClient; endpoint: string };
  /** The demo users: the first may call the phone, the second gets the DID. */
  users: readonly DemoUser[];
  /** Its config folder (rewritten at every start). */
  dir: string;
  log: Log;
  /** Named in the "port in use" error. */
  portOption?: string;
}

export interface DemoLegacyPhone {
  phone: Baresip;
  /** What to print at start-up. */
  banner: string[];
}

/**
 * Writes the demo trunk (gateway: the phone; prefix: its number; the
 * phone's address allowed to call in), assigns the DID to the second user,
 * lets the first call the phone's number unless an operator has set their
 * call-out policy, then starts the phone (auto answer, a 440 Hz tone).
 * Idempotent: a restart rewrites the trunk with the current port.
 */
export async function startDemoLegacyPhone(opts: DemoLegacyPhoneOptions): Promise<DemoLegacyPhone> {
  const [caller, callee] = opts.users;
  if (caller === undefined || callee === undefined) throw new TypeError("the demo legacy phone needs two demo users");
  const now = new Date().toISOString();
  const trunk = trunkFromInput(
    {
      id: DEMO_LEGACY_PHONE.trunk,
      name: "demo: baresip on this machine",
      egress: opts.egressId,
      gateways: [{ host: opts.host, port: opts.sipPort, transport: "udp" }],
      prefixes: [DEMO_LEGACY_PHONE.number],
      allowed_sources: [opts.host],
      // The demo users own no DID to call out with: the trunk's own number stands in (README, caller_id).
      caller_id: { mode: "fixed", number: DEMO_LEGACY_PHONE.mainNumber },
    },
    now,
  );
  await opts.dynamo.client.send(new PutItemCommand({ TableName: "trunks", Item: marshall(trunk, { removeUndefinedValues: true }) }));
  const tables = { dynamo: { endpoint: opts.dynamo.endpoint, ...LOCAL_AWS }, tables: { dids: "dids", subscribers: "subscribers" } };
  await new DidDirectory(tables).assign(DEMO_LEGACY_PHONE.did, callee.aor, now);
  const policy = await readCallOutPolicy(tables, caller.aor);
  if (policy !== undefined && policy.can_call_out === undefined && policy.allowed_prefixes === undefined) {
    await updateCallOutPolicy(tables, caller.aor, callOutPolicyPatch({ can_call_out: true, allowed_prefixes: [DEMO_LEGACY_PHONE.number] }), now);
  }
  const phone = await startBaresip({
    host: opts.host,
    sipPort: opts.sipPort,
    numbers: [DEMO_LEGACY_PHONE.number],
    answerMode: "auto",
    dir: opts.dir,
    log: opts.log,
    ...(opts.portOption !== undefined ? { portOption: opts.portOption } : {}),
  });
  return {
    phone,
    banner: [
      `legacy phone (baresip) at ${phone.sipUri}, the gateway of trunk "${DEMO_LEGACY_PHONE.trunk}" through egress "${opts.egressId}":`,
      `  as ${caller.aor}, dial ${DEMO_LEGACY_PHONE.number} on the softphone: it answers at once and plays a tone, and logs the DTMF you press.`,
      `  ${callee.aor} has the DID ${DEMO_LEGACY_PHONE.did}: a SIP phone at ${opts.host} (e.g. \`sipp -sn uac -s ${DEMO_LEGACY_PHONE.did} ${opts.host}:<egress SIP port>\`) calling it rings ${callee.aor}.`,
    ],
  };
}
