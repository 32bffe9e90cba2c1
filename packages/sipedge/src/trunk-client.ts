import type { DidRecord } from "../../../workers/src/directory/dids.ts";
import type { PublicTrunk } from "../../../workers/src/directory/trunks.ts";
import type { CallOutPolicyView } from "../../../workers/src/trunks/call-out-policy.ts";
import type { AdminClient } from "./admin-client.ts";

/**
 * The admin API's trunks, DIDs and call-out policies (/v1/trunks, /v1/dids,
 * /v1/subscribers/:aor/call-out) for the `sipedge trunk|did|user policy`
 * commands. Types are the edge's own, so the two cannot drift apart.
 */
export type { CallOutPolicyView, DidRecord, PublicTrunk };

const trunkPath = (id: string): string => `/v1/trunks/${encodeURIComponent(id)}`;
const didPath = (number: string): string => `/v1/dids/${encodeURIComponent(number)}`;

export async function listTrunks(client: AdminClient): Promise<PublicTrunk[]> {
  return (await client.call<{ trunks: PublicTrunk[] }>("GET", "/v1/trunks")).trunks;
}

export function getTrunk(client: AdminClient, id: string): Promise<PublicTrunk> {
  return client.call("GET", trunkPath(id));
}

export function createTrunk(client: AdminClient, body: Record<string, unknown>): Promise<PublicTrunk> {
  return client.call("POST", "/v1/trunks", body);
}

export function updateTrunk(client: AdminClient, id: string, patch: Record<string, unknown>): Promise<PublicTrunk> {
  return client.call("PATCH", trunkPath(id), patch);
}

export function deleteTrunk(client: AdminClient, id: string): Promise<void> {
  return client.call("DELETE", trunkPath(id));
}

export function assignDid(client: AdminClient, number: string, aor: string): Promise<DidRecord> {
  return client.call("PUT", didPath(number), { aor });
}

export async function listDids(client: AdminClient, aor?: string): Promise<DidRecord[]> {
  const all: DidRecord[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ limit: "200" });
    if (aor !== undefined) query.set("aor", aor);
    if (cursor !== undefined) query.set("cursor", cursor);
    const page = await client.call<{ dids: DidRecord[]; next_cursor?: string }>("GET", `/v1/dids?${query}`);
    all.push(...page.dids);
    cursor = page.next_cursor;
  } while (cursor !== undefined);
  return all.sort((a, b) => a.did.localeCompare(b.did));
}

export function getDid(client: AdminClient, number: string): Promise<DidRecord> {
  return client.call("GET", didPath(number));
}

export function removeDid(client: AdminClient, number: string): Promise<void> {
  return client.call("DELETE", didPath(number));
}

export function getCallOutPolicy(client: AdminClient, aor: string): Promise<CallOutPolicyView> {
  return client.call("GET", `/v1/subscribers/${encodeURIComponent(aor)}/call-out`);
}

export function updateCallOutPolicy(client: AdminClient, aor: string, patch: Record<string, unknown>): Promise<CallOutPolicyView> {
  return client.call("PATCH", `/v1/subscribers/${encodeURIComponent(aor)}/call-out`, patch);
}
