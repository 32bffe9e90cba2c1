import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../paths.ts";
import { LOCAL_AWS } from "./dynalite.ts";
import { spawnStackChild } from "./child.ts";
import type { Log } from "./log.ts";
import { waitUntil } from "./ports.ts";

export interface MediaAgentOptions {
  host: string;
  port: number;
  nodeId: string;
  region: string;
  rtpengineNg: { host: string; port: number };
  dynamoEndpoint: string;
  secret: string;
  capacity: number;
  log: Log;
}

export interface MediaAgentProcess {
  ngUrl: string;
  process: ChildProcess;
}

/**
 * Runs media-node/agent as it runs on a media VM, in front of the local
 * rtpengine, heartbeating into the local DynamoDB. The secret goes through
 * the environment, never the command line (it would show in `ps`).
 */
export async function startMediaAgent(opts: MediaAgentOptions): Promise<MediaAgentProcess> {
  const base = `http://${opts.host}:${opts.port}`;
  const args = [
    "--import",
    "tsx",
    join(REPO_ROOT, "media-node/agent/src/main.ts"),
    "--listen", `${opts.host}:${opts.port}`,
    "--rtpengine-ng", `${opts.rtpengineNg.host}:${opts.rtpengineNg.port}`,
    "--node-id", opts.nodeId,
    "--region", opts.region,
    "--public-address", opts.host,
    "--private-address", opts.host,
    "--ng-url", `${base}/ng`,
    "--capacity", String(opts.capacity),
    "--dynamodb-endpoint", opts.dynamoEndpoint,
    "--dynamodb-region", LOCAL_AWS.region,
    // Locally a stop should not wait for calls to drain for long.
    "--drain-timeout-ms", "2000",
  ];
  const child = spawnStackChild(process.execPath, args, opts.log, {
    ...process.env,
    SIPEDGE_NG_SECRET: opts.secret,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  await waitUntil("the media agent", async () => (await fetch(`${base}/healthz`)).ok, 30_000, child);
  return { ngUrl: `${base}/ng`, process: child };
}
