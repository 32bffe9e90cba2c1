import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SCENARIOS, type Sipp, runSipp, waitListening } from "../../media-node/egress/test/support/sipp.ts";
import { startEgress, type EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { freeSipPort, freeTcpPort, freeUdpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { adminFetch, eventually } from "../harness/admin.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { SipPhone, type IncomingCall, type OutgoingCall } from "../harness/sip-phone.ts";
import "../harness/stack-info.ts";

// The egress proxy (media-node/egress) between the real edge (workerd,
// dynalite, rtpengine) and SIPp playing the carrier (issue 5): a browser's
// call to a number with the carrier's 407 answered from the trunk's
// credentials, failover between gateways, inbound DID calls, refusals, and
// a restart of the egress in the middle of calls.

const ID = "egress-test";
const suffix = Math.random().toString(36).slice(2, 8);
const CARRIER_USER = `acct-${suffix}`;
const CARRIER_PASSWORD = `carrier-password-${suffix}`;
/** A DID of alice's (+1 555 01x xxxx, random so reruns against the same data do not collide). */
const DID = `+1555017${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;

describe("egress proxy: trunks and DIDs through the edge", { timeout: 120_000 }, () => {
  const stack = inject("stack");
  const alice = stack.users.find((u) => u.aor.startsWith("alice@"))!;
  const trunks: string[] = [];
  const runs: Sipp[] = [];
  const phones: SipPhone[] = [];
  let sipPort = 0;
  let httpPort = 0;
  let egress: EgressProcess | undefined;
  let phone: SipPhone;
  const egressLog = createWriteStream(join(stack.logDir, `${ID}.log`), { flags: "a" });

  const start = async (): Promise<EgressProcess> =>
    startEgress({
      id: ID,
      host: "127.0.0.1",
      sipPort,
      httpPort,
      edgeUrl: stack.edgeUrl,
      dynamoEndpoint: stack.dynamoEndpoint,
      secret: stack.secrets.EGRESS_SECRET,
      gatewayTimeoutMs: 1_000,
      // The SIPp gateways here play one call scenario each: an OPTIONS probe would be an unexpected message to them
      // (the probes are tested in media-node/egress/test/sipp-trunks.test.ts).
      healthIntervalS: 0,
      log: (line) => egressLog.write(line + "\n"),
    });

  const sipp = (args: string[], opts: { localIp?: string } = {}): Sipp => {
    const run = runSipp(args, opts);
    runs.push(run);
    return run;
  };

  /** A SIPp UAS (a carrier gateway) on a free port, listening before this resolves. */
  const gatewaySipp = async (scenario: string, calls: number, extra: string[] = []): Promise<{ run: Sipp; port: number }> => {
    const port = await freeUdpPort();
    const run = sipp(["-sf", join(SCENARIOS, scenario), "-p", String(port), "-m", String(calls), ...extra]);
    await waitListening(port, "udp", run);
    return { run, port };
  };

  /** A SIPp UAC (a carrier calling in) toward the egress. */
  const carrierCall = async (scenario: string, number: string, opts: { localIp?: string; pauseMs?: number } = {}): Promise<Sipp> =>
    sipp(
      [`127.0.0.1:${sipPort}`, "-sf", join(SCENARIOS, scenario), "-s", number, "-m", "1", "-p", String(await freeUdpPort()), "-d", String(opts.pauseMs ?? 200)],
      opts.localIp !== undefined ? { localIp: opts.localIp } : {},
    );

  const createTrunk = async (id: string, body: Record<string, unknown>): Promise<void> => {
    const r = await adminFetch(stack, "POST", "/v1/trunks", { id, egress: ID, caller_id: { mode: "fixed", number: "+15550009999" }, ...body });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    trunks.push(id);
  };

  const metrics = async (): Promise<string> => (await fetch(`${egress!.httpUrl}/metrics`)).text();
  /** One sample of /metrics (0 when absent): the line of `name` carrying every label given. */
  const metric = (text: string, name: string, labels: Record<string, string> = {}): number => {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    const line = text.split("\n").find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
  };

  const received = (run: Sipp, startsWith: string): string[] => run.messages().filter((m) => m.direction === "received" && m.text.startsWith(startsWith)).map((m) => m.text);
  const waitForMessage = (run: Sipp, what: string, pick: () => string[]): Promise<string[]> => eventually(async () => pick(), (m) => m.length > 0, 10_000, what);

  /** alice calls `number` (user=phone: a number, not a user name) with Chromium's offer; resolves once answered (ACK sent). */
  const callOut = async (number: string): Promise<{ call: OutgoingCall; ok: Awaited<ReturnType<OutgoingCall["answered"]>> }> => {
    const call = await phone.call(`${number}@${stack.domain};user=phone`, { sdp: CHROMIUM_OFFER });
    const ok = await call.answered(15_000);
    return { call, ok };
  };

  /** alice takes the next call carrying `number` in its To (an inbound DID call): 180, 200 with Chromium's answer, the ACK. */
  const answerIncoming = async (): Promise<IncomingCall> => {
    const incoming = await phone.incoming(15_000);
    incoming.reply(180);
    incoming.reply(200, { sdp: CHROMIUM_ANSWER });
    await incoming.ack(10_000);
    return incoming;
  };

  beforeAll(async () => {
    // One port for UDP and TCP, the same across the restart (the Record-Routes name it).
    sipPort = await freeSipPort();
    httpPort = await freeTcpPort();
    const policy = await adminFetch(stack, "PATCH", `/v1/subscribers/${alice.aor}/call-out`, { can_call_out: true, allowed_prefixes: ["+1"], max_concurrent_calls: 20, max_calls_per_minute: 200 });
    expect(policy.status, JSON.stringify(policy.json)).toBe(200);
    const did = await adminFetch(stack, "PUT", `/v1/dids/${encodeURIComponent(DID)}`, { aor: alice.aor });
    expect([200, 201], JSON.stringify(did.json)).toContain(did.status);
    egress = await start();
    phone = await SipPhone.open(stack.edgeUrl, alice.aor, alice.password);
    phones.push(phone);
    expect((await phone.register()).status).toBe(200);
  });

  afterAll(async () => {
    await Promise.all(runs.map((r) => r.stop()));
    await Promise.all(phones.map((p) => p.close()));
    await egress?.stop();
    for (const id of trunks) await adminFetch(stack, "DELETE", `/v1/trunks/${id}`);
    await adminFetch(stack, "DELETE", `/v1/dids/${encodeURIComponent(DID)}`);
    await adminFetch(stack, "PATCH", `/v1/subscribers/${alice.aor}/call-out`, { can_call_out: null, allowed_prefixes: null, max_concurrent_calls: null, max_calls_per_minute: null });
    egressLog.end();
  });

  it("a browser calls a number: the carrier's 407 is answered with the trunk's credentials, plain RTP leaves, WebRTC comes back, BYE completes", async () => {
    const trunk = `carrier-auth-${suffix}`;
    const gw = await gatewaySipp("uas-trunk-challenge.xml", 1);
    await createTrunk(trunk, {
      gateways: [{ host: "127.0.0.1", port: gw.port, transport: "udp" }],
      credentials: { username: CARRIER_USER, password: CARRIER_PASSWORD, realm: "carrier.test" },
      prefixes: ["+1555"],
      allowed_sources: ["127.0.0.1"],
    });

    const { call, ok } = await callOut("+15551230001");
    // What the browser gets back is WebRTC again (rtpengine, browser side).
    expect(ok.text).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    expect(ok.text).toContain("a=fingerprint:");
    expect(ok.text).toContain("a=ice-ufrag:");

    const invites = received(gw.run, "INVITE ");
    expect(invites).toHaveLength(2);
    const [first, second] = invites as [string, string];
    // Plain RTP toward the carrier: no ICE, no DTLS (the edge anchored it in rtpengine).
    for (const inv of invites) {
      expect(inv).toMatch(/m=audio \d+ RTP\/AVP /);
      expect(inv).not.toMatch(/a=(ice-|candidate|fingerprint|setup)/);
      expect(inv).not.toMatch(/^x-sipedge-/im);
      expect(inv).toMatch(/^INVITE sip:\+15551230001@127\.0\.0\.1:\d+;user=phone SIP\/2\.0/);
      // PITFALLS 4: two Record-Routes of ours, the carrier side's (UDP) first, then the edge side's.
      expect(inv).toMatch(new RegExp(`Record-Route: <sip:eg1\\.${trunk}\\.\\d\\.[0-9a-f]+@127\\.0\\.0\\.1:${sipPort};transport=udp;lr>`));
      expect(inv).toContain(`<sip:${ID}@egress.invalid;transport=ws;lr>`);
    }
    expect(first).not.toMatch(/^Proxy-Authorization:/im);
    expect(digestIsValid(second, CARRIER_USER, CARRIER_PASSWORD), second).toBe(true);
    // §22.2: the retry is a new transaction with CSeq + 1; its Record-Route carries the offset.
    const cseq = (m: string) => Number(/^CSeq: (\d+) INVITE/im.exec(m)![1]);
    expect(cseq(second)).toBe(cseq(first) + 1);
    expect(second).toContain(`sip:eg1.${trunk}.1.`);
    expect(/^CSeq: (\d+) INVITE/im.exec(ok.text)![1]).toBe(String(call.inviteCSeq));
    expect(received(gw.run, "INVITE ")[1]).toMatch(/^P-Asserted-Identity: <sip:\+15550009999@/im);

    // The ACK reached the carrier with the INVITE's (shifted) CSeq, then the BYE went through and was answered.
    const [ack] = await waitForMessage(gw.run, "the carrier's ACK", () => received(gw.run, "ACK sip:carrier@"));
    expect(cseq(ack!.replace(" ACK", " INVITE"))).toBe(cseq(second));
    const bye = await call.bye();
    expect(bye.status).toBe(200);
    const [carrierBye] = received(gw.run, "BYE ");
    expect(carrierBye).toMatch(/^BYE sip:carrier@127\.0\.0\.1:\d+;transport=UDP SIP\/2\.0/);
    expect(carrierBye).not.toMatch(/^x-sipedge-/im);
    expect(await gw.run.exited, gw.run.errors()).toBe(0);

    const m = await metrics();
    expect(metric(m, "sipedge_egress_calls_total", { trunk, direction: "outbound" })).toBe(1);
    expect(metric(m, "sipedge_egress_calls_answered_total", { trunk, direction: "outbound" })).toBe(1);
    expect(metric(m, "sipedge_egress_challenges_answered_total", { trunk })).toBe(1);
  });

  it("a carrier's challenge of an in-dialog request (BYE) is answered with the trunk's credentials; the browser's BYE gets the 200", async () => {
    const trunk = `carrier-byeauth-${suffix}`;
    const gw = await gatewaySipp("uas-trunk-bye-challenge.xml", 1);
    await createTrunk(trunk, {
      gateways: [{ host: "127.0.0.1", port: gw.port, transport: "udp" }],
      credentials: { username: CARRIER_USER, password: CARRIER_PASSWORD, realm: "carrier.test" },
      prefixes: ["+1666555"],
    });
    const { call } = await callOut("+16665550001");
    const bye = await call.bye();
    expect(bye.status).toBe(200);
    const byes = received(gw.run, "BYE ");
    expect(byes).toHaveLength(2);
    expect(byes[0]).not.toMatch(/^Proxy-Authorization:/im);
    expect(digestIsValid(byes[1]!, CARRIER_USER, CARRIER_PASSWORD), byes[1]).toBe(true);
    // §22.2: the retry is a new request with CSeq + 1; the browser's 200 carries its own CSeq.
    const cseq = (m: string) => Number(/^CSeq: (\d+) BYE/im.exec(m)![1]);
    expect(cseq(byes[1]!)).toBe(cseq(byes[0]!) + 1);
    expect(cseq(bye.text)).toBe(cseq(byes[0]!));
    expect(await gw.run.exited, gw.run.errors()).toBe(0);
  });

  it("fails over to the next gateway when the first never answers", async () => {
    const trunk = `carrier-failover-${suffix}`;
    const dead = await gatewaySipp("uas-never-answers.xml", 1);
    const live = await gatewaySipp("uas-trunk-answer.xml", 1);
    await createTrunk(trunk, {
      gateways: [
        { host: "127.0.0.1", port: dead.port, transport: "udp", priority: 1 },
        { host: "127.0.0.1", port: live.port, transport: "udp", priority: 2 },
      ],
      prefixes: ["+1666"],
    });
    const { call } = await callOut("+16661230001");
    expect(received(dead.run, "INVITE ").length).toBeGreaterThan(0);
    expect(received(live.run, "INVITE ")).toHaveLength(1);
    expect((await call.bye()).status).toBe(200);
    expect(await live.run.exited, live.run.errors()).toBe(0);
    const m = await metrics();
    expect(metric(m, "sipedge_egress_gateway_failovers_total", { trunk })).toBe(1);
    expect(metric(m, "sipedge_egress_calls_answered_total", { trunk, direction: "outbound" })).toBe(1);
  });

  it("early media (PITFALLS 16): the carrier's 183 with plain RTP SDP reaches the browser as a WebRTC SDP, then the 200", async () => {
    const trunk = `carrier-early-${suffix}`;
    const gw = await gatewaySipp("uas-trunk-early-media.xml", 1);
    await createTrunk(trunk, { gateways: [{ host: "127.0.0.1", port: gw.port, transport: "udp" }], prefixes: ["+1779"] });
    const call = await phone.call(`+17791230001@${stack.domain};user=phone`, { sdp: CHROMIUM_OFFER });
    const early = await call.response(183, 15_000);
    // Anchored like the answer (rtpengine's browser side): what a browser can play before the call is answered.
    expect(early.text).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    expect(early.text).toContain("a=fingerprint:");
    expect(early.text).toContain("a=ice-ufrag:");
    const ok = await call.answered(15_000);
    expect(ok.text).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    expect((await call.bye()).status).toBe(200);
    expect(await gw.run.exited, gw.run.errors()).toBe(0);
  });

  it("a CANCEL from the browser cancels the ringing branch at the carrier; the 487 comes back", async () => {
    const trunk = `carrier-cancel-${suffix}`;
    const gw = await gatewaySipp("uas-trunk-ring-cancel.xml", 1);
    await createTrunk(trunk, { gateways: [{ host: "127.0.0.1", port: gw.port, transport: "udp" }], prefixes: ["+1888"] });
    const call = await phone.call(`+18881230001@${stack.domain};user=phone`, { sdp: CHROMIUM_OFFER });
    await call.response(180, 15_000);
    expect((await call.cancel()).status).toBe(200);
    const final = await call.final(10_000);
    expect(final.status).toBe(487);
    call.ackFailure(final);
    expect(await gw.run.exited, gw.run.errors()).toBe(0);
    expect(received(gw.run, "CANCEL ")).toHaveLength(1);
    expect(metric(await metrics(), "sipedge_egress_call_failures_total", { trunk, direction: "outbound", status: "487" })).toBe(1);
  });

  it("a carrier calls a DID: alice rings and answers, the carrier ACKs and hangs up", async () => {
    // Inbound is allowed from the first test's trunk (allowed_sources 127.0.0.1).
    const framesBefore = metric(await metrics(), "sipedge_egress_link_frames_total", { direction: "out" });
    const carrier = await carrierCall("uac-did-call-bye.xml", DID);
    const incoming = await answerIncoming();
    expect(incoming.invite.text).toMatch(/^INVITE sip:alice-dev@/);
    expect(incoming.invite.text).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    expect(incoming.invite.text).not.toMatch(/^x-sipedge-/im);
    const bye = await incoming.request("BYE", 15_000);
    phone.respond(bye, 200);
    expect(await carrier.exited, carrier.errors()).toBe(0);
    const [ok] = received(carrier, "SIP/2.0 200 OK");
    expect(ok).toMatch(new RegExp(`Record-Route: <sip:[^>]*@${stack.domain};transport=ws;lr>`));
    expect(metric(await metrics(), "sipedge_egress_link_frames_total", { direction: "out" })).toBeGreaterThan(framesBefore);
  });

  it("a carrier calls a DID, alice answers and hangs up", async () => {
    const waiting = await carrierCall("uac-did-call-wait-bye.xml", DID);
    const second = await answerIncoming();
    expect((await second.bye()).status).toBe(200);
    expect(await waiting.exited, waiting.errors()).toBe(0);
    expect(received(waiting, "BYE ")).toHaveLength(1);
  });

  it("refuses an unknown DID with 404, and a source no trunk allows with 403 without bothering the edge", async () => {
    const unknown = await carrierCall("uac-did-call-refused.xml", DID === "+15550179999" ? "+15550179998" : "+15550179999");
    expect(await unknown.exited, unknown.errors()).toBe(0);
    expect(received(unknown, "SIP/2.0 404")).toHaveLength(1);

    const before = await metrics();
    const stranger = await carrierCall("uac-did-call-refused.xml", DID, { localIp: "127.0.0.2" });
    expect(await stranger.exited, stranger.errors()).toBe(0);
    expect(received(stranger, "SIP/2.0 403 Forbidden - Source not allowed")).toHaveLength(1);
    const after = await metrics();
    expect(metric(after, "sipedge_egress_requests_refused_total", { reason: "source-not-allowed" })).toBe(metric(before, "sipedge_egress_requests_refused_total", { reason: "source-not-allowed" }) + 1);
    expect(metric(after, "sipedge_egress_link_frames_total", { direction: "out" })).toBe(metric(before, "sipedge_egress_link_frames_total", { direction: "out" }));
  });

  it("a restart of the egress loses no call: it reconnects, BYEs from either side complete, a new call works", async () => {
    const trunk = `carrier-restart-${suffix}`;
    const gw = await gatewaySipp("uas-trunk-answer.xml", 2);
    await createTrunk(trunk, { gateways: [{ host: "127.0.0.1", port: gw.port, transport: "udp" }], prefixes: ["+1777"] });
    const { call } = await callOut("+17771230001");
    await waitForMessage(gw.run, "the carrier's ACK", () => received(gw.run, "ACK "));
    // The carrier's call waits 4 s after its ACK before its BYE: long enough
    // for the restart most of the time, and its BYE is retransmitted (UDP)
    // until the new egress is up when it is not.
    const carrier = await carrierCall("uac-did-call-bye.xml", DID, { pauseMs: 4_000 });
    const incoming = await answerIncoming();

    await egress!.stop();
    egress = await start();
    expect(await (await fetch(`${egress.httpUrl}/healthz`)).json()).toMatchObject({ status: "ok", link: "up", id: ID });

    expect((await call.bye()).status).toBe(200);
    await waitForMessage(gw.run, "the BYE at the carrier", () => received(gw.run, "BYE "));
    const bye = await incoming.request("BYE", 20_000);
    phone.respond(bye, 200);
    expect(await carrier.exited, carrier.errors()).toBe(0);

    const again = await callOut("+17771230002");
    expect((await again.call.bye()).status).toBe(200);
    expect(await gw.run.exited, gw.run.errors()).toBe(0);
    expect(received(gw.run, "BYE ")).toHaveLength(2);
  });
});

/**
 * RFC 2617 §3.2.2 (no qop, MD5), computed here rather than by the code
 * under test: whether an INVITE's Proxy-Authorization answers the challenge
 * with this username and password, for the Request-URI it was sent to.
 */
function digestIsValid(request: string, username: string, password: string): boolean {
  const header = /^Proxy-Authorization: Digest (.*)$/im.exec(request)?.[1];
  if (header === undefined) return false;
  const p = Object.fromEntries([...header.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  const [, method, requestUri] = /^([A-Z]+) (\S+) SIP\/2\.0/.exec(request) ?? [];
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  const expected = md5(`${md5(`${username}:${p.realm}:${password}`)}:${p.nonce}:${md5(`${method}:${p.uri}`)}`);
  return p.username === username && p.realm === "carrier.test" && p.uri === requestUri && p.response === expected;
}
