import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type Baresip, freeBaresipPort, startBaresip } from "../../packages/sipedge/src/stack/baresip.ts";
import type { EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { adminFetch, eventually, newSubscriber } from "../harness/admin.ts";
import { launchChromium } from "../harness/chromium.ts";
import { rtpengineCalls } from "../harness/media.ts";
import { startPhoneEgress, startPhoneThrough } from "../harness/phone-egress.ts";
import { SoftphonePages, stateOf, waitForAudio, waitForState } from "../harness/softphone.ts";
import "../harness/stack-info.ts";

// A user on a browser *and* a desk phone (ring all): frank is signed in on
// the softphone and registered on baresip through the egress. A call to
// him rings both: his tab with rtpengine's WebRTC offer, the phone with a
// plain RTP/AVP one, both made on the same rtpengine call under two
// via-branches (workers/src/proxy/proxy-media.ts) — by the caller's DO for
// alice's browser and for gina's desk phone (another baresip), by frank's
// own DO for a carrier's call to his DID (a third baresip behind a trunk).
// Whichever answers gets audio; the other is cancelled; nothing is left in
// rtpengine.

const stack = inject("stack");
const ID = "egress-legacy-phones-mixed";
const HOST = "127.0.0.1";

describe("a user on a browser and a legacy phone: a browser's call rings both", { timeout: 180_000 }, () => {
  const alice = stack.users.find((u) => u.aor.startsWith("alice@"))!;
  const egressLog = createWriteStream(join(stack.logDir, `${ID}.log`), { flags: "a" });
  const baresipLog = createWriteStream(join(stack.logDir, "baresip-legacy-phone-mixed.log"), { flags: "a" });
  const logs = `logs: ${stack.logDir} (${ID}.log, baresip-legacy-phone-mixed.log with its SIP trace, edge.log, rtpengine.log)`;
  const dir = mkdtempSync(join(tmpdir(), "sipedge-legacy-phone-mixed-"));
  const password = `pw-${randomBytes(12).toString("hex")}`;
  let frank: { aor: string; password: string } | undefined;
  let egress: EgressProcess | undefined;
  let phone: Baresip | undefined;
  let ginaPhone: Baresip | undefined;
  let carrier: Baresip | undefined;
  let gina: { aor: string; password: string } | undefined;
  let browser: Browser | undefined;
  const trunk = `mixed-${randomBytes(3).toString("hex")}`;
  const did = `+1555031${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
  const pages = new SoftphonePages(() => browser!, stack.edgeUrl);
  const user = (): string => frank!.aor.slice(0, frank!.aor.indexOf("@"));
  const bodyOf = (text: string): string => text.slice(text.indexOf("\r\n\r\n") + 4);

  beforeAll(async () => {
    process.stdout.write(`[legacy-phones-mixed] ${logs}\n`);
    frank = await newSubscriber(stack, "frank", password);
    egress = await startPhoneEgress(stack, ID, (line) => egressLog.write(line + "\n"));
    phone = await startPhoneThrough({
      registration: { aor: frank.aor, password, outboundProxy: { host: HOST, port: egress.sip.port }, regintS: 300 },
      dir,
      answerMode: "manual",
      log: (line) => baresipLog.write(line + "\n"),
      logs,
    });
    const ginaPassword = `pw-${randomBytes(12).toString("hex")}`;
    gina = await newSubscriber(stack, "gina", ginaPassword);
    ginaPhone = await startPhoneThrough({
      registration: { aor: gina.aor, password: ginaPassword, outboundProxy: { host: HOST, port: egress.sip.port }, regintS: 300 },
      dir: join(dir, "gina"),
      log: (line) => baresipLog.write(`[gina] ${line}\n`),
      logs,
    });
    carrier = await startBaresip({ host: HOST, sipPort: await freeBaresipPort(HOST), numbers: ["+15550309998"], answerMode: "auto", dir: join(dir, "carrier"), sipTrace: true, log: (line) => baresipLog.write(`[carrier] ${line}\n`) });
    const created = await adminFetch(stack, "POST", "/v1/trunks", { id: trunk, egress: ID, name: "a carrier on loopback", gateways: [{ host: HOST, port: carrier.sip.port, transport: "udp" }], allowed_sources: [HOST] });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const assigned = await adminFetch(stack, "PUT", `/v1/dids/${encodeURIComponent(did)}`, { aor: frank.aor });
    expect([200, 201], JSON.stringify(assigned.json)).toContain(assigned.status);
    browser = await launchChromium();
  });

  afterEach(() => pages.closeAll());

  afterAll(async () => {
    await browser?.close();
    await Promise.all([phone?.stop(), ginaPhone?.stop(), carrier?.stop()]);
    await egress?.stop();
    await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(did)}`);
    await adminFetch(stack, "DELETE", `/v1/trunks/${trunk}`);
    for (const u of [frank, gina]) if (u !== undefined) await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(u.aor)}`);
    rmSync(dir, { recursive: true, force: true });
    egressLog.end();
    baresipLog.end();
  });

  /** `dial` calls frank; resolves once his tab and his phone both ring, with the phone's INVITE. */
  const ringsBoth = async (dial: () => Promise<void>) => {
    const f = await pages.signedIn(frank!);
    await waitForState(f.page, "registered", "", 30_000);
    const since = phone!.calls().length;
    await dial();
    await Promise.all([waitForState(f.page, "incoming", "", 30_000), phone!.waitForCall("incoming", { since, timeoutMs: 30_000 })]);
    const invite = phone!.sipMessages().filter((m) => m.text.startsWith("INVITE ")).pop()!.text;
    const callId = /^Call-ID: (.+)\r$/m.exec(invite)![1]!;
    const phoneOffer = bodyOf(invite);
    // The phone's offer is rtpengine's plain side: RTP/AVP, no ICE, no DTLS (the tab's is WebRTC: it rang).
    expect(phoneOffer, logs).toMatch(/^m=audio \d+ RTP\/AVP [\d ]+$/m);
    expect(phoneOffer).not.toMatch(/^a=(ice-ufrag|candidate|fingerprint|setup|crypto)/m);
    expect(phoneOffer).toMatch(/^a=rtpmap:\d+ (PCMU|PCMA|G722)\/8000$/m);
    expect(await rtpengineCalls(stack)).toContain(callId);
    return { f, since, callId, phoneOffer };
  };

  /** alice calls frank from her browser. */
  const aliceCallsFrank = async () => {
    const a = await pages.signedIn(alice);
    await waitForState(a.page, "registered", "", 30_000);
    const rung = await ringsBoth(() => a.page.evaluate((n) => window.sipedgePhone.call(n), user()));
    expect((await stateOf(a.page)).call?.callId).toBe(rung.callId);
    return { a, ...rung };
  };

  /** baresip counts more than 50 RTP packets each way on its current call. */
  const rtpBothWays = (b: Baresip, who: string) =>
    eventually(() => b.stats(), (c) => c !== undefined && c.packetsReceived > 50 && c.packetsSent > 50, 20_000, `${who}: more than 50 RTP packets each way (${logs})`);

  const noRtpengineSession = (callId: string) => eventually(() => rtpengineCalls(stack), (calls) => !calls.includes(callId), 15_000, `rtpengine forgets ${callId}`);

  it("the phone gets a plain RTP offer and answers: audio flows between alice's browser and the phone, frank's tab stops ringing", async () => {
    const { a, f, since, callId } = await aliceCallsFrank();
    await phone!.answer();
    await waitForState(a.page, "established", "", 30_000);
    await waitForState(f.page, "ended", "", 30_000);
    const heard = await waitForAudio(a.page, { packets: 50, timeoutMs: 30_000 });
    expect(heard.codec, logs).toMatch(/^(G722|PCMU|PCMA)\/8000$/i);
    expect(heard.dtlsState).toBe("connected");
    await rtpBothWays(phone!, "frank's phone");

    await a.page.getByRole("button", { name: "Hang up" }).click();
    await waitForState(a.page, "ended", "", 30_000);
    await phone!.waitForCall("closed", { since, timeoutMs: 30_000 });
    await noRtpengineSession(callId);
  });

  it("the tab answers: audio flows between the two browsers, the phone stops ringing", async () => {
    const { a, f, since, callId } = await aliceCallsFrank();
    await f.page.getByRole("button", { name: "Answer" }).click();
    await waitForState(a.page, "established", "", 30_000);
    await waitForState(f.page, "established", "", 30_000);
    const closed = await phone!.waitForCall("closed", { since, timeoutMs: 30_000 });
    expect(closed.established).toBe(false);
    for (const page of [a.page, f.page]) {
      const q = await waitForAudio(page, { packets: 50, timeoutMs: 30_000 });
      expect(q.codec, logs).toMatch(/^opus\/48000$/i);
    }
    await a.page.getByRole("button", { name: "Hang up" }).click();
    await waitForState(f.page, "ended", "", 30_000);
    await noRtpengineSession(callId);
  });

  it("gina's desk phone calls frank: both ring; the tab answers, audio flows between gina's phone and frank's browser, his phone stops ringing", async () => {
    const ginaSince = ginaPhone!.calls().length;
    const { f, since, callId } = await ringsBoth(() => ginaPhone!.dial(`sip:${frank!.aor}`));
    await f.page.getByRole("button", { name: "Answer" }).click();
    await waitForState(f.page, "established", "", 30_000);
    expect((await phone!.waitForCall("closed", { since, timeoutMs: 30_000 })).established).toBe(false);
    const heard = await waitForAudio(f.page, { packets: 50, timeoutMs: 30_000 });
    expect(heard.codec, logs).toMatch(/^(G722|PCMU|PCMA)\/8000$/i);
    await rtpBothWays(ginaPhone!, "gina's phone");
    await ginaPhone!.hangup();
    await waitForState(f.page, "ended", "", 30_000);
    await ginaPhone!.waitForCall("closed", { since: ginaSince, timeoutMs: 30_000 });
    await noRtpengineSession(callId);
  });

  it("a carrier calls frank's DID: frank's DO rings both; the phone answers, audio flows carrier ⇄ rtpengine ⇄ phone (SIP → SIP), his tab stops ringing", async () => {
    const carrierSince = carrier!.calls().length;
    const { f, callId, phoneOffer } = await ringsBoth(() => carrier!.dial(`sip:${did}@${HOST}:${egress!.sip.port}`));
    // Anchored for the phone too: its offer names rtpengine's port, not the carrier's.
    const carrierOffer = bodyOf(carrier!.sipMessages().filter((m) => m.text.startsWith("INVITE ")).pop()!.text);
    const port = (sdp: string) => /^m=audio (\d+) /m.exec(sdp)?.[1];
    expect(port(phoneOffer), logs).not.toBe(port(carrierOffer));
    await phone!.answer();
    await carrier!.waitForCall("established", { since: carrierSince, timeoutMs: 30_000 });
    await waitForState(f.page, "ended", "", 30_000);
    await rtpBothWays(phone!, "frank's phone");
    await rtpBothWays(carrier!, "the carrier");
    await carrier!.hangup();
    await phone!.waitForCall("closed", { since: phone!.calls().length - 1, timeoutMs: 30_000 });
    await noRtpengineSession(callId);
  });
});
