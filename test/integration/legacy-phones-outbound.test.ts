import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Baresip } from "../../packages/sipedge/src/stack/baresip.ts";
import type { EgressProcess } from "../../packages/sipedge/src/stack/egress.ts";
import { adminFetch, eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import { CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { startPhoneEgress, startPhoneThrough } from "../harness/phone-egress.ts";
import { SipPhone } from "../harness/sip-phone.ts";
import "../harness/stack-info.ts";

// A legacy phone under SIP outbound (RFC 5626) over UDP: Debian's baresip
// with `sipnat=outbound` registers through the egress with +sip.instance
// and reg-id; the user's DO applies outbound rules (Require: outbound), the
// egress lowers the DO's Flow-Timer to its phone keep-alive interval (2 s
// here), and baresip (libre) then sends a STUN Binding request to the
// egress's SIP UDP port every 1.6-2 s. The egress must answer them
// (RFC 5626 §5.4, §8): libre takes an unanswered or wrong answer as a dead
// flow and registers again, which the REGISTER count below would show.

const stack = inject("stack");
const ID = "egress-legacy-phones-outbound";
const HOST = "127.0.0.1";
const KEEPALIVE_S = 2;

describe("a legacy phone (baresip) under SIP outbound, keeping its UDP flow alive with STUN", { timeout: 120_000 }, () => {
  const egressLog = createWriteStream(join(stack.logDir, `${ID}.log`), { flags: "a" });
  const baresipLog = createWriteStream(join(stack.logDir, "baresip-legacy-phone-outbound.log"), { flags: "a" });
  const logs = `logs: ${stack.logDir} (${ID}.log, baresip-legacy-phone-outbound.log with its SIP trace, edge.log)`;
  const dir = mkdtempSync(join(tmpdir(), "sipedge-legacy-phone-outbound-"));
  const password = `pw-${randomBytes(12).toString("hex")}`;
  let erin: { aor: string; password: string } | undefined;
  let egress: EgressProcess | undefined;
  let phone: Baresip | undefined;
  let sipPort = 0;

  const stunAnswered = async (): Promise<number> => {
    const text = await (await fetch(`${egress!.httpUrl}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith('sipedge_egress_keepalives_answered_total{kind="stun"}'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  const registers = (): string[] => phone!.sipMessages().filter((m) => m.text.startsWith("REGISTER ")).map((m) => m.text);

  beforeAll(async () => {
    process.stdout.write(`[legacy-phones-outbound] ${logs}\n`);
    erin = await newSubscriber(stack, "erin-outbound", password);
    egress = await startPhoneEgress(stack, ID, (line) => egressLog.write(line + "\n"), { phoneKeepaliveS: KEEPALIVE_S });
    sipPort = egress.sip.port;
    phone = await startPhoneThrough({
      registration: { aor: erin.aor, password, outboundProxy: { host: HOST, port: sipPort }, regintS: 300, sipOutbound: true },
      dir,
      log: (line) => baresipLog.write(line + "\n"),
      logs,
    });
  });

  afterAll(async () => {
    await phone?.stop();
    await egress?.stop();
    if (erin !== undefined) await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(erin.aor)}`);
    rmSync(dir, { recursive: true, force: true });
    egressLog.end();
    baresipLog.end();
  });

  it("registers with +sip.instance and reg-id; the 2xx it gets says Require: outbound with the egress's Flow-Timer", async () => {
    const register = registers().at(-1)!;
    expect(register).toMatch(/^Contact: .*\+sip\.instance="<urn:uuid:[0-9a-f-]+>".*;reg-id=1/im);
    expect(register).toMatch(/^Supported: .*outbound/im);
    const ok = phone!.sipMessages().find((m) => m.text.startsWith("SIP/2.0 200") && /^CSeq: \d+ REGISTER\r$/m.test(m.text))!;
    expect(ok.text, logs).toMatch(/^Require: outbound\r$/m);
    expect(ok.text, logs).toMatch(new RegExp(`^Flow-Timer: ${KEEPALIVE_S}\\r$`, "m"));
    const rows = await eventually(() => registrationsOf(stack, erin!.aor), (r) => r.length === 1, 10_000, "the phone's binding");
    expect(rows[0], logs).toMatchObject({ flow_connected: true, egress: ID });
  });

  it("sends STUN keep-alives the egress answers, and does not register again because of them", async () => {
    const before = registers().length;
    const first = await stunAnswered();
    // Three more rounds, 1.6-2 s apart.
    await eventually(stunAnswered, (n) => n >= first + 3, 30_000, "three more STUN keep-alives answered");
    expect(registers(), logs).toHaveLength(before);
    expect(phone!.registration(), logs).toMatchObject({ state: "registered" });
  });

  it("is still reachable on its flow: a call to its user rings it through the egress and is answered", async () => {
    const caller = await newSubscriber(stack, "outbound-caller");
    const sip = await SipPhone.open(stack.edgeUrl, caller.aor, caller.password);
    try {
      expect((await sip.register()).status).toBe(200);
      const call = await sip.call(erin!.aor, { sdp: CHROMIUM_OFFER });
      await call.answered(30_000);
      const invite = phone!.sipMessages().find((m) => m.text.startsWith("INVITE "))!;
      expect(invite.source, logs).toBe(`${HOST}:${sipPort}`);
      expect((await call.bye()).status).toBe(200);
    } finally {
      await sip.close();
      await adminFetch(stack, "DELETE", `/v1/subscribers/${encodeURIComponent(caller.aor)}`);
    }
  });
});
