import { describe, expect, inject, it } from "vitest";
import { adminFetch, eventually, registrationsOf } from "../harness/admin.ts";
import "../harness/stack-info.ts";
import { register, SipWsClient, wsUrl } from "../harness/sip-ws-client.ts";

describe("admin API /v1", () => {
  const stack = inject("stack");
  const unique = (user: string): string => `${user}-${Math.random().toString(36).slice(2, 8)}@${stack.domain}`;

  it("needs the bearer token: 401 without it or with a wrong one, JSON error shape", async () => {
    const none = await adminFetch(stack, "GET", "/v1/subscribers", undefined, null);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("unauthorized");
    const wrong = await adminFetch(stack, "GET", "/v1/subscribers", undefined, "not-the-token");
    expect(wrong.status).toBe(401);
    expect(typeof wrong.json.error.message).toBe("string");
  });

  it("creates, reads, lists (paginated), updates and deletes a subscriber; never returns HA1", async () => {
    const aor = unique("carol");
    const created = await adminFetch(stack, "POST", "/v1/subscribers", { aor, password: "s3cret-pass", display_name: "Carol" });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ aor, display_name: "Carol", enabled: true });
    expect(JSON.stringify(created.json)).not.toMatch(/ha1|password/i);

    expect((await adminFetch(stack, "POST", "/v1/subscribers", { aor, password: "another-pass" })).status).toBe(409);

    const got = await adminFetch(stack, "GET", `/v1/subscribers/${aor}`);
    expect(got.status).toBe(200);
    expect(got.json.aor).toBe(aor);
    expect(JSON.stringify(got.json)).not.toMatch(/ha1/i);

    // Page through everything with limit=1 and find our subscriber.
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 200; i++) {
      const page = await adminFetch(stack, "GET", `/v1/subscribers?limit=1${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.json.subscribers.length).toBeLessThanOrEqual(1);
      seen.push(...page.json.subscribers.map((s: { aor: string }) => s.aor));
      cursor = page.json.next_cursor;
      if (cursor === undefined) break;
    }
    expect(seen).toContain(aor);
    expect(seen).toContain(stack.users[0]!.aor);

    const patched = await adminFetch(stack, "PATCH", `/v1/subscribers/${aor}`, { display_name: "Carol C" });
    expect(patched.status).toBe(200);
    expect(patched.json.display_name).toBe("Carol C");

    expect((await adminFetch(stack, "DELETE", `/v1/subscribers/${aor}`)).status).toBe(204);
    expect((await adminFetch(stack, "GET", `/v1/subscribers/${aor}`)).status).toBe(404);
    expect((await adminFetch(stack, "DELETE", `/v1/subscribers/${aor}`)).status).toBe(404);
  });

  it("validates input: AOR syntax, served domain, password length, JSON", async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ aor: "no-at-sign", password: "longenough" }, 400, "invalid_aor"],
      [{ aor: "dave@not-served.example", password: "longenough" }, 400, "domain_not_served"],
      [{ aor: unique("dave"), password: "short" }, 400, "weak_password"],
      [{ aor: unique("dave") }, 400, "invalid_password"],
      ["{not json", 400, "invalid_json"],
    ];
    for (const [body, status, code] of cases) {
      const r = await adminFetch(stack, "POST", "/v1/subscribers", body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.error.code).toBe(code);
    }
    expect((await adminFetch(stack, "PATCH", `/v1/subscribers/${stack.users[0]!.aor}`, { enabled: "no" })).json.error.code).toBe("invalid_enabled");
    expect((await adminFetch(stack, "GET", `/v1/subscribers/${unique("ghost")}`)).status).toBe(404);
  });

  it("disabling refuses the subscriber at once: sockets closed, bindings gone, REGISTER 403; enabling lets it back", async () => {
    const aor = unique("erin");
    const password = "erin-password";
    expect((await adminFetch(stack, "POST", "/v1/subscribers", { aor, password })).status).toBe(201);
    const c = await SipWsClient.connect(wsUrl(stack.edgeUrl, aor));
    expect((await register(c, { aor, password, expires: 600 })).response.status).toBe(200);
    expect((await registrationsOf(stack, aor)).length).toBe(1);

    const disabled = await adminFetch(stack, "PATCH", `/v1/subscribers/${aor}`, { enabled: false });
    expect(disabled.status).toBe(200);
    expect(disabled.json.enabled).toBe(false);
    expect((await c.closed).code).toBe(4403);
    expect(await registrationsOf(stack, aor)).toEqual([]);

    const d = await SipWsClient.connect(wsUrl(stack.edgeUrl, aor));
    expect((await register(d, { aor, password, expires: 600 })).response.status).toBe(403);

    expect((await adminFetch(stack, "PATCH", `/v1/subscribers/${aor}`, { enabled: true })).status).toBe(200);
    expect((await register(d, { aor, password, expires: 600 })).response.status).toBe(200);
    await d.close();
    await eventually(() => registrationsOf(stack, aor), (r) => r.length === 0, 5_000, "bindings to go with the socket");
  });

  it("a password change takes effect at once", async () => {
    const aor = unique("frank");
    expect((await adminFetch(stack, "POST", "/v1/subscribers", { aor, password: "first-password" })).status).toBe(201);
    const c = await SipWsClient.connect(wsUrl(stack.edgeUrl, aor));
    expect((await register(c, { aor, password: "first-password", expires: 600 })).response.status).toBe(200);
    expect((await adminFetch(stack, "PATCH", `/v1/subscribers/${aor}`, { password: "second-password" })).status).toBe(200);
    expect((await register(c, { aor, password: "first-password", expires: 600 })).response.status).toBe(401);
    expect((await register(c, { aor, password: "second-password", expires: 600 })).response.status).toBe(200);
    await c.close();
  });

  it("dialogs answers an empty list until the proxy stores dialogs", async () => {
    const r = await adminFetch(stack, "GET", `/v1/subscribers/${stack.users[0]!.aor}/dialogs`);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.json.dialogs)).toBe(true);
  });
});
