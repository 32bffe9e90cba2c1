import { spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * Runs `sipedge ARGS` as a user does (a Node process on cli.ts), with no
 * target from the environment unless `env` gives one; resolves with its exit
 * code and output.
 */
export function sipedge(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "packages/sipedge/src/cli.ts"), ...args], {
      cwd: ROOT,
      env: { ...process.env, SIPEDGE_URL: "", SIPEDGE_ADMIN_TOKEN: "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}
