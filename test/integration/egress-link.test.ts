import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signEgressToken } from "../../workers/src/egress/egress-token.ts";
import { adminFetch, newSubscriber } from "../harness/admin.ts";
import { audioPorts } from "../harness/call-endings.ts";
import { FakeEgress, plainRtpSdp, refusedUpgrade, egressAuthHeaders, type OfferedCall } from "../harness/fake-egress.ts";
import { cdrOf, noRtpengineSessions } from "../harness/media.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { rand, recordRoutes, SipPhone, type OutgoingCall } from "../harness/sip-phone.ts";
import type { SipMessageText } from "../harness/sip-ws-client.ts";
import "../harness/stack-info.ts";

/**
 * The edge's egress link against the real stack (issue 5, "The edge side";
 * ARCHITECTURE.md "Browser to carrier", "Carrier to browser"): workerd with
 * its Durable Objects, dynalite and rtpengine are real; only the carrier
 * behind an egress proxy is played, by a raw WebSocket client that opens
 * `/egress/:id` as media-node/egress does (harness/fake-egress.ts). What is
 * checked is what crosses the link (the frames the fake received), what
 * the browser-side raw client received, what rtpengine lists and the CDR.
 */
const stack = inject("stack");
const suffix = rand(3);
const EGRESS_ID = `fake-carrier-${suffix}`;
/** An egress no one connects as: its trunk's calls have nowhere to go. */
const ABSENT_EGRESS_ID = `absent-${suffix}`;
const TRUNK = `fake-trunk-${suffix}`;
const ABSENT_TRUNK = `absent-trunk-${suffix}`;
const GATEWAY = { host: "127.0.0.1", port: 5999, transport: "udp" };
/** Fictional NANP numbers (555-01xx), distinct per run: the EgressLink caches a DID's user for 30 s. */
const did = (): string => `+1555010${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
const [ALICE_DID, BOB_DID, UNKNOWN_DID] = uniqueDids(3) as [string, string, string];
const NUMBER = "+15550100123";
/** A number as browsers dial it (the softphone's form): a SIP URI in our domain with `user=phone` (RFC 3261 §19.1.1). */
const dial = (number: string): string => `${number}@${stack.domain};user=phone`;
/** rtpengine's media ports in the integration stack (global-setup.ts). */
const RTP_PORTS = inject("stack").rtpPorts;

const phones: SipPhone[] = [];
const subscribers: string[] = [];
const trunks: string[] = [];
const dids: string[] = [];
let egress: FakeEgress;
let alice: SipPhone;
let bob: SipPhone;

function uniqueDids(n: number): string[] {
  const out = new Set<string>();
  while (out.size < n) out.add(did());
  return [...out];
}

async function admin(method: string, path: string, body: unknown, want: number): Promise<void> {
  const r = await adminFetch(stack, method, path, body);
  if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
}

/** A fresh subscriber with a call-out policy (undefined: the default, closed), registered on a raw client. */
async function subscriber(user: string, policy?: Record<string, unknown>, didOfTheirs?: string): Promise<SipPhone> {
  const s = await newSubscriber(stack, user);
  subscribers.push(s.aor);
  if (didOfTheirs !== undefined) {
    await admin("PUT", `/v1/dids/${encodeURIComponent(didOfTheirs)}`, { aor: s.aor }, 201);
    dids.push(didOfTheirs);
  }
  if (policy !== undefined) await admin("PATCH", `/v1/subscribers/${encodeURIComponent(s.aor)}/call-out`, policy, 200);
  const p = await SipPhone.open(stack.edgeUrl, s.aor, s.password);
  phones.push(p);
  const res = await p.register();
  if (res.status !== 200) throw new Error(`REGISTER ${s.aor}: ${res.status} ${res.reason}`);
  return p;
}

/** Whichever of two awaited things comes first (the other's later failure is ignored). */
async function firstOf<A, B>(a: Promise<A>, b: Promise<B>): Promise<{ a: A } | { b: B }> {
  a.catch(() => undefined);
  b.catch(() => undefined);
  return Promise.race([a.then((v) => ({ a: v })), b.then((v) => ({ b: v }))]);
}

const bodyOf = (m: SipMessageText): string => m.text.slice(m.text.indexOf("\r\n\r\n") + 4);
const requestLine = (m: SipMessageText): string => m.text.slice(0, m.text.indexOf("\r\n"));
const methodsOf = (frames: string[]): string[] => frames.map((f) => f.slice(0, f.indexOf(" ")));

/** Plain RTP toward a SIP peer (media/profiles.ts TOWARD_SIP): RTP/AVP, no ICE, no DTLS, rtpengine's address and ports. */
function expectPlainRtp(sdp: string): void {
  expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP /m);
  expect(sdp).not.toMatch(/SAVP/);
  expect(sdp).not.toMatch(/^a=ice-ufrag/m);
  expect(sdp).not.toMatch(/^a=candidate/m);
  expect(sdp).not.toMatch(/^a=fingerprint/m);
  expect(sdp).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
  expect(audioPorts(sdp).every((p) => p >= RTP_PORTS.min && p <= RTP_PORTS.max)).toBe(true);
}

/** WebRTC toward a browser (TOWARD_BROWSER): DTLS-SRTP with ICE, from rtpengine. */
function expectWebRtc(sdp: string): void {
  expect(sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
  expect(sdp).toMatch(/^a=ice-ufrag:/m);
  expect(sdp).toMatch(/^a=candidate:/m);
  expect(sdp).toMatch(/^a=fingerprint:/m);
  expect(sdp).toMatch(/^a=rtcp-mux/m);
  expect(audioPorts(sdp).every((p) => p >= RTP_PORTS.min && p <= RTP_PORTS.max)).toBe(true);
}

beforeAll(async () => {
  console.log(`[egress-link] stack logs in ${stack.logDir}; egress ${EGRESS_ID}, DIDs alice ${ALICE_DID} bob ${BOB_DID} unknown ${UNKNOWN_DID}`);
  egress = await FakeEgress.connect(stack.edgeUrl, EGRESS_ID, stack.secrets.EGRESS_SECRET);
  const callerId = { mode: "subscriber", default_number: "+15550100000" };
  await admin("POST", "/v1/trunks", { id: TRUNK, egress: EGRESS_ID, gateways: [GATEWAY], prefixes: ["+1"], caller_id: callerId }, 201);
  trunks.push(TRUNK);
  await admin("POST", "/v1/trunks", { id: ABSENT_TRUNK, egress: ABSENT_EGRESS_ID, gateways: [{ ...GATEWAY, port: 5998 }], prefixes: ["+44"], caller_id: callerId }, 201);
  trunks.push(ABSENT_TRUNK);
  alice = await subscriber(
    "alice",
    // +44 is carried by the trunk whose egress is absent; +61 by no trunk.
    { can_call_out: true, allowed_prefixes: ["+1", "+44", "+61"], max_concurrent_calls: 5, max_calls_per_minute: 1000, caller_id: ALICE_DID },
    ALICE_DID,
  );
  bob = await subscriber("bob", undefined, BOB_DID);
});

afterAll(async () => {
  await Promise.allSettled([...phones.splice(0).map((p) => p.close()), egress?.close()]);
  // DIDs first: a subscriber with DIDs is still referenced by them.
  for (const d of dids) await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(d)}`);
  for (const t of trunks) await adminFetch(stack, "DELETE", `/v1/trunks/${t}`);
  // The call-out policies live in the subscribers' items: they go with them.
  for (const aor of subscribers) await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(aor)}`);
});

describe("the link's upgrade is authenticated (GET /egress/:id)", () => {
  const id = `auth-probe-${suffix}`;
  const secret = (): string => stack.secrets.EGRESS_SECRET;

  it("no token, a bad signature, a stale token, a replayed token and another link's token are 401; a good token connects with subprotocol sip", async () => {
    const noToken = await refusedUpgrade(stack.edgeUrl, id, {});
    expect(noToken.status).toBe(401);
    expect(noToken.body).toMatch(/Authorization: Bearer/);

    const badSignature = await refusedUpgrade(stack.edgeUrl, id, egressAuthHeaders(signEgressToken("not-the-egress-secret-0123456789", id, Date.now())));
    expect(badSignature).toMatchObject({ status: 401, body: expect.stringMatching(/bad signature/) });

    const stale = await refusedUpgrade(stack.edgeUrl, id, egressAuthHeaders(signEgressToken(secret(), id, Date.now() - 5 * 60_000)));
    expect(stale).toMatchObject({ status: 401, body: expect.stringMatching(/time window/) });

    const otherLink = await refusedUpgrade(stack.edgeUrl, id, egressAuthHeaders(signEgressToken(secret(), `${id}-other`, Date.now())));
    expect(otherLink).toMatchObject({ status: 401, body: expect.stringMatching(/bad signature/) });

    const malformed = await refusedUpgrade(stack.edgeUrl, id, egressAuthHeaders("v1.not-a-token"));
    expect(malformed).toMatchObject({ status: 401, body: expect.stringMatching(/malformed/) });

    // A token works once: the same upgrade replayed is refused by the EgressLink DO.
    const token = signEgressToken(secret(), id, Date.now());
    const first = await FakeEgress.connect(stack.edgeUrl, id, secret(), token);
    expect(first.client.ws.protocol).toBe("sip");
    const replayed = await refusedUpgrade(stack.edgeUrl, id, egressAuthHeaders(token));
    expect(replayed).toMatchObject({ status: 401, body: expect.stringMatching(/already used/) });
    await first.close();

    // A fresh token connects: `ws` opens only on a 101 whose Sec-WebSocket-Protocol is one we offered.
    const link = await FakeEgress.connect(stack.edgeUrl, id, secret());
    expect(link.client.ws.protocol).toBe("sip");
    // And the link speaks SIP: OPTIONS to the domain (a keep-alive) is answered by the EgressLink itself.
    const options = await link.requestOutOfDialog("OPTIONS", `sip:${stack.domain}`);
    expect(options.status).toBe(200);
    await link.close();
  });
});

describe("browser to number: through the policy to the trunk's egress, media made plain RTP", () => {
  it("alice's INVITE to a number reaches the egress with the trunk's Request-URI, headers and plain RTP; the carrier's 200 reaches her as WebRTC; ACK and BYE follow the route set", async () => {
    const call = await alice.call(dial(NUMBER), { sdp: CHROMIUM_OFFER }); // 407, then with credentials
    const offered = await egress.offered((m) => m.includes(call.callId));
    const inv = offered.invite;
    expect(requestLine(inv)).toBe(`INVITE sip:${NUMBER}@${GATEWAY.host}:${GATEWAY.port};user=phone SIP/2.0`);
    expect(inv.header("X-Sipedge-Trunk")).toBe(TRUNK);
    expect(inv.header("P-Asserted-Identity")).toBe(`<sip:${ALICE_DID}@${stack.domain};user=phone>`);
    expect(inv.header("Proxy-Authorization")).toBeUndefined(); // the caller's credentials never leave (§22.3)
    expect(inv.header("Content-Type")).toBe("application/sdp");
    expectPlainRtp(bodyOf(inv));
    expect(recordRoutes(inv).length).toBeGreaterThan(0); // alice's DO stays on the path

    offered.reply(180);
    await call.response(180);
    offered.reply(200, { sdp: plainRtpSdp() });
    const ok = await call.answered(); // and ACKs along the route set
    expect(ok.header("Content-Type")).toBe("application/sdp");
    expectWebRtc(bodyOf(ok));
    expect(recordRoutes(ok)).toContain(egress.recordRoute);

    const ack = await offered.request("ACK");
    expect(requestLine(ack)).toBe(`ACK ${offered.contact.slice(1, -1)} SIP/2.0`);
    const bye = call.bye();
    const byeAtCarrier = await offered.request("BYE");
    expect(requestLine(byeAtCarrier)).toBe(`BYE ${offered.contact.slice(1, -1)} SIP/2.0`);
    egress.respond(byeAtCarrier, 200);
    expect((await bye).status).toBe(200);

    // The carrier saw this call's INVITE, ACK and BYE, once each (no retransmission, no CANCEL).
    expect(methodsOf(egress.framesOf(call.callId))).toEqual(["INVITE", "ACK", "BYE"]);
    await noRtpengineSessions(stack, [call.callId]);
    const cdr = await cdrOf(stack, call.callId);
    expect(cdr).toMatchObject({ leg: "browser-to-sip", caller: alice.aor, end_reason: "bye", ended_by: "caller" });
    expect(cdr.answered_at).toBeDefined();
  });

  it("a SIP URI whose user part is + and digits is a number without user=phone too (README \"What is a number\")", async () => {
    const call = await alice.call(`${NUMBER}@${stack.domain}`, { sdp: CHROMIUM_OFFER });
    const final = call.final(10_000);
    const first = await firstOf(egress.offered((m) => m.includes(call.callId)), final);
    if ("b" in first) {
      call.ackFailure(first.b);
      expect.fail(`sip:${NUMBER}@${stack.domain} did not reach the trunk: alice got ${first.b.status} ${first.b.reason}`);
    }
    const offered = first.a;
    expect(requestLine(offered.invite)).toBe(`INVITE sip:${NUMBER}@${GATEWAY.host}:${GATEWAY.port};user=phone SIP/2.0`);
    offered.reply(486);
    const res = await final;
    call.ackFailure(res);
    expect(res.status).toBe(486);
    await noRtpengineSessions(stack, [call.callId]);
  });

  it("the carrier's refusal (486) reaches alice, and the edge ACKs it on the link (§17.1.1.3)", async () => {
    const call = await alice.call(dial(NUMBER), { sdp: CHROMIUM_OFFER });
    const offered = await egress.offered((m) => m.includes(call.callId));
    offered.reply(486);
    const final = await call.final();
    call.ackFailure(final);
    expect([final.status, final.reason]).toEqual([486, "Busy Here"]);
    await noRtpengineSessions(stack, [call.callId]);
    expect(await cdrOf(stack, call.callId)).toMatchObject({ leg: "browser-to-sip", end_reason: "rejected", status: 486 });
    // The egress's server transaction for the INVITE waits in Completed for this ACK (Timer H otherwise):
    // same Request-URI, Call-ID, CSeq number and top Via branch as the INVITE it acknowledges.
    const ack = await offered.request("ACK", 5_000);
    expect(requestLine(ack)).toBe(requestLine(offered.invite).replace(/^INVITE/, "ACK"));
    expect(ack.header("Via")).toBe(offered.invite.header("Via"));
    expect(ack.header("CSeq")).toBe(offered.invite.header("CSeq")!.replace("INVITE", "ACK"));
  });

  it("alice's CANCEL of a ringing call reaches the carrier, whose 487 reaches her", async () => {
    const call = await alice.call(dial(NUMBER), { sdp: CHROMIUM_OFFER });
    const offered = await egress.offered((m) => m.includes(call.callId));
    offered.reply(180);
    await call.response(180);
    const cancelled = call.cancel();
    const cancelAtCarrier = await offered.request("CANCEL");
    expect(cancelAtCarrier.header("Via")).toBe(offered.invite.header("Via")); // §9.1: the INVITE's branch
    egress.respond(cancelAtCarrier, 200);
    offered.reply(487);
    expect((await cancelled).status).toBe(200);
    const final = await call.final();
    call.ackFailure(final);
    expect(final.status).toBe(487);
    await noRtpengineSessions(stack, [call.callId]);
  });
});

describe("policy: refused calls are answered and nothing reaches the egress", () => {
  /** An INVITE to a number and its final answer (ACKed, §17.1.1.3). */
  async function refused(phone: SipPhone, number: string, opts: { authenticate?: boolean } = {}): Promise<{ call: OutgoingCall; res: SipMessageText }> {
    const call = await phone.call(dial(number), { sdp: CHROMIUM_OFFER, ...opts });
    const res = await call.final();
    call.ackFailure(res);
    return { call, res };
  }

  /**
   * Nothing of `callId` reached the carrier. The link is one ordered
   * socket: a call placed after the refusal reaches the egress only after
   * anything the edge sent for the refused call, so once it arrives the
   * frames are complete (no sleep standing in for that).
   */
  async function nothingReachedEgress(callId: string): Promise<void> {
    const marker = await alice.call(dial(NUMBER), { sdp: CHROMIUM_OFFER });
    const offered: OfferedCall = await egress.offered((m) => m.includes(marker.callId));
    offered.reply(486);
    const final = await marker.final();
    marker.ackFailure(final);
    expect(final.status).toBe(486);
    expect(egress.framesOf(callId)).toEqual([]);
    await noRtpengineSessions(stack, [callId, marker.callId]);
  }

  it("an INVITE to a number without credentials is challenged 407", async () => {
    const { call, res } = await refused(alice, NUMBER, { authenticate: false });
    expect(res.status).toBe(407);
    expect(res.headers("Proxy-Authenticate").length).toBeGreaterThan(0);
    await nothingReachedEgress(call.callId);
  });

  it("a subscriber not allowed out (the default) gets 403 Calls Out Not Allowed", async () => {
    const erin = await subscriber("erin");
    const { call, res } = await refused(erin, NUMBER);
    expect([res.status, res.reason]).toEqual([403, "Forbidden - Calls Out Not Allowed"]);
    await nothingReachedEgress(call.callId);
  });

  it("a premium-rate number (+1900) is refused although +1 is allowed: 403 Premium Rate Destination", async () => {
    const { call, res } = await refused(alice, "+19005550123");
    expect([res.status, res.reason]).toEqual([403, "Forbidden - Premium Rate Destination"]);
    await nothingReachedEgress(call.callId);
  });

  it("a high-risk range (+1876, Jamaica) is refused: 403 High-Risk Destination", async () => {
    const { call, res } = await refused(alice, "+18765550123");
    expect([res.status, res.reason]).toEqual([403, "Forbidden - High-Risk Destination"]);
    await nothingReachedEgress(call.callId);
  });

  it("a destination outside the allowed prefixes (+33) gets 403 International Calls Not Allowed", async () => {
    const { call, res } = await refused(alice, "+33142685300");
    expect([res.status, res.reason]).toEqual([403, "Forbidden - International Calls Not Allowed"]);
    await nothingReachedEgress(call.callId);
  });

  it("over the concurrent-call limit (1): with one call up, the second gets 403 Too Many Concurrent Calls", async () => {
    const carol = await subscriber("carol", { can_call_out: true, allowed_prefixes: ["+1"], max_concurrent_calls: 1 });
    const up = await carol.call(dial(NUMBER), { sdp: CHROMIUM_OFFER });
    const offered = await egress.offered((m) => m.includes(up.callId));
    offered.reply(200, { sdp: plainRtpSdp() });
    await up.answered();
    await offered.request("ACK");

    const { call, res } = await refused(carol, NUMBER);
    expect([res.status, res.reason]).toEqual([403, "Forbidden - Too Many Concurrent Calls"]);
    await nothingReachedEgress(call.callId);

    const bye = up.bye();
    egress.respond(await offered.request("BYE"), 200);
    expect((await bye).status).toBe(200);
    await noRtpengineSessions(stack, [up.callId]);
  });

  it("over the per-minute limit (2): the third call in a minute gets 403 Too Many Calls Per Minute", async () => {
    const dave = await subscriber("dave", { can_call_out: true, allowed_prefixes: ["+1"], max_calls_per_minute: 2 });
    for (let i = 0; i < 2; i++) {
      const c = await dave.call(dial(NUMBER), { sdp: CHROMIUM_OFFER });
      const offered = await egress.offered((m) => m.includes(c.callId));
      offered.reply(486);
      const final = await c.final();
      c.ackFailure(final);
      expect(final.status).toBe(486);
    }
    const { call, res } = await refused(dave, NUMBER);
    expect([res.status, res.reason]).toEqual([403, "Forbidden - Too Many Calls Per Minute"]);
    await nothingReachedEgress(call.callId);
  });

  it("a number no trunk carries (+61) gets 404 No Route", async () => {
    const { call, res } = await refused(alice, "+61293744000");
    expect([res.status, res.reason]).toEqual([404, "Not Found - No Route"]);
    await nothingReachedEgress(call.callId);
  });
});

describe("carrier to browser: a DID call through the link rings its user, media made WebRTC", () => {
  const callIds: string[] = [];

  afterAll(async () => {
    await noRtpengineSessions(stack, callIds);
  });

  it("an INVITE for bob's DID rings bob with WebRTC SDP; his 200 reaches the carrier as plain RTP; the carrier's BYE reaches bob", async () => {
    const call = egress.call(BOB_DID, { sdp: plainRtpSdp(40_002) });
    callIds.push(call.callId);
    const incoming = await bob.incoming(10_000, (m) => m.includes(call.callId));
    expect(incoming.invite.header("Content-Type")).toBe("application/sdp");
    expectWebRtc(bodyOf(incoming.invite));
    expect(bodyOf(incoming.invite)).toMatch(/^a=setup:actpass/m); // rtpengine takes its DTLS role from bob's answer
    expect(recordRoutes(incoming.invite)).toContain(egress.recordRoute);

    incoming.reply(180);
    await call.response(180);
    incoming.reply(200, { sdp: CHROMIUM_ANSWER });
    const ok = await call.answered();
    expect(ok.header("Content-Type")).toBe("application/sdp");
    expectPlainRtp(bodyOf(ok));
    // The response came back through the egress's Via and then the carrier's, in order (§16.7).
    expect(ok.headers("Via").map((v) => v.split(";")[0])).toEqual([`SIP/2.0/WSS ${EGRESS_ID}.egress.invalid`, "SIP/2.0/UDP 127.0.0.1:5999"]);
    await incoming.ack();

    const bye = call.bye();
    const byeAtBob = await incoming.request("BYE");
    bob.respond(byeAtBob, 200);
    expect((await bye).status).toBe(200);

    await noRtpengineSessions(stack, [call.callId]);
    const cdr = await cdrOf(stack, call.callId);
    expect(cdr).toMatchObject({ leg: "sip-to-browser", end_reason: "bye", ended_by: "caller" });
  });

  it("bob's BYE reaches the carrier through the route set", async () => {
    const call = egress.call(BOB_DID, { sdp: plainRtpSdp(40_004) });
    callIds.push(call.callId);
    const incoming = await bob.incoming(10_000, (m) => m.includes(call.callId));
    incoming.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered();
    await incoming.ack();

    // bob's BYE: From is the INVITE's To (the DID as the carrier wrote it), §12.2.1.1.
    const bye = incoming.bye();
    const first = await firstOf(egress.nextRequest("BYE", (m) => m.includes(call.callId)), bye);
    if ("b" in first) {
      // Refused by the edge: the call is still up; the carrier ends it so nothing is left behind.
      const carrierBye = call.bye();
      bob.respond(await incoming.request("BYE"), 200);
      await carrierBye;
      expect.fail(`bob's BYE did not reach the carrier: bob got ${first.b.status} ${first.b.reason}`);
    }
    const byeAtCarrier = first.a;
    expect(requestLine(byeAtCarrier)).toBe("BYE sip:carrier@127.0.0.1:5999;transport=udp SIP/2.0");
    egress.respond(byeAtCarrier, 200);
    expect((await bye).status).toBe(200);
    await noRtpengineSessions(stack, [call.callId]);
    expect(await cdrOf(stack, call.callId)).toMatchObject({ leg: "sip-to-browser", end_reason: "bye", ended_by: "callee" });
  });

  it("a CANCEL of a ringing call gets 200, bob's branch is cancelled, and the carrier gets 487", async () => {
    const call = egress.call(BOB_DID, { sdp: plainRtpSdp(40_006) });
    callIds.push(call.callId);
    const incoming = await bob.incoming(10_000, (m) => m.includes(call.callId));
    incoming.reply(180);
    await call.response(180);

    const cancelled = call.cancel();
    bob.respond(await incoming.request("CANCEL"), 200);
    incoming.reply(487);
    await incoming.ack(); // the edge's ACK to bob's 487
    expect((await cancelled).status).toBe(200);
    const final = await call.response();
    expect(final.status).toBe(487);
    call.ackFailure(final);
    await noRtpengineSessions(stack, [call.callId]);
  });

  it("an INVITE for a DID no one has gets 404 at the egress", async () => {
    const call = egress.call(UNKNOWN_DID, { sdp: plainRtpSdp(40_008) });
    callIds.push(call.callId);
    const final = await call.response();
    expect(final.status).toBe(404);
    call.ackFailure(final);
  });
});

describe("a trunk whose egress is not connected", () => {
  it("a call to its number fails cleanly with 503 and leaves no rtpengine session", async () => {
    const call = await alice.call(dial("+442079460123"), { sdp: CHROMIUM_OFFER });
    const res = await call.final(15_000);
    call.ackFailure(res);
    await noRtpengineSessions(stack, [call.callId]);
    expect(egress.framesOf(call.callId)).toEqual([]);
    // The edge asks the link before routing: a trunk whose egress is away is down (503 with Retry-After, not §16.7's 500 for a failed hop).
    expect([res.status, res.reason, res.header("Retry-After")]).toEqual([503, "Service Unavailable - Trunk Unreachable", "30"]);
  });
});
