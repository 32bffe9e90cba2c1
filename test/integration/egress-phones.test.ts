import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parsePrometheusText, type Sample, sampleValue } from "../../media-node/agent/test/support/prometheus-text.ts";
import { SCENARIOS, type Sipp, runSipp, waitListening } from "../../media-node/egress/test/support/sipp.ts";
import { startEgress, type EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { freeSipPort, freeTcpPort, freeUdpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { parsePathFlow } from "../../workers/src/proxy/path-flow.ts";
import { adminFetch, eventually, newSubscriber, type RegistrationRow, registrationsOf } from "../harness/admin.ts";
import { CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { SipPhone } from "../harness/sip-phone.ts";
import "../harness/stack-info.ts";

// Legacy phones through the egress proxy (issue 5): SIPp plays a UDP phone
// of a fresh subscriber, from a loopback address no trunk allows. It
// registers through the egress (which adds its Path, RFC 3327) to its
// user's DO, which challenges it with MD5 only; wrong credentials, a domain
// the egress takes no phones for, and a call without credentials are
// refused; a browser's call reaches it through the egress anchored for plain
// RTP, and the BYE completes from either side. The egress keeps its NAT
// binding open with CRLFCRLF pings. A phone over TCP registers on its own
// connection and takes its calls on that very connection (RFC 3261 §18.1.1,
// stream-listener.ts), never on one the egress dials.

const ID = "egress-phones";
/** The phone's address: a loopback address of its own, so no trunk's allowed sources (127.0.0.1) cover it. */
const PHONE_IP = "127.0.0.31";
/** The TCP phone's: another, so the kernel's TCP table shows its connections alone. */
const TCP_PHONE_IP = "127.0.0.33";
/** Where a password guesser sends from (a source of its own: its lock-out must not touch the phone). */
const GUESSER_IP = "127.0.0.34";
const suffix = Math.random().toString(36).slice(2, 8);

describe("legacy phones (SIPp) register and take calls through the egress", { timeout: 120_000 }, () => {
  const stack = inject("stack");
  const alice = stack.users.find((u) => u.aor.startsWith("alice@"))!;
  const runs: Sipp[] = [];
  const trunks: string[] = [];
  const egressLog = createWriteStream(join(stack.logDir, `${ID}.log`), { flags: "a" });
  let sipPort = 0;
  /** The UDP port the phone registers from and answers on: every run of "the phone" binds it. */
  let phonePort = 0;
  let egress: EgressProcess | undefined;
  let phone: { aor: string; password: string; user: string };
  let tcpPhone: { aor: string; password: string; user: string } | undefined;
  let browser: SipPhone | undefined;
  /** The Path the egress put on the phone's REGISTER, as the 200 echoed it. */
  let path = "";

  const sipp = (args: string[], localIp = PHONE_IP): Sipp => {
    const run = runSipp(args, { localIp });
    runs.push(run);
    return run;
  };
  /** SIPp as the phone (or a stranger) of `domain`, sending to the egress from `port`. */
  const toEgress = (scenario: string, args: string[], opts: { port?: number; domain?: string; localIp?: string } = {}): Sipp =>
    sipp([`127.0.0.1:${sipPort}`, "-sf", join(SCENARIOS, scenario), "-m", "1", "-p", String(opts.port ?? phonePort), "-key", "domain", opts.domain ?? stack.domain, ...args], opts.localIp);
  /** SIPp as the phone, answering a call on its registered address. */
  const phoneAnswers = async (scenario: string, extra: string[] = []): Promise<Sipp> => {
    const run = sipp(["-sf", join(SCENARIOS, scenario), "-m", "1", "-p", String(phonePort), "-s", phone.user, "-key", "domain", stack.domain, ...extra]);
    await waitListening(phonePort, "udp", run);
    return run;
  };

  const received = (run: Sipp, startsWith: string): string[] => run.messages().filter((m) => m.direction === "received" && m.text.startsWith(startsWith)).map((m) => m.text);
  const headers = (message: string, name: string): string[] => [...message.matchAll(new RegExp(`^${name}: *(.*?)\\r?$`, "gim"))].map((m) => m[1]!);
  /** The egress's /metrics, read strictly (a malformed exposition fails the test). */
  const metrics = async (): Promise<Sample[]> => parsePrometheusText(await (await fetch(`${egress!.httpUrl}/metrics`)).text());
  /** One sample's value (0 when absent): the first of `name` carrying every label given. */
  const metric = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => sampleValue(samples, name, labels) ?? 0;
  /** The phone's binding as the admin API shows it (workers/src/platform/admin-views.ts RegistrationView has more fields than RegistrationRow). */
  type Binding = RegistrationRow & { call_id: string; cseq: number; user_agent?: string };
  const phoneBinding = async (): Promise<Binding | undefined> => (await registrationsOf(stack, phone.aor)).find((r) => r.contact.includes(`@${PHONE_IP}:${phonePort}`)) as Binding | undefined;

  /**
   * The established TCP connections with an end at `host:port`, each seen from
   * both ends ("local > remote"), from the kernel's table (/proc/net/tcp):
   * what really connects the phone, whatever either side logs.
   */
  const tcpConnectionsAt = (host: string, port: number): string[] => {
    const endpoint = (hex: string): string => {
      const [ip, p] = hex.split(":") as [string, string];
      return `${[6, 4, 2, 0].map((i) => parseInt(ip.slice(i, i + 2), 16)).join(".")}:${parseInt(p, 16)}`;
    };
    const at = `${host}:${port}`;
    return readFileSync("/proc/net/tcp", "latin1")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((cols) => cols[3] === "01") // TCP_ESTABLISHED
      .map((cols) => `${endpoint(cols[1]!)} > ${endpoint(cols[2]!)}`)
      .filter((c) => c.startsWith(`${at} `) || c.endsWith(` ${at}`))
      .sort();
  };

  /** Every challenge offers MD5 and nothing else (the DO's LEGACY_PHONE_ALGORITHMS). */
  const expectMd5Only = (challenges: string[]): void => {
    expect(challenges.length).toBeGreaterThan(0);
    for (const c of challenges) {
      expect(c).toMatch(/^Digest /);
      expect(c).toMatch(/algorithm=MD5\b/i);
      expect(c).toContain(`realm="${stack.domain}"`);
    }
  };

  beforeAll(async () => {
    // One port for the egress's UDP and TCP (its Path and Record-Routes name it).
    sipPort = await freeSipPort();
    phonePort = await freeUdpPort(PHONE_IP);
    const created = await newSubscriber(stack, "phone", `phone-password-${suffix}`);
    phone = { ...created, user: created.aor.slice(0, created.aor.indexOf("@")) };
    egress = await startEgress({
      id: ID,
      host: "127.0.0.1",
      sipPort,
      httpPort: await freeTcpPort(),
      edgeUrl: stack.edgeUrl,
      dynamoEndpoint: stack.dynamoEndpoint,
      secret: stack.secrets.EGRESS_SECRET,
      phoneDomains: [stack.domain],
      phoneKeepaliveS: 1,
      // The trunk's SIPp gateway here must see nothing at all, not even a health probe.
      healthIntervalS: 0,
      log: (line) => egressLog.write(line + "\n"),
    });
  });

  afterAll(async () => {
    await Promise.all(runs.map((r) => r.stop()));
    await browser?.close();
    await egress?.stop();
    for (const id of trunks) await adminFetch(stack, "DELETE", `/v1/trunks/${id}`);
    for (const p of [phone, tcpPhone]) if (p !== undefined) await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(p.aor)}`);
    egressLog.end();
  });

  it("registers: the user's DO challenges with MD5 only, the credentials get a 200 that echoes the egress's Path, the admin API shows the binding", async () => {
    const reg = toEgress("phone-register.xml", ["-s", phone.user, "-au", phone.user, "-ap", phone.password]);
    expect(await reg.exited, reg.errors()).toBe(0);

    const [challenge] = received(reg, "SIP/2.0 401 ");
    expectMd5Only(headers(challenge!, "WWW-Authenticate"));
    expect(challenge).not.toMatch(/SHA-256/i);
    expect(challenge).not.toMatch(/^x-sipedge-/im);

    const [ok] = received(reg, "SIP/2.0 200 ");
    const paths = headers(ok!, "Path");
    expect(paths).toHaveLength(1);
    // The egress's phone-side entry (egress-routes.ts `ph1`): its own address and port, UDP, loose routing.
    expect(paths[0]).toMatch(new RegExp(`^<sip:ph1\\.[A-Za-z0-9_-]+\\.[0-9a-f]{20}@127\\.0\\.0\\.1:${sipPort};transport=udp;lr>$`));
    path = paths[0]!.slice(1, -1);
    expect(headers(ok!, "Contact").join(",")).toContain(`<sip:${phone.user}@${PHONE_IP}:${phonePort};transport=UDP>;expires=`);
    expect(ok).not.toMatch(/^x-sipedge-/im);

    const binding = await phoneBinding();
    expect(binding).toMatchObject({ contact: `sip:${phone.user}@${PHONE_IP}:${phonePort};transport=UDP`, user_agent: "SIPp legacy phone", outbound: false });
    expect(binding!.expires_in).toBeGreaterThan(250);
    // The binding's flow is the phone's path flow: this egress's link and the Path it added (workers/src/proxy/path-flow.ts).
    expect(parsePathFlow(binding!.flow_id)).toEqual({ linkId: ID, route: path });

    expect(metric(await metrics(), "sipedge_egress_phone_requests_total", { method: "REGISTER" })).toBe(2);
  });

  it("keeps the registered phone's NAT binding open: one phone registered, CRLFCRLF keep-alives sent every second", async () => {
    const m = await metrics();
    expect(metric(m, "sipedge_egress_phones_registered")).toBe(1);
    const sent = metric(m, "sipedge_egress_phone_keepalives_total", { outcome: "sent" });
    await eventually(async () => metric(await metrics(), "sipedge_egress_phone_keepalives_total", { outcome: "sent" }), (n) => n >= sent + 2, 10_000, "two more keep-alives sent");
    expect(metric(await metrics(), "sipedge_egress_phone_keepalives_total", { outcome: "failed" })).toBe(0);
  });

  it("a REGISTER with a wrong password (removing every binding: Contact *) gets a fresh 401, and the phone's binding stays", async () => {
    const before = await phoneBinding();
    expect(before).toBeDefined();
    const attacker = toEgress("phone-register-refused.xml", ["-s", phone.user, "-au", phone.user, "-ap", "not-the-password", "-key", "contact", "*", "-key", "expires", "0"], { port: await freeUdpPort(PHONE_IP) });
    expect(await attacker.exited, attacker.errors()).toBe(0);
    const sent = attacker.messages().filter((m) => m.direction === "sent").map((m) => m.text);
    expect(sent).toHaveLength(2);
    for (const register of sent) expect(register).toMatch(/^Contact: \*\r?\nExpires: 0\r?$/m);
    expect(sent[1]).toMatch(/^Authorization: Digest /m);
    const challenges = received(attacker, "SIP/2.0 ");
    // RFC 3261 §22.4: credentials that do not check out get a new challenge (workers/src/auth/authenticator.ts), not 403, until the login limiter locks.
    expect(challenges.map((c) => c.split("\r\n")[0])).toEqual(["SIP/2.0 401 Unauthorized", "SIP/2.0 401 Unauthorized"]);
    const nonce = (m: string) => /nonce="([^"]+)"/.exec(headers(m, "WWW-Authenticate")[0] ?? "")?.[1];
    expect(nonce(challenges[1]!)).toBeDefined();
    expect(nonce(challenges[1]!)).not.toBe(nonce(challenges[0]!));
    expectMd5Only(headers(challenges[1]!, "WWW-Authenticate"));

    const after = await phoneBinding();
    expect(after).toMatchObject({ contact: before!.contact, flow_id: before!.flow_id, call_id: before!.call_id, cseq: before!.cseq });
    expect(await registrationsOf(stack, phone.aor)).toHaveLength(1);
  });

  it("a password guesser moving to a new port for every guess is locked out by its address at the 5th failure; the phone keeps registering", async () => {
    const guess = async (): Promise<string[]> => {
      const port = await freeUdpPort(GUESSER_IP);
      const run = toEgress("phone-register-refused.xml", ["-s", phone.user, "-au", phone.user, "-ap", "a-wrong-guess", "-key", "contact", `<sip:${phone.user}@${GUESSER_IP}:${port}>`, "-key", "expires", "300"], { port, localIp: GUESSER_IP });
      expect(await run.exited, run.errors()).toBe(0);
      return received(run, "SIP/2.0 ").map((r) => r.split("\r\n")[0]!);
    };
    // Each guess is a new flow (a new port): only the source address ties them together (its Via's received, RFC 3581).
    for (let i = 0; i < 4; i++) expect(await guess()).toEqual(["SIP/2.0 401 Unauthorized", "SIP/2.0 401 Unauthorized"]);
    // The fifth failure locks the address (auth/login-limiter.ts LOCK_AFTER), and says so.
    expect(await guess()).toEqual(["SIP/2.0 401 Unauthorized", "SIP/2.0 403 Forbidden - Too many failed attempts"]);
    expect(await guess()).toEqual(["SIP/2.0 403 Forbidden - Too many failed attempts"]);
    // The phone, at its own address, is not locked out.
    const again = toEgress("phone-register.xml", ["-s", phone.user, "-au", phone.user, "-ap", phone.password]);
    expect(await again.exited, again.errors()).toBe(0);
    expect(received(again, "SIP/2.0 200 ")).toHaveLength(1);
  });

  it("a REGISTER for a domain the egress takes no phones for is refused 403 by the egress itself, and counted", async () => {
    const before = await metrics();
    const port = await freeUdpPort(PHONE_IP);
    const stranger = toEgress("phone-register-refused.xml", ["-s", phone.user, "-key", "contact", `<sip:${phone.user}@${PHONE_IP}:${port}>`, "-key", "expires", "300"], { port, domain: "elsewhere.example" });
    expect(await stranger.exited, stranger.errors()).toBe(0);
    expect(received(stranger, "SIP/2.0 ").map((r) => r.split("\r\n")[0])).toEqual(["SIP/2.0 403 Forbidden - Source not allowed"]);
    const after = await metrics();
    expect(metric(after, "sipedge_egress_requests_refused_total", { reason: "source-not-allowed" })).toBe(metric(before, "sipedge_egress_requests_refused_total", { reason: "source-not-allowed" }) + 1);
    // Nothing went to the edge.
    expect(metric(after, "sipedge_egress_link_frames_total", { direction: "out" })).toBe(metric(before, "sipedge_egress_link_frames_total", { direction: "out" }));
    expect(metric(after, "sipedge_egress_phone_requests_total", { method: "REGISTER" })).toBe(metric(before, "sipedge_egress_phone_requests_total", { method: "REGISTER" }));
  });

  it("the registered phone's INVITE without credentials is challenged 407 (MD5 only) and nothing reaches the carrier", async () => {
    // A trunk of this egress for the number, its gateway a SIPp UAS that must see nothing.
    const trunk = `phones-carrier-${suffix}`;
    const gatewayPort = await freeUdpPort();
    const gateway = sipp(["-sf", join(SCENARIOS, "uas-trunk-answer.xml"), "-p", String(gatewayPort), "-m", "1"], "127.0.0.1");
    await waitListening(gatewayPort, "udp", gateway);
    const r = await adminFetch(stack, "POST", "/v1/trunks", { id: trunk, egress: ID, gateways: [{ host: "127.0.0.1", port: gatewayPort, transport: "udp" }], prefixes: ["+1999555"], caller_id: { mode: "fixed", number: "+15550009999" } });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    trunks.push(trunk);

    const before = await metrics();
    const call = toEgress("phone-invite-unauthenticated.xml", ["-s", "+19995550001", "-key", "user", phone.user]);
    expect(await call.exited, call.errors()).toBe(0);
    const [challenge] = received(call, "SIP/2.0 407 ");
    expectMd5Only(headers(challenge!, "Proxy-Authenticate"));
    expect(challenge).not.toMatch(/^x-sipedge-/im);
    const after = await metrics();
    // The phone's (its registered address), not a carrier's: passed to the edge as such.
    expect(metric(after, "sipedge_egress_phone_requests_total", { method: "INVITE" })).toBe(metric(before, "sipedge_egress_phone_requests_total", { method: "INVITE" }) + 1);
    // The 407 is the final answer: nothing went to the trunk, then or after.
    expect(metric(after, "sipedge_egress_calls_total", { trunk, direction: "outbound" })).toBe(0);
    expect(gateway.messages()).toEqual([]);
    await gateway.stop();
  });

  it("a browser calls the phone's user: the INVITE reaches the phone through the egress with plain RTP SDP, the phone answers, the browser hangs up", async () => {
    browser = await SipPhone.open(stack.edgeUrl, alice.aor, alice.password);
    expect((await browser.register()).status).toBe(200);
    const answering = await phoneAnswers("phone-answer.xml");

    const call = await browser.call(phone.aor, { sdp: CHROMIUM_OFFER });
    const ok = await call.answered(15_000);
    // What the browser gets back is WebRTC (rtpengine's browser side).
    expect(ok.text).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    expect(ok.text).toContain("a=fingerprint:");

    const [invite] = received(answering, "INVITE ");
    expect(invite).toMatch(new RegExp(`^INVITE sip:${phone.user}@${PHONE_IP.replace(/\./g, "\\.")}:${phonePort};transport=UDP SIP/2\\.0`));
    // Anchored for SIP: plain RTP from rtpengine, no ICE or DTLS.
    const sdp = invite!.slice(invite!.indexOf("\r\n\r\n") + 4);
    const media = /^m=audio (\d+) RTP\/AVP [\d ]+\r?$/m.exec(sdp);
    expect(media, sdp).not.toBeNull();
    expect(Number(media![1])).toBeGreaterThanOrEqual(stack.rtpPorts.min);
    expect(Number(media![1])).toBeLessThanOrEqual(stack.rtpPorts.max);
    expect(sdp).toMatch(/^c=IN IP4 127\.0\.0\.1\r?$/m);
    expect(sdp).not.toMatch(/a=(ice-|candidate|fingerprint|setup)/);
    // The egress Record-Routed the dialog with the phone's entry; no X-Sipedge-* leaks to the phone.
    expect(headers(invite!, "Record-Route")[0]).toBe(`<${path}>`);
    expect(invite).not.toMatch(/^x-sipedge-/im);
    expect(invite).not.toMatch(/^Route:/im);

    const bye = await call.bye();
    expect(bye.status).toBe(200);
    expect(await answering.exited, answering.errors()).toBe(0);
    expect(received(answering, "ACK ")).toHaveLength(1);
    expect(received(answering, "BYE ")).toHaveLength(1);
  });

  it("a browser calls the phone's user, the phone answers and hangs up: its BYE reaches the browser through the egress", async () => {
    const answering = await phoneAnswers("phone-answer-hangup.xml", ["-d", "300"]);
    const call = await browser!.call(phone.aor, { sdp: CHROMIUM_OFFER });
    await call.answered(15_000);
    const bye = await browser!.nextRequest("BYE", 15_000, (m) => m.includes(`Call-ID: ${call.callId}`));
    browser!.respond(bye, 200);
    expect(await answering.exited, answering.errors()).toBe(0);
    expect(received(answering, "SIP/2.0 200 ").some((r) => /^CSeq: \d+ BYE/im.test(r))).toBe(true);
  });

  it("a phone over TCP registers on its own connection (Path transport=tcp) and a browser's call reaches it on that very connection: the egress dials none", async () => {
    const created = await newSubscriber(stack, "tcp-phone", `tcp-phone-password-${suffix}`);
    const me = { ...created, user: created.aor.slice(0, created.aor.indexOf("@")) };
    tcpPhone = me;
    // SIPp -t t1: one connection to the egress, from the port it also listens on.
    const port = await freeTcpPort(TCP_PHONE_IP);
    const before = await metrics();
    // The call comes with a Call-ID of its own: SIPp takes it in its out-of-call scenario, on the same socket.
    const run = sipp(
      [`127.0.0.1:${sipPort}`, "-t", "t1", "-sf", join(SCENARIOS, "phone-register-stay.xml"), "-oocsf", join(SCENARIOS, "phone-answer-out-of-call.xml"), "-m", "1", "-p", String(port), "-s", me.user, "-au", me.user, "-ap", me.password, "-key", "domain", stack.domain],
      TCP_PHONE_IP,
    );
    await eventually(async () => received(run, "SIP/2.0 200 ").length, (n) => n === 1, 15_000, "the TCP phone's 200 to its REGISTER");
    expectMd5Only(headers(received(run, "SIP/2.0 401 ")[0]!, "WWW-Authenticate"));
    const ok = received(run, "SIP/2.0 200 ")[0]!;
    const paths = headers(ok, "Path");
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(new RegExp(`^<sip:ph1\\.[A-Za-z0-9_-]+\\.[0-9a-f]{20}@127\\.0\\.0\\.1:${sipPort};transport=tcp;lr>$`));
    const tcpPath = paths[0]!.slice(1, -1);
    const contact = `sip:${me.user}@${TCP_PHONE_IP}:${port};transport=TCP`;
    const [binding] = (await registrationsOf(stack, me.aor)) as Binding[];
    expect(binding).toMatchObject({ contact, outbound: false });
    expect(parsePathFlow(binding!.flow_id)).toEqual({ linkId: ID, route: tcpPath });
    // One connection, the phone's: its port to the egress's listener.
    const theConnection = [`127.0.0.1:${sipPort} > ${TCP_PHONE_IP}:${port}`, `${TCP_PHONE_IP}:${port} > 127.0.0.1:${sipPort}`];
    expect(tcpConnectionsAt(TCP_PHONE_IP, port)).toEqual(theConnection);

    if (browser === undefined) {
      browser = await SipPhone.open(stack.edgeUrl, alice.aor, alice.password);
      expect((await browser.register()).status).toBe(200);
    }
    const call = await browser.call(me.aor, { sdp: CHROMIUM_OFFER });
    await call.answered(15_000);
    const [invite] = received(run, "INVITE ");
    expect(invite).toMatch(new RegExp(`^INVITE sip:${me.user}@${TCP_PHONE_IP.replace(/\./g, "\\.")}:${port};transport=TCP SIP/2\\.0\r\n`));
    expect(headers(invite!, "Via")[0]).toMatch(new RegExp(`^SIP/2\\.0/TCP 127\\.0\\.0\\.1:${sipPort};`));
    expect(headers(invite!, "Record-Route")[0]).toBe(`<${tcpPath}>`);
    expect(invite).not.toMatch(/^x-sipedge-/im);
    await eventually(async () => received(run, "ACK ").length, (n) => n === 1, 10_000, "the ACK at the TCP phone");
    // While the call is up (keep-alives running, the INVITE, its responses and the ACK through): still that one
    // connection. Had the egress dialled the phone (its Contact names the same port, where SIPp listens), the
    // table would show a second one, from an ephemeral port of the egress.
    expect(tcpConnectionsAt(TCP_PHONE_IP, port)).toEqual(theConnection);

    const bye = await call.bye();
    expect(bye.status).toBe(200);
    expect(await run.exited, run.errors()).toBe(0);
    expect(received(run, "ACK ")).toHaveLength(1);
    expect(received(run, "BYE ")).toHaveLength(1);
    expect(run.errors()).toContain("Received out-of-call INVITE message");
    const after = await metrics();
    // Everything the phone sent came over TCP: two REGISTERs, 180, 200, the 200 to the BYE; nothing failed to send.
    expect(metric(after, "sipedge_egress_sip_received_total", { transport: "TCP" }) - metric(before, "sipedge_egress_sip_received_total", { transport: "TCP" })).toBe(5);
    expect(metric(after, "sipedge_egress_sip_send_errors_total")).toBe(metric(before, "sipedge_egress_sip_send_errors_total"));
  });
});
