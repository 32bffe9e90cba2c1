import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import { launchChromium } from "../harness/chromium.ts";
import { SoftphonePages, stateOf, waitForState } from "../harness/softphone.ts";
import "../harness/stack-info.ts";

/**
 * The softphone page the Worker serves at `/` (workers/softphone/), fetched
 * from the real stack, then driven in headless Chromium (Debian's, through
 * playwright-core) against the real edge. Calls between two pages, with
 * their media relayed by rtpengine, are in softphone-calls.test.ts.
 */
const stack = inject("stack");

describe("GET / — the softphone page and its assets", () => {
  it("serves the page as HTML that loads only same-origin, versioned assets", async () => {
    const res = await fetch(`${stack.edgeUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toMatch(/<script type="module" src="\/softphone\.js\?v=[0-9a-f]{8}"><\/script>/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/softphone\.css\?v=[0-9a-f]{8}">/);
    expect(html).toContain(`<meta name="sipedge-domain" content="${stack.domain}">`);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toContain("{{");
  });

  it("serves the JavaScript bundle: JsSIP inside, no external URL, immutable when asked for by its version", async () => {
    const version = /softphone\.js\?v=([0-9a-f]{8})/.exec(await (await fetch(`${stack.edgeUrl}/`)).text())![1]!;
    const res = await fetch(`${stack.edgeUrl}/softphone.js?v=${version}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("etag")).toBe(`"${version}"`);
    const js = await res.text();
    expect(js).toContain('title:"JsSIP"');
    expect(js).toContain("sipedgePhone");
    expect(js).toContain("RFC2833");
    // Offline by construction: nothing is fetched from anywhere but the edge.
    expect(js).not.toMatch(/https?:\/\//);
    expect(js).not.toMatch(/\bimport\s*\(/);

    const unversioned = await fetch(`${stack.edgeUrl}/softphone.js`);
    expect(unversioned.headers.get("cache-control")).toBe("no-cache");
    await unversioned.arrayBuffer();
    const revalidated = await fetch(`${stack.edgeUrl}/softphone.js`, { headers: { "If-None-Match": `"${version}"` } });
    expect(revalidated.status).toBe(304);
  });

  it("serves the stylesheet as CSS", async () => {
    const res = await fetch(`${stack.edgeUrl}/softphone.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const css = await res.text();
    expect(css).toContain(".keypad");
    expect(css).not.toMatch(/https?:\/\/|@import/);
  });
});

describe("the softphone in headless Chromium", () => {
  const alice = stack.users[0]!;
  let browser: Browser;
  const phones = new SoftphonePages(() => browser, stack.edgeUrl);

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterEach(() => phones.closeAll());

  afterAll(async () => {
    await browser?.close();
    // Leave no binding behind for the next test file.
    await eventually(() => registrationsOf(stack, alice.aor), (r) => !r.some((x) => x.flow_connected), 10_000, `${alice.aor}'s sockets to close`);
  });

  it("signs in as alice through the form and shows Registered", async () => {
    const { page, errors } = await phones.page();
    await page.getByLabel("User").fill(alice.aor.split("@")[0]!); // the domain comes from the page
    await page.getByLabel("Password").fill(alice.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    // Generous: PLATFORM.md saw a few WebSocket upgrades stall 8–15 s after an idle gap on this runtime.
    await page.getByRole("status").filter({ hasText: "Registered" }).waitFor({ timeout: 30_000 });
    const s = await stateOf(page);
    expect(s.registration).toBe("registered");
    expect(s.aor).toBe(alice.aor);
    expect(await page.locator("#me").textContent()).toBe(alice.aor);
    expect((await registrationsOf(stack, alice.aor)).filter((r) => r.flow_connected)).toHaveLength(1);
    await page.evaluate(() => window.sipedgePhone.signOut());
    await waitForState(page, "signed-out");
    expect(errors).toEqual([]);
  });

  it('a wrong password says "Wrong password"', async () => {
    const user = await newSubscriber(stack, "softphone-wrong");
    const { page } = await phones.page();
    const err = await page.evaluate(([aor]) => window.sipedgePhone.signIn(aor!, "not the password").then(() => "registered", (e: Error) => e.message), [user.aor]);
    expect(err).toBe("Wrong password");
    expect(await page.getByRole("alert").textContent()).toBe("Wrong password");
    expect((await stateOf(page)).registration).toBe("failed");
  });

  it('calling a user who is not signed in says "User offline"; an unknown user, "User not found"', async () => {
    const offline = await newSubscriber(stack, "softphone-offline");
    const { page } = await phones.signedIn(alice);
    await page.evaluate(([target]) => window.sipedgePhone.call(target!), [offline.aor]);
    let s = await waitForState(page, "ended");
    expect([s.call?.endStatus, s.error]).toEqual([480, "User offline"]);
    await page.evaluate(() => window.sipedgePhone.call("nobody-here"));
    s = await waitForState(page, "ended", "nobody-here");
    expect([s.call?.endStatus, s.error]).toEqual([404, "User not found"]);
  });
});
