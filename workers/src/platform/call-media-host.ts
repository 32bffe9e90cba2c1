import { readConfig } from "../config.ts";
import { CdrTable } from "../directory/cdrs.ts";
import type { Env } from "../env.ts";
import { logEvent } from "../log.ts";
import { CallMedia, type AnswerKinds } from "../media/call-media.ts";
import type { ProxyMedia } from "../proxy/index.ts";
import { isolateMediaNodePool, withNearestMediaNode } from "../media/media-node-pool.ts";
import { SqlMediaSessionStore } from "../media/media-session.ts";
import { geoPointOf } from "../media/media-regions.ts";
import { NgClient } from "../media/ng-client.ts";
import { NoMediaNodeError } from "../media/node-failover.ts";
import type { ClientLocation } from "./flow-headers.ts";

/** At most this many ng channels per DO instance (a user's calls use one or two nodes). */
const MAX_NG_CLIENTS = 16;

/**
 * The UserAgent DO's CallMedia (media/call-media.ts): sessions in its
 * SQLite, nodes from the isolate's pool nearest the browser, one signed ng
 * channel per node, CDRs into DynamoDB.
 */
export function callMediaFor(
  env: Env,
  sql: SqlStorage,
  locationOf: (flowId: string) => ClientLocation | undefined,
  background: (work: Promise<void>) => void,
  answerKinds?: (aor: string) => Promise<AnswerKinds>,
): ProxyMedia {
  const secret = env.NG_SECRET ?? "";
  const clients = new Map<string, NgClient>();
  const media = new CallMedia({
    sessions: new SqlMediaSessionStore(sql),
    place: (location, attempt) => {
      if (secret === "") {
        // The agents refuse unsigned requests: say what to fix instead of timing out on every node.
        logEvent("config-error", { setting: "NG_SECRET", message: "not set: calls cannot be given a media node" }, "error");
        throw new NoMediaNodeError(30, [], [], "NG_SECRET is not set");
      }
      return withNearestMediaNode(isolateMediaNodePool(readConfig(env)), location, attempt);
    },
    ng: (url) => {
      let client = clients.get(url);
      if (client === undefined) {
        if (clients.size >= MAX_NG_CLIENTS) clients.clear();
        client = new NgClient({ url, secret });
        clients.set(url, client);
      }
      return client;
    },
    locationOf: (flowId) => geoPointOf(locationOf(flowId)),
    ...(answerKinds !== undefined ? { answerKinds } : {}),
    cdrs: new CdrTable(readConfig(env)),
    now: Date.now,
    log: logEvent,
  });
  return {
    offer: (req, route) => media.offer(req, route),
    answer: (res, req) => media.answer(res, req),
    // The `delete` and the CDR write happen after the call's SIP is on its
    // way, and nobody waits for them: not the socket, not the other DO's RPC
    // (its BYE would wait for rtpengine and DynamoDB otherwise). The session
    // row is gone before `end` first awaits, so a second end finds nothing.
    end: (callId, how) => {
      background(media.end(callId, how));
      return Promise.resolve();
    },
  };
}
