// Regenerates packages/sip-parser-ts/test/fixtures/real/: SIP messages as
// real clients put them on the wire, one message per file, exact bytes.
//
//   npx tsx test/fixtures-capture/capture.ts [jssip] [sipjs] [sipp] [baresip] [chromium]
//
// With no argument every source runs. Nothing leaves the loopback interface.
//
// - jssip, sipjs: the browser libraries running in Node over the `ws`
//   package, against a WebSocket server here (subprotocol "sip") that plays
//   registrar and callee: 401 then 200 to REGISTER, an OPTIONS towards the
//   client, 100/180/200 to a first INVITE (then ACK and BYE are recorded),
//   100/180 to a second INVITE which the client CANCELs (CANCEL, and the ACK
//   of the 487, recorded), and the final un-REGISTER. Node has no WebRTC, so
//   the offer comes from fixtures/real/chromium-offer.sdp: JsSIP gets a
//   minimal global RTCPeerConnection that hands it that SDP, SIP.js gets a
//   sessionDescriptionHandlerFactory that does the same. Every byte of SIP
//   is the library's own.
// - sipp: SIPp's built-in `uac` and `uas` scenarios against each other over
//   UDP, one call, with -trace_msg; the messages each side *sent* are taken
//   from its message log (INVITE, ACK, BYE from uac; 180, 200s from uas).
// - baresip: headless, a temporary config directory, an account whose
//   outbound proxy is a UDP registrar/callee here; it registers, dials, and
//   on quit hangs up and un-registers.
// - chromium: (optional) a fresh offer from Debian's chromium through
//   playwright-core, saved as chromium-offer.sdp. playwright-core is not a
//   project dependency: install it outside the repo and point
//   PLAYWRIGHT_CORE at it (e.g. `npm i --prefix /tmp/pw playwright-core`,
//   PLAYWRIGHT_CORE=/tmp/pw/node_modules/playwright-core). Without it the
//   committed chromium-offer.sdp is reused.
//
// Server-side messages (our 401/200/180/…) are never saved: they are ours,
// not the clients'.

import { spawn, spawnSync } from "node:child_process";
import { createSocket, type RemoteInfo } from "node:dgram";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket, WebSocketServer } from "ws";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const OUT = join(ROOT, "packages/sip-parser-ts/test/fixtures/real");
const SDP_FILE = join(OUT, "chromium-offer.sdp");
const require = createRequire(import.meta.url);

const saved: string[] = [];
function save(name: string, bytes: Uint8Array | string): void {
  writeFileSync(join(OUT, name), bytes);
  saved.push(name);
}

function log(msg: string): void {
  process.stderr.write(`[capture] ${msg}\n`);
}

function rand(n = 10): string {
  let s = "";
  while (s.length < n) s += Math.random().toString(36).slice(2);
  return s.slice(0, n);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    p.then(
      (v) => { clearTimeout(t); resolve(v); },
      (e: unknown) => { clearTimeout(t); reject(e); },
    );
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// A deliberately small registrar/callee. It reads only what it must from the
// clients' messages (line-based, no folding: none of these clients fold) and
// builds responses per RFC 3261 §8.2.6: Via, From, To, Call-ID, CSeq copied.
// ---------------------------------------------------------------------------

interface Incoming {
  raw: Buffer;
  text: string;
  startLine: string;
  method: string | null; // null for a response
  status: number | null;
  headers: Array<[string, string]>;
}

const COMPACT: Record<string, string> = {
  v: "via", f: "from", t: "to", i: "call-id", m: "contact", l: "content-length", c: "content-type",
};

function readMessage(raw: Buffer): Incoming {
  const text = raw.toString("utf8");
  const end = text.indexOf("\r\n\r\n");
  const head = (end >= 0 ? text.slice(0, end) : text).split("\r\n");
  const startLine = head[0] ?? "";
  const headers: Array<[string, string]> = [];
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
  }
  const isResponse = startLine.startsWith("SIP/2.0 ");
  return {
    raw, text, startLine, headers,
    method: isResponse ? null : (startLine.split(" ")[0] ?? ""),
    status: isResponse ? Number(startLine.split(" ")[1]) : null,
  };
}

function header(m: Incoming, name: string): string | undefined {
  return m.headers.find(([n]) => n === name)?.[1];
}

function cseqMethod(m: Incoming): string {
  return (header(m, "cseq") ?? "").split(/\s+/)[1] ?? "";
}

function response(req: Incoming, status: number, reason: string, opts: { toTag?: string; extra?: string[]; body?: string; contentType?: string } = {}): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const [n, v] of req.headers) if (n === "via") lines.push(`Via: ${v}`);
  lines.push(`From: ${header(req, "from")}`);
  let to = header(req, "to") ?? "";
  if (opts.toTag && !/;\s*tag=/i.test(to)) to += `;tag=${opts.toTag}`;
  lines.push(`To: ${to}`);
  lines.push(`Call-ID: ${header(req, "call-id")}`);
  lines.push(`CSeq: ${header(req, "cseq")}`);
  for (const e of opts.extra ?? []) lines.push(e);
  const body = opts.body ?? "";
  if (body) lines.push(`Content-Type: ${opts.contentType ?? "application/sdp"}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join("\r\n") + "\r\n\r\n" + body;
}

function answerSdp(ip: string): string {
  // The callee's answer: ours, never saved. Enough for the clients to accept.
  return [
    "v=0", `o=- 1 1 IN IP4 ${ip}`, "s=-", `c=IN IP4 ${ip}`, "t=0 0",
    "m=audio 40000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendrecv", "",
  ].join("\r\n");
}

/** The behaviour shared by the WebSocket and the UDP callee. */
class Callee {
  private invites = 0;
  private ringing = new Map<string, { req: Incoming; toTag: string }>();
  private challenged = new Set<string>();
  readonly recorded: Array<{ label: string; msg: Incoming }> = [];

  constructor(private send: (text: string) => void, private contactUri: string) {}

  onMessage(msg: Incoming): void {
    const label = this.label(msg);
    if (label) this.recorded.push({ label, msg });
    if (msg.method === null) return; // responses (to our OPTIONS) need no answer
    switch (msg.method) {
      case "REGISTER": {
        const callId = header(msg, "call-id") ?? "";
        if (!header(msg, "authorization") && !this.challenged.has(callId)) {
          this.challenged.add(callId);
          this.send(response(msg, 401, "Unauthorized", {
            toTag: rand(),
            extra: [`WWW-Authenticate: Digest realm="sipedge.test", nonce="${rand(24)}", algorithm=MD5, qop="auth"`],
          }));
          return;
        }
        const expires = header(msg, "expires") ?? "600";
        const contacts = msg.headers.filter(([n]) => n === "contact").map(([, v]) => v);
        const extra = Number(expires) === 0 ? [] : contacts.map((c) => `Contact: ${/;\s*expires=/i.test(c) ? c : `${c};expires=${expires}`}`);
        this.send(response(msg, 200, "OK", { toTag: rand(), extra: [...extra, `Expires: ${expires}`] }));
        return;
      }
      case "INVITE": {
        this.invites++;
        const toTag = rand();
        this.send(response(msg, 100, "Trying"));
        const answer = this.invites === 1;
        setTimeout(() => {
          this.send(response(msg, 180, "Ringing", { toTag, extra: [`Contact: <${this.contactUri}>`] }));
          if (answer) {
            setTimeout(() => this.send(response(msg, 200, "OK", {
              toTag, extra: [`Contact: <${this.contactUri}>`, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"],
              body: answerSdp("127.0.0.1"),
            })), 100);
          } else {
            this.ringing.set(header(msg, "call-id") ?? "", { req: msg, toTag });
          }
        }, 50);
        return;
      }
      case "CANCEL": {
        this.send(response(msg, 200, "OK", { toTag: rand() }));
        const pending = this.ringing.get(header(msg, "call-id") ?? "");
        if (pending) {
          this.ringing.delete(header(msg, "call-id") ?? "");
          this.send(response(pending.req, 487, "Request Terminated", { toTag: pending.toTag }));
        }
        return;
      }
      case "BYE":
        this.send(response(msg, 200, "OK"));
        return;
      case "ACK":
        return;
      default:
        this.send(response(msg, 200, "OK", { toTag: rand() }));
    }
  }

  /** Names the client message for the fixture file, or null to skip it. */
  private label(msg: Incoming): string | null {
    if (msg.status !== null) return `${msg.status}-${cseqMethod(msg).toLowerCase()}`;
    const m = msg.method ?? "";
    if (m === "REGISTER") {
      if (header(msg, "expires") === "0" || /;\s*expires=0\b/.test(header(msg, "contact") ?? "")) return "unregister";
      return header(msg, "authorization") ? "register-auth" : "register";
    }
    if (m === "INVITE") return this.invites === 0 ? "invite" : "invite-2";
    if (m === "ACK") return this.invites >= 2 ? "ack-487" : "ack";
    return m.toLowerCase();
  }

  /** An out-of-dialog OPTIONS towards a registered client. */
  options(requestUri: string, viaSentBy: string, transport: string): void {
    this.send([
      `OPTIONS ${requestUri} SIP/2.0`,
      `Via: SIP/2.0/${transport} ${viaSentBy};branch=z9hG4bK${rand(12)}`,
      "Max-Forwards: 70",
      `To: <${requestUri}>`,
      `From: <sip:registrar@sipedge.test>;tag=${rand()}`,
      `Call-ID: ${rand(20)}`,
      "CSeq: 1 OPTIONS",
      "Content-Length: 0",
      "", "",
    ].join("\r\n"));
  }
}

function registeredContactUri(callee: Callee): string {
  const reg = callee.recorded.find((r) => r.label === "register-auth") ?? callee.recorded.find((r) => r.label === "register");
  const contact = reg ? header(reg.msg, "contact") ?? "" : "";
  const m = /<([^>]+)>/.exec(contact);
  if (!m?.[1]) throw new Error("no Contact in the client's REGISTER");
  // Drop the URI's parameters except transport: the client matches on user.
  const uri = m[1];
  const semi = uri.indexOf(";");
  return semi < 0 ? uri : uri.slice(0, semi) + (/;transport=ws/i.test(uri) ? ";transport=ws" : "");
}

function saveRecorded(prefix: string, callee: Callee): void {
  const seen = new Set<string>();
  for (const { label, msg } of callee.recorded) {
    if (seen.has(label)) continue; // retransmissions and repeats: the first one
    seen.add(label);
    save(`${prefix}-${label}.sip`, msg.raw);
  }
}

// ---------------------------------------------------------------------------
// WebSocket side: one server per client library.
// ---------------------------------------------------------------------------

async function withWsCallee<T>(run: (url: string, callee: () => Callee) => Promise<T>): Promise<T> {
  const wss = new WebSocketServer({
    host: "127.0.0.1", port: 0,
    handleProtocols: (protocols) => (protocols.has("sip") ? "sip" : false),
  });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const port = (wss.address() as AddressInfo).port;
  let current: Callee | null = null;
  wss.on("connection", (ws: WebSocket) => {
    const callee = new Callee((text) => ws.send(text), `sip:callee@127.0.0.1:${port};transport=ws`);
    current = callee;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const raw = Buffer.from(data);
      if (raw.toString("latin1").trim() === "") return; // keep-alive CRLFs
      callee.onMessage(readMessage(raw));
    });
  });
  try {
    return await run(`ws://127.0.0.1:${port}`, () => {
      if (!current) throw new Error("the client never connected");
      return current;
    });
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
}

function chromiumSdp(): string {
  return readFileSync(SDP_FILE, "utf8");
}

/** What JsSIP needs of a peer connection to send an offer and take an answer. */
class ChromiumOfferPeerConnection extends EventTarget {
  iceGatheringState = "new";
  iceConnectionState = "new";
  connectionState = "new";
  signalingState = "stable";
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  constructor(..._config: unknown[]) { super(); }
  async createOffer(): Promise<{ type: string; sdp: string }> { return { type: "offer", sdp: chromiumSdp() }; }
  async createAnswer(): Promise<{ type: string; sdp: string }> { return { type: "answer", sdp: chromiumSdp() }; }
  async setLocalDescription(d: { type: string; sdp: string }): Promise<void> {
    this.localDescription = d;
    this.signalingState = d.type === "offer" ? "have-local-offer" : "stable";
    this.iceGatheringState = "complete"; // the committed SDP already carries its candidates
  }
  async setRemoteDescription(d: { type: string; sdp: string }): Promise<void> {
    this.remoteDescription = d;
    this.signalingState = d.type === "offer" ? "have-remote-offer" : "stable";
  }
  getSenders(): unknown[] { return []; }
  getReceivers(): unknown[] { return []; }
  getTransceivers(): unknown[] { return []; }
  addTrack(): void {}
  close(): void { this.signalingState = "closed"; }
}

function installBrowserGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  g.window ??= globalThis;
  g.WebSocket = WebSocket; // Node 20 has no global WebSocket; both libraries use it
  g.RTCPeerConnection = ChromiumOfferPeerConnection;
  g.RTCSessionDescription = class { type: string; sdp: string; constructor(init: { type: string; sdp: string }) { this.type = init.type; this.sdp = init.sdp; } };
}

function once<T = unknown>(emitter: { once(ev: string, fn: (arg: T) => void): unknown }, ev: string): Promise<T> {
  return new Promise<T>((r) => emitter.once(ev, r));
}

async function captureJssip(): Promise<void> {
  installBrowserGlobals();
  const JsSIP = require("jssip") as typeof import("jssip");
  JsSIP.debug.disable();
  await withWsCallee(async (url, callee) => {
    const socket = new JsSIP.WebSocketInterface(url);
    const ua = new JsSIP.UA({ sockets: [socket], uri: "sip:alice@sipedge.test", password: "secret", register: false });
    const connected = once(ua, "connected");
    ua.start();
    await withTimeout(connected, 5000, "JsSIP connected");
    const registered = once(ua, "registered");
    ua.register();
    await withTimeout(registered, 5000, "JsSIP registered");

    const c = callee();
    const optionsAnswered = new Promise<void>((r) => {
      const t = setInterval(() => { if (c.recorded.some((x) => x.label === "200-options")) { clearInterval(t); r(); } }, 20);
    });
    c.options(registeredContactUri(c), "127.0.0.1", "WS");
    await withTimeout(optionsAnswered, 5000, "JsSIP's 200 to OPTIONS").catch((e: Error) => log(`jssip: ${e.message}`));

    const callOpts = { mediaConstraints: { audio: false, video: false }, pcConfig: { iceServers: [] } };
    // Call 1: answered, then hung up.
    const s1 = ua.call("sip:carol@sipedge.test", callOpts);
    await withTimeout(once(s1, "confirmed"), 5000, "JsSIP call confirmed");
    const ended1 = once(s1, "ended");
    s1.terminate();
    await withTimeout(ended1, 5000, "JsSIP call ended");
    // Call 2: cancelled while ringing.
    const s2 = ua.call("sip:carol@sipedge.test", callOpts);
    await withTimeout(once(s2, "progress"), 5000, "JsSIP call ringing");
    const failed2 = once(s2, "failed");
    s2.terminate();
    await withTimeout(failed2, 5000, "JsSIP call cancelled");
    await sleep(300); // the ACK of the 487

    const unregistered = once(ua, "unregistered");
    ua.unregister();
    await withTimeout(unregistered, 5000, "JsSIP unregistered");
    ua.stop();
    await sleep(200);
    saveRecorded("jssip", c);
  });
}

async function captureSipjs(): Promise<void> {
  installBrowserGlobals();
  const { UserAgent, Registerer, RegistererState, Inviter, SessionState } = await import("sip.js");
  type Sdh = import("sip.js").SessionDescriptionHandler;
  const sdh = (): Sdh => ({
    close: () => undefined,
    getDescription: async () => ({ body: chromiumSdp(), contentType: "application/sdp" }),
    hasDescription: (contentType: string) => contentType === "application/sdp",
    setDescription: async () => undefined,
    sendDtmf: () => false,
  });
  await withWsCallee(async (url, callee) => {
    const ua = new UserAgent({
      uri: UserAgent.makeURI("sip:bob@sipedge.test"),
      transportOptions: { server: url },
      authorizationUsername: "bob",
      authorizationPassword: "secret",
      sessionDescriptionHandlerFactory: () => sdh(),
      logLevel: "error",
    });
    await ua.start();
    // regId turns on RFC 5626 outbound: +sip.instance and reg-id in Contact.
    const registerer = new Registerer(ua, { regId: 1 });
    const registered = new Promise<void>((r) => registerer.stateChange.addListener((s) => { if (s === RegistererState.Registered) r(); }));
    await registerer.register();
    await withTimeout(registered, 5000, "SIP.js registered");

    const c = callee();
    const optionsAnswered = new Promise<void>((r) => {
      const t = setInterval(() => { if (c.recorded.some((x) => x.label === "200-options")) { clearInterval(t); r(); } }, 20);
    });
    c.options(registeredContactUri(c), "127.0.0.1", "WS");
    await withTimeout(optionsAnswered, 5000, "SIP.js's 200 to OPTIONS").catch((e: Error) => log(`sipjs: ${e.message}`));

    const target = UserAgent.makeURI("sip:carol@sipedge.test");
    if (!target) throw new Error("bad target");
    // Call 1: answered, then hung up.
    const i1 = new Inviter(ua, target);
    const established = new Promise<void>((r) => i1.stateChange.addListener((s) => { if (s === SessionState.Established) r(); }));
    await i1.invite();
    await withTimeout(established, 5000, "SIP.js call established");
    const terminated1 = new Promise<void>((r) => i1.stateChange.addListener((s) => { if (s === SessionState.Terminated) r(); }));
    await i1.bye();
    await withTimeout(terminated1, 5000, "SIP.js call terminated");
    // Call 2: cancelled while ringing.
    const i2 = new Inviter(ua, target);
    const ringing = new Promise<void>((r) => { void i2.invite({ requestDelegate: { onProgress: () => r() } }); });
    await withTimeout(ringing, 5000, "SIP.js call ringing");
    const terminated2 = new Promise<void>((r) => i2.stateChange.addListener((s) => { if (s === SessionState.Terminated) r(); }));
    await i2.cancel();
    await withTimeout(terminated2, 5000, "SIP.js call cancelled");
    await sleep(300); // the ACK of the 487

    await registerer.unregister();
    await sleep(300);
    await ua.stop();
    saveRecorded("sipjs", c);
  });
}

// ---------------------------------------------------------------------------
// SIPp: the built-in uac and uas scenarios against each other.
// ---------------------------------------------------------------------------

/** The messages a SIPp -trace_msg log says it sent, as exact bytes. */
function sippSent(logFile: string): Buffer[] {
  const log = readFileSync(logFile);
  const out: Buffer[] = [];
  const marker = Buffer.from("message sent (");
  let at = 0;
  for (;;) {
    const i = log.indexOf(marker, at);
    if (i < 0) break;
    const close = log.indexOf(" bytes):", i);
    const len = Number(log.subarray(i + marker.length, close).toString("latin1"));
    const start = log.indexOf("\n\n", close) + 2; // the log's own "\n\n" before the message
    out.push(Buffer.from(log.subarray(start, start + len)));
    at = start + len;
  }
  return out;
}

async function captureSipp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sipedge-sipp-"));
  try {
    const uasPort = 15070 + Math.floor(Math.random() * 500);
    const uas = spawn("sipp", ["-sn", "uas", "-i", "127.0.0.1", "-p", String(uasPort), "-m", "1", "-trace_msg", "-nostdin", "-timeout", "20s"], { cwd: dir, stdio: "ignore" });
    const uasDone = new Promise<void>((r) => uas.once("exit", () => r()));
    await sleep(500);
    const uac = spawnSync("sipp", ["-sn", "uac", `127.0.0.1:${uasPort}`, "-i", "127.0.0.1", "-p", String(uasPort + 1), "-m", "1", "-trace_msg", "-nostdin", "-timeout", "20s"], { cwd: dir, stdio: "ignore", timeout: 30_000 });
    if (uac.status !== 0) throw new Error(`sipp uac exited with ${uac.status}`);
    await withTimeout(uasDone, 10_000, "sipp uas to exit").catch(() => uas.kill());
    const logs = readdirSync(dir);
    const uacLog = logs.find((f) => f.startsWith("uac_") && f.endsWith("_messages.log"));
    const uasLog = logs.find((f) => f.startsWith("uas_") && f.endsWith("_messages.log"));
    if (!uacLog || !uasLog) throw new Error("sipp wrote no message log");
    const names = new Set<string>();
    const name = (msg: Buffer): string => {
      const m = readMessage(msg);
      const base = m.method ? m.method.toLowerCase() : `${m.status}-${cseqMethod(m).toLowerCase()}`;
      let n = `sipp-${base}.sip`;
      for (let k = 2; names.has(n); k++) n = `sipp-${base}-${k}.sip`;
      names.add(n);
      return n;
    };
    for (const msg of sippSent(join(dir, uacLog))) save(name(msg), msg);
    for (const msg of sippSent(join(dir, uasLog))) save(name(msg), msg);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// baresip: a headless UA with a throw-away config, against a UDP callee.
// ---------------------------------------------------------------------------

async function captureBaresip(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sipedge-baresip-"));
  const sock = createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  const port = (sock.address() as AddressInfo).port;
  let peer: RemoteInfo | null = null;
  const callee = new Callee((text) => {
    if (peer) sock.send(Buffer.from(text), peer.port, peer.address);
  }, `sip:callee@127.0.0.1:${port}`);
  sock.on("message", (raw, rinfo) => {
    peer = rinfo;
    if (raw.toString("latin1").trim() === "") return;
    callee.onMessage(readMessage(Buffer.from(raw)));
  });
  try {
    const sipPort = port + 1;
    writeFileSync(join(dir, "config"), [
      "poll_method\t\tepoll",
      `sip_listen\t\t127.0.0.1:${sipPort}`,
      "sip_trans_def\t\tudp",
      "audio_player\t\taufile,/dev/null",
      "audio_source\t\tausine,440",
      "audio_alert\t\taufile,/dev/null",
      "module_path\t\t/usr/lib/baresip/modules",
      "module\t\t\tg711.so",
      "module\t\t\tausine.so",
      "module\t\t\taufile.so",
      "module_app\t\taccount.so",
      "module_app\t\tmenu.so",
      "",
    ].join("\n"));
    writeFileSync(join(dir, "accounts"),
      `<sip:dave@sipedge.test>;auth_pass=secret;outbound="sip:127.0.0.1:${port};transport=udp";regint=600\n`);
    writeFileSync(join(dir, "contacts"), "");
    // Asynchronously: the UDP callee lives on this process's event loop.
    const proc = spawn("baresip", ["-4", "-f", dir, "-e", "/dial sip:carol@sipedge.test", "-t", "5"], { stdio: "ignore" });
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    await withTimeout(exited, 20_000, "baresip to quit").catch((e: Error) => { proc.kill("SIGKILL"); throw e; });
    await sleep(300);
    saveRecorded("baresip", callee);
  } finally {
    sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Chromium: a real offer, from a real browser.
// ---------------------------------------------------------------------------

async function captureChromium(): Promise<void> {
  const where = process.env.PLAYWRIGHT_CORE;
  if (!where || !existsSync(where)) {
    log("chromium: PLAYWRIGHT_CORE not set or missing; keeping the committed chromium-offer.sdp");
    return;
  }
  const { chromium } = require(where) as { chromium: { launch(o: object): Promise<{ newPage(): Promise<{ goto(u: string): Promise<unknown>; evaluate<T>(f: () => Promise<T>): Promise<T> }>; close(): Promise<void> }> } };
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection"],
  });
  // getUserMedia needs a secure context: http://localhost is one, about:blank is not.
  const http = createServer((_q, r) => { r.setHeader("content-type", "text/html"); r.end("<!doctype html><title>offer</title>"); });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  try {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${(http.address() as AddressInfo).port}/`);
    const sdp = await page.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const pc = new RTCPeerConnection();
      for (const t of stream.getAudioTracks()) pc.addTrack(t, stream);
      await pc.setLocalDescription(await pc.createOffer());
      // What a SIP library sends: the description once ICE gathering is done.
      await new Promise<void>((res) => {
        if (pc.iceGatheringState === "complete") return res();
        pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") res(); });
        setTimeout(res, 5000);
      });
      return pc.localDescription?.sdp ?? "";
    });
    if (!sdp.startsWith("v=0")) throw new Error("chromium returned no SDP");
    save("chromium-offer.sdp", sdp);
  } finally {
    await browser.close();
    http.close();
  }
}

// ---------------------------------------------------------------------------

const SOURCES: Record<string, () => Promise<void>> = {
  chromium: captureChromium, jssip: captureJssip, sipjs: captureSipjs, sipp: captureSipp, baresip: captureBaresip,
};

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(SOURCES);
  let failed = 0;
  for (const n of names) {
    const run = SOURCES[n];
    if (!run) { log(`unknown source "${n}"; known: ${Object.keys(SOURCES).join(", ")}`); failed++; continue; }
    const before = saved.length;
    try {
      await run();
      log(`${n}: ${saved.length - before} file(s)`);
    } catch (e) {
      failed++;
      log(`${n}: failed: ${(e as Error).message}`);
    }
  }
  log(`wrote ${saved.length} file(s) to ${OUT}`);
  for (const s of saved) process.stdout.write(`${s}\n`);
  process.exit(failed ? 1 : 0);
}

void main();
