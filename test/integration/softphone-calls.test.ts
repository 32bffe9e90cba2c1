import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { IceEndpoint } from "../../workers/softphone/call-quality.ts";
import { eventually, registrationsOf } from "../harness/admin.ts";
import { launchChromium } from "../harness/chromium.ts";
import { cdrOf, noRtpengineSessions, rtpengineCalls } from "../harness/media.ts";
import { SoftphonePages, stateOf, statsOf, waitForAudio, waitForState, type Phone } from "../harness/softphone.ts";
import "../harness/stack-info.ts";

/**
 * Browser to browser with the media anchored in rtpengine (ARCHITECTURE.md
 * "Who owns media"): two softphone pages in headless Chromium, alice and
 * bob, call each other through the real edge, and the test proves the audio
 * is RELAYED — each browser's selected ICE pair ends at rtpengine, never at
 * the other browser; rtpengine lists the call while it is up, counts its RTP
 * and holds nothing after it; the caller's DO writes the CDR.
 */
const stack = inject("stack");

/** The stack's rtpengine: loopback, its media ports. */
const RTPENGINE = { address: "127.0.0.1", minPort: stack.rtpPorts.min, maxPort: stack.rtpPorts.max };

const lines = (sdp: string): string[] => sdp.split(/\r?\n/).filter((l) => l !== "");
const attr = (sdp: string, name: string): string[] => lines(sdp).filter((l) => l === `a=${name}` || l.startsWith(`a=${name}:`));
const audioPort = (sdp: string): number => Number(/^m=audio (\d+) /m.exec(sdp)?.[1]);

const sdpOf = async ({ page }: Phone): Promise<{ local: string; remote: string }> => {
  const d = await page.evaluate(() => window.sipedgePhone.sessionDescriptions());
  expect(d.local, "the page's local description").toBeDefined();
  expect(d.remote, "the page's remote description").toBeDefined();
  return { local: d.local!, remote: d.remote! };
};

describe("the softphone in headless Chromium: alice calls bob, media relayed by rtpengine", () => {
  const alice = stack.users[0]!;
  const bob = stack.users[1]!;
  let browser: Browser;
  const phones = new SoftphonePages(() => browser, stack.edgeUrl);

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterEach(() => phones.closeAll());

  afterAll(async () => {
    await browser?.close();
    // Leave no binding behind for the next test file.
    for (const u of [alice, bob]) await eventually(() => registrationsOf(stack, u.aor), (r) => !r.some((x) => x.flow_connected), 10_000, `${u.aor}'s sockets to close`);
  });

  interface Call {
    a: Phone;
    b: Phone;
    callId: string;
  }

  /**
   * alice (signed in on one page) calls bob (on another); bob answers, after
   * `ringFor` ms of ringing when given. Returns once both see the call up.
   */
  async function aliceCallsBob(ringFor?: number): Promise<Call> {
    const [a, b] = await Promise.all([phones.signedIn(alice), phones.signedIn(bob)]);
    await a.page.evaluate(() => window.sipedgePhone.call("bob"));
    const incoming = await waitForState(b.page, "incoming");
    expect(incoming.call?.peer).toBe(alice.aor);
    const callId = (await stateOf(a.page)).call!.callId;
    expect(incoming.call?.callId).toBe(callId);
    // The caller's DO offered the INVITE's SDP to rtpengine before bob saw it.
    expect(await rtpengineCalls(stack)).toContain(callId);
    if (ringFor !== undefined) {
      // alice has the 180 Ringing (no SDP): rtpengine holds her offer, bob
      // holds rtpengine's, and nobody has an answer yet.
      await waitForState(a.page, "ringing");
      // The scenario itself, not synchronisation: the callee lets it ring for
      // `ringFor` ms before answering. With textbook DTLS flags the handshake
      // hung once the callee rang for 1.5 s (PLATFORM.md, PITFALLS 3).
      await new Promise((resolve) => setTimeout(resolve, ringFor));
    }
    await b.page.getByRole("button", { name: "Answer" }).click();
    await waitForState(a.page, "established");
    await waitForState(b.page, "established");
    return { a, b, callId };
  }

  /** Audio both ways: each page hears the other (packets, a tone, DTLS connected), at least `packets` more than `after`. */
  async function expectAudioBothWays(call: Call, opts: { after?: [number, number]; packets?: number } = {}): Promise<void> {
    const [afterA, afterB] = opts.after ?? [0, 0];
    const qa = await waitForAudio(call.a.page, { after: afterA, packets: opts.packets ?? 50 });
    const qb = await waitForAudio(call.b.page, { after: afterB, packets: opts.packets ?? 50 });
    for (const q of [qa, qb]) {
      expect(q.codec).toMatch(/^opus\/48000$/i);
      expect(q.packetsSent).toBeGreaterThan(0);
      expect(q.dtlsState).toBe("connected");
    }
  }

  /**
   * The media is relayed: on each page the selected ICE pair's remote end is
   * rtpengine (its address, a port of its range, the very port of the SDP the
   * edge gave that page), never the other browser's own candidate; and
   * rtpengine lists the call.
   */
  async function expectRelayed(call: Call): Promise<void> {
    expect(await rtpengineCalls(stack)).toContain(call.callId);
    const qa = (await statsOf(call.a.page))!;
    const qb = (await statsOf(call.b.page))!;
    for (const [me, q, other] of [[call.a, qa, qb], [call.b, qb, qa]] as const) {
      const remote: IceEndpoint | undefined = q.remoteCandidate;
      expect(remote, "the selected ICE pair's remote candidate").toMatchObject({ address: RTPENGINE.address, protocol: "udp" });
      expect(remote!.port).toBeGreaterThanOrEqual(RTPENGINE.minPort);
      expect(remote!.port).toBeLessThanOrEqual(RTPENGINE.maxPort);
      expect(remote!.port).toBe(audioPort((await sdpOf(me)).remote));
      expect(other.localCandidate, "the other browser's own candidate").toBeDefined();
      expect({ address: remote!.address, port: remote!.port }).not.toEqual({ address: other.localCandidate!.address, port: other.localCandidate!.port });
    }
  }

  /**
   * The SDP each browser got is rtpengine's, shaped for a browser: DTLS-SRTP
   * (no SDES, PITFALLS 8), rtcp-mux (PITFALLS 6), a mid and `a=group:BUNDLE`
   * restored (PITFALLS 7, 9; the pages' `bundlePolicy: "balanced"` accepts
   * it), rtpengine as the only candidate, its own DTLS fingerprint and ICE
   * credentials (not the other browser's), and the DTLS roles of PITFALLS 3:
   * rtpengine offers `actpass` to bob, who answers `active`; alice offered
   * `actpass` and rtpengine answers her `passive` (`DTLS-reverse: passive`).
   * rtpengine is the DTLS server on both sides.
   */
  async function expectRelaySdp(call: Call): Promise<void> {
    const a = await sdpOf(call.a);
    const b = await sdpOf(call.b);
    const fromRtpengine: [string, string][] = [
      [a.remote, "passive"], // rtpengine's answer to alice's offer
      [b.remote, "actpass"], // rtpengine's offer to bob
    ];
    for (const [remote, setup] of fromRtpengine) {
      expect(remote).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF [\d ]+$/m);
      expect(attr(remote, "setup")).toEqual([`a=setup:${setup}`]);
      expect(attr(remote, "rtcp-mux")).toEqual(["a=rtcp-mux"]);
      expect(attr(remote, "crypto")).toEqual([]);
      const mid = attr(remote, "mid");
      expect(mid).toHaveLength(1);
      expect(attr(remote, "group")).toEqual([`a=group:BUNDLE ${mid[0]!.slice("a=mid:".length)}`]);
      const port = audioPort(remote);
      expect(port).toBeGreaterThanOrEqual(RTPENGINE.minPort);
      expect(port).toBeLessThanOrEqual(RTPENGINE.maxPort);
      // (as the browser holds it: it lower-cases the transport and adds `generation 0`)
      expect(attr(remote, "candidate")).toEqual([expect.stringMatching(new RegExp(`^a=candidate:\\S+ 1 udp \\d+ 127\\.0\\.0\\.1 ${port} typ host( generation 0)?$`, "i"))]);
    }
    expect(attr(a.local, "setup")).toEqual(["a=setup:actpass"]);
    expect(attr(b.local, "setup")).toEqual(["a=setup:active"]);
    // DTLS and ICE end at rtpengine on each side: neither page sees the other's fingerprint or ufrag.
    expect(attr(a.remote, "fingerprint")).not.toEqual(attr(b.local, "fingerprint"));
    expect(attr(b.remote, "fingerprint")).not.toEqual(attr(a.local, "fingerprint"));
    expect(attr(a.remote, "ice-ufrag")).not.toEqual(attr(b.local, "ice-ufrag"));
    expect(attr(b.remote, "ice-ufrag")).not.toEqual(attr(a.local, "ice-ufrag"));
  }

  /**
   * `hangsUp` ends the call: both pages end cleanly, rtpengine holds no
   * session of it (`delete-delay: 0`, PITFALLS 18), and the caller's DO wrote
   * the CDR with rtpengine's count of the RTP it relayed each way — at least
   * what the other page received, since every packet it got came through.
   */
  async function hangUpAndCheck(call: Call, hangsUp: "caller" | "callee"): Promise<void> {
    const received = [(await statsOf(call.a.page))!.packetsReceived, (await statsOf(call.b.page))!.packetsReceived];
    const phone = hangsUp === "caller" ? call.a : call.b;
    await phone.page.getByRole("button", { name: "Hang up" }).click();
    const endedA = await waitForState(call.a.page, "ended");
    const endedB = await waitForState(call.b.page, "ended");
    expect([endedA.error, endedB.error]).toEqual([undefined, undefined]);
    expect([...call.a.errors, ...call.b.errors]).toEqual([]);

    await noRtpengineSessions(stack, [call.callId]);
    const cdr = await cdrOf(stack, call.callId);
    expect(cdr).toMatchObject({ caller: alice.aor, callee: bob.aor, end_reason: "bye", ended_by: hangsUp, leg: "browser-to-browser", media_node: "local-1" });
    expect(cdr.answered_at).toBeDefined();
    expect(Date.parse(cdr.answered_at!)).toBeGreaterThanOrEqual(Date.parse(cdr.started_at));
    expect(cdr.packets_from_caller).toBeGreaterThan(0);
    expect(cdr.packets_from_callee).toBeGreaterThan(0);
    expect(cdr.packets_from_caller).toBeGreaterThanOrEqual(received[1]!); // what bob heard of alice
    expect(cdr.packets_from_callee).toBeGreaterThanOrEqual(received[0]!); // what alice heard of bob
  }

  it("audio flows both ways through rtpengine (relayed, not peer-to-peer), DTMF in the media; the caller hangs up: no session left, CDR bye/caller", async () => {
    const call = await aliceCallsBob();
    await expectAudioBothWays(call);
    await expectRelayed(call);
    await expectRelaySdp(call);
    // The quality panel shows it too.
    await call.a.page.locator('#quality td[data-q="codec"]').filter({ hasText: /opus/i }).waitFor({ timeout: 5_000 });

    // DTMF in the media (RFC 4733 telephone-event), through the relay.
    await call.a.page.getByRole("button", { name: "5", exact: true }).click();
    await call.a.page.evaluate(() => window.sipedgePhone.sendDtmf("#1"));
    expect((await stateOf(call.a.page)).call?.dtmfSent).toBe("5#1");

    await hangUpAndCheck(call, "caller");
  });

  it("hold and resume re-offer to rtpengine and keep audio both ways (PITFALLS 10); the callee hangs up: no session left, CDR bye/callee", async () => {
    const call = await aliceCallsBob();
    await expectAudioBothWays(call);

    await call.a.page.evaluate(() => window.sipedgePhone.hold());
    await waitForState(call.a.page, "held");
    // The re-INVITE (a=sendonly) reached bob as rtpengine's re-offer, and bob's answer came back to alice.
    expect(attr((await sdpOf(call.b)).remote, "sendonly")).toEqual(["a=sendonly"]);
    expect(attr((await sdpOf(call.a)).remote, "recvonly")).toEqual(["a=recvonly"]);
    await call.a.page.evaluate(() => window.sipedgePhone.resume());
    await waitForState(call.a.page, "resumed");
    expect(attr((await sdpOf(call.b)).remote, "sendrecv")).toEqual(["a=sendrecv"]);
    expect(attr((await sdpOf(call.a)).remote, "sendrecv")).toEqual(["a=sendrecv"]);

    // After resume, packets keep arriving on both pages, still through rtpengine.
    const after: [number, number] = [(await statsOf(call.a.page))!.packetsReceived, (await statsOf(call.b.page))!.packetsReceived];
    await expectAudioBothWays(call, { after, packets: 25 });
    await expectRelayed(call);
    await expectRelaySdp(call);

    await hangUpAndCheck(call, "callee");
  });

  it("the callee rings 2 s before answering (PITFALLS 3, DTLS-reverse: passive): DTLS connects and audio flows both ways, relayed", async () => {
    const call = await aliceCallsBob(2_000);
    await expectAudioBothWays(call);
    await expectRelayed(call);
    await expectRelaySdp(call);
    await hangUpAndCheck(call, "callee");
  });
});
