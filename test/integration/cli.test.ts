import { describe, expect, inject, it } from "vitest";
import { sipedge } from "../harness/sipedge-cli.ts";
import "../harness/stack-info.ts";

describe("sipedge CLI against the test stack", { timeout: 240_000 }, () => {
  const stack = inject("stack");
  const target = ["--edge", stack.edgeUrl, "--token", stack.secrets.ADMIN_TOKEN];
  const aor = `gina-${Math.random().toString(36).slice(2, 8)}@${stack.domain}`;

  it("user add generates and prints a password; user show / list / disable / enable / delete", async () => {
    const add = await sipedge(["user", "add", aor, ...target]);
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    expect(add.stdout).toContain(`created ${aor}`);
    expect(add.stdout).toMatch(/password \S{12,}/);

    const show = await sipedge(["user", "show", aor, "--json", ...target]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ aor, enabled: true });

    const list = await sipedge(["user", "list"], { SIPEDGE_URL: stack.edgeUrl, SIPEDGE_ADMIN_TOKEN: stack.secrets.ADMIN_TOKEN });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(aor);
    expect(list.stdout).toContain(stack.users[0]!.aor);

    expect((await sipedge(["user", "disable", aor, ...target])).stdout).toContain(`${aor} disabled`);
    expect((await sipedge(["user", "enable", aor, ...target])).stdout).toContain(`${aor} enabled`);

    const regs = await sipedge(["registrations", aor, ...target]);
    expect(regs.code).toBe(0);
    expect(regs.stdout).toContain("no registrations");

    expect((await sipedge(["user", "delete", aor, ...target])).code).toBe(0);
    const gone = await sipedge(["user", "show", aor, ...target]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("404");
  });

  it("takes a password on stdin", async () => {
    const other = `hank-${Math.random().toString(36).slice(2, 8)}@${stack.domain}`;
    const add = await sipedge(["user", "add", other, "--password-stdin", ...target], {}, "from-stdin-pw\n");
    expect(add.code).toBe(0);
    expect(add.stdout).not.toContain("from-stdin-pw");
    expect((await sipedge(["user", "delete", other, ...target])).code).toBe(0);
  });

  it("bad input exits 2 with a message; API errors exit 1 with the edge's reason", async () => {
    const badAor = await sipedge(["user", "add", "not-an-aor", ...target]);
    expect(badAor.code).toBe(2);
    expect(badAor.stderr).toContain("not an AOR");
    expect((await sipedge(["user", "frobnicate", ...target])).code).toBe(2);
    expect((await sipedge(["user", "add", aor, "--bogus", ...target])).code).toBe(2);

    const weak = await sipedge(["user", "add", aor, "--password", "short", ...target]);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain("weak_password");

    const badToken = await sipedge(["user", "list", "--edge", stack.edgeUrl, "--token", "wrong"]);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain("401");

    const unreachable = await sipedge(["user", "list", "--edge", "http://127.0.0.1:9", "--token", "x"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("cannot reach the edge");
  });
});
