#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run bench` and `npm run reset`.
// Plain JavaScript with no dependencies, because it runs before `npm install`:
// it installs what is missing (npm packages; Debian packages when root), then
// hands over to the TypeScript CLI.
import { spawnSync, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Debian packages the local stack and the test suite run for real
// (chromium: the softphone's browser tests, driven by playwright-core;
// sip-tester is SIPp, the carrier in the trunk tests; baresip-core is the
// demo legacy phone and the one in the tests).
const DEBIAN_PACKAGES = ["rtpengine-daemon", "sip-tester", "chromium", "baresip-core"];

function say(msg) {
  process.stderr.write(`[setup] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`[setup] error: ${msg}\n`);
  process.exit(1);
}

function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 11)) {
    fail(`Node ${process.versions.node} is too old: sipedge needs Node 20.11 or newer (see "engines" in package.json).`);
  }
}

function npmDepsStale() {
  const marker = join(root, "node_modules", ".package-lock.json");
  if (!existsSync(marker)) return true;
  return statSync(join(root, "package-lock.json")).mtimeMs > statSync(marker).mtimeMs;
}

function installNpmDeps() {
  if (!npmDepsStale()) return;
  say("installing npm dependencies (npm ci) …");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) fail("npm ci failed; fix the error above and run the command again.");
}

function missingDebianPackages() {
  return DEBIAN_PACKAGES.filter((p) => {
    const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", p], { encoding: "utf8" });
    return r.status !== 0 || !r.stdout.includes("install ok installed");
  });
}

function installDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    fail(`missing Debian packages: ${missing.join(" ")}. Install them as root:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(" ")}\nthen run the command again.`);
  }
  say(`installing Debian packages: ${missing.join(" ")} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env });
  if (r.status !== 0) {
    say("apt-get install failed; refreshing the package lists and trying again …");
    spawnSync("apt-get", ["update"], { stdio: "inherit", env });
    r = spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env });
    if (r.status !== 0) fail(`could not install ${missing.join(" ")} with apt-get; see the error above.`);
  }
  // The Debian package starts a system rtpengine with /etc's config; ours runs
  // its own on loopback, so stop the system one to keep its ports free.
  spawnSync("sh", ["-c", "systemctl stop rtpengine-daemon 2>/dev/null; pkill -x rtpengine 2>/dev/null; true"]);
}

checkNode();
const [command = "start", ...rest] = process.argv.slice(2);
if (command !== "reset") {
  installNpmDeps();
  installDebianPackages();
}
// Offline by design (PLATFORM.md): nothing of wrangler's leaves loopback.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // The pinned AWS SDK supports Node 20; its notice about later releases is noise here.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
// Killed outright (kill -9), we still want the CLI to stop the stack in
// order: the kernel sends it SIGTERM when we die (as child.ts does for the
// stack's own processes), when util-linux's setpriv is there.
const cli = [process.execPath, "--import", "tsx", join(root, "packages/sipedge/src/cli.ts"), command, ...rest];
const setpriv = spawnSync("sh", ["-c", "command -v setpriv"], { encoding: "utf8" });
const argv = setpriv.status === 0 ? [setpriv.stdout.trim(), "--pdeathsig", "SIGTERM", "--", ...cli] : cli;
const child = spawn(argv[0], argv.slice(1), {
  cwd: root,
  stdio: "inherit",
  env,
});
// Ctrl-C reaches the whole foreground process group; the CLI stops the stack
// itself, and we leave with its exit code.
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
