import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { waitUntil } from "../../src/stack/ports.ts";

// Stack children run detached (their own process group, for an orderly
// Ctrl-C). They must still die with us when we are SIGKILLed: an orphaned
// rtpengine or egress keeps its ports, an orphaned baresip reading a closed
// stdin spins a core (child.ts, diesWithParent).

/** Running: exists and is not a zombie (an orphan's exit is reaped by whoever adopts it, if anyone does). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
};

describe("stack children", { timeout: 60_000 }, () => {
  it("die when the process that started them is SIGKILLed: a stack child and baresip", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipedge-orphan-"));
    const parent = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures", "orphan-parent.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(createInterface({ input: parent.stdout! }), "line")) as [string];
    const pids = JSON.parse(line) as { sleeper: number; baresip: number };
    try {
      expect(alive(pids.sleeper) && alive(pids.baresip)).toBe(true);
      parent.kill("SIGKILL");
      await waitUntil("the children of a SIGKILLed parent to exit", async () => !alive(pids.sleeper) && !alive(pids.baresip), 20_000).catch(() => undefined);
      expect([alive(pids.sleeper), alive(pids.baresip)]).toEqual([false, false]);
    } finally {
      for (const pid of [pids.sleeper, pids.baresip]) if (alive(pid)) process.kill(pid, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
