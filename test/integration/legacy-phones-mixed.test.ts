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
import { startPhoneEgress } from "../harness/phone-egress.ts";
import { SoftphonePages, stateOf, waitForAudio, waitForState } from "../harness/softphone.ts";
import "../harness/stack-info.ts";

// A user on a browser *and* a desk phone (ring all): alice's browser calls
// frank, who is signed in on the softphone and registered on baresip
// through the egress. Both ring: his tab with rtpengine's WebRTC offer, the
// phone with a plain RTP/AVP one, both made by alice's DO on the same
// rtpengine call under two via-branches (workers/src/proxy/proxy-media.ts).
// Whichever answers gets audio with alice; the other is cancelled; nothing
// is left in rtpengine.

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
  let browser: Browser | undefined;
  const pages = new SoftphonePages(() => browser!, stack.edgeUrl);
  const user = (): string => frank!.aor.slice(0, frank!.aor.indexOf("@"));
  const bodyOf = (text: string): string => text.slice(text.indexOf("\r\n\r\n") + 4);

  beforeAll(async () => {
    process.stdout.write(`[legacy-phones-mixed] ${logs}\n`);
    frank = await newSubscriber(stack, "frank", password);
    egress = await startPhoneEgress(stack, ID, (line) => egressLog.write(line + "\n"));
    phone = await startBaresip({
      host: HOST,
      sipPort: await freeBaresipPort(HOST),
      answerMode: "manual",
      dir,
      sipTrace: true,
      registration: { aor: frank.aor, password, outboundProxy: { host: HOST, port: egress.sip.port }, regintS: 300 },
      log: (line) => baresipLog.write(line + "\n"),
    });
    expect(await phone.waitForRegistration(30_000), logs).toMatchObject({ state: "registered", detail: "200 OK" });
    browser = await launchChromium();
  });

  afterEach(() => pages.closeAll());

  afterAll(async () => {
    await browser?.close();
    await phone?.stop();
    await egress?.stop();
    if (frank !== undefined) await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(frank.aor)}`);
    rmSync(dir, { recursive: true, force: true });
    egressLog.end();
    baresipLog.end();
  });

  /** alice calls frank; resolves once his tab and his phone both ring, with the phone's INVITE. */
  const callRingsBoth = async () => {
    const [a, f] = await Promise.all([pages.signedIn(alice), pages.signedIn(frank!)]);
    await waitForState(f.page, "registered", "", 30_000);
    const since = phone!.calls().length;
    await a.page.evaluate((n) => window.sipedgePhone.call(n), user());
    const [ringing] = await Promise.all([waitForState(f.page, "incoming", "", 30_000), phone!.waitForCall("incoming", { since, timeoutMs: 30_000 })]);
    expect(ringing.call?.peer).toBe(alice.aor);
    const invite = phone!.sipMessages().filter((m) => m.text.startsWith("INVITE ")).pop()!.text;
    const callId = /^Call-ID: (.+)\r$/m.exec(invite)![1]!;
    expect((await stateOf(a.page)).call?.callId).toBe(callId);
    return { a, f, since, callId, phoneOffer: bodyOf(invite) };
  };

  const noRtpengineSession = (callId: string) => eventually(() => rtpengineCalls(stack), (calls) => !calls.includes(callId), 15_000, `rtpengine forgets ${callId}`);

  it("the phone gets a plain RTP offer and answers: audio flows between alice's browser and the phone, frank's tab stops ringing", async () => {
    const { a, f, since, callId, phoneOffer } = await callRingsBoth();
    // The phone's offer is rtpengine's plain side: RTP/AVP, no ICE, no DTLS (the tab's is WebRTC: it rang).
    expect(phoneOffer, logs).toMatch(/^m=audio \d+ RTP\/AVP [\d ]+$/m);
    expect(phoneOffer).not.toMatch(/^a=(ice-ufrag|candidate|fingerprint|setup|crypto)/m);
    expect(phoneOffer).toMatch(/^a=rtpmap:\d+ (PCMU|PCMA|G722)\/8000$/m);

    await phone!.answer();
    await waitForState(a.page, "established", "", 30_000);
    await waitForState(f.page, "ended", "", 30_000);
    const heard = await waitForAudio(a.page, { packets: 50, timeoutMs: 30_000 });
    expect(heard.codec, logs).toMatch(/^(G722|PCMU|PCMA)\/8000$/i);
    expect(heard.dtlsState).toBe("connected");
    const atPhone = await eventually(() => phone!.stats(), (c) => c !== undefined && c.packetsReceived > 50 && c.packetsSent > 50, 20_000, `baresip: more than 50 RTP packets each way (${logs})`);
    expect(atPhone!.packetsReceived).toBeGreaterThan(50);

    await a.page.getByRole("button", { name: "Hang up" }).click();
    await waitForState(a.page, "ended", "", 30_000);
    await phone!.waitForCall("closed", { since, timeoutMs: 30_000 });
    await noRtpengineSession(callId);
  });

  it("the tab answers: audio flows between the two browsers, the phone stops ringing", async () => {
    const { a, f, since, callId } = await callRingsBoth();
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
});
