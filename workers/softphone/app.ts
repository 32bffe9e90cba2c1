import type { CallQuality } from "./call-quality.ts";
import { signInAor } from "./dial-target.ts";
import { Phone, type PhoneState } from "./phone.ts";

/**
 * The softphone page served by the Worker at `/` (workers/src/http/softphone.ts):
 * plain DOM over Phone. Everything a test needs is on `window.sipedgePhone`
 * (state + the same actions as the buttons), so tests drive the phone, not
 * CSS selectors.
 */
declare global {
  interface Window {
    sipedgePhone: SipedgePhoneHook;
  }
}

export interface SipedgePhoneHook {
  readonly state: PhoneState;
  signIn(aor: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  call(target: string): void;
  answer(): void;
  reject(): void;
  hangUp(): void;
  hold(): void;
  resume(): void;
  mute(): void;
  unmute(): void;
  sendDtmf(tones: string): void;
  stats(): Promise<CallQuality | undefined>;
  /** The current call's SDP as the browser holds it: what it sent, and what the edge (rtpengine) gave it. */
  sessionDescriptions(): { local?: string; remote?: string };
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`softphone page has no #${id}`);
  return el as T;
};

const domain = document.querySelector<HTMLMetaElement>('meta[name="sipedge-domain"]')?.content || undefined;
const phone = new Phone(location.href, domain, $<HTMLAudioElement>("remote-audio"));
const REMEMBERED_AOR = "sipedge.aor";

const REGISTRATION_TEXT: Record<PhoneState["registration"], string> = {
  "signed-out": "Signed out",
  connecting: "Connecting…",
  registered: "Registered",
  failed: "Not registered",
};

function render(s: PhoneState): void {
  const status = $("status");
  status.textContent = REGISTRATION_TEXT[s.registration];
  status.dataset.state = s.registration;

  const error = $("error");
  error.hidden = s.error === undefined;
  error.textContent = s.error ?? "";

  const signedIn = s.registration === "registered" || (s.registration === "connecting" && s.call !== undefined);
  $("sign-in").hidden = signedIn || s.registration === "connecting";
  $("signed-in").hidden = !signedIn;
  $<HTMLButtonElement>("sign-in-button").disabled = s.registration === "connecting";
  $("me").textContent = s.aor ?? "";

  const call = s.call !== undefined && s.call.status !== "ended" ? s.call : undefined;
  $("incoming").hidden = call?.status !== "incoming";
  $("incoming-peer").textContent = call?.peer ?? "";
  $("call").hidden = call === undefined || call.status === "incoming";
  $<HTMLButtonElement>("call-button").disabled = call !== undefined;
  if (call !== undefined) {
    $("call-peer").textContent = call.peer;
    $("call-status").textContent =
      call.status === "calling" ? "calling…" :
      call.status === "ringing" ? "ringing…" :
      call.status === "answering" ? "connecting…" :
      call.held ? "on hold" : "in call";
    const inCall = call.status === "established";
    $<HTMLButtonElement>("hold").disabled = !inCall || call.renegotiating;
    $<HTMLButtonElement>("mute").disabled = !inCall;
    $("keypad").querySelectorAll("button").forEach((b) => (b.disabled = !inCall));
    const hold = $("hold");
    hold.textContent = call.held ? "Resume" : "Hold";
    hold.setAttribute("aria-pressed", String(call.held));
    const mute = $("mute");
    mute.textContent = call.muted ? "Unmute" : "Mute";
    mute.setAttribute("aria-pressed", String(call.muted));
    $("dtmf-sent").textContent = call.dtmfSent;
  }
}

function showQuality(q: CallQuality | undefined): void {
  const cell = (name: string, text: string): void => {
    const td = document.querySelector<HTMLElement>(`#quality td[data-q="${name}"]`);
    if (td) td.textContent = text;
  };
  const ms = (v: number | undefined): string => (v === undefined ? "–" : `${v.toFixed(1)} ms`);
  cell("codec", q?.codec ?? "–");
  cell("packetsSent", q ? String(q.packetsSent) : "–");
  cell("packetsReceived", q ? String(q.packetsReceived) : "–");
  cell("loss", q ? `${q.packetsLost} (${q.lossPercent.toFixed(1)} %)` : "–");
  cell("jitter", ms(q?.jitterMs));
  cell("rtt", ms(q?.roundTripMs));
  cell("dtls", q?.dtlsState ?? "–");
}

// A live quality panel while a call exists: one getStats() a second.
let statsTimer: ReturnType<typeof setInterval> | undefined;
function followStats(s: PhoneState): void {
  const active = s.call !== undefined && s.call.status !== "ended" && s.call.status !== "incoming";
  if (active && statsTimer === undefined) {
    statsTimer = setInterval(() => void phone.stats().then(showQuality, () => undefined), 1000);
  } else if (!active && statsTimer !== undefined) {
    clearInterval(statsTimer);
    statsTimer = undefined;
  }
  if (!active) showQuality(undefined);
}

/** Runs a button's action; its error is already on screen through state.error. */
function act(fn: () => unknown): void {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(() => undefined);
  } catch {
    // shown by render()
  }
}

phone.onChange((s) => {
  render(s);
  followStats(s);
});
render(phone.state);

const aorInput = $<HTMLInputElement>("aor");
aorInput.value = localStorage.getItem(REMEMBERED_AOR) ?? "";

$("sign-in").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const aor = signInAor(aorInput.value, domain);
  const password = $<HTMLInputElement>("password").value;
  if (aor === undefined) {
    $("error").hidden = false;
    $("error").textContent = "Enter your user as name@domain";
    return;
  }
  localStorage.setItem(REMEMBERED_AOR, aor);
  act(() => phone.signIn(aor, password));
});
$("sign-out").addEventListener("click", () => act(() => phone.signOut()));
$("dial").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act(() => phone.call($<HTMLInputElement>("target").value));
});
$("answer").addEventListener("click", () => act(() => phone.answer()));
$("reject").addEventListener("click", () => act(() => phone.reject()));
$("hang-up").addEventListener("click", () => act(() => phone.hangUp()));
$("hold").addEventListener("click", () => act(() => (phone.state.call?.held ? phone.resume() : phone.hold())));
$("mute").addEventListener("click", () => act(() => (phone.state.call?.muted ? phone.unmute() : phone.mute())));
$("keypad").addEventListener("click", (ev) => {
  const tone = (ev.target as HTMLElement).closest<HTMLButtonElement>("button[data-tone]")?.dataset.tone;
  if (tone) act(() => phone.sendDtmf(tone));
});
// Typing digits during a call sends them too.
document.addEventListener("keydown", (ev) => {
  if (phone.state.call?.status !== "established" || ev.target instanceof HTMLInputElement) return;
  if (/^[0-9*#]$/.test(ev.key)) act(() => phone.sendDtmf(ev.key));
});
window.addEventListener("beforeunload", () => void phone.signOut());

window.sipedgePhone = {
  get state() {
    return phone.state;
  },
  signIn: (aor, password) => phone.signIn(aor, password),
  signOut: () => phone.signOut(),
  call: (target) => phone.call(target),
  answer: () => phone.answer(),
  reject: () => phone.reject(),
  hangUp: () => phone.hangUp(),
  hold: () => phone.hold(),
  resume: () => phone.resume(),
  mute: () => phone.mute(),
  unmute: () => phone.unmute(),
  sendDtmf: (tones) => phone.sendDtmf(tones),
  stats: () => phone.stats(),
  sessionDescriptions: () => {
    const pc = phone.peerConnection;
    const local = pc?.localDescription?.sdp;
    const remote = pc?.remoteDescription?.sdp;
    return { ...(local !== undefined ? { local } : {}), ...(remote !== undefined ? { remote } : {}) };
  },
};
