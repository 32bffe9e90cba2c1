import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runSipp, type Sipp, waitListening } from "../../../../media-node/egress/test/support/sipp.ts";
import { baresipAccounts, baresipConfig, type BaresipConfigOptions } from "../../src/stack/baresip-config.ts";
import { BaresipCallLog, parseAudioDebug, SipTraceLog } from "../../src/stack/baresip-output.ts";
import { type Baresip, freeBaresipPort, optionsAnswered, startBaresip } from "../../src/stack/baresip.ts";
import { assertTcpPortFree, assertUdpPortFree, freeUdpPort, StackError } from "../../src/stack/ports.ts";

// The baresip launcher (packages/sipedge/src/stack/baresip.ts): its config,
// how it reads baresip's output, and the real Debian baresip 1.0.0 on
// loopback answering SIPp's call and calling another baresip.

const HOST = "127.0.0.1";
const base = { host: HOST, sipPort: 25060, numbers: ["+15550100200"], answerMode: "auto" as const, toneHz: 440 };

describe("baresip config", () => {
  it("binds SIP to the loopback address and port, sends a tone, plays into no sound card, loads G.711 and G.722, and is controlled on stdin", () => {
    const config = baresipConfig(base);
    const lines = config.split("\n");
    expect(lines).toContain("sip_listen\t\t127.0.0.1:25060");
    expect(lines).toContain("net_interface\t\t127.0.0.1");
    expect(lines).toContain("audio_source\t\tausine,440");
    expect(lines).toContain("audio_player\t\taubridge,sink");
    expect(lines).toContain("rtp_stats\t\tyes");
    expect(lines.filter((l) => /^module(_tmp|_app)?\s/.test(l)).map((l) => l.split(/\s+/)[1])).toEqual(["stdio.so", "g711.so", "g722.so", "ausine.so", "aubridge.so", "account.so", "menu.so"]);
    // No control port: baresip's ctrl_tcp and cons are unauthenticated.
    expect(config).not.toMatch(/ctrl_tcp|cons_listen|http_listen/);
  });

  it("has one account per number, without a registrar, in the answer mode asked", () => {
    expect(baresipAccounts({ ...base, numbers: ["+15550100200", "+15550100201"], answerMode: "manual" })).toBe(
      "<sip:+15550100200@127.0.0.1:25060>;regint=0;answermode=manual\n<sip:+15550100201@127.0.0.1:25060>;regint=0;answermode=manual\n",
    );
  });

  it("registers an AOR through the egress as its first account: password, outbound proxy, interval; numbers after it", () => {
    const registration = { aor: "carol@example.com", password: "pw-0123abcd", outboundProxy: { host: "127.0.0.1", port: 25070 } };
    expect(baresipAccounts({ ...base, numbers: [], registration })).toBe('<sip:carol@example.com>;auth_pass=pw-0123abcd;outbound="sip:127.0.0.1:25070";regint=600;answermode=auto\n');
    expect(baresipAccounts({ ...base, registration: { ...registration, regintS: 300 } }).split("\n")).toEqual([
      '<sip:carol@example.com>;auth_pass=pw-0123abcd;outbound="sip:127.0.0.1:25070";regint=300;answermode=auto',
      "<sip:+15550100200@127.0.0.1:25060>;regint=0;answermode=auto",
      "",
    ]);
    // The config file is the same with or without: the password is only in the accounts file.
    expect(baresipConfig({ ...base, registration })).toBe(baresipConfig(base));
  });

  it("registers over TLS or TCP when asked: transport in the outbound proxy, the egress's CA as sip_cafile", () => {
    const registration = { aor: "carol@example.com", password: "pw-0123abcd", outboundProxy: { host: "127.0.0.1", port: 25071, transport: "tls" as const }, caFile: "/tmp/ca.pem" };
    expect(baresipAccounts({ ...base, numbers: [], registration })).toBe('<sip:carol@example.com>;auth_pass=pw-0123abcd;outbound="sip:127.0.0.1:25071;transport=tls";regint=600;answermode=auto\n');
    expect(baresipConfig({ ...base, numbers: [], registration }).split("\n")).toContain("sip_cafile\t\t/tmp/ca.pem");
    expect(baresipConfig(base)).not.toMatch(/sip_cafile|sip_certificate/);
    expect(baresipConfig({ ...base, tlsCertificate: "/tmp/gw.pem" }).split("\n")).toContain("sip_certificate\t\t/tmp/gw.pem");
    expect(() => baresipConfig({ ...base, tlsCertificate: "gw.pem" })).toThrow(/absolute path/);
    expect(baresipAccounts({ ...base, numbers: [], registration: { ...registration, sipOutbound: true } })).toContain(";regint=600;sipnat=outbound;answermode=auto");
    const modules = (o: BaresipConfigOptions) => baresipConfig(o).split("\n").filter((l) => l.startsWith("module_tmp"));
    expect(modules({ ...base, numbers: [], registration: { ...registration, sipOutbound: true } })).toEqual(["module_tmp\t\tuuid.so", "module_tmp\t\taccount.so"]);
    expect(modules({ ...base, numbers: [], registration })).toEqual(["module_tmp\t\taccount.so"]);
    const tcp = { ...registration, outboundProxy: { ...registration.outboundProxy, transport: "tcp" as const } };
    expect(baresipAccounts({ ...base, numbers: [], registration: tcp })).toContain('outbound="sip:127.0.0.1:25071;transport=tcp"');
    const { caFile: _, ...withoutCa } = registration;
    expect(() => baresipAccounts({ ...base, numbers: [], registration: withoutCa })).toThrow(/over TLS needs caFile/);
  });

  it("refuses a registration it could not write or that would not reach the egress, never repeating the password", () => {
    const registration = { aor: "carol@example.com", password: "pw-0123abcd", outboundProxy: { host: "127.0.0.1", port: 25070 } };
    const refused = (r: Partial<typeof registration> & { regintS?: number }): string => {
      try {
        baresipAccounts({ ...base, numbers: [], registration: { ...registration, ...r } });
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    };
    expect(refused({ aor: "sip:carol@example.com" })).toMatch(/AOR must be user@domain \(no "sip:"/);
    expect(refused({ aor: "carol" })).toMatch(/AOR must be user@domain/);
    expect(refused({ aor: "carol@exa mple.com" })).toMatch(/AOR must be user@domain/);
    expect(refused({ aor: "ca>rol@example.com" })).toMatch(/AOR must be user@domain/);
    for (const password of ["correct horse battery", "pw;answermode=manual", 'pw"x', "pw<x>", "pw\\x", "", "pässword", "x".repeat(129)]) {
      const message = refused({ password });
      expect(message).toMatch(/password must be 1-128 printable ASCII characters without spaces/);
      if (password !== "") expect(message).not.toContain(password);
    }
    expect(refused({ outboundProxy: { host: "192.0.2.1", port: 5060 } })).toMatch(/outbound proxy \(the egress\) must be a loopback IPv4 address/);
    expect(refused({ outboundProxy: { host: "127.0.0.1", port: 0 } })).toMatch(/outbound proxy port must be 1-65535/);
    expect(refused({ regintS: 30 })).toMatch(/interval must be 60-86400 s/);
    expect(refused({ password: "!#$%&'()*+,-./:=?@[]^_`{|}~" })).toBe("accepted");
  });

  it("refuses what would not run on loopback or not answer, saying what is wrong", () => {
    expect(() => baresipConfig({ ...base, host: "0.0.0.0" })).toThrow(/loopback IPv4 address/);
    expect(() => baresipConfig({ ...base, sipPort: 65535 })).toThrow(/1-65534 \(it also takes the next port for TLS\)/);
    expect(() => baresipAccounts({ ...base, numbers: [] })).toThrow(/at least one number to answer to, or a registration/);
    expect(() => baresipAccounts({ ...base, numbers: ["+1 555"] })).toThrow(/"\+1 555" is not a number/);
    expect(() => baresipAccounts({ ...base, numbers: ["x>;answermode=auto"] })).toThrow(/is not a number/);
    expect(() => baresipConfig({ ...base, toneHz: 0 })).toThrow(/20-20000 Hz/);
  });
});

describe("baresip output", () => {
  it("follows a call: answered, established, DTMF, ended with its packet counts", () => {
    const log = new BaresipCallLog();
    const lines = [
      "baresip is ready.",
      "ua: using AF from sdp offer: af=AF_INET",
      "call: answering call on line 1 from sip:+15550100300@127.0.0.1:25080 with 200",
      "\x1b[36;1m+15550100200@127.0.0.1: Call established: sip:+15550100300@127.0.0.1:25080\x1b[;m",
      "received event: '5' (end=0)",
      "received event: '5' (end=0)", // RFC 4733 repeats an event's start
      "received event: '5' (end=1)",
      "received event: '#' (end=1)", // an end whose start was lost
      // stdio's echo of a typed command, with no newline before the next log line
      "/\r/a\r/au\r/audreceived event: '7' (end=0)",
      "received event: '7' (end=1)",
      "sip:+15550100300@127.0.0.1:25080: session closed: Connection reset by peer",
      "sip:+15550100200@127.0.0.1:25060: Call with sip:+15550100300@127.0.0.1:25080 terminated (duration: 3 secs)",
      "",
      "audio           Transmit:     Receive:",
      "packets:            132          155",
      "avg. bitrate:      64.7         64.7  (kbit/s)",
    ];
    for (const l of lines) log.line(l);
    expect(log.calls).toEqual([
      {
        direction: "incoming",
        peer: "sip:+15550100300@127.0.0.1:25080",
        established: true,
        closed: "Connection reset by peer",
        dtmfReceived: "5#7",
        final: { packetsSent: 132, packetsReceived: 155 },
      },
    ]);
  });

  it("our own hang-up ends the call even when baresip does not print the 'terminated' line", () => {
    const log = new BaresipCallLog();
    for (const l of [
      "call: connecting to 'sip:+15550100301@127.0.0.1:43793'..",
      "+15550100300@127.0.0.1: Call established: sip:+15550100301@127.0.0.1:43793",
      "/\r/h\r/ha\r/han\r/hang\r/hangu\r/hangup",
      "call: terminate call '7f805a66be5e0f5b' with sip:+15550100301@127.0.0.1:43793",
      "",
      "audio           Transmit:     Receive:",
      "packets:             58           42",
    ])
      log.line(l);
    expect(log.current).toMatchObject({ direction: "outgoing", established: true, closed: "hung up here", final: { packetsSent: 58, packetsReceived: 42 } });
  });

  it("an outgoing call refused before it was answered, then a manual-answer call (one record each)", () => {
    const log = new BaresipCallLog();
    for (const l of [
      "call: connecting to 'sip:+15550170001@127.0.0.1:5060'..",
      "sip:+15550170001@127.0.0.1:5060: session closed: 404 Not Found",
      "+15550100200@127.0.0.1: Incoming call from: alice sip:alice@example.com - (press 'a' to accept)",
      "call: answering call on line 1 from sip:alice@example.com with 200",
      "+15550100200@127.0.0.1: Call established: sip:alice@example.com",
    ])
      log.line(l);
    expect(log.calls.map((c) => [c.direction, c.peer, c.established, c.closed])).toEqual([
      ["outgoing", "sip:+15550170001@127.0.0.1:5060", false, "404 Not Found"],
      ["incoming", "sip:alice@example.com", true, undefined],
    ]);
  });

  it("reads back the SIP messages of its trace (-s)", () => {
    const trace = new SipTraceLog();
    for (const l of [
      "baresip is ready.",
      "\x1b[36;1m#",
      "UDP 127.0.0.1:51216 -> 127.0.0.1:25060",
      "OPTIONS sip:127.0.0.1:25060 SIP/2.0",
      "Call-ID: c1@127.0.0.1",
      "Content-Length: 0",
      "",
      "\x1b[;m",
      "\x1b[36;1m#",
      "UDP 127.0.0.1:25060 -> 127.0.0.1:51216",
      "SIP/2.0 404 Not Found",
      "Content-Length: 3",
      "",
      "abc\x1b[;m",
    ])
      trace.line(l);
    expect(trace.messages).toEqual([
      { transport: "UDP", source: "127.0.0.1:51216", destination: "127.0.0.1:25060", text: "OPTIONS sip:127.0.0.1:25060 SIP/2.0\r\nCall-ID: c1@127.0.0.1\r\nContent-Length: 0\r\n" },
      { transport: "UDP", source: "127.0.0.1:25060", destination: "127.0.0.1:51216", text: "SIP/2.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabc" },
    ]);
  });

  it("reads live counts from audio_debug, and nothing without a call", () => {
    const report = [
      "--- Audio stream ---",
      " tx:   encode: PCMU 8000Hz/1ch ptime=20ms S16LE",
      "----- RTCP Session: -----",
      "  member 0xc939d8e0: lost=0 Jitter=0.0ms RTT=0.0ms",
      "                 IP=127.0.0.1:47734 psent=0 rcvd=200",
      "  member 0x11111111: lost=0 Jitter=0.0ms RTT=0.0ms",
      "                 IP=127.0.0.1:47734 psent=0 rcvd=3",
      "  TX: packets=214, octets=32000",
    ];
    expect(parseAudioDebug(report)).toEqual({ packetsSent: 214, packetsReceived: 203 });
    expect(parseAudioDebug(["/\r/a\r/audio_debug", "command not found (audio_debug)"])).toBeUndefined();
  });
});

describe("baresip 1.0.0 on loopback", { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  const phones: Baresip[] = [];
  const runs: Sipp[] = [];
  const logs = new Map<Baresip, string[]>();

  const start = async (answerMode: "auto" | "manual", number: string, sipTrace = false): Promise<Baresip> => {
    const dir = mkdtempSync(join(tmpdir(), "sipedge-baresip-"));
    dirs.push(dir);
    const lines: string[] = [];
    const phone = await startBaresip({ host: HOST, sipPort: await freeBaresipPort(), numbers: [number], answerMode, dir, sipTrace, log: (l) => lines.push(l) });
    phones.push(phone);
    logs.set(phone, lines);
    return phone;
  };
  const logOf = (p: Baresip): string => logs.get(p)!.join("\n");

  afterEach(async () => {
    await Promise.all(runs.splice(0).map((r) => r.stop()));
    const stopped = phones.splice(0);
    await Promise.all(stopped.map((p) => p.stop()));
    // Nothing left running, nothing left bound.
    for (const p of stopped) {
      expect(p.process.exitCode !== null || p.process.signalCode !== null).toBe(true);
      await assertUdpPortFree("baresip", HOST, p.sip.port, "-");
      await assertTcpPortFree("baresip", HOST, p.sip.port + 1, "-");
    }
  });

  afterAll(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("answers OPTIONS once started, takes SIPp's call at once (auto answer: INVITE, 180, 200, ACK, BYE) and sends it the tone", async () => {
    const phone = await start("auto", "+15550100200", true);
    expect(phone.sipUri).toBe(`sip:+15550100200@127.0.0.1:${phone.sip.port}`);
    expect(readFileSync(join(dirs[0]!, "accounts"), "utf8")).toContain("answermode=auto");
    expect(await optionsAnswered(HOST, phone.sip.port, "+15550100200")).toBe(true);

    const run = runSipp([`${HOST}:${phone.sip.port}`, "-sn", "uac", "-s", "+15550100200", "-m", "1", "-d", "500", "-p", String(await freeUdpPort())]);
    runs.push(run);
    expect(await run.exited, run.errors()).toBe(0);
    const ended = await phone.waitForCall("closed");
    expect(ended).toMatchObject({ direction: "incoming", established: true });
    expect(ended.peer).toMatch(/^sip:sipp@127\.0\.0\.1:\d+$/);
    const sent = run.messages().filter((m) => m.direction === "received").map((m) => m.text.split("\r\n")[0]);
    expect(sent).toEqual(["SIP/2.0 180 Ringing", "SIP/2.0 200 Answering", "SIP/2.0 200 OK"]);
    const answer = run.messages().find((m) => m.direction === "received" && m.text.startsWith("SIP/2.0 200 Answering"))!.text;
    // Plain RTP, loopback, the codecs it was offered (SIPp offers PCMU only).
    expect(answer).toMatch(/^c=IN IP4 127\.0\.0\.1$/m);
    expect(answer).toMatch(/^m=audio \d+ RTP\/AVP 0$/m);
    // The tone went out (SIPp sends nothing back).
    expect((await finalCounts(phone)).packetsSent).toBeGreaterThan(0);
    expect(logOf(phone)).toMatch(/audio tx pipeline:\s+ausine ---> PCMU/);
    // Its trace (-s) shows the same dialogue from its side.
    const call = phone.sipMessages().filter((m) => !/^CSeq: \d+ OPTIONS$/m.test(m.text));
    expect(call.map((m) => `${m.source === `${HOST}:${phone.sip.port}` ? "sent" : "got"} ${m.text.split("\r\n")[0]}`)).toEqual([
      "got INVITE sip:+15550100200@127.0.0.1:" + phone.sip.port + " SIP/2.0",
      "sent SIP/2.0 180 Ringing",
      "sent SIP/2.0 200 Answering",
      "got ACK sip:+15550100200@127.0.0.1:" + phone.sip.port + " SIP/2.0",
      "got BYE sip:+15550100200@127.0.0.1:" + phone.sip.port + " SIP/2.0",
      "sent SIP/2.0 200 OK",
    ]);
  });

  it("calls another baresip that rings until answered; audio both ways, DTMF received, live and final counts; the caller hangs up", async () => {
    const callee = await start("manual", "+15550100301");
    const caller = await start("auto", "+15550100300");
    await caller.dial(callee.sipUri);
    const ringing = await callee.waitForCall("incoming");
    expect(ringing.established).toBe(false);
    expect(ringing.peer).toBe(caller.sipUri);
    await callee.answer();
    await caller.waitForCall("established");
    await callee.waitForCall("established");

    // Each side hears the other: its received count grows past 25 packets (half a second of 20 ms frames).
    for (const p of [caller, callee]) {
      const s = await waitForCounts(p, (c) => c.packetsReceived > 25);
      expect(s.packetsSent).toBeGreaterThan(0);
    }
    await caller.sendDtmf("5#");
    await callee.waitForDtmf("5#");

    const ended = await caller.hangup();
    expect(ended.closed).toBeDefined();
    expect(ended.final!.packetsReceived).toBeGreaterThan(25);
    expect((await finalCounts(callee)).packetsReceived).toBeGreaterThan(25);
    expect(await caller.stats()).toBeUndefined();
  });

  /** baresip registered as carol@example.com through SIPp playing the registrar (scenarios/registrar.xml). */
  const registered = async (password: string): Promise<{ phone: Baresip; run: Sipp; dir: string; lines: string[] }> => {
    const port = await freeUdpPort();
    const run = runSipp(["-sf", join(import.meta.dirname, "scenarios", "registrar.xml"), "-m", "1", "-p", String(port)]);
    runs.push(run);
    await waitListening(port, "udp", run);
    const dir = mkdtempSync(join(tmpdir(), "sipedge-baresip-"));
    dirs.push(dir);
    const lines: string[] = [];
    const registration = { aor: "carol@example.com", password, outboundProxy: { host: HOST, port }, regintS: 300 };
    const phone = await startBaresip({ host: HOST, sipPort: await freeBaresipPort(), answerMode: "auto", dir, log: (l) => lines.push(l), registration });
    phones.push(phone);
    return { phone, run, dir, lines };
  };

  it("registers through its outbound proxy (401, then 200), and unregisters when it quits; the password stays in a private file", async () => {
    const { phone, run, dir, lines } = await registered("pw-0123abcd");
    expect(phone.sipUri).toBe("sip:carol@example.com");
    expect(statSync(join(dir, "accounts")).mode & 0o777).toBe(0o600);
    expect(await phone.waitForRegistration()).toEqual({ state: "registered", detail: "200 OK", bindings: 1 });
    expect(phone.registration()?.state).toBe("registered");
    await phone.stop();
    expect(phone.registration()).toEqual({ state: "unregistered", detail: "200 OK" });
    // SIPp saw the whole dialogue: REGISTER, its answer to the challenge, the un-REGISTER, its answer.
    expect(await run.exited, run.errors()).toBe(0);
    const got = run.messages().filter((m) => m.direction === "received").map((m) => m.text);
    expect(got.length).toBe(4);
    expect(got[0]).toMatch(/^REGISTER sip:example\.com SIP\/2\.0\r\n/);
    expect(got[0]).toMatch(new RegExp(`^Route: <sip:127\\.0\\.0\\.1:\\d+;lr>\r$`, "m"));
    expect(got[0]).toMatch(new RegExp(`^Contact: <sip:carol-[^@]+@127\\.0\\.0\\.1:${phone.sip.port}>;expires=300\r$`, "m"));
    expect(got[1]).toMatch(/^Authorization: Digest username="carol"/m);
    expect(got[3]).toMatch(/^Contact: <[^>]+>;expires=0\r$/m);
    // Its output (with the SIP trace a registration turns on) has digests, never the password.
    expect(lines.some((l) => l.startsWith("Authorization: Digest"))).toBe(true);
    expect(lines.filter((l) => l.includes("pw-0123abcd"))).toEqual([]);
  });

  it("a registrar's refusal fails the wait at once, with the registrar's reason", async () => {
    const { phone, run } = await registered("not-the-password");
    await expect(phone.waitForRegistration()).rejects.toThrow(/registration of carol@example\.com failed: 403 Forbidden - Wrong password$/);
    expect(phone.registration()).toEqual({ state: "failed", detail: "403 Forbidden - Wrong password" });
    expect(await run.exited, run.errors()).toBe(0);
  });

  it("says clearly what it cannot do: a bad URI, no call, a port in use, a call refused", async () => {
    const phone = await start("auto", "+15550100400");
    await expect(phone.dial("+15550100200")).rejects.toThrow(/can dial a SIP URI/);
    await expect(phone.dial("sip:a@b\n/quit")).rejects.toThrow(/can dial a SIP URI/);
    await expect(phone.sendDtmf("5x")).rejects.toThrow(/DTMF digits are 0-9/);
    await expect(phone.hangup()).rejects.toThrow(/no call to hang up/);
    await expect(phone.answer()).rejects.toThrow(/no call to answer/);
    const again = startBaresip({ host: HOST, sipPort: phone.sip.port, answerMode: "auto", dir: join(dirs[0]!, "again"), log: () => undefined, portOption: "--baresip-port" });
    await expect(again).rejects.toThrow(StackError);
    await expect(again).rejects.toThrow(new RegExp(`UDP port 127\\.0\\.0\\.1:${phone.sip.port} \\(baresip SIP\\) is already in use.*--baresip-port`));
    // baresip 1.0.0 answers only its own numbers: another number is a 404, and the dialling side sees the call end unanswered.
    const other = await start("auto", "+15550100401");
    const since = phone.calls().length;
    await phone.dial(`sip:+15559999999@127.0.0.1:${other.sip.port}`);
    await expect(phone.waitForCall("established", { since })).rejects.toThrow(/ended before it was answered: 404 Not Found/);
    expect(existsSync(join(dirs[dirs.length - 1]!, "config"))).toBe(true);
  });
});

async function waitForCounts(p: Baresip, ok: (c: { packetsSent: number; packetsReceived: number }) => boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await p.stats();
    if (s !== undefined && ok(s)) return s;
    if (Date.now() > until) throw new Error(`baresip counts never got there; last ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The newest call's end-of-call counts: it ended, and baresip printed them right after. */
async function finalCounts(p: Baresip, timeoutMs = 5_000): Promise<{ packetsSent: number; packetsReceived: number }> {
  await p.waitForCall("closed");
  const until = Date.now() + timeoutMs;
  for (;;) {
    const final = p.calls()[p.calls().length - 1]!.final;
    if (final !== undefined) return final;
    if (Date.now() > until) throw new Error("baresip printed no counts for its last call");
    await new Promise((r) => setTimeout(r, 25));
  }
}
