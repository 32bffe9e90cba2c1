import * as JsSIP from "jssip";
import type { RTCSession } from "jssip/lib/RTCSession";
import type { RTCSessionEvent } from "jssip/lib/UA";
import { summariseStats, type CallQuality } from "./call-quality.ts";
import { dialTarget, webSocketUrl } from "./dial-target.ts";
import { callMessage, registrationMessage, type Failure } from "./messages.ts";

/**
 * The softphone's SIP side: one JsSIP user agent over the edge's SIP
 * WebSocket (RFC 7118), at most one call. The page (app.ts) renders
 * `state` and calls the methods; so does a test through `window.sipedgePhone`.
 */
export type Registration = "signed-out" | "connecting" | "registered" | "failed";
export type CallStatus = "calling" | "ringing" | "incoming" | "answering" | "established" | "ended";

export interface CallState {
  direction: "outgoing" | "incoming";
  /** The other party as a SIP URI without the scheme ("bob@example.com"). */
  peer: string;
  /** The INVITE's Call-ID: what the edge, rtpengine and the CDR know the call by. */
  callId: string;
  status: CallStatus;
  held: boolean;
  /** A hold/resume re-INVITE is still waiting for its answer. */
  renegotiating: boolean;
  muted: boolean;
  /** Unix ms when the call was answered. */
  establishedAt?: number;
  /** Why it ended, for people (undefined for a normal hang-up). */
  endMessage?: string;
  /** The SIP status of the failure, when there was one. */
  endStatus?: number;
  /** DTMF digits sent in this call. */
  dtmfSent: string;
}

export interface PhoneState {
  registration: Registration;
  aor?: string;
  /** The last thing that went wrong, in words ("Wrong password"). */
  error?: string;
  call?: CallState;
}

/**
 * `pcConfig` for every call. rtpengine strips `a=group:BUNDLE` from what it
 * returns and Chrome rejects a max-bundle answer without it (PLATFORM.md,
 * rtpengine section): the edge puts the group back (workers/src/media/
 * sdp-fixups.ts), and `balanced` accepts the SDP either way. rtcp-mux is
 * required: the relay's browser-facing profile asks for it (PITFALLS 6).
 * No STUN/TURN: the media of every call goes to the relay (rtpengine), whose
 * public address is the only candidate in the SDP the edge gives us.
 * test/integration/softphone-calls.test.ts checks both against the real relay.
 */
export const PC_CONFIG: RTCConfiguration = { bundlePolicy: "balanced", rtcpMuxPolicy: "require", iceServers: [] };

const CALL_MEDIA: MediaStreamConstraints = { audio: true, video: false };

type Listener = (state: PhoneState) => void;

export class Phone {
  private ua: JsSIP.UA | undefined;
  private session: RTCSession | undefined;
  private current: PhoneState = { registration: "signed-out" };
  private readonly listeners = new Set<Listener>();
  private signInWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly pageUrl: string,
    /** The edge's SIP domain, for "bob" → bob@domain. */
    readonly defaultDomain: string | undefined,
    private readonly remoteAudio: HTMLAudioElement | undefined,
  ) {}

  get state(): PhoneState {
    return this.current;
  }

  /** The peer connection of the current call (for getStats and tests). */
  get peerConnection(): RTCPeerConnection | undefined {
    return this.session?.connection ?? undefined;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<PhoneState>): void {
    this.current = { ...this.current, ...patch };
    for (const l of this.listeners) l(this.current);
  }

  private setCall(patch: Partial<CallState>): void {
    if (this.current.call === undefined) return;
    this.set({ call: { ...this.current.call, ...patch } });
  }

  /** Connects and registers; resolves once registered, rejects with the message shown to the person. */
  signIn(aor: string, password: string): Promise<void> {
    this.stopUa();
    const at = aor.lastIndexOf("@");
    const ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(webSocketUrl(this.pageUrl, aor))],
      uri: `sip:${aor}`,
      authorization_user: aor.slice(0, at),
      password,
      register: true,
      register_expires: 600,
      // Our proxy refreshes nothing for us; JsSIP's own session timer once
      // sent Session-Expires below the RFC 4028 minimum (PITFALLS 19).
      session_timers: false,
      // A page reload comes back as the same device (RFC 5626 +sip.instance).
      instance_id: instanceId(aor),
      user_agent: "sipedge-softphone",
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 30,
    });
    this.ua = ua;
    this.set({ registration: "connecting", aor, error: undefined, call: undefined });
    const done = new Promise<void>((resolve, reject) => (this.signInWaiter = { resolve, reject }));

    ua.on("registered", () => {
      if (this.ua !== ua) return;
      this.set({ registration: "registered", error: undefined });
      this.signInWaiter?.resolve();
      this.signInWaiter = undefined;
    });
    ua.on("registrationFailed", (e) => {
      if (this.ua !== ua) return;
      const message = registrationMessage(failureOf(e));
      this.set({ registration: "failed", error: message });
      this.signInWaiter?.reject(new Error(message));
      this.signInWaiter = undefined;
      // A wrong password will not get better by retrying: stop, let the person fix it.
      if (message === "Wrong password" || (e.response?.status_code ?? 0) === 403) this.stopUa();
    });
    ua.on("unregistered", () => {
      if (this.ua !== ua) return;
      if (this.current.registration === "registered") this.set({ registration: "connecting" });
    });
    ua.on("disconnected", (e) => {
      if (this.ua !== ua) return;
      // JsSIP reconnects by itself (connection_recovery_*); say what is happening.
      const message = e.error ? "Cannot reach the server" : "Connection to the server lost";
      if (this.current.registration !== "failed") this.set({ registration: "connecting", error: message });
      if (this.signInWaiter !== undefined && e.error) {
        this.signInWaiter.reject(new Error(message));
        this.signInWaiter = undefined;
      }
    });
    ua.on("connected", () => {
      if (this.ua !== ua) return;
      if (this.current.error === "Cannot reach the server" || this.current.error === "Connection to the server lost") this.set({ error: undefined });
    });
    ua.on("newRTCSession", ((e: RTCSessionEvent) => {
      if (this.ua === ua) this.adopt(e.session, e.originator === "remote" ? "incoming" : "outgoing", e.request.getHeader("Call-ID"));
    }) as (e: RTCSessionEvent) => void);
    ua.start();
    return done;
  }

  async signOut(): Promise<void> {
    const ua = this.ua;
    if (ua === undefined) return;
    this.session?.terminate();
    if (ua.isRegistered()) {
      // Unregister (Expires: 0) so calls stop forking to this tab; give up after 3 s.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        ua.on("unregistered", () => {
          clearTimeout(timer);
          resolve();
        });
        ua.unregister();
      });
    }
    this.stopUa();
    this.set({ registration: "signed-out", error: undefined, call: undefined });
  }

  private stopUa(): void {
    const ua = this.ua;
    // Every handler checks `this.ua === ua`: a stopped agent's late events are ignored.
    this.ua = undefined;
    ua?.stop();
  }

  /** Dials "bob", "bob@domain", a number or a SIP URI. */
  call(target: string): void {
    if (this.ua === undefined || this.current.registration !== "registered") throw this.fail("Sign in first");
    if (this.session !== undefined) throw this.fail("Hang up the current call first");
    const domain = this.current.aor?.slice(this.current.aor.lastIndexOf("@") + 1) ?? this.defaultDomain ?? "";
    const uri = dialTarget(target, domain);
    if (uri === undefined) throw this.fail(`"${target}" is not a user name, SIP address or phone number`);
    this.set({ error: undefined });
    // newRTCSession fires inside call(): adopt() records it as outgoing.
    this.ua.call(uri, { mediaConstraints: CALL_MEDIA, pcConfig: PC_CONFIG, rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false } });
  }

  answer(): void {
    const s = this.session;
    if (s === undefined || this.current.call?.status !== "incoming") throw this.fail("No incoming call to answer");
    this.setCall({ status: "answering" });
    s.answer({ mediaConstraints: CALL_MEDIA, pcConfig: PC_CONFIG });
  }

  /** Declines an incoming call (486 Busy Here would say we are busy: 603 Decline says no). */
  reject(): void {
    const s = this.session;
    if (s === undefined || this.current.call?.status !== "incoming") throw this.fail("No incoming call to reject");
    s.terminate({ status_code: 603, reason_phrase: "Decline" });
  }

  /** Ends the call in whatever state: CANCEL while it rings, BYE once answered. */
  hangUp(): void {
    this.session?.terminate();
  }

  /** Puts the call on hold (a re-INVITE with `a=sendonly`, RFC 3264 §8.4). */
  hold(): void {
    this.renegotiate((s, done) => s.hold({}, done));
  }

  resume(): void {
    this.renegotiate((s, done) => s.unhold({}, done));
  }

  /** JsSIP refuses (returns false) while an earlier re-INVITE is unanswered: say so instead of doing nothing. */
  private renegotiate(send: (s: RTCSession, done: () => void) => boolean): void {
    const s = this.established();
    if (this.current.call?.renegotiating) throw this.fail("Wait a moment: the last hold/resume is still in progress");
    this.setCall({ renegotiating: true });
    const done = (): void => {
      if (this.session === s) this.setCall({ renegotiating: false });
    };
    if (!send(s, done)) {
      this.setCall({ renegotiating: false });
      throw this.fail("Cannot change the call right now, try again");
    }
  }

  mute(): void {
    this.established().mute({ audio: true });
  }

  unmute(): void {
    this.established().unmute({ audio: true });
  }

  /** Sends DTMF in the RTP stream (RFC 4733 telephone-event), never SIP INFO. */
  sendDtmf(tones: string): void {
    if (!/^[0-9A-D#*,]+$/i.test(tones)) throw this.fail(`"${tones}" is not DTMF (0-9, *, #, A-D)`);
    const s = this.established();
    s.sendDTMF(tones, { transportType: JsSIP.C.DTMF_TRANSPORT.RFC2833, duration: 120, interToneGap: 70 });
    this.setCall({ dtmfSent: (this.current.call?.dtmfSent ?? "") + tones.toUpperCase() });
  }

  /** The current call's quality, or undefined without a call. */
  async stats(): Promise<CallQuality | undefined> {
    const pc = this.peerConnection;
    if (pc === undefined) return undefined;
    const report = await pc.getStats();
    const entries: Record<string, unknown>[] = [];
    report.forEach((e) => entries.push(e as Record<string, unknown>));
    return summariseStats(entries);
  }

  private established(): RTCSession {
    const s = this.session;
    if (s === undefined || this.current.call?.status !== "established") throw this.fail("No call in progress");
    return s;
  }

  private fail(message: string): Error {
    this.set({ error: message });
    return new Error(message);
  }

  private adopt(session: RTCSession, direction: "incoming" | "outgoing", callId: string): void {
    if (this.session !== undefined) {
      // One call at a time: a second incoming call gets 486 Busy Here.
      if (direction === "incoming") session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    this.session = session;
    const peer = session.remote_identity.uri.toAor().replace(/^sips?:/, "");
    this.set({ call: { direction, peer, callId, status: direction === "incoming" ? "incoming" : "calling", held: false, renegotiating: false, muted: false, dtmfSent: "" } });

    const attachAudio = (pc: RTCPeerConnection): void => {
      pc.addEventListener("track", (ev) => {
        if (this.remoteAudio === undefined || ev.track.kind !== "audio") return;
        this.remoteAudio.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
        void this.remoteAudio.play().catch(() => undefined);
      });
    };
    // Outgoing: the connection exists now; incoming: once answered.
    if (session.connection) attachAudio(session.connection);
    session.on("peerconnection", (e) => attachAudio(e.peerconnection));

    session.on("progress", () => {
      if (direction === "outgoing") this.setCall({ status: "ringing" });
    });
    session.on("accepted", () => this.setCall({ status: "established", establishedAt: Date.now() }));
    session.on("confirmed", () => {
      if (this.current.call?.status !== "established") this.setCall({ status: "established", establishedAt: Date.now() });
    });
    session.on("hold", (e) => {
      if (e.originator === "local") this.setCall({ held: true });
    });
    session.on("unhold", (e) => {
      if (e.originator === "local") this.setCall({ held: false });
    });
    session.on("muted", () => this.setCall({ muted: true }));
    session.on("unmuted", () => this.setCall({ muted: false }));
    const end = (e: { originator: string; cause?: string; message?: unknown }): void => {
      if (this.session !== session) return;
      this.session = undefined;
      const failure = failureOf(e);
      const message = callMessage(failure);
      this.setCall({ status: "ended", endMessage: message, endStatus: failure.status });
      if (message !== undefined) this.set({ error: message });
      if (this.remoteAudio) this.remoteAudio.srcObject = null;
    };
    session.on("ended", end);
    session.on("failed", end);
  }
}

/** JsSIP's event → the parts messages.ts needs. */
function failureOf(e: { cause?: string; originator?: string; response?: unknown; message?: unknown }): Failure {
  const res = (e.response ?? e.message) as { status_code?: unknown; reason_phrase?: unknown } | undefined;
  const status = typeof res?.status_code === "number" ? res.status_code : undefined;
  const f: Failure = {};
  if (e.cause !== undefined) f.cause = e.cause;
  if (e.originator !== undefined) f.originator = e.originator;
  // Only responses carry a status; an incoming request (our BYE) does not.
  if (status !== undefined) {
    f.status = status;
    if (typeof res?.reason_phrase === "string") f.reason = res.reason_phrase;
  }
  return f;
}

/** A stable device id per AOR in this browser, so a reload replaces its own binding. */
function instanceId(aor: string): string {
  const key = `sipedge.instance.${aor}`;
  try {
    const known = localStorage.getItem(key);
    if (known) return known;
    const id = uuid();
    localStorage.setItem(key, id);
    return id;
  } catch {
    return uuid();
  }
}

/** RFC 4122 version 4; crypto.randomUUID exists only in secure contexts. */
function uuid(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
