import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * No media in Node (RTPEngine is a later issue; the edge passes SDP through
 * unchanged for now), so JsSIP and SIP.js get stand-ins that hand out the
 * real Chromium offer captured in sip-parser-ts's fixtures: the edge sees
 * the same 4–5 KB bodies a browser sends.
 */
const here = fileURLToPath(new URL(".", import.meta.url));
export const CHROMIUM_OFFER = readFileSync(join(here, "../../packages/sip-parser-ts/test/fixtures/real/chromium-offer.sdp"), "utf8");
/** The same SDP as an answer: RFC 5763 §5, the answerer picks a DTLS role. */
export const CHROMIUM_ANSWER = CHROMIUM_OFFER.replace(/a=setup:actpass/g, "a=setup:active");

type Description = { type: string; sdp: string };

/** What JsSIP 3.13 uses of RTCPeerConnection (RTCSession.js), doing nothing but SDP. */
class StubPeerConnection extends EventTarget {
  localDescription: Description | null = null;
  remoteDescription: Description | null = null;
  signalingState = "stable";
  iceGatheringState = "complete";
  iceConnectionState = "connected";
  connectionState = "connected";

  async createOffer(): Promise<Description> {
    return { type: "offer", sdp: CHROMIUM_OFFER };
  }
  async createAnswer(): Promise<Description> {
    return { type: "answer", sdp: CHROMIUM_ANSWER };
  }
  async setLocalDescription(d: Description): Promise<void> {
    this.localDescription = d;
    this.signalingState = d.type === "offer" ? "have-local-offer" : "stable";
  }
  async setRemoteDescription(d: Description): Promise<void> {
    this.remoteDescription = d;
    this.signalingState = d.type === "offer" ? "have-remote-offer" : "stable";
  }
  addTrack(): void {}
  getSenders(): unknown[] {
    return [];
  }
  getReceivers(): unknown[] {
    return [];
  }
  getTransceivers(): unknown[] {
    return [];
  }
  close(): void {
    this.signalingState = "closed";
  }
}

class StubSessionDescription {
  type: string;
  sdp: string;
  constructor(init: Description) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
}

/** Globals JsSIP reads: RTCPeerConnection, RTCSessionDescription, and `window.RTCPeerConnection` for incoming calls. */
export function installJsSipMediaStub(): void {
  const g = globalThis as Record<string, unknown>;
  g["RTCPeerConnection"] = StubPeerConnection;
  g["RTCSessionDescription"] = StubSessionDescription;
  g["window"] ??= globalThis;
}

/** SIP.js's SessionDescriptionHandler (api/session-description-handler.ts) with the Chromium SDP and no media. */
export class StubSessionDescriptionHandler {
  private offered = false;
  close(): void {}
  async getDescription(): Promise<{ body: string; contentType: string }> {
    // The first description we give is an offer unless we were offered one.
    const body = this.offered ? CHROMIUM_ANSWER : CHROMIUM_OFFER;
    return { body, contentType: "application/sdp" };
  }
  hasDescription(contentType: string): boolean {
    return contentType === "application/sdp";
  }
  async setDescription(): Promise<void> {
    this.offered = true;
  }
  sendDtmf(): boolean {
    return false;
  }
}

export const stubSdhFactory = (): StubSessionDescriptionHandler => new StubSessionDescriptionHandler();
