import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { build } from "esbuild";
import { Log as MiniflareLog, LogLevel, Miniflare } from "miniflare";
import { buildSoftphone } from "../../../../workers/softphone/build.ts";
import { REPO_ROOT } from "../paths.ts";
import { diesWithParent } from "./child.ts";
import { pipeLines, type Log } from "./log.ts";
import { readWorkerSettings } from "./wrangler-config.ts";


/** The `request.cf` every local request carries (a loopback client has no location). */
export const LOCAL_CF = {
  colo: "LOCAL",
  country: "XX",
  continent: "EU",
  city: "Localhost",
  latitude: "50.1109",
  longitude: "8.6821",
  timezone: "UTC",
  asn: 0,
  clientTcpRtt: 0,
};

export interface EdgeOptions {
  host: string;
  port: number;
  /** Overrides of wrangler.toml [vars] plus the secrets. */
  bindings: Record<string, string>;
  /** Folder for Durable Object storage; kept across restarts. */
  persistDir: string;
  /** Where the bundled Worker is written. */
  buildDir: string;
  log: Log;
}

export interface Edge {
  url: string;
  miniflare: Miniflare;
}

/**
 * Bundles workers/src the way `wrangler deploy` does (esbuild, ES modules,
 * `cloudflare:*` left to the runtime) into one file. First it builds the
 * softphone (workers/softphone/build.ts, what wrangler.toml's `[build]
 * command` runs before a deploy); its files come in as text modules, as
 * wrangler's default rules make `.txt` and `.html` Text.
 */
export async function bundleWorker(buildDir: string, entry: string): Promise<string> {
  mkdirSync(buildDir, { recursive: true });
  await buildSoftphone();
  const outfile = join(buildDir, "worker.mjs");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser", // as wrangler (esbuild default): applies package.json "browser" maps (the AWS SDK's fetch-based runtime config)
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    loader: { ".txt": "text", ".html": "text" },
    sourcemap: "linked",
    logLevel: "warning",
  });
  return outfile;
}

/**
 * Miniflare spawns workerd itself, so it cannot go through diesWithParent
 * (child.ts) as our other children do; but it runs MINIFLARE_WORKERD_PATH
 * when set. That becomes a two-line script that execs workerd under the same
 * parent-death signal: a killed `npm start` leaves no workerd holding the
 * edge's port. A MINIFLARE_WORKERD_PATH of the user's own is left alone.
 */
function workerdDiesWithParent(buildDir: string): void {
  if (process.env.MINIFLARE_WORKERD_PATH !== undefined) return;
  const miniflareEntry = createRequire(import.meta.url).resolve("miniflare");
  const workerd = (createRequire(miniflareEntry)("workerd") as { default: string }).default;
  const [command, args] = diesWithParent(workerd, []);
  if (command === workerd) return;
  const wrapper = join(buildDir, "workerd");
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(wrapper, `#!/bin/sh\nexec ${[command, ...args].map(shellQuote).join(" ")} "$@"\n`, { mode: 0o755 });
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
}

const shellQuote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Runs the Worker and its Durable Objects in workerd through Miniflare's API
 * (PLATFORM.md: no proxy hop, 0.2–0.4 s to first reply). Bindings and
 * Durable Object classes come from wrangler.toml, so local and deployed
 * configurations cannot drift.
 */
export async function startEdge(opts: EdgeOptions): Promise<Edge> {
  const settings = readWorkerSettings(join(REPO_ROOT, "wrangler.toml"));
  const scriptPath = await bundleWorker(opts.buildDir, join(REPO_ROOT, settings.main));
  mkdirSync(opts.persistDir, { recursive: true });
  workerdDiesWithParent(opts.buildDir);
  const miniflare = new Miniflare({
    name: "sipedge",
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: settings.compatibilityDate,
    compatibilityFlags: settings.compatibilityFlags,
    bindings: { ...settings.vars, ...opts.bindings },
    durableObjects: settings.durableObjects,
    durableObjectsPersist: opts.persistDir,
    // Locally there is no Cloudflare edge to ask for `request.cf` (Miniflare
    // would try workers.cloudflare.com and wait seconds for DNS to fail): give
    // every request a fixed location instead.
    cf: LOCAL_CF,
    host: opts.host,
    port: opts.port,
    log: new MiniflareLog(LogLevel.WARN),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      pipeLines(stdout, opts.log);
      pipeLines(stderr, opts.log);
    },
  });
  const url = (await miniflare.ready).toString().replace(/\/$/, "");
  return { url, miniflare };
}
