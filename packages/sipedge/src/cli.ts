import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AdminApiError } from "./admin-client.ts";
import { ADMIN_USAGE, adminCommand, UsageError } from "./admin-commands.ts";
import { NODE_USAGE, nodeCommand } from "./node-commands.ts";
import { REPO_ROOT } from "./paths.ts";
import { callOutPolicyCommand, TRUNK_USAGE, trunkCommand } from "./trunk-commands.ts";
import { prefixedLog } from "./stack/log.ts";
import { StackError } from "./stack/ports.ts";

const STATE_DIR = join(REPO_ROOT, ".state");

const USAGE = `usage: sipedge <command> [options]

commands:
  start     run the whole system locally (what \`npm start\` does)
  test      type-check, then run the test suite (what \`npm test\` does)
  bench     run benchmarks: \`npm run bench\` (all) or \`npm run bench -- parser edge media\`
  reset     delete local state (.state/: directory data, DO storage, secrets, demo passwords)
  user      manage subscribers on a running edge (see below)
  registrations AOR   show an AOR's registrations
  node      list media nodes, drain or activate one (see below)
  trunk     manage trunks (carriers) on a running edge (see below)
  did       assign numbers (DIDs) to subscribers (see below)

start options:
  --edge-port N     edge HTTP/WebSocket port (default 8787)
  --dynamo-port N   dynalite port (default 4567)
  --ng-port N       rtpengine ng control UDP port (default 2223)
  --agent-port N    media agent HTTP port (default 8790)
  --rtp-ports A-B   rtpengine media port range (default 30000-30999)
  --egress-sip-port N   the egress proxy's SIP port, UDP and TCP (default 5060)
  --egress-http-port N  the egress proxy's /healthz and /metrics (default 8791)
  --legacy-phone-port N the demo legacy phones (baresip) SIP port: the trunk gateway; carol's desk phone takes N+2; each takes the next for TLS (default 5070)
  --state-dir DIR   where local state lives (default .state/)
  --domain NAME     SIP domain served (default example.com)

${ADMIN_USAGE}
${NODE_USAGE}
${TRUNK_USAGE}`;

function port(value: string | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${option} takes a port number from 1 to 65535, not "${value}"`);
  return n;
}

function rtpRange(value: string | undefined): [number, number] {
  if (value === undefined) return [30000, 30999];
  const m = /^(\d+)-(\d+)$/.exec(value);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (m === null || lo < 1024 || hi > 65535 || hi - lo < 10) {
    throw new UsageError(`--rtp-ports takes a range LOW-HIGH within 1024-65535 and at least 10 wide, e.g. 30000-30999, not "${value}"`);
  }
  return [lo, hi];
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "edge-port": { type: "string" },
      "dynamo-port": { type: "string" },
      "ng-port": { type: "string" },
      "agent-port": { type: "string" },
      "rtp-ports": { type: "string" },
      "egress-sip-port": { type: "string" },
      "egress-http-port": { type: "string" },
      "legacy-phone-port": { type: "string" },
      "state-dir": { type: "string" },
      domain: { type: "string" },
    },
    strict: true,
  });
  const [rtpMin, rtpMax] = rtpRange(values["rtp-ports"]);
  const stateDir = values["state-dir"] ?? STATE_DIR;
  const domain = (values.domain ?? "example.com").toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
    throw new UsageError(`--domain "${values.domain}" is not a host name (e.g. example.com)`);
  }
  // Loaded here, not at the top: the stack pulls in Miniflare and esbuild,
  // which the admin commands do not need and which take seconds to load.
  const { demoUsers, loadOrCreate, newSecrets } = await import("./stack/seed.ts");
  const { startStack } = await import("./stack/stack.ts");
  mkdirSync(stateDir, { recursive: true });
  const secrets = loadOrCreate(join(stateDir, "secrets.json"), newSecrets);
  const users = loadOrCreate(join(stateDir, `demo-users-${domain}.json`), () => demoUsers(domain));
  const log = prefixedLog("sipedge");
  const stack = await startStack({
    host: "127.0.0.1",
    ports: {
      edge: port(values["edge-port"], 8787, "--edge-port"),
      dynalite: port(values["dynamo-port"], 4567, "--dynamo-port"),
      ng: port(values["ng-port"], 2223, "--ng-port"),
      agent: port(values["agent-port"], 8790, "--agent-port"),
      rtpMin,
      rtpMax,
      egressSip: port(values["egress-sip-port"], 5060, "--egress-sip-port"),
      egressHttp: port(values["egress-http-port"], 8791, "--egress-http-port"),
      legacyPhone: port(values["legacy-phone-port"], 5070, "--legacy-phone-port"),
    },
    stateDir,
    persistDirectory: true,
    domain,
    secrets,
    users,
    logFor: (name) => prefixedLog(name),
  });
  log(`edge        ${stack.edgeUrl}  (health: ${stack.edgeUrl}/healthz)`);
  log(`softphone   ${stack.edgeUrl}/  (sign in as a demo user below)`);
  log(`SIP over WS ${stack.edgeUrl.replace(/^http/, "ws")}/ws/<user>@${domain}   subprotocol "sip"`);
  log(`DynamoDB    ${stack.dynamoEndpoint}  (dynalite; tables subscribers, dids, trunks, media_nodes, cdrs)`);
  log(`rtpengine   ng udp:${stack.ngAddress.host}:${stack.ngAddress.port}`);
  log(`rtp ports   ${rtpMin}-${rtpMax}`);
  log(`media agent ${stack.mediaAgentUrl}  (signed ng; /healthz, /metrics)`);
  log(`egress      sip:${stack.egress.sip.host}:${stack.egress.sip.port} (UDP, TCP) for carriers and SIP phones; ${stack.egress.httpUrl}/healthz`);
  for (const line of stack.legacyPhone?.banner ?? []) log(line);
  log(`admin token ADMIN_TOKEN in ${join(stateDir, "secrets.json")}`);
  for (const u of users) log(`demo user   ${u.aor}  password ${u.password}`);
  log(`state       ${stateDir}  (reset with \`npm run reset\`)`);
  log("ready — Ctrl-C stops everything");
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      log("stopping …");
      stack.stop().then(resolve, resolve);
    };
    // Miniflare installs its own SIGINT/SIGTERM hook that exits at once
    // (code 130) and would leave dynalite and rtpengine running; we stop the
    // whole stack ourselves, workerd included.
    process.removeAllListeners("SIGINT");
    process.removeAllListeners("SIGTERM");
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

function run(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: "inherit" });
  return r.status ?? 1;
}

function typecheck(): number {
  const tsc = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
  for (const project of ["tsconfig.json", "workers/tsconfig.json", "workers/test/tsconfig.json", "workers/softphone/tsconfig.json", "packages/sip-parser-ts/tsconfig.json"]) {
    process.stdout.write(`[typecheck] ${project}\n`);
    const code = run(process.execPath, [tsc, "-p", project]);
    if (code !== 0) return code;
  }
  return 0;
}

function test(argv: string[]): number {
  const code = typecheck();
  if (code !== 0) return code;
  return run(process.execPath, [join(REPO_ROOT, "node_modules/vitest/vitest.mjs"), "run", ...argv]);
}

function bench(argv: string[]): number {
  const dir = join(REPO_ROOT, "test/bench");
  const known = readdirSync(dir).filter((f) => /^[a-z0-9-]+\.ts$/.test(f)).map((f) => f.slice(0, -3)).sort();
  const names = argv.length > 0 ? argv : known;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new UsageError(`unknown benchmark "${unknown[0]}"; there are: ${known.join(", ")}`);
  for (const name of names) {
    const code = run(process.execPath, ["--import", "tsx", join(dir, `${name}.ts`)]);
    if (code !== 0) return code;
  }
  return 0;
}

async function main(): Promise<number> {
  const [command, ...argv] = process.argv.slice(2);
  switch (command) {
    case "start":
      await start(argv);
      return 0;
    case "test":
      return test(argv);
    case "bench":
      return bench(argv);
    case "user":
    case "registrations":
      if (command === "user" && argv[0] === "policy") return callOutPolicyCommand(argv.slice(1), REPO_ROOT, (line) => process.stdout.write(line + "\n"));
      return adminCommand(command, argv, REPO_ROOT, (line) => process.stdout.write(line + "\n"));
    case "trunk":
    case "did":
      return trunkCommand(command, argv, REPO_ROOT, (line) => process.stdout.write(line + "\n"));
    case "node":
      return nodeCommand(argv, REPO_ROOT, (line) => process.stdout.write(line + "\n"));
    case "reset":
      rmSync(STATE_DIR, { recursive: true, force: true });
      process.stdout.write("removed .state/\n");
      return 0;
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`sipedge: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof AdminApiError) {
      process.stderr.write(`sipedge: ${err.status === 0 ? "" : `the edge refused (${err.status} ${err.code}): `}${err.message}\n`);
      process.exit(1);
    }
    if (err instanceof StackError) {
      process.stderr.write(`sipedge: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`sipedge: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
