import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, describe, expect, inject, it } from "vitest";
import { dynamoClientFor, LOCAL_AWS } from "../../packages/sipedge/src/stack/dynalite.ts";
import { TrunkDirectory } from "../../workers/src/directory/trunks.ts";
import { adminFetch, newSubscriber } from "../harness/admin.ts";
import { sipedge } from "../harness/sipedge-cli.ts";
import "../harness/stack-info.ts";

// Trunks, DIDs and call-out policies through the admin API and the CLI,
// against the real edge (workerd) and dynalite (issue 5).

const suffix = Math.random().toString(36).slice(2, 8);
const PASSWORD = `carrier-secret-${suffix}`;
// An egress id no egress serves: the stack's egress "local" would otherwise probe or register these
// test trunks and its status would race the assertions.
const NO_EGRESS = "admin-test-none";

describe("admin API and CLI: trunks, DIDs, call-out policy", { timeout: 120_000 }, () => {
  const stack = inject("stack");
  const target = ["--edge", stack.edgeUrl, "--token", stack.secrets.ADMIN_TOKEN];
  const dynamo = dynamoClientFor(stack.dynamoEndpoint);
  const directory = new TrunkDirectory({ dynamo: { endpoint: stack.dynamoEndpoint, ...LOCAL_AWS }, tables: { trunks: "trunks" } });
  const trunks: string[] = [];
  const dids: string[] = [];
  const subscribers: string[] = [];
  const storedItem = async (table: string, key: Record<string, string>): Promise<Record<string, unknown> | undefined> => {
    const out = await dynamo.send(new GetItemCommand({ TableName: table, Key: Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }])), ConsistentRead: true }));
    return out.Item === undefined ? undefined : unmarshall(out.Item);
  };
  const subscriber = async (user: string): Promise<string> => {
    const { aor } = await newSubscriber(stack, user);
    subscribers.push(aor);
    return aor;
  };

  afterAll(async () => {
    for (const id of trunks) await adminFetch(stack, "DELETE", `/v1/trunks/${id}`);
    for (const d of dids) await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(d)}`);
    for (const aor of subscribers) await adminFetch(stack, "DELETE", `/v1/subscribers/${aor}`);
    dynamo.destroy();
  });

  it("every endpoint needs the bearer token", async () => {
    for (const [method, path] of [
      ["GET", "/v1/trunks"],
      ["POST", "/v1/trunks"],
      ["GET", "/v1/trunks/x"],
      ["GET", "/v1/dids"],
      ["PUT", "/v1/dids/+15550100199"],
      ["GET", `/v1/subscribers/${stack.users[0]!.aor}/call-out`],
      ["PATCH", `/v1/subscribers/${stack.users[0]!.aor}/call-out`],
    ] as const) {
      const r = await adminFetch(stack, method, path, method === "GET" ? undefined : {}, null);
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.json.error.code).toBe("unauthorized");
    }
  });

  it("trunks: create, read, list, patch, status, delete; the password never comes back", async () => {
    const id = `carrier-${suffix}`;
    trunks.push(id);
    const created = await adminFetch(stack, "POST", "/v1/trunks", {
      id,
      name: "Carrier A",
      egress: NO_EGRESS,
      gateways: [{ host: "127.0.0.1", port: 5080, transport: "udp", priority: 10, weight: 5 }, { host: "127.0.0.2" }],
      credentials: { username: "acct", password: PASSWORD },
      register: true,
      allowed_sources: ["127.0.0.0/8"],
      prefixes: ["+1", ""],
      caller_id: { mode: "subscriber", default_number: "+15550100000" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id,
      name: "Carrier A",
      enabled: true,
      egress: NO_EGRESS,
      credentials: { username: "acct", password: "set" },
      register: true,
      register_expires: 3600,
      allowed_sources: ["127.0.0.0/8"],
      prefixes: ["+1", ""],
    });
    expect(created.json.gateways[1]).toEqual({ host: "127.0.0.2", port: 5060, transport: "udp", priority: 10, weight: 1 });
    expect(JSON.stringify(created.json)).not.toContain(PASSWORD);

    expect((await adminFetch(stack, "POST", "/v1/trunks", { id, egress: NO_EGRESS, gateways: [{ host: "127.0.0.1" }] })).status).toBe(409);

    const got = await adminFetch(stack, "GET", `/v1/trunks/${id}`);
    expect(got.status).toBe(200);
    expect(got.json.credentials).toEqual({ username: "acct", password: "set" });
    const list = await adminFetch(stack, "GET", "/v1/trunks");
    expect(list.status).toBe(200);
    expect(list.json.trunks.map((t: { id: string }) => t.id)).toContain(id);
    expect(JSON.stringify(list.json)).not.toContain(PASSWORD);

    // Stored for the egress to answer 401/407 with.
    expect((await storedItem("trunks", { id }))?.credentials).toEqual({ username: "acct", password: PASSWORD });

    // A new username without a password keeps the stored password.
    const patched = await adminFetch(stack, "PATCH", `/v1/trunks/${id}`, { credentials: { username: "acct2" }, prefixes: ["+44"], enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ enabled: false, prefixes: ["+44"], credentials: { username: "acct2", password: "set" } });
    expect((await storedItem("trunks", { id }))?.credentials).toEqual({ username: "acct2", password: PASSWORD });

    // What the egress reports shows up, and an operator's PATCH does not wipe it.
    const now = new Date().toISOString();
    expect(
      await directory.setStatus(id, {
        updated_at: now,
        link_connected: true,
        gateways: [{ host: "127.0.0.2", port: 5060, transport: "udp", up: false, checked_at: now, last_error: "timeout" }],
        registration: { state: "registered", expires_at: now, updated_at: now },
      }),
    ).toBe(true);
    expect((await adminFetch(stack, "PATCH", `/v1/trunks/${id}`, { enabled: true })).json.status.gateways[0]).toMatchObject({ host: "127.0.0.2", up: false });
    expect((await adminFetch(stack, "GET", `/v1/trunks/${id}`)).json.status.registration.state).toBe("registered");
    // Two writers: the one that read an old version is told, not silently undone.
    const current = (await directory.get(id))!;
    expect(await directory.replace({ ...current, name: "stale" }, "2000-01-01T00:00:00.000Z")).toBe("conflict");
    expect(await directory.setStatus("no-such-trunk", { updated_at: now, gateways: [] })).toBe(false);

    expect((await adminFetch(stack, "DELETE", `/v1/trunks/${id}`)).status).toBe(204);
    expect((await adminFetch(stack, "GET", `/v1/trunks/${id}`)).status).toBe(404);
    expect((await adminFetch(stack, "DELETE", `/v1/trunks/${id}`)).status).toBe(404);
    expect((await adminFetch(stack, "PATCH", `/v1/trunks/${id}`, { enabled: true })).status).toBe(404);
  });

  it("trunks: bad input is 400 with the field and how to write it; 415 without JSON", async () => {
    const ok = { id: `bad-${suffix}`, egress: NO_EGRESS, gateways: [{ host: "127.0.0.1" }] };
    const cases: Array<[unknown, string, RegExp]> = [
      [{ ...ok, id: "Has Spaces" }, "invalid_trunk_id", /lowercase letters/],
      [{ ...ok, egress: undefined }, "missing_field", /egress is required/],
      [{ ...ok, gateways: [{ host: "127.0.0.1", transport: "sctp" }] }, "invalid_gateways", /udp, tcp, tls/],
      [{ ...ok, gateways: [{ host: "127.0.0.1", port: 0 }] }, "invalid_gateways", /port/],
      [{ ...ok, allowed_sources: ["10.0.0.1/8"] }, "invalid_allowed_sources", /10\.0\.0\.0\/8/],
      [{ ...ok, prefixes: ["44"] }, "invalid_prefixes", /E\.164 prefix/],
      [{ ...ok, credentials: { username: "u" } }, "invalid_credentials", /password is required/],
      [{ ...ok, caller_id: { mode: "fixed", number: "12" } }, "invalid_caller_id", /E\.164/],
      [{ ...ok, secret: 1 }, "invalid_field", /unknown field "secret"/],
      ["{not json", "invalid_json", /JSON/],
    ];
    for (const [body, code, message] of cases) {
      const r = await adminFetch(stack, "POST", "/v1/trunks", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code, JSON.stringify(body)).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
    const noJson = await fetch(`${stack.edgeUrl}/v1/trunks`, { method: "POST", headers: { Authorization: `Bearer ${stack.secrets.ADMIN_TOKEN}` }, body: "id=x" });
    expect(noJson.status).toBe(415);
    expect((await adminFetch(stack, "GET", "/v1/trunks/UPPER")).json.error.code).toBe("invalid_trunk_id");
    expect((await adminFetch(stack, "GET", `/v1/trunks/missing-${suffix}`)).status).toBe(404);
  });

  it("DIDs: assign to a subscriber, move, read, list by AOR, remove", async () => {
    const carol = await subscriber("carol");
    const dave = await subscriber("dave");
    const number = `+1555${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
    dids.push(number);
    // Visual separators are accepted and removed; "+" may be sent as is or as %2B.
    const spaced = `${number.slice(0, 2)}-${number.slice(2, 5)}-${number.slice(5)}`;
    const assigned = await adminFetch(stack, "PUT", `/v1/dids/${spaced}`, { aor: carol });
    expect(assigned.status).toBe(201);
    expect(assigned.json).toMatchObject({ did: number, aor: carol });
    const moved = await adminFetch(stack, "PUT", `/v1/dids/${encodeURIComponent(number)}`, { aor: dave });
    expect(moved.status).toBe(200);
    expect(moved.json).toMatchObject({ did: number, aor: dave, created_at: assigned.json.created_at });
    expect((await adminFetch(stack, "GET", `/v1/dids/${encodeURIComponent(number)}`)).json.aor).toBe(dave);
    expect((await storedItem("dids", { did: number }))?.aor).toBe(dave);

    const byDave = await adminFetch(stack, "GET", `/v1/dids?aor=${encodeURIComponent(dave)}`);
    expect(byDave.json.dids).toEqual([expect.objectContaining({ did: number, aor: dave })]);
    expect((await adminFetch(stack, "GET", `/v1/dids?aor=${encodeURIComponent(carol)}`)).json.dids).toEqual([]);

    expect((await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(number)}`)).status).toBe(204);
    expect((await adminFetch(stack, "GET", `/v1/dids/${encodeURIComponent(number)}`)).status).toBe(404);
    expect((await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(number)}`)).status).toBe(404);
  });

  it("DIDs: bad input is 400 with a clear message", async () => {
    const carol = await subscriber("carol");
    const cases: Array<[string, unknown, number, string]> = [
      ["/v1/dids/5550100", { aor: carol }, 400, "invalid_did"],
      ["/v1/dids/+15550100199", { aor: "not-an-aor" }, 400, "invalid_aor"],
      ["/v1/dids/+15550100199", { aor: `x@not-served.example` }, 400, "domain_not_served"],
      ["/v1/dids/+15550100199", { aor: `ghost-${suffix}@${stack.domain}` }, 400, "unknown_subscriber"],
      ["/v1/dids/+15550100199", { aor: carol, trunk: "x" }, 400, "invalid_field"],
    ];
    for (const [path, body, status, code] of cases) {
      const r = await adminFetch(stack, "PUT", path, body);
      expect([r.status, r.json.error.code], `${path} ${JSON.stringify(body)}`).toEqual([status, code]);
      expect(r.json.error.message.length).toBeGreaterThan(10);
    }
    expect((await adminFetch(stack, "GET", "/v1/dids?limit=0")).json.error.code).toBe("invalid_limit");
  });

  it("call-out policy: closed by default, set and reset, caller ID must be the subscriber's DID", async () => {
    const erin = await subscriber("erin");
    const path = `/v1/subscribers/${erin}/call-out`;
    const initial = await adminFetch(stack, "GET", path);
    expect(initial.status).toBe(200);
    expect(initial.json).toEqual({
      aor: erin,
      can_call_out: false,
      allowed_prefixes: ["+1"],
      max_concurrent_calls: 2,
      max_calls_per_minute: 5,
      caller_id: null,
      defaults: ["can_call_out", "allowed_prefixes", "max_concurrent_calls", "max_calls_per_minute"],
    });

    const set = await adminFetch(stack, "PATCH", path, { can_call_out: true, allowed_prefixes: ["+1", "+44"], max_concurrent_calls: 3, max_calls_per_minute: 10 });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ can_call_out: true, allowed_prefixes: ["+1", "+44"], max_concurrent_calls: 3, max_calls_per_minute: 10, defaults: [] });
    const item = await storedItem("subscribers", { aor: erin });
    expect(item).toMatchObject({ can_call_out: true, allowed_prefixes: ["+1", "+44"], max_concurrent_calls: 3, max_calls_per_minute: 10 });
    expect(JSON.stringify(set.json)).not.toMatch(/ha1/i);

    const number = `+1555${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
    const notYours = await adminFetch(stack, "PATCH", path, { caller_id: number });
    expect([notYours.status, notYours.json.error.code]).toEqual([400, "caller_id_not_assigned"]);
    expect(notYours.json.error.message).toContain(`PUT /v1/dids/${number}`);
    dids.push(number);
    expect((await adminFetch(stack, "PUT", `/v1/dids/${encodeURIComponent(number)}`, { aor: erin })).status).toBe(201);
    expect((await adminFetch(stack, "PATCH", path, { caller_id: number })).json.caller_id).toBe(number);

    const reset = await adminFetch(stack, "PATCH", path, { allowed_prefixes: null, max_calls_per_minute: null, caller_id: null });
    expect(reset.json).toMatchObject({ allowed_prefixes: ["+1"], max_calls_per_minute: 5, caller_id: null, defaults: ["allowed_prefixes", "max_calls_per_minute"] });
    expect((await storedItem("subscribers", { aor: erin }))?.allowed_prefixes).toBeUndefined();
    // The subscriber's own record is untouched: it still authenticates (HA1 kept).
    expect((await storedItem("subscribers", { aor: erin }))?.ha1_md5).toBe(item?.ha1_md5);

    const bad: Array<[unknown, string]> = [
      [{ can_call_out: "yes" }, "invalid_can_call_out"],
      [{ allowed_prefixes: ["1"] }, "invalid_allowed_prefixes"],
      [{ max_concurrent_calls: 0 }, "invalid_max_concurrent_calls"],
      [{ premium: true }, "invalid_field"],
    ];
    for (const [body, code] of bad) {
      const r = await adminFetch(stack, "PATCH", path, body);
      expect([r.status, r.json.error.code], JSON.stringify(body)).toEqual([400, code]);
    }
    expect((await adminFetch(stack, "GET", `/v1/subscribers/ghost-${suffix}@${stack.domain}/call-out`)).status).toBe(404);
    expect((await adminFetch(stack, "PATCH", `/v1/subscribers/ghost-${suffix}@${stack.domain}/call-out`, { can_call_out: true })).status).toBe(404);
  });

  it("CLI: trunk add/list/show/status/update/delete, did assign/list/remove, user policy", async () => {
    const id = `cli-${suffix}`;
    trunks.push(id);
    const add = await sipedge(
      ["trunk", "add", id, "--egress", NO_EGRESS, "--gateway", "127.0.0.1:5090;transport=tcp;priority=5", "--gateway", "127.0.0.3", "--prefix", "+1,+44", "--allow-source", "127.0.0.1", "--username", "cliuser", "--password-stdin", "--register", "--caller-id", "+15550100001", ...target],
      {},
      `${PASSWORD}\n`,
    );
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    expect(add.stdout).toContain(`created trunk ${id}`);
    expect(add.stdout).toContain("127.0.0.1:5090;transport=tcp  priority 5 weight 1");
    expect(add.stdout).toContain("user cliuser, password set");
    expect(add.stdout).not.toContain(PASSWORD);
    expect((await storedItem("trunks", { id }))?.credentials).toEqual({ username: "cliuser", password: PASSWORD });

    const show = await sipedge(["trunk", "show", id, "--json", ...target]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ id, prefixes: ["+1", "+44"], caller_id: { mode: "fixed", number: "+15550100001" }, credentials: { password: "set" } });
    expect(show.stdout).not.toContain(PASSWORD);

    const list = await sipedge(["trunk", "list"], { SIPEDGE_URL: stack.edgeUrl, SIPEDGE_ADMIN_TOKEN: stack.secrets.ADMIN_TOKEN });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id}\\tenabled\\tegress ${NO_EGRESS}\\t2 gateway\\(s\\), no status yet\\tprefixes \\+1 \\+44`));

    expect((await sipedge(["trunk", "status", id, ...target])).stdout).toContain("no status reported yet");
    const now = new Date().toISOString();
    await directory.setStatus(id, { updated_at: now, gateways: [{ host: "127.0.0.3", port: 5060, transport: "udp", up: false, checked_at: now, last_error: "no answer to OPTIONS" }] });
    const status = await sipedge(["trunk", "status", id, ...target]);
    expect(status.stdout).toContain("127.0.0.1:5090;transport=tcp\tnot checked");
    expect(status.stdout).toContain("127.0.0.3:5060;transport=udp\tDOWN");
    expect(status.stdout).toContain("no answer to OPTIONS");

    const update = await sipedge(["trunk", "update", id, "--prefix", "default", "--disable", "--no-credentials", ...target]);
    expect(update.code).toBe(0);
    expect(update.stdout).toContain("prefixes     default");
    expect(update.stdout).toContain("credentials  none");
    expect(update.stdout).toContain("disabled");

    const carol = await subscriber("carol");
    const number = `+1555${Math.floor(1_000_000 + Math.random() * 8_999_999)}`;
    dids.push(number);
    const assign = await sipedge(["did", "assign", number, carol, ...target]);
    expect([assign.code, assign.stdout.trim()]).toEqual([0, `${number} → ${carol}`]);
    expect((await sipedge(["did", "list", "--aor", carol, ...target])).stdout).toContain(`${number}\t${carol}`);

    const policy = await sipedge(["user", "policy", carol, "--can-call-out", "--allow", "+1,+44", "--max-concurrent", "2", "--max-cpm", "10", "--caller-id", number, ...target]);
    expect(policy.stderr).toBe("");
    expect(policy.code).toBe(0);
    expect(policy.stdout).toContain("can call out        yes");
    expect(policy.stdout).toContain("allowed prefixes    +1 +44");
    expect(policy.stdout).toContain("max calls / minute  10");
    expect(policy.stdout).toContain(`caller ID           ${number}`);
    const shown = await sipedge(["user", "policy", carol, "--json", ...target]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ can_call_out: true, allowed_prefixes: ["+1", "+44"], max_concurrent_calls: 2, max_calls_per_minute: 10 });
    expect((await sipedge(["user", "policy", carol, "--no-call-out", "--allow-default", ...target])).stdout).toMatch(/can call out +no\n +allowed prefixes +\+1 +\(default\)/);

    expect((await sipedge(["did", "remove", number, ...target])).stdout).toContain(`removed ${number}`);
    expect((await sipedge(["trunk", "delete", id, ...target])).stdout).toContain(`deleted trunk ${id}`);
    const gone = await sipedge(["trunk", "show", id, ...target]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("404");
  });

  it("CLI: usage mistakes exit 2, refusals from the edge exit 1 with its reason", async () => {
    const usage: Array<[string[], RegExp]> = [
      [["trunk"], /trunk needs a subcommand/],
      [["trunk", "add", "x", "--gateway", "127.0.0.1"], /needs --egress/],
      [["trunk", "add", "x", "--egress", NO_EGRESS, "--gateway", "127.0.0.1;colour=red"], /unknown parameter "colour"/],
      [["trunk", "show", "Not_An_Id"], /not a trunk id/],
      [["did", "assign", "+15550100199"], /needs an AOR/],
      [["user", "policy", "a@example.com", "--max-cpm", "many"], /whole number/],
      [["trunk", "list", "--bogus"], /bogus/],
    ];
    for (const [args, message] of usage) {
      const r = await sipedge([...args, ...target]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const badSource = await sipedge(["trunk", "add", `x-${suffix}`, "--egress", NO_EGRESS, "--gateway", "127.0.0.1", "--allow-source", "10.0.0.1/8", ...target]);
    expect(badSource.code).toBe(1);
    expect(badSource.stderr).toContain("400 invalid_allowed_sources");
    expect(badSource.stderr).toContain("10.0.0.0/8");
    const badDid = await sipedge(["did", "assign", "555", stack.users[0]!.aor, ...target]);
    expect([badDid.code, badDid.stderr.includes("invalid_did")]).toEqual([1, true]);
    const noToken = await sipedge(["trunk", "list", "--edge", stack.edgeUrl, "--token", "wrong"]);
    expect([noToken.code, noToken.stderr.includes("401")]).toEqual([1, true]);
  });

  it("no log line of any component carries a trunk password", () => {
    for (const file of readdirSync(stack.logDir)) {
      expect(readFileSync(join(stack.logDir, file), "utf8"), file).not.toContain(PASSWORD);
    }
  });
});
