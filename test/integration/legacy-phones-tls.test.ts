import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { makeSelfSignedCert, type TestCert } from "../../media-node/egress/test/support/tls-cert.ts";
import { type Baresip, freeBaresipPort, type TracedSipMessage, startBaresip } from "../../packages/sipedge/src/stack/baresip.ts";
import type { EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { freeTcpPort } from "../../packages/sipedge/src/stack/ports.ts";
import { adminFetch, eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import { launchChromium } from "../harness/chromium.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { startPhoneEgress, startPhoneThrough } from "../harness/phone-egress.ts";
import { SipPhone } from "../harness/sip-phone.ts";
import { SoftphonePages, waitForAudio, waitForState } from "../harness/softphone.ts";
import "../harness/stack-info.ts";

// A legacy phone over TLS (issue 5: "a UDP/TCP/TLS phone registers through
// the egress"): Debian's baresip registers through the egress's TLS
// listener, trusting the egress's self-signed certificate (its `sip_cafile`),
// and everything it sends and receives — REGISTER, the browser's call to it,
// its own call out — goes over the one TLS connection it opened. The egress
// calls the phone back on that connection (RFC 5923-style reuse, as for TCP
// in egress-phones.test.ts); it never dials the Contact.

const stack = inject("stack");
const ID = "egress-legacy-phones-tls";
const HOST = "127.0.0.1";

describe("a legacy phone (baresip) over TLS through the egress", { timeout: 180_000 }, () => {
  const alice = stack.users.find((u) => u.aor.startsWith("alice@"))!;
  const egressLog = createWriteStream(join(stack.logDir, `${ID}.log`), { flags: "a" });
  const baresipLog = createWriteStream(join(stack.logDir, "baresip-legacy-phone-tls.log"), { flags: "a" });
  const logs = `logs: ${stack.logDir} (${ID}.log, baresip-legacy-phone-tls.log with its SIP trace, edge.log)`;
  const dir = mkdtempSync(join(tmpdir(), "sipedge-legacy-phone-tls-"));
  const password = `pw-${randomBytes(12).toString("hex")}`;
  const phones: SipPhone[] = [];
  let cert: TestCert | undefined;
  let dave: { aor: string; password: string } | undefined;
  let egress: EgressProcess | undefined;
  let phone: Baresip | undefined;
  let browser: Browser | undefined;
  let tlsPort = 0;
  const pages = new SoftphonePages(() => browser!, stack.edgeUrl);
  const user = (): string => dave!.aor.slice(0, dave!.aor.indexOf("@"));

  beforeAll(async () => {
    process.stdout.write(`[legacy-phones-tls] ${logs}\n`);
    cert = makeSelfSignedCert();
    dave = await newSubscriber(stack, "dave-tls", password);
    tlsPort = await freeTcpPort();
    egress = await startPhoneEgress(stack, ID, (line) => egressLog.write(line + "\n"), {
      // The certificate is self-signed: as the CA it also vouches for the TLS gateway's (the same one).
      tls: { port: tlsPort, certFile: cert.certFile, keyFile: cert.keyFile, caFile: cert.certFile },
    });
    phone = await startPhoneThrough({
      registration: { aor: dave.aor, password, outboundProxy: { host: HOST, port: tlsPort, transport: "tls" }, caFile: cert.certFile, regintS: 300 },
      dir,
      log: (line) => baresipLog.write(line + "\n"),
      logs,
    });
    browser = await launchChromium();
  });

  afterEach(async () => {
    await pages.closeAll();
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await phone?.stop();
    await egress?.stop();
    if (dave !== undefined) await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(dave.aor)}`);
    cert?.remove();
    rmSync(dir, { recursive: true, force: true });
    egressLog.end();
    baresipLog.end();
  });

  /**
   * The connections the phone's messages went over (the launcher's UDP
   * OPTIONS, which tells it baresip is up, aside): one, TLS, between the
   * phone's port and the egress's TLS port.
   */
  const connectionsOf = (messages: readonly TracedSipMessage[]): string[] => [
    ...new Set(messages.filter((m) => !/^CSeq: \d+ OPTIONS\r$/m.test(m.text)).map((m) => `${m.transport} ${[m.source, m.destination].sort().join(" ")}`)),
  ];

  it("registers over TLS: the Path names transport=tls, the binding is a path flow through the egress", async () => {
    const register = phone!.sipMessages().find((m) => m.text.startsWith("REGISTER "))!;
    expect(register.transport).toBe("TLS");
    expect(register.destination).toBe(`${HOST}:${tlsPort}`);
    const rows = await eventually(() => registrationsOf(stack, dave!.aor), (r) => r.length === 1, 10_000, "the phone's binding");
    expect(rows[0], logs).toMatchObject({ flow_connected: true, egress: ID });
    expect((rows[0] as { path?: string[] }).path, logs).toEqual([expect.stringMatching(new RegExp(`^<sip:ph1\\.[^@]+@127\\.0\\.0\\.1:${tlsPort};transport=tls;lr>$`))]);
    expect(connectionsOf(phone!.sipMessages()), logs).toHaveLength(1);
  });

  it("alice's browser calls it: the INVITE comes down the phone's own TLS connection, audio flows, she hangs up", async () => {
    const a = await pages.signedIn(alice);
    await waitForState(a.page, "registered", "", 30_000);
    const since = phone!.calls().length;
    await a.page.evaluate((n) => window.sipedgePhone.call(n), user());
    await phone!.waitForCall("established", { since, timeoutMs: 30_000 });
    await waitForState(a.page, "established", "", 30_000);
    const invite = phone!.sipMessages().filter((m) => m.text.startsWith("INVITE ")).pop()!;
    expect(invite.transport, logs).toBe("TLS");
    expect(invite.text).toMatch(new RegExp(`^Via: SIP/2\\.0/TLS 127\\.0\\.0\\.1:${tlsPort};`, "m"));
    // Had the egress dialled the Contact (baresip's TLS listener), the trace would show a second connection.
    expect(connectionsOf(phone!.sipMessages()), logs).toHaveLength(1);
    await waitForAudio(a.page, { packets: 50, timeoutMs: 30_000 });
    await a.page.getByRole("button", { name: "Hang up" }).click();
    await waitForState(a.page, "ended", "", 30_000);
    await phone!.waitForCall("closed", { since, timeoutMs: 30_000 });
  });

  it("it calls a browser user over the same connection: the 407 is answered, the callee answers, the phone hangs up", async () => {
    const erin = await newSubscriber(stack, "erin-tls");
    const callee = await SipPhone.open(stack.edgeUrl, erin.aor, erin.password);
    phones.push(callee);
    expect((await callee.register()).status).toBe(200);
    const since = phone!.calls().length;
    await phone!.dial(`sip:${erin.aor}`);
    const incoming = await callee.incoming(30_000);
    expect(incoming.invite.header("From")).toContain(dave!.aor);
    incoming.reply(200, { sdp: CHROMIUM_ANSWER });
    await incoming.ack(30_000);
    await phone!.waitForCall("established", { since, timeoutMs: 30_000 });
    const sent = phone!.sipMessages().filter((m) => m.text.startsWith("INVITE ") && m.source !== `${HOST}:${tlsPort}`);
    expect(sent.map((m) => m.transport)).toEqual(["TLS", "TLS"]); // challenged 407, then with credentials
    await phone!.hangup();
    const bye = await incoming.request("BYE", 30_000);
    callee.respond(bye, 200);
    await phone!.waitForCall("closed", { since, timeoutMs: 30_000 });
    expect(connectionsOf(phone!.sipMessages()), logs).toHaveLength(1);
  });

  it("a trunk's gateways over TLS: one whose certificate the egress does not trust never gets the INVITE; the call fails over to the trusted one, is answered, BYE completes", async () => {
    const number = `+1555030${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
    const trunk = `tls-gateway-${randomBytes(3).toString("hex")}`;
    // baresip's `sip_certificate`: certificate and key in one PEM file.
    const pem = join(cert!.dir, "gateway.pem");
    writeFileSync(pem, readFileSync(cert!.certFile, "utf8") + readFileSync(cert!.keyFile, "utf8"), { mode: 0o600 });
    const gatewayDir = mkdtempSync(join(tmpdir(), "sipedge-tls-gateway-"));
    const gateway = await startBaresip({ host: HOST, sipPort: await freeBaresipPort(HOST), numbers: [number], answerMode: "auto", dir: gatewayDir, sipTrace: true, tlsCertificate: pem, log: (line) => baresipLog.write(`[gateway] ${line}\n`) });
    // A TLS server with a certificate of its own, signed by no CA the egress trusts: a man in the middle.
    const stranger = makeSelfSignedCert();
    const impostor = { dialled: 0, handshakes: 0, bytes: 0 };
    const impostorServer = createTlsServer({ cert: stranger.cert, key: readFileSync(stranger.keyFile) }, (socket) => {
      impostor.handshakes++;
      socket.on("data", (chunk) => (impostor.bytes += chunk.length));
    });
    impostorServer.on("connection", () => impostor.dialled++);
    impostorServer.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => impostorServer.listen(0, HOST, resolve));
    const impostorPort = (impostorServer.address() as AddressInfo).port;
    const caller = await newSubscriber(stack, "tls-trunk-caller");
    try {
      const created = await adminFetch(stack, "POST", "/v1/trunks", {
        id: trunk,
        egress: ID,
        name: "baresip over TLS",
        gateways: [
          { host: HOST, port: impostorPort, transport: "tls", priority: 1 },
          { host: HOST, port: gateway.sip.port + 1, transport: "tls", priority: 2 },
        ],
        prefixes: [number.slice(0, 8)],
        caller_id: { mode: "fixed", number: "+15550309999" },
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      expect((await adminFetch(stack, "PATCH", `/v1/subscribers/${encodeURIComponent(caller.aor)}/call-out`, { can_call_out: true, allowed_prefixes: [number.slice(0, 8)] })).status).toBe(200);
      const browserSide = await SipPhone.open(stack.edgeUrl, caller.aor, caller.password);
      phones.push(browserSide);
      expect((await browserSide.register()).status).toBe(200);

      const call = await browserSide.call(`${number}@${stack.domain};user=phone`, { sdp: CHROMIUM_OFFER });
      await call.answered(30_000);
      await gateway.waitForCall("established", { timeoutMs: 30_000 });
      const invite = gateway.sipMessages().find((m) => m.text.startsWith("INVITE "))!;
      expect(invite.transport, logs).toBe("TLS");
      expect(invite.destination).toBe(`${HOST}:${gateway.sip.port + 1}`);
      expect(invite.text).toMatch(new RegExp(`^Via: SIP/2\\.0/TLS 127\\.0\\.0\\.1:${tlsPort};`, "m"));
      expect(invite.text.slice(invite.text.indexOf("\r\n\r\n") + 4)).toMatch(/^m=audio \d+ RTP\/AVP /m);
      // The egress dialled the impostor first, the handshake failed on its certificate, and no SIP went there.
      expect(impostor, logs).toEqual({ dialled: 1, handshakes: 0, bytes: 0 });
      const metrics = await (await fetch(`${egress!.httpUrl}/metrics`)).text();
      expect(metrics).toContain(`sipedge_egress_gateway_failovers_total{trunk="${trunk}"} 1`);
      expect((await call.bye()).status).toBe(200);
      await gateway.waitForCall("closed", { timeoutMs: 30_000 });
    } finally {
      await gateway.stop();
      await new Promise((resolve) => impostorServer.close(resolve));
      stranger.remove();
      await adminFetch(stack, "DELETE", `/v1/trunks/${trunk}`);
      await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(caller.aor)}`);
      rmSync(gatewayDir, { recursive: true, force: true });
    }
  });
});
