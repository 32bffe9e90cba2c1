import { LOCAL_AWS } from "../../packages/sipedge/src/stack/dynalite.ts";
import { CdrTable, type CdrRecord } from "../../workers/src/directory/cdrs.ts";
import { NgClient } from "../../workers/src/media/ng-client.ts";
import { eventually } from "./admin.ts";
import type { StackInfo } from "./stack-info.ts";

/**
 * What the tests check of the media side: the stack's rtpengine, asked
 * through its agent exactly as the edge asks it (a signed ng request), and
 * the `cdrs` table in dynalite.
 */
export async function rtpengineCalls(stack: StackInfo): Promise<string[]> {
  const ng = new NgClient({ url: stack.mediaAgentUrl, secret: stack.secrets.NG_SECRET });
  try {
    const reply = await ng.request("list", { limit: 10_000 });
    return Array.isArray(reply.calls) ? (reply.calls as string[]) : [];
  } finally {
    ng.close();
  }
}

/** Waits until rtpengine holds no session of these calls (all of them when none named). */
export async function noRtpengineSessions(stack: StackInfo, callIds?: readonly string[], timeoutMs = 10_000): Promise<void> {
  const named = (calls: string[]): string[] => (callIds === undefined ? calls : calls.filter((c) => callIds.includes(c)));
  await eventually(() => rtpengineCalls(stack), (calls) => named(calls).length === 0, timeoutMs, "rtpengine to hold no session of these calls");
}

export function cdrTable(stack: StackInfo): CdrTable {
  return new CdrTable({
    dynamo: { endpoint: stack.dynamoEndpoint, region: LOCAL_AWS.region, accessKeyId: LOCAL_AWS.accessKeyId, secretAccessKey: LOCAL_AWS.secretAccessKey },
    tables: { cdrs: "cdrs" },
  });
}

/** The CDR of a call, once the owning DO has written it. */
export async function cdrOf(stack: StackInfo, callId: string, timeoutMs = 10_000): Promise<CdrRecord> {
  const rows = await eventually(() => cdrTable(stack).ofCall(callId), (r) => r.length > 0, timeoutMs, `the CDR of ${callId}`);
  return rows[0]!;
}
