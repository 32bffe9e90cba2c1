import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { Baresip, RtpCounts } from "../../packages/sipedge/src/stack/baresip.ts";
import type { EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { adminFetch, eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import { launchChromium } from "../harness/chromium.ts";
import { startPhoneEgress, startPhoneThrough } from "../harness/phone-egress.ts";
import { SoftphonePages, stateOf, statsOf, waitForAudio, waitForState, type Phone } from "../harness/softphone.ts";
import "../harness/stack-info.ts";

// A legacy SIP phone (Debian's baresip 1.0.0, packages/sipedge/src/stack/
// baresip.ts) registered as a subscriber of ours through the egress proxy
// (issue 5, "Legacy phones"): the egress passes its REGISTER to the edge
// with a Path (RFC 3327), the subscriber's DO takes it as a path flow
// (workers/src/proxy/path-flow.ts) and challenges it with MD5 digest. Then
// the softphone page in headless Chromium calls it and it calls the
// browser; media goes browser ⇄ rtpengine (WebRTC) ⇄ baresip (plain RTP),
// checked at both ends (the browser's getStats, baresip's RTP counts), and
// the browser keypad's DTMF must reach the phone as RFC 4733 events
// (PITFALLS 12). When the phone quits it unregisters, and a call to its
// user finds nobody (480).

const stack = inject("stack");
const ID = "egress-legacy-phones";
/**
 * The phone's address: 127.0.0.1, where other tests' trunks allow calls
 * from. The egress takes what comes from the exact address and port a
 * phone registered from as that phone's, not a carrier's (egress-proxy.ts).
 */
const PHONE_HOST = "127.0.0.1";
const PHONE_HOST_RE = PHONE_HOST.replaceAll(".", "\\.");

describe("a legacy phone (baresip) registered through the egress, and a browser (Chromium), both ways", { timeout: 180_000 }, () => {
  const alice = stack.users.find((u) => u.aor.startsWith("alice@"))!;
  const egressLines: string[] = [];
  const phoneLines: string[] = [];
  const egressLog = createWriteStream(join(stack.logDir, `${ID}.log`), { flags: "a" });
  const baresipLog = createWriteStream(join(stack.logDir, "baresip-legacy-phone.log"), { flags: "a" });
  const dir = mkdtempSync(join(tmpdir(), "sipedge-legacy-phone-"));
  // A password baresip's accounts file can hold (baresip-config.ts): no spaces.
  const password = `pw-${randomBytes(12).toString("hex")}`;
  let carol: { aor: string; password: string } | undefined;
  let egress: EgressProcess | undefined;
  let phone: Baresip | undefined;
  let browser: Browser | undefined;
  let egressPort = 0;
  const pages = new SoftphonePages(() => browser!, stack.edgeUrl);
  /** Where to look when something fails: the components' logs. */
  const logs = `logs: ${stack.logDir} (${ID}.log, baresip-legacy-phone.log with its SIP trace, edge.log, rtpengine.log)`;
  const user = (): string => carol!.aor.slice(0, carol!.aor.indexOf("@"));

  beforeAll(async () => {
    process.stdout.write(`[legacy-phones] ${logs}\n`);
    carol = await newSubscriber(stack, "carol", password);
    egress = await startPhoneEgress(stack, ID, (line) => {
      egressLines.push(line);
      egressLog.write(line + "\n");
    });
    egressPort = egress.sip.port;
    phone = await startPhoneThrough({
      registration: { aor: carol.aor, password, outboundProxy: { host: "127.0.0.1", port: egressPort }, regintS: 300 },
      dir,
      log: (line) => {
        phoneLines.push(line);
        baresipLog.write(line + "\n");
      },
      logs,
    });
    browser = await launchChromium();
  });

  afterEach(() => pages.closeAll());

  afterAll(async () => {
    await browser?.close();
    // The phone first: it unregisters through the egress.
    await phone?.stop();
    await egress?.stop();
    if (carol !== undefined) await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(carol.aor)}`);
    rmSync(dir, { recursive: true, force: true });
    egressLog.end();
    baresipLog.end();
  });

  /** Polls baresip's live counts until `ok` (its own report, `audio_debug`). */
  const phoneCounts = (ok: (c: RtpCounts) => boolean, what: string): Promise<RtpCounts | undefined> =>
    eventually(() => phone!.stats(), (c) => c !== undefined && ok(c), 20_000, `baresip: ${what} (${logs})`);

  /** The last SIP message baresip received whose first line starts with `start`. */
  const lastReceived = (start: string): string =>
    phone!
      .sipMessages()
      .filter((m) => m.destination === `${phone!.sip.host}:${phone!.sip.port}` && m.text.startsWith(start))
      .pop()?.text ?? "";
  const bodyOf = (text: string): string => text.slice(text.indexOf("\r\n\r\n") + 4);

  /** The call reached its end on both sides: the page ended cleanly, baresip printed its counts. */
  const endedBothSides = async (page: Phone, callIndex: number): Promise<RtpCounts> => {
    const ended = await waitForState(page.page, "ended", "", 30_000);
    expect(ended.error, logs).toBeUndefined();
    expect(page.errors).toEqual([]);
    await phone!.waitForCall("closed", { since: callIndex, timeoutMs: 30_000 });
    const final = await eventually(async () => phone!.calls()[callIndex]?.final, (f) => f !== undefined, 10_000, "baresip's end-of-call counts");
    return final!;
  };

  it("the admin API lists the phone's binding: its Contact, through a path flow", async () => {
    const register = phone!.sipMessages().find((m) => m.text.startsWith("REGISTER "))!.text;
    const contact = /^Contact: <([^>]+)>/m.exec(register)![1]!;
    expect(contact).toMatch(new RegExp(`^sip:${user()}-[^@]+@${PHONE_HOST_RE}:${phone!.sip.port}$`));
    // It went to the egress (its outbound proxy); the edge holds it on the path flow (p…) the egress's Path names.
    expect(register).toMatch(new RegExp(`^Route: <sip:127\\.0\\.0\\.1:${egressPort};lr>$`, "m"));
    const rows = await eventually(() => registrationsOf(stack, carol!.aor), (r) => r.length === 1, 10_000, "the phone's binding");
    expect(rows[0], logs).toMatchObject({ contact, outbound: false });
    expect(rows[0]!.flow_id).toMatch(/^p/);
    // Live while registered (no socket of its own), through our egress, with the egress's Path (RFC 3327).
    expect(rows[0], logs).toMatchObject({ flow_connected: true, egress: ID });
    expect((rows[0] as { path?: string[] }).path, logs).toEqual([expect.stringMatching(/^<sip:ph1\.[^@]+@127\.0\.0\.1:\d+;transport=udp;lr>$/)]);
    expect(rows[0]!.expires_in).toBeGreaterThan(0);
    expect(rows[0]!.expires_in).toBeLessThanOrEqual(300);
    expect((rows[0] as { user_agent?: string }).user_agent).toMatch(/^baresip/);
    // The registrar challenged it with MD5 (libre answers nothing else) and it answered.
    const challenge = phone!.sipMessages().find((m) => /^SIP\/2\.0 401 /.test(m.text))?.text ?? "";
    expect(challenge).toMatch(/^WWW-Authenticate: Digest .*algorithm=MD5/m);
    expect(challenge).not.toMatch(/SHA-256/);
  });

  it("alice's browser calls the phone's user: it answers, audio flows both ways, her keypad's DTMF reaches it, she hangs up", async () => {
    const a = await pages.signedIn(alice);
    await waitForState(a.page, "registered", "", 30_000);
    const since = phone!.calls().length;
    await a.page.evaluate((n) => window.sipedgePhone.call(n), user());
    const answered = await phone!.waitForCall("established", { since, timeoutMs: 30_000 });
    expect(answered.direction).toBe("incoming");
    expect(answered.peer).toContain(alice.aor);
    await waitForState(a.page, "established", "", 30_000);

    // What reached the phone is plain RTP from rtpengine (no ICE, no DTLS), with the codecs it
    // has and telephone-event at 8000 Hz, the clock of those codecs (PITFALLS 12).
    const offer = bodyOf(lastReceived("INVITE "));
    expect(offer, logs).toMatch(/^m=audio \d+ RTP\/AVP [\d ]+$/m);
    expect(offer).toMatch(/^c=IN IP4 127\.0\.0\.1$/m);
    expect(offer).not.toMatch(/^a=(ice-ufrag|ice-pwd|candidate|fingerprint|setup|crypto)/m);
    expect(offer).not.toMatch(/SAVPF?/);
    expect(offer).toMatch(/^a=rtpmap:\d+ (PCMU|PCMA|G722)\/8000$/m);
    expect(offer).toMatch(/^a=rtpmap:\d+ telephone-event\/8000$/m);

    // Audio both ways: alice hears the phone's tone (packets, level above silence, DTLS up) …
    const heard = await waitForAudio(a.page, { packets: 50, timeoutMs: 30_000 });
    expect(heard.codec).toMatch(/^(G722|PCMU|PCMA)\/8000$/i);
    // … and the phone counts the RTP of alice's fake microphone arriving.
    const atPhone = await phoneCounts((c) => c.packetsReceived > 50 && c.packetsSent > 50, "more than 50 RTP packets each way");
    expect(atPhone!.packetsReceived).toBeGreaterThan(50);

    // DTMF: the keypad's button and the hook's sendDtmf, as RFC 4733 events the phone logs.
    await a.page.getByRole("button", { name: "5", exact: true }).click();
    await a.page.evaluate(() => window.sipedgePhone.sendDtmf("#1"));
    expect((await stateOf(a.page)).call?.dtmfSent).toBe("5#1");
    await phone!.waitForDtmf("5#1", 20_000);

    const before = (await statsOf(a.page))!.packetsReceived;
    await a.page.getByRole("button", { name: "Hang up" }).click();
    const final = await endedBothSides(a, since);
    expect(final.packetsReceived).toBeGreaterThan(50);
    expect(final.packetsSent).toBeGreaterThanOrEqual(before);
  });

  it("the phone calls alice's AOR through the egress: her browser rings, she answers, audio flows both ways, the phone hangs up", async () => {
    const a = await pages.signedIn(alice);
    await waitForState(a.page, "registered", "", 30_000);
    const since = phone!.calls().length;
    await phone!.dial(`sip:${alice.aor}`);
    const ringing = await waitForState(a.page, "incoming", "", 30_000);
    expect(ringing.call?.peer, logs).toBe(carol!.aor);
    await a.page.getByRole("button", { name: "Answer" }).click();
    await waitForState(a.page, "established", "", 30_000);
    const call = await phone!.waitForCall("established", { since, timeoutMs: 30_000 });
    expect(call.direction).toBe("outgoing");
    // The edge asked the phone for its digest (407) and the answered INVITE went through.
    expect(lastReceived("SIP/2.0 407 ")).toMatch(/^Proxy-Authenticate: Digest .*algorithm=MD5/m);
    // The 200 it got: plain RTP from rtpengine.
    const answer = bodyOf(lastReceived("SIP/2.0 200 "));
    expect(answer, logs).toMatch(/^m=audio \d+ RTP\/AVP [\d ]+$/m);
    expect(answer).not.toMatch(/^a=(ice-ufrag|candidate|fingerprint|setup|crypto)/m);

    const heard = await waitForAudio(a.page, { packets: 50, timeoutMs: 30_000 });
    expect(heard.dtlsState).toBe("connected");
    await phoneCounts((c) => c.packetsReceived > 50 && c.packetsSent > 50, "more than 50 RTP packets each way");

    const ended = await phone!.hangup();
    expect(ended.closed).toBeDefined();
    const final = await endedBothSides(a, since);
    expect(final.packetsReceived).toBeGreaterThan(50);
  });

  it("when the phone quits it unregisters: its binding is gone, a call to its user gets 480 User offline; its password reached no log", async () => {
    await phone!.stop();
    expect(phone!.registration(), logs).toMatchObject({ state: "unregistered", detail: "200 OK" });
    await eventually(() => registrationsOf(stack, carol!.aor), (r) => r.length === 0, 10_000, "the phone's binding to go");

    const a = await pages.signedIn(alice);
    await waitForState(a.page, "registered", "", 30_000);
    await a.page.evaluate((n) => window.sipedgePhone.call(n), user());
    const s = await waitForState(a.page, "ended", "", 30_000);
    expect([s.call?.endStatus, s.error]).toEqual([480, "User offline"]);

    // baresip's trace shows digest responses, never the password; nor does the egress log it.
    expect(phoneLines.length).toBeGreaterThan(0);
    expect(phoneLines.filter((l) => l.includes(password))).toEqual([]);
    expect(egressLines.filter((l) => l.includes(password))).toEqual([]);
  });
});
