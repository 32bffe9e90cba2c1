import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freeBaresipPort } from "../../packages/sipedge/src/stack/baresip.ts";
import { assertTcpPortFree, assertUdpPortFree, freeTcpPort, freeUdpPort, waitUntil } from "../../packages/sipedge/src/stack/ports.ts";

const ROOT = join(import.meta.dirname, "..", "..");

interface Run {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `npm start`'s entry point exactly as package.json does, with extra options. */
function npmStart(args: string[]): Run {
  // Its own process group, so a failed test can stop the whole tree.
  const child = spawn(process.execPath, [join(ROOT, "packages/sipedge/bootstrap.mjs"), "start", ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    detached: true,
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Resolves when `text` appears in the output; fails with the output if the process exits first. */
function waitForOutput(run: Run, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (run.output().includes(text)) {
        run.child.stdout.off("data", check);
        resolve();
      }
    };
    run.child.stdout.on("data", check);
    run.exited.then((code) => reject(new Error(`exited with ${code} before printing "${text}":\n${run.output()}`)));
    check();
  });
}

describe("npm start", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "sipedge-start-"));
  const started: Run[] = [];
  afterAll(async () => {
    // A failed test leaves a start running: Ctrl-C's path stops its children too (each runs in its own process
    // group, so a SIGKILL of this group would orphan them); SIGKILL only if it does not exit in time.
    for (const r of started) {
      if (r.child.exitCode !== null || r.child.signalCode !== null || r.child.pid === undefined) continue;
      r.child.kill("SIGINT");
      const stopped = await Promise.race([r.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 20_000, false))]);
      if (!stopped) process.kill(-r.child.pid, "SIGKILL");
    }
  }, 60_000);

  it("starts the stack, refuses a second copy on the same ports, stops on Ctrl-C, starts again with the same state, and leaves nothing running when killed -9", async () => {
    const ports = {
      edge: await freeTcpPort(), dynamo: await freeTcpPort(), ng: await freeUdpPort(), agent: await freeTcpPort(),
      egressSip: await freeTcpPort(), egressHttp: await freeTcpPort(), phone: await freeBaresipPort("127.0.0.1", 2),
    };
    const args = [
      "--edge-port", String(ports.edge), "--dynamo-port", String(ports.dynamo), "--ng-port", String(ports.ng), "--agent-port", String(ports.agent),
      "--rtp-ports", "32000-32099", "--egress-sip-port", String(ports.egressSip), "--egress-http-port", String(ports.egressHttp),
      "--legacy-phone-port", String(ports.phone), "--state-dir", stateDir,
    ];

    const first = npmStart(args);
    started.push(first);
    await waitForOutput(first, "ready — Ctrl-C stops everything");
    const passwords = [...first.output().matchAll(/demo user +(\S+) +password (\S+)/g)].map((m) => `${m[1]}=${m[2]}`);
    // The demo desk phone registered through the egress before "ready" (it waits for the registrar's 200).
    expect(first.output()).toMatch(/desk phone \(baresip\) at sip:127\.0\.0\.1:\d+, carol@example\.com registered through egress "local"/);
    expect(first.output()).toMatch(/sign in as carol@example\.com \(password \S+\) in another tab too/);
    expect(passwords).toHaveLength(2);
    const health = await fetch(`http://127.0.0.1:${ports.edge}/healthz`);
    expect(health.status).toBe(200);
    // The egress is up with its link to the edge (its /healthz is 503 otherwise), and the demo phone is announced.
    expect((await fetch(`http://127.0.0.1:${ports.egressHttp}/healthz`)).status).toBe(200);
    expect(first.output()).toContain(`egress      sip:127.0.0.1:${ports.egressSip}`);
    expect(first.output()).toMatch(/\+15550100200/);

    const second = npmStart(args);
    started.push(second);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`127.0.0.1:${ports.edge}`);
    expect(second.output()).toContain("--edge-port");

    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    await assertTcpPortFree("edge", "127.0.0.1", ports.edge, "-");
    await assertTcpPortFree("dynalite", "127.0.0.1", ports.dynamo, "-");
    await assertTcpPortFree("egress", "127.0.0.1", ports.egressHttp, "-");
    await assertTcpPortFree("legacy phone", "127.0.0.1", ports.phone, "-");
    await assertTcpPortFree("desk phone", "127.0.0.1", ports.phone + 2, "-");

    const third = npmStart(args);
    started.push(third);
    await waitForOutput(third, "ready — Ctrl-C stops everything");
    const again = [...third.output().matchAll(/demo user +(\S+) +password (\S+)/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(again).toEqual(passwords);
    // The CLI that runs the stack killed outright, not Ctrl-C: it stops nothing itself, but the kernel's
    // parent-death signal reaches every process of the stack (workerd too, which Miniflare spawns), and each
    // lets go of its port.
    const cli = readFileSync(`/proc/${third.child.pid}/task/${third.child.pid}/children`, "utf8").trim().split(" ").map(Number);
    expect(cli).toHaveLength(1);
    process.kill(cli[0]!, "SIGKILL");
    await third.exited;
    for (const [what, port] of [["edge (workerd)", ports.edge], ["dynalite", ports.dynamo], ["agent", ports.agent], ["egress", ports.egressHttp], ["desk phone", ports.phone + 2]] as const) {
      await waitUntil(`${what} to free port ${port}`, () => assertTcpPortFree(what, "127.0.0.1", port, "-").then(() => true, () => false), 30_000);
    }
    await waitUntil(`rtpengine to free its ng port ${ports.ng}`, () => assertUdpPortFree("rtpengine", "127.0.0.1", ports.ng, "-").then(() => true, () => false), 30_000);
  }, 240_000);

  it("rejects a malformed option with a message saying what is wrong", async () => {
    const run = npmStart(["--edge-port", "99999", "--state-dir", stateDir]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain("--edge-port takes a port number from 1 to 65535");
  });
});
