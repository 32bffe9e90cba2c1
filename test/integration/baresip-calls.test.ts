import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type Baresip, freeBaresipPort, type RtpCounts, startBaresip } from "../../packages/sipedge/src/stack/baresip.ts";
import { DEMO_DESK_USER, DEMO_LEGACY_PHONE, provisionDemoLegacyPhone, startDemoLegacyPhone } from "../../packages/sipedge/src/stack/demo-legacy-phone.ts";
import { dynamoClientFor } from "../../packages/sipedge/src/stack/dynalite.ts";
import { startEgress, type EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { freeSipPort, freeTcpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { adminFetch, eventually, registrationsOf } from "../harness/admin.ts";
import { launchChromium } from "../harness/chromium.ts";
import { SoftphonePages, stateOf, statsOf, waitForAudio, waitForState, type Phone } from "../harness/softphone.ts";
import "../harness/stack-info.ts";

// A legacy SIP phone (Debian's baresip 1.0.0, packages/sipedge/src/stack/
// baresip.ts) reached as a trunk's gateway through the egress proxy
// (media-node/egress), and the softphone page in headless Chromium (issue 5,
// "Tests"): alice's browser calls the phone's number, the phone calls bob's
// DID. The media goes browser ⇄ rtpengine (WebRTC) ⇄ baresip (plain RTP):
// audio is checked at both ends — the browser's getStats, baresip's RTP
// counts — and DTMF from the browser's keypad must reach the phone as RFC
// 4733 telephone-events (PITFALLS 12).

const stack = inject("stack");
const ID = "egress-baresip";
const suffix = Math.random().toString(36).slice(2, 8);
const digits4 = (): string => String(Math.floor(Math.random() * 10_000)).padStart(4, "0");
/** The phone's number, in a prefix of its own (+1 555 020x xxxx): longer than other tests' "+1555", so it always wins the route. */
const PREFIX = "+1555020";
const PHONE_NUMBER = `${PREFIX}${digits4()}`;
/** bob's DID (+1 555 021x xxxx). */
const DID = `+1555021${digits4()}`;
const TRUNK = `baresip-${suffix}`;

describe("a legacy phone (baresip) behind the egress and a browser (Chromium), both ways", { timeout: 120_000 }, () => {
  const alice = stack.users.find((u) => u.aor.startsWith("alice@"))!;
  const bob = stack.users.find((u) => u.aor.startsWith("bob@"))!;
  const egressLog = createWriteStream(join(stack.logDir, `${ID}.log`), { flags: "a" });
  const baresipLog = createWriteStream(join(stack.logDir, "baresip.log"), { flags: "a" });
  const dir = mkdtempSync(join(tmpdir(), "sipedge-baresip-"));
  let egress: EgressProcess | undefined;
  let phone: Baresip | undefined;
  let demoPhone: Baresip | undefined;
  let demoDesk: Baresip | undefined;
  let browser: Browser | undefined;
  let egressPort = 0;
  const pages = new SoftphonePages(() => browser!, stack.edgeUrl);
  /** Where to look when something fails: the components' logs. */
  const logs = `logs: ${stack.logDir} (${ID}.log, baresip.log with its SIP trace, edge.log, rtpengine.log)`;

  beforeAll(async () => {
    process.stdout.write(`[baresip-calls] ${logs}\n`);
    egressPort = await freeSipPort();
    phone = await startBaresip({
      host: "127.0.0.1",
      sipPort: await freeBaresipPort(),
      numbers: [PHONE_NUMBER],
      answerMode: "auto",
      dir,
      sipTrace: true,
      log: (line) => baresipLog.write(line + "\n"),
    });
    const trunk = await adminFetch(stack, "POST", "/v1/trunks", {
      id: TRUNK,
      egress: ID,
      name: "baresip, a legacy phone on loopback",
      gateways: [{ host: phone.sip.host, port: phone.sip.port, transport: "udp" }],
      prefixes: [PREFIX],
      allowed_sources: ["127.0.0.1"],
      caller_id: { mode: "fixed", number: "+15550209999" },
    });
    expect(trunk.status, JSON.stringify(trunk.json)).toBe(201);
    const did = await adminFetch(stack, "PUT", `/v1/dids/${encodeURIComponent(DID)}`, { aor: bob.aor });
    expect([200, 201], JSON.stringify(did.json)).toContain(did.status);
    const policy = await adminFetch(stack, "PATCH", `/v1/subscribers/${alice.aor}/call-out`, {
      can_call_out: true,
      allowed_prefixes: [PREFIX],
      // alice is the demo user other files call out as too: her calls of the last minute must not hit the default limit of 5.
      max_calls_per_minute: 1000,
    });
    expect(policy.status, JSON.stringify(policy.json)).toBe(200);
    egress = await startEgress({
      id: ID,
      host: "127.0.0.1",
      sipPort: egressPort,
      httpPort: await freeTcpPort(),
      edgeUrl: stack.edgeUrl,
      dynamoEndpoint: stack.dynamoEndpoint,
      secret: stack.secrets.EGRESS_SECRET,
      // npm start's demo phone registers carol through it (the last test).
      phoneDomains: [stack.domain],
      log: (line) => egressLog.write(line + "\n"),
    });
    browser = await launchChromium();
  });

  afterEach(() => pages.closeAll());

  afterAll(async () => {
    await browser?.close();
    // The phones first: the demo phone unregisters through the egress.
    await phone?.stop();
    await demoPhone?.stop();
    await demoDesk?.stop();
    await egress?.stop();
    await adminFetch(stack, "DELETE", `/v1/trunks/${TRUNK}`);
    await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(DID)}`);
    await adminFetch(stack, "DELETE", `/v1/trunks/${DEMO_LEGACY_PHONE.trunk}`);
    await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(DEMO_LEGACY_PHONE.did)}`);
    await adminFetch(stack, "DELETE", `/v1/subscribers/${DEMO_DESK_USER}@${stack.domain}`);
    await adminFetch(stack, "PATCH", `/v1/subscribers/${alice.aor}/call-out`, { can_call_out: null, allowed_prefixes: null, max_calls_per_minute: null });
    rmSync(dir, { recursive: true, force: true });
    egressLog.end();
    baresipLog.end();
  });

  /** Polls baresip's live counts until `ok` (its own report, `audio_debug`). */
  const phoneCounts = (ok: (c: RtpCounts) => boolean, what: string): Promise<RtpCounts | undefined> =>
    eventually(() => phone!.stats(), (c) => c !== undefined && ok(c), 15_000, `baresip: ${what} (${logs})`);

  /** The SDP body of the last INVITE baresip received (from its SIP trace). */
  const lastInviteSdp = (): string => {
    const invites = phone!.sipMessages().filter((m) => m.destination === `${phone!.sip.host}:${phone!.sip.port}` && m.text.startsWith("INVITE "));
    const text = invites[invites.length - 1]?.text ?? "";
    return text.slice(text.indexOf("\r\n\r\n") + 4);
  };

  /** The call reached its end on both sides: the page ended cleanly, baresip printed its counts. */
  const endedBothSides = async (page: Phone, callIndex: number): Promise<RtpCounts> => {
    const ended = await waitForState(page.page, "ended");
    expect(ended.error).toBeUndefined();
    expect(page.errors).toEqual([]);
    await phone!.waitForCall("closed", { since: callIndex });
    const final = await eventually(async () => phone!.calls()[callIndex]?.final, (f) => f !== undefined, 5_000, "baresip's end-of-call counts");
    return final!;
  };

  it("alice's browser calls the phone's number: the phone answers, audio flows both ways, her keypad's DTMF reaches it, she hangs up", async () => {
    const a = await pages.signedIn(alice);
    await waitForState(a.page, "registered");
    const since = phone!.calls().length;
    await a.page.evaluate((n) => window.sipedgePhone.call(n), PHONE_NUMBER);
    const answered = await phone!.waitForCall("established", { since });
    expect(answered.direction).toBe("incoming");
    await waitForState(a.page, "established");

    // What reached the phone is plain RTP from rtpengine, with the codecs it
    // has (the profile adds PCMU/PCMA/G.722 for an opus browser) and
    // telephone-event at 8000 Hz, the clock of those codecs (PITFALLS 12).
    const offer = lastInviteSdp();
    expect(offer, logs).toMatch(/^m=audio \d+ RTP\/AVP [\d ]+$/m);
    expect(offer).toMatch(/^c=IN IP4 127\.0\.0\.1$/m);
    expect(offer).not.toMatch(/^a=(ice-ufrag|candidate|fingerprint|setup|crypto)/m);
    expect(offer).toMatch(/^a=rtpmap:\d+ (PCMU|PCMA|G722)\/8000$/m);
    expect(offer).toMatch(/^a=rtpmap:\d+ telephone-event\/8000$/m);

    // The phone answered with a codec of its own and telephone-event/8000.
    const answer = phone!.sipMessages().filter((m) => m.text.startsWith("SIP/2.0 200 ") && /^CSeq: \d+ INVITE$/m.test(m.text)).pop()?.text ?? "";
    expect(answer).toMatch(/^a=rtpmap:\d+ telephone-event\/8000$/m);

    // Audio both ways: alice hears the phone's tone (packets, level above silence, DTLS up) in
    // the codec the phone chose (rtpengine offered it the browser's own G.722/PCMU/PCMA: no transcoding) …
    const heard = await waitForAudio(a.page, { packets: 50 });
    expect(heard.codec).toMatch(/^(G722|PCMU|PCMA)\/8000$/i);
    // … and the phone counts the RTP of alice's fake microphone arriving.
    const atPhone = await phoneCounts((c) => c.packetsReceived > 50 && c.packetsSent > 50, "more than 50 RTP packets each way");
    expect(atPhone!.packetsReceived).toBeGreaterThan(50);

    // DTMF: the keypad's button and the hook's sendDtmf, as RFC 4733 events the phone logs.
    await a.page.getByRole("button", { name: "5", exact: true }).click();
    await a.page.evaluate(() => window.sipedgePhone.sendDtmf("#1"));
    expect((await stateOf(a.page)).call?.dtmfSent).toBe("5#1");
    await phone!.waitForDtmf("5#1");

    const before = (await statsOf(a.page))!.packetsReceived;
    await a.page.getByRole("button", { name: "Hang up" }).click();
    const final = await endedBothSides(a, since);
    expect(final.packetsReceived).toBeGreaterThan(50);
    expect(final.packetsSent).toBeGreaterThanOrEqual(before);
  });

  it("the phone calls bob's DID through the egress: bob's browser rings, he answers, audio flows both ways, the phone hangs up", async () => {
    const b = await pages.signedIn(bob);
    await waitForState(b.page, "registered");
    const since = phone!.calls().length;
    await phone!.dial(`sip:${DID}@127.0.0.1:${egressPort}`);
    const ringing = await waitForState(b.page, "incoming");
    expect(ringing.call?.peer, logs).toContain(PHONE_NUMBER);
    await b.page.getByRole("button", { name: "Answer" }).click();
    await waitForState(b.page, "established");
    const call = await phone!.waitForCall("established", { since });
    expect(call.direction).toBe("outgoing");

    const heard = await waitForAudio(b.page, { packets: 50 });
    expect(heard.dtlsState).toBe("connected");
    await phoneCounts((c) => c.packetsReceived > 50 && c.packetsSent > 50, "more than 50 RTP packets each way");

    const ended = await phone!.hangup();
    expect(ended.closed).toBeDefined();
    const final = await endedBothSides(b, since);
    expect(final.packetsReceived).toBeGreaterThan(50);
  });

  it("npm start's demo legacy phone: trunk, DID and alice's call-out seeded; alice dials its number and hears it", async () => {
    // As on a fresh `npm start`: alice has no call-out permission of her own (the per-minute limit is raised:
    // earlier files' calls of the last minute count against her).
    await adminFetch(stack, "PATCH", `/v1/subscribers/${alice.aor}/call-out`, { can_call_out: null, allowed_prefixes: null, max_calls_per_minute: 1000 });
    const demoOptions = {
      host: "127.0.0.1",
      sipPort: await freeBaresipPort("127.0.0.1", 2), // the gateway and the desk phone
      egressId: ID,
      dynamo: { client: dynamoClientFor(stack.dynamoEndpoint), endpoint: stack.dynamoEndpoint },
      users: [alice, bob],
      domain: stack.domain,
      deskPassword: `desk-${suffix}`,
    };
    await provisionDemoLegacyPhone(demoOptions);
    const demo = await startDemoLegacyPhone({ ...demoOptions, egressSip: egress!.sip, dir: join(dir, "demo"), log: (line) => baresipLog.write(`[demo] ${line}\n`) });
    demoPhone = demo.phone;
    demoDesk = demo.desk;
    expect(demo.banner.join("\n")).toContain(`dial ${DEMO_LEGACY_PHONE.number}`);
    expect(demo.banner.join("\n")).toContain(`dial ${DEMO_DESK_USER} on the softphone`);
    // carol's desk phone, registered through the egress.
    const desk = `${DEMO_DESK_USER}@${stack.domain}`;
    expect(await registrationsOf(stack, desk)).toMatchObject([{ egress: ID, flow_connected: true }]);
    const trunk = await adminFetch(stack, "GET", `/v1/trunks/${DEMO_LEGACY_PHONE.trunk}`);
    expect(trunk.json).toMatchObject({ egress: ID, prefixes: [DEMO_LEGACY_PHONE.number], gateways: [{ host: "127.0.0.1", port: demoPhone.sip.port, transport: "udp" }] });
    expect((await adminFetch(stack, "GET", `/v1/dids/${encodeURIComponent(DEMO_LEGACY_PHONE.did)}`)).json).toMatchObject({ aor: bob.aor });
    expect((await adminFetch(stack, "GET", `/v1/subscribers/${alice.aor}/call-out`)).json).toMatchObject({ can_call_out: true, allowed_prefixes: [DEMO_LEGACY_PHONE.number] });
    // npm start seeds before the edge starts; this edge already runs and keeps its trunk list
    // for 5 s (TRUNKS_CACHE_MS): an admin change refreshes it at once in the admin's isolate.
    expect((await adminFetch(stack, "PATCH", `/v1/trunks/${DEMO_LEGACY_PHONE.trunk}`, { enabled: true })).status).toBe(200);

    const a = await pages.signedIn(alice);
    await waitForState(a.page, "registered");
    await a.page.evaluate((n) => window.sipedgePhone.call(n), DEMO_LEGACY_PHONE.number);
    await demoPhone.waitForCall("established");
    await waitForState(a.page, "established");
    await waitForAudio(a.page, { packets: 50 });
    await eventually(() => demoPhone!.stats(), (c) => c !== undefined && c.packetsReceived > 50, 15_000, `the demo phone hearing alice (${logs})`);
    await a.page.getByRole("button", { name: "Hang up" }).click();
    await waitForState(a.page, "ended");
    await demoPhone.waitForCall("closed");
  });
});
