import JsSIP from "jssip";
import type { RTCSession } from "jssip/lib/RTCSession";
import {
  Invitation,
  Inviter,
  Messager,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Message,
  type Session,
} from "sip.js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { adminFetch, eventually, registrationsOf } from "../harness/admin.ts";
import { cdrOf, noRtpengineSessions, rtpengineCalls } from "../harness/media.ts";
import { CHROMIUM_OFFER, installJsSipMediaStub, stubSdhFactory } from "../harness/media-stub.ts";
import "../harness/stack-info.ts";
import { wsUrl } from "../harness/sip-ws-client.ts";
import { exchange as recorded, installRecordingWebSocket, waitForFrame, withoutRetransmissions } from "../harness/ws-recorder.ts";

/**
 * Browser to browser (ARCHITECTURE.md): JsSIP 3.13 (alice) and SIP.js 0.21
 * (bob), run in Node over `ws`, call each other through the real edge
 * (workerd + dynalite). Their media is stubbed (harness/media-stub.ts): the
 * SDP is the real Chromium offer, anchored by the real rtpengine. Each test
 * asserts the library-level outcome and the exact SIP exchange the library
 * had on its socket (harness/ws-recorder.ts).
 */
/** An ICE candidate of the stack's rtpengine (loopback, its RTP port range). */
const RTPENGINE_CANDIDATE = /a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 3\d{4} typ host/;

describe("JsSIP and SIP.js call each other through the edge", () => {
  const stack = inject("stack");
  const alice = stack.users[0]!;
  const bob = stack.users[1]!;
  let jssip: JsSipPhone;
  let sipjs: SipJsPhone;

  beforeAll(async () => {
    installRecordingWebSocket();
    installJsSipMediaStub();
    jssip = await startJsSip(wsUrl(stack.edgeUrl, alice.aor), alice.aor, alice.password);
    sipjs = await startSipJs(wsUrl(stack.edgeUrl, bob.aor), bob.aor, bob.password);
  });

  afterAll(async () => {
    jssip?.ua.stop();
    await sipjs?.ua.stop();
    // Leave no binding behind for the next file (the DO removes them when the sockets close).
    for (const u of [alice, bob]) await eventually(() => registrationsOf(stack, u.aor), (r) => !r.some((x) => x.flow_connected), 10_000, `${u.aor}'s sockets to close`);
  });

  it("JsSIP calls SIP.js: INVITE/407/INVITE/100/180/200/ACK, the dialog shows in the admin API, the caller hangs up", async () => {
    const session = jssip.ua.call(`sip:${bob.aor}`, CALL_OPTIONS);
    const callId = jssip.lastCallId;
    const ringing = jssipEvent(session, "progress");
    const invitation = await sipjs.invitations.next(); // SIP.js has sent 180 Ringing by itself
    // Anchored (ARCHITECTURE.md "Who owns media"): bob gets rtpengine's offer, not alice's.
    expect(invitation.body).not.toBe(CHROMIUM_OFFER);
    expect(invitation.body).toMatch(RTPENGINE_CANDIDATE);
    expect(await rtpengineCalls(stack)).toContain(callId);
    await ringing;
    const confirmed = jssipEvent(session, "confirmed");
    await invitation.accept();
    await confirmed;
    await sipjsState(invitation, SessionState.Established);

    const dialogs = await eventually(() => dialogsOf(bob.aor), (d) => d.length === 1, 5_000, "bob's dialog");
    expect(dialogs[0]).toMatchObject({ call_id: callId, side: "callee", caller: alice.aor, callee: bob.aor, flow_connected: true });
    expect(await dialogsOf(alice.aor)).toMatchObject([{ call_id: callId, side: "caller" }]);

    const ended = jssipEvent(session, "ended");
    session.terminate();
    await ended;
    await sipjsState(invitation, SessionState.Terminated);
    await waitForFrame(`/ws/${alice.aor}`, callId, "< 200 BYE");
    expect(exchange(`/ws/${alice.aor}`, callId)).toEqual([
      "> INVITE", "< 407 INVITE", "> ACK", "> INVITE", "< 100 INVITE", "< 180 INVITE", "< 200 INVITE", "> ACK", "> BYE", "< 200 BYE",
    ]);
    expect(exchange(`/ws/${bob.aor}`, callId).filter((f) => f !== "> 100 INVITE")).toEqual([
      "< INVITE", "> 180 INVITE", "> 200 INVITE", "< ACK", "< BYE", "> 200 BYE",
    ]);
    await eventually(() => dialogsOf(bob.aor), (d) => d.length === 0, 5_000, "bob's dialog to end");
    expect(await dialogsOf(alice.aor)).toEqual([]);
    // The caller's DO deleted the session and wrote the CDR.
    await noRtpengineSessions(stack, [callId]);
    const cdr = await cdrOf(stack, callId);
    expect(cdr).toMatchObject({ caller: alice.aor, callee: bob.aor, end_reason: "bye", ended_by: "caller", leg: "browser-to-browser", media_node: "local-1", media_region: "local" });
    expect(cdr.answered_at).toBeDefined();
  });

  it("SIP.js calls JsSIP and the callee (JsSIP) hangs up", async () => {
    const inviter = new Inviter(sipjs.ua, UserAgent.makeURI(`sip:${alice.aor}`)!);
    const established = sipjsState(inviter, SessionState.Established);
    await inviter.invite();
    const { session, callId } = await jssip.sessions.next();
    const confirmed = jssipEvent(session, "confirmed");
    session.answer(ANSWER_OPTIONS);
    await established;
    await confirmed;
    const ended = jssipEvent(session, "ended");
    const terminated = sipjsState(inviter, SessionState.Terminated);
    session.terminate(); // BYE from the callee
    await ended;
    await terminated;
    await waitForFrame(`/ws/${alice.aor}`, callId, "< 200 BYE");
    expect(exchange(`/ws/${bob.aor}`, callId)).toEqual([
      "> INVITE", "< 407 INVITE", "> ACK", "> INVITE", "< 100 INVITE", "< 180 INVITE", "< 200 INVITE", "> ACK", "< BYE", "> 200 BYE",
    ]);
    expect(exchange(`/ws/${alice.aor}`, callId).filter((f) => f !== "> 100 INVITE")).toEqual([
      "< INVITE", "> 180 INVITE", "> 200 INVITE", "< ACK", "> BYE", "< 200 BYE",
    ]);
  });

  it("the caller cancels while it rings: CANCEL, 200, 487 (RFC 3261 §9, §16.10)", async () => {
    const session = jssip.ua.call(`sip:${bob.aor}`, CALL_OPTIONS);
    const callId = jssip.lastCallId;
    const ringing = jssipEvent(session, "progress");
    const invitation = await sipjs.invitations.next();
    await ringing;
    const failed = jssipEvent<{ cause: string }>(session, "failed");
    const terminated = sipjsState(invitation, SessionState.Terminated);
    session.terminate(); // CANCEL
    expect((await failed).cause).toBe(JsSIP.C.causes.CANCELED);
    await terminated;
    await waitForFrame(`/ws/${alice.aor}`, callId, "< 487 INVITE");
    await waitForFrame(`/ws/${bob.aor}`, callId, "< ACK");
    expect(exchange(`/ws/${alice.aor}`, callId).slice(4)).toEqual(["< 100 INVITE", "< 180 INVITE", "> CANCEL", "< 200 CANCEL", "< 487 INVITE", "> ACK"]);
    expect(exchange(`/ws/${bob.aor}`, callId).filter((f) => f !== "> 100 INVITE")).toEqual(["< INVITE", "> 180 INVITE", "< CANCEL", "> 200 CANCEL", "> 487 INVITE", "< ACK"]);
  });

  it("the callee rejects with 486 Busy Here, passed through to the caller", async () => {
    const inviter = new Inviter(sipjs.ua, UserAgent.makeURI(`sip:${alice.aor}`)!);
    const rejected = new Promise<{ message: { statusCode?: number } }>((resolve) => void inviter.invite({ requestDelegate: { onReject: resolve } }));
    const { session, callId } = await jssip.sessions.next();
    session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
    expect((await rejected).message.statusCode).toBe(486);
    await sipjsState(inviter, SessionState.Terminated);
    await waitForFrame(`/ws/${bob.aor}`, callId, "> ACK");
    // JsSIP rings (180) by itself before its application decides.
    expect(exchange(`/ws/${bob.aor}`, callId).slice(4)).toEqual(["< 100 INVITE", "< 180 INVITE", "< 486 INVITE", "> ACK"]);
  });

  it("MESSAGE both ways (RFC 3428), each answering the 407", async () => {
    const got = sipjs.messages.next();
    const sent = new Promise<string>((resolve) => {
      jssip.ua.sendMessage(`sip:${bob.aor}`, "hello bob", {
        eventHandlers: { succeeded: () => resolve("succeeded"), failed: (e: { cause?: string }) => resolve(`failed: ${e.cause}`) },
      });
    });
    const m = await got;
    expect(m.request.body).toBe("hello bob");
    expect(m.request.from.uri.toString()).toBe(`sip:${alice.aor}`);
    await m.accept();
    expect(await sent).toBe("succeeded");

    const back = jssip.messages.next();
    const accepted = new Promise<number>((resolve, reject) => {
      void new Messager(sipjs.ua, UserAgent.makeURI(`sip:${alice.aor}`)!, "hello alice").message({
        requestDelegate: { onAccept: (r) => resolve(r.message.statusCode ?? 0), onReject: (r) => reject(new Error(`MESSAGE rejected ${r.message.statusCode}`)) },
      });
    });
    expect(await back).toBe("hello alice");
    expect(await accepted).toBe(200);
  });
});

// ------------------------------------------------------------------ helpers

/** The SIP exchange of a call on a library's socket, 2xx/ACK retransmissions squashed. */
const exchange = (path: string, callId: string): string[] => withoutRetransmissions(recorded(path, callId));

const CALL_OPTIONS = { mediaConstraints: { audio: false, video: false }, pcConfig: {} };
const ANSWER_OPTIONS = { mediaConstraints: { audio: false, video: false } };

async function dialogsOf(aor: string): Promise<Array<Record<string, unknown>>> {
  const stack = inject("stack");
  const r = await adminFetch(stack, "GET", `/v1/subscribers/${encodeURIComponent(aor)}/dialogs`);
  if (r.status !== 200) throw new Error(`dialogs of ${aor}: ${r.status}`);
  return r.json.dialogs as Array<Record<string, unknown>>;
}

/** Items that arrive from callbacks, awaited one at a time (never a sleep). */
class Queue<T> {
  private readonly items: T[] = [];
  private readonly waiting: Array<(v: T) => void> = [];
  push(v: T): void {
    const w = this.waiting.shift();
    if (w !== undefined) w(v);
    else this.items.push(v);
  }
  next(timeoutMs = 5_000): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing arrived within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }
}

interface JsSipPhone {
  ua: JsSIP.UA;
  sessions: Queue<{ session: RTCSession; callId: string }>;
  messages: Queue<string>;
  /** The Call-ID of the latest call this UA placed (set while `ua.call()` runs). */
  lastCallId: string;
}

async function startJsSip(url: string, aor: string, password: string): Promise<JsSipPhone> {
  const ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(url)], uri: `sip:${aor}`, password, register: true, register_expires: 300 });
  const phone: JsSipPhone = { ua, sessions: new Queue(), messages: new Queue(), lastCallId: "" };
  ua.on("newRTCSession", (e: { originator: string; session: RTCSession; request: { call_id: string } }) => {
    if (e.originator === "remote") phone.sessions.push({ session: e.session, callId: e.request.call_id });
    else phone.lastCallId = e.request.call_id;
  });
  ua.on("newMessage", (e: { originator: string; request: { body: string } }) => {
    if (e.originator === "remote") phone.messages.push(e.request.body);
  });
  const registered = new Promise<void>((resolve, reject) => {
    ua.on("registered", () => resolve());
    ua.on("registrationFailed", (e: { cause?: string }) => reject(new Error(`JsSIP registration failed: ${e.cause}`)));
  });
  ua.start();
  await registered;
  return phone;
}

function jssipEvent<T = unknown>(session: RTCSession, event: string, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`JsSIP session: no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    (session as unknown as { once(e: string, f: (v: T) => void): void }).once(event, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

interface SipJsPhone {
  ua: UserAgent;
  invitations: Queue<Invitation>;
  messages: Queue<Message>;
}

async function startSipJs(url: string, aor: string, password: string): Promise<SipJsPhone> {
  const invitations = new Queue<Invitation>();
  const messages = new Queue<Message>();
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${aor}`)!,
    authorizationUsername: aor.split("@")[0]!,
    authorizationPassword: password,
    transportOptions: { server: url },
    sessionDescriptionHandlerFactory: stubSdhFactory,
    logLevel: "error",
    delegate: { onInvite: (i) => invitations.push(i), onMessage: (m) => messages.push(m) },
  });
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  const registered = new Promise<RegistererState>((resolve) => {
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered || s === RegistererState.Terminated) resolve(s);
    });
  });
  await registerer.register();
  if ((await registered) !== RegistererState.Registered) throw new Error("SIP.js registration failed");
  return { ua, invitations, messages };
}

function sipjsState(session: Session, want: SessionState, timeoutMs = 5_000): Promise<void> {
  if (session.state === want) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`SIP.js session: not ${want} within ${timeoutMs} ms (is ${session.state})`)), timeoutMs);
    const listener = (s: SessionState): void => {
      if (s !== want) return;
      clearTimeout(timer);
      session.stateChange.removeListener(listener);
      resolve();
    };
    session.stateChange.addListener(listener);
  });
}
