import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { readCallOutPolicy, updateCallOutPolicy } from "../../../../workers/src/directory/call-out-policies.ts";
import { DidDirectory } from "../../../../workers/src/directory/dids.ts";
import { callOutPolicyPatch } from "../../../../workers/src/trunks/call-out-policy.ts";
import { trunkFromInput } from "../../../../workers/src/trunks/trunk-input.ts";
import { type Baresip, startBaresip } from "./baresip.ts";
import { LOCAL_AWS } from "./dynalite.ts";
import { join } from "node:path";
import type { Log } from "./log.ts";
import { seedSubscribers, type DemoUser } from "./seed.ts";

/**
 * `npm start`'s legacy phones, baresips on loopback, so a browser can call a
 * SIP phone on the same machine: the gateway of a demo trunk (dial its
 * number), and the desk phone of the demo user `carol`, registered through
 * the egress (dial `carol`; issue 5, "Legacy phones"); and a DID that rings
 * the second demo user when the phone (or anyone the trunk allows) calls it.
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

/** The demo user whose desk phone it is (registered through the egress). */
export const DEMO_DESK_USER = "carol";

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
  /** The egress's SIP address: the phone registers `carol` through it. */
  egressSip: { host: string; port: number };
  /** carol's password (kept in the state folder, like the other demo users'). */
  deskPassword: string;
  domain: string;
}

export interface DemoLegacyPhone {
  /** The trunk's gateway. */
  phone: Baresip;
  /** carol's desk phone, on the gateway's SIP port + 2 (baresip takes + 1 for TLS). */
  desk: Baresip;
  /** What to print at start-up. */
  banner: string[];
}

/**
 * Writes the demo trunk (gateway: the phone; prefix: its number; the
 * phone's address allowed to call in), assigns the DID to the second user,
 * lets the first call the phone's number unless an operator has set their
 * call-out policy, and makes carol a subscriber. Before the egress starts,
 * so it reads the trunk. Idempotent: a restart rewrites the trunk with the
 * current port.
 */
export async function provisionDemoLegacyPhone(opts: Omit<DemoLegacyPhoneOptions, "egressSip" | "dir" | "log" | "portOption">): Promise<void> {
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
  await seedSubscribers(opts.dynamo.client, "subscribers", [{ aor: `${DEMO_DESK_USER}@${opts.domain}`, password: opts.deskPassword }]);
}

/**
 * Starts the phones (auto answer, a 440 Hz tone) once the egress runs: the
 * trunk's gateway, and carol's desk phone registered through the egress.
 */
export async function startDemoLegacyPhone(opts: DemoLegacyPhoneOptions): Promise<DemoLegacyPhone> {
  const [caller, callee] = opts.users;
  if (caller === undefined || callee === undefined) throw new TypeError("the demo legacy phone needs two demo users");
  const common = { host: opts.host, answerMode: "auto" as const, log: opts.log, ...(opts.portOption !== undefined ? { portOption: opts.portOption } : {}) };
  const phone = await startBaresip({ ...common, sipPort: opts.sipPort, numbers: [DEMO_LEGACY_PHONE.number], dir: opts.dir });
  const deskAor = `${DEMO_DESK_USER}@${opts.domain}`;
  let desk: Baresip | undefined;
  try {
    desk = await startBaresip({
      ...common,
      sipPort: opts.sipPort + 2,
      registration: { aor: deskAor, password: opts.deskPassword, outboundProxy: opts.egressSip },
      dir: join(opts.dir, "desk"),
    });
    await desk.waitForRegistration();
  } catch (err) {
    await desk?.stop();
    await phone.stop();
    throw err;
  }
  return {
    phone,
    desk,
    banner: [
      `legacy phone (baresip) at sip:${opts.host}:${opts.sipPort}, the gateway of trunk "${DEMO_LEGACY_PHONE.trunk}" through egress "${opts.egressId}":`,
      `  as ${caller.aor}, dial ${DEMO_LEGACY_PHONE.number} on the softphone: it answers at once and plays a tone, and logs the DTMF you press.`,
      `  ${callee.aor} has the DID ${DEMO_LEGACY_PHONE.did}: a SIP phone at ${opts.host} (e.g. \`sipp -sn uac -s ${DEMO_LEGACY_PHONE.did} ${opts.host}:<egress SIP port>\`) calling it rings ${callee.aor}.`,
      `desk phone (baresip) at sip:${opts.host}:${opts.sipPort + 2}, ${deskAor} registered through egress "${opts.egressId}": dial ${DEMO_DESK_USER} on the softphone; it answers at once.`,
      `  sign in as ${deskAor} (password ${opts.deskPassword}) in another tab too: a call to ${DEMO_DESK_USER} then rings the tab and the desk phone.`,
    ],
  };
}
