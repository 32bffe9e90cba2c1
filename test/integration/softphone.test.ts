import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { SipedgePhoneHook } from "../../workers/softphone/app.ts";
import { eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import { launchChromium, openPage, pageErrors } from "../harness/chromium.ts";
import "../harness/stack-info.ts";

/**
 * The softphone page the Worker serves at `/` (workers/softphone/), fetched
 * from the real stack, then driven in headless Chromium (Debian's, through
 * playwright-core) against the real edge.
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

type HookState = SipedgePhoneHook["state"];

/** The phone's state, read through the page's test hook. */
const stateOf = (page: Page): Promise<HookState> => page.evaluate(() => window.sipedgePhone.state);

/** The call states tests wait for (functions, not strings: the page's CSP forbids eval). */
type Want = "registered" | "signed-out" | "incoming" | "established" | "ended" | "held" | "resumed";

/** Waits in the page until the phone's state is `want` (for a call: `peerPrefix`'s call). */
async function waitForState(page: Page, want: Want, peerPrefix = "", timeoutMs = 15_000): Promise<HookState> {
  await page.waitForFunction(
    ([w, prefix]) => {
      const s = window.sipedgePhone.state;
      if (w === "registered" || w === "signed-out") return s.registration === w;
      const c = s.call;
      if (c === undefined || !c.peer.startsWith(prefix!)) return false;
      // Held/resumed once the re-INVITE has its answer.
      if (w === "held") return c.held && !c.renegotiating;
      if (w === "resumed") return !c.held && !c.renegotiating;
      return c.status === w;
    },
    [want, peerPrefix] as const,
    { timeout: timeoutMs, polling: 50 },
  );
  return stateOf(page);
}

describe("the softphone in headless Chromium", () => {
  const alice = stack.users[0]!;
  const bob = stack.users[1]!;
  let browser: Browser;
  const pages: Page[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const p of pages) await p.evaluate(() => window.sipedgePhone.signOut()).catch(() => undefined);
    await browser?.close();
    // Leave no binding behind for the next test file.
    for (const u of [alice, bob]) await eventually(() => registrationsOf(stack, u.aor), (r) => !r.some((x) => x.flow_connected), 10_000, `${u.aor}'s sockets to close`);
  });

  async function phonePage(): Promise<{ page: Page; errors: string[] }> {
    const page = await openPage(browser, `${stack.edgeUrl}/`);
    pages.push(page);
    const errors = pageErrors(page);
    await page.waitForFunction(() => window.sipedgePhone !== undefined);
    return { page, errors };
  }

  it("signs in as alice through the form and shows Registered", async () => {
    const { page, errors } = await phonePage();
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
    const { page } = await phonePage();
    const err = await page.evaluate(([aor]) => window.sipedgePhone.signIn(aor!, "not the password").then(() => "registered", (e: Error) => e.message), [user.aor]);
    expect(err).toBe("Wrong password");
    expect(await page.getByRole("alert").textContent()).toBe("Wrong password");
    expect((await stateOf(page)).registration).toBe("failed");
  });

  it('calling a user who is not signed in says "User offline"; an unknown user, "User not found"', async () => {
    const offline = await newSubscriber(stack, "softphone-offline");
    const { page } = await phonePage();
    await page.evaluate(([aor, pw]) => window.sipedgePhone.signIn(aor!, pw!), [alice.aor, alice.password]);
    await page.evaluate(([target]) => window.sipedgePhone.call(target!), [offline.aor]);
    let s = await waitForState(page, "ended");
    expect([s.call?.endStatus, s.error]).toEqual([480, "User offline"]);
    await page.evaluate(() => window.sipedgePhone.call("nobody-here"));
    s = await waitForState(page, "ended", "nobody-here");
    expect([s.call?.endStatus, s.error]).toEqual([404, "User not found"]);
    await page.evaluate(() => window.sipedgePhone.signOut());
  });

  it("two pages: alice calls bob, bob answers, both see the call established and audio flows both ways — media peer-to-peer (SDP passes through) until the RTPEngine relay is wired", async () => {
    const a = await phonePage();
    const b = await phonePage();
    await a.page.evaluate(([aor, pw]) => window.sipedgePhone.signIn(aor!, pw!), [alice.aor, alice.password]);
    await b.page.evaluate(([aor, pw]) => window.sipedgePhone.signIn(aor!, pw!), [bob.aor, bob.password]);

    await a.page.evaluate(() => window.sipedgePhone.call("bob"));
    const incoming = await waitForState(b.page, "incoming");
    expect(incoming.call?.peer).toBe(alice.aor);
    await b.page.getByRole("button", { name: "Answer" }).click();
    await waitForState(a.page, "established");
    await waitForState(b.page, "established");

    // Audio both ways: inbound packets grow and the fake microphone's tone is heard.
    for (const { page } of [a, b]) {
      await page.waitForFunction(
        async () => {
          const q = await window.sipedgePhone.stats();
          return q !== undefined && q.packetsReceived > 50 && (q.audioLevel ?? 0) > 0 && q.dtlsState === "connected";
        },
        undefined,
        { timeout: 15_000, polling: 200 },
      );
      const q = (await page.evaluate(() => window.sipedgePhone.stats()))!;
      expect(q.codec).toMatch(/^opus\/48000$/i);
      expect(q.packetsSent).toBeGreaterThan(0);
    }
    // The quality panel shows it too.
    await a.page.locator('#quality td[data-q="codec"]').filter({ hasText: /opus/i }).waitFor({ timeout: 5_000 });

    // DTMF in the media (RFC 4733), hold and resume through the proxy (re-INVITEs).
    await a.page.getByRole("button", { name: "5", exact: true }).click();
    await a.page.evaluate(() => window.sipedgePhone.sendDtmf("#1"));
    expect((await stateOf(a.page)).call?.dtmfSent).toBe("5#1");
    await a.page.evaluate(() => window.sipedgePhone.hold());
    await waitForState(a.page, "held");
    await a.page.evaluate(() => window.sipedgePhone.resume());
    await waitForState(a.page, "resumed");
    const before = (await b.page.evaluate(() => window.sipedgePhone.stats()))!.packetsReceived;
    await b.page.waitForFunction(async (n) => ((await window.sipedgePhone.stats())?.packetsReceived ?? 0) > n + 25, before, { timeout: 10_000, polling: 200 });

    // bob hangs up; both sides end cleanly, with no error shown.
    await b.page.getByRole("button", { name: "Hang up" }).click();
    const endedA = await waitForState(a.page, "ended");
    const endedB = await waitForState(b.page, "ended");
    expect([endedA.error, endedB.error]).toEqual([undefined, undefined]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });
});
