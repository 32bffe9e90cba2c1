import type { NgDict } from "./ng-client.ts";
import { restoreBundleGroup, stripAttributes } from "./sdp-fixups.ts";

/**
 * The rtpengine flag sets per call leg, as data (PITFALLS "cross-cutting
 * lessons": most media bugs are ng-flag bugs; jambonz keeps exactly such
 * per-direction profiles). Each profile has an `offer` and an `answer`
 * variant; every variant is snapshot-tested against the real rtpengine in
 * workers/test/media/media-profiles.test.ts.
 *
 * Keys are ng *dictionary keys*, checked against rtpengine 10.5: Kamailio-
 * style strings in `flags` ("ICE=remove") are ignored (PLATFORM.md). 10.5
 * does NOT know the `sdp-attr` and `bundle` keys (logged as "Unknown
 * dictionary key" and ignored), so stripping WebRTC-only attributes and
 * restoring `a=group:BUNDLE` are `fixups` we apply to rtpengine's output.
 *
 * How rtpengine reads them: flags in an `offer` shape the SDP going to the
 * answerer; flags in an `answer` shape the SDP going back to the offerer.
 */
export type MediaLeg = "browser-to-sip" | "sip-to-browser" | "browser-to-browser" | "sip-to-sip";
export type SdpPhase = "offer" | "answer";
export type Side = "browser" | "sip";

export interface SdpFixups {
  /** Attribute names removed at session and media level. */
  strip: readonly string[];
  /** Re-insert `a=group:BUNDLE` (rtpengine strips it, PLATFORM.md). */
  restoreBundle: boolean;
}

export interface PhaseProfile {
  /** Who receives the SDP rtpengine produces. */
  toward: Side;
  flags: Readonly<NgDict>;
  fixups: SdpFixups;
}

export interface LegProfile {
  offerer: Side;
  answerer: Side;
  offer: PhaseProfile;
  answer: PhaseProfile;
}

/** Attributes only WebRTC peers use; toward plain SIP they pass through rtpengine untouched (PLATFORM.md). */
export const WEBRTC_ONLY_ATTRIBUTES = ["mid", "msid", "msid-semantic", "ssrc", "ssrc-group", "rtcp-fb", "extmap", "extmap-allow-mixed", "rtcp-rsize", "ice-options"] as const;

const replace = ["origin", "session-connection"];

/** Toward a browser: DTLS-SRTP with ICE, never SDES (PITFALLS 8), rtcp-mux required (PITFALLS 6), a mid on every m-line (PITFALLS 7, 9). */
const TOWARD_BROWSER = {
  ICE: "force",
  "transport-protocol": "UDP/TLS/RTP/SAVPF",
  SDES: ["off"],
  "rtcp-mux": ["require"],
  flags: ["generate-mid"],
  replace,
} satisfies NgDict;

/** Toward plain SIP: RTP/AVP, no ICE, no DTLS, RTCP on its own port (PITFALLS 1, 6). */
const TOWARD_SIP = {
  ICE: "remove",
  DTLS: "off",
  "transport-protocol": "RTP/AVP",
  SDES: ["off"],
  "rtcp-mux": ["demux"],
  flags: ["strip-extmap"],
  replace,
} satisfies NgDict;

const FOR_BROWSER: SdpFixups = { strip: [], restoreBundle: true };
const FOR_SIP: SdpFixups = { strip: WEBRTC_ONLY_ATTRIBUTES, restoreBundle: false };

export const MEDIA_PROFILES: Readonly<Record<MediaLeg, LegProfile>> = {
  // A browser calls a SIP phone or trunk (ARCHITECTURE.md "Browser to carrier").
  "browser-to-sip": {
    offerer: "browser",
    answerer: "sip",
    offer: {
      toward: "sip",
      flags: {
        ...TOWARD_SIP,
        // The browser offered DTLS actpass; rtpengine must wait to be the
        // DTLS server toward it, or the handshake hangs while the callee
        // rings (PITFALLS 3; PLATFORM.md: 8 of 8 runs hung without it).
        "DTLS-reverse": "passive",
        // Opus-only browsers still reach PCMU/PCMA/G.722-only SIP peers:
        // rtpengine adds these and transcodes when the answer picks one
        // (PITFALLS 11), DTMF included (PITFALLS 12). RED means nothing to SIP.
        codec: { strip: ["red"], transcode: ["PCMU", "PCMA", "G722", "telephone-event"] },
      },
      fixups: FOR_SIP,
    },
    // No DTLS=passive here either: the role was set by DTLS-reverse on the
    // offer, and the browser gets `a=setup:passive` (PITFALLS 3).
    answer: { toward: "browser", flags: TOWARD_BROWSER, fixups: FOR_BROWSER },
  },

  // A SIP phone or trunk calls a browser (ARCHITECTURE.md "Carrier to browser").
  "sip-to-browser": {
    offerer: "sip",
    answerer: "browser",
    // rtpengine offers `a=setup:actpass` and picks its role from the browser's answer.
    offer: { toward: "browser", flags: TOWARD_BROWSER, fixups: FOR_BROWSER },
    answer: { toward: "sip", flags: TOWARD_SIP, fixups: FOR_SIP },
  },

  // A phone or trunk to a legacy phone, anchored only when the callee also
  // rings on a browser (a ring-all fork, media/call-media.ts): plain RTP both
  // ways, RTCP on its own port, codecs as offered.
  "sip-to-sip": {
    offerer: "sip",
    answerer: "sip",
    offer: { toward: "sip", flags: TOWARD_SIP, fixups: FOR_SIP },
    answer: { toward: "sip", flags: TOWARD_SIP, fixups: FOR_SIP },
  },

  // Browser to browser, media anchored through the relay (ARCHITECTURE.md).
  "browser-to-browser": {
    offerer: "browser",
    answerer: "browser",
    offer: { toward: "browser", flags: { ...TOWARD_BROWSER, "DTLS-reverse": "passive" }, fixups: FOR_BROWSER },
    answer: { toward: "browser", flags: TOWARD_BROWSER, fixups: FOR_BROWSER },
  },
};

/**
 * rtpengine's logical interfaces for each side (media-node/rtpengine/
 * rtpengine.conf declares `internal` and `external`). Browsers are always on
 * the public side; SIP peers are public (carriers) unless the deployment
 * reaches them privately. Without `direction`, rtpengine uses its FIRST
 * interface — `internal`, the private address — for everything (PITFALLS 2).
 */
export interface MediaInterfaces {
  browser: string;
  sip: string;
}
export const DEFAULT_INTERFACES: MediaInterfaces = { browser: "external", sip: "external" };

export interface CallKeys {
  callId: string;
  /** The tag of whoever sends the SDP of this command: the offerer for `offer` and `answer`. */
  fromTag: string;
  /** The other side's tag: set on re-offers in a dialog and on every answer. */
  toTag?: string;
  viaBranch?: string;
}

/** The ng `offer` for this leg: every INVITE or re-INVITE/UPDATE with SDP (PITFALLS 10). */
export function offerCommand(leg: MediaLeg, call: CallKeys, sdp: string, interfaces: MediaInterfaces = DEFAULT_INTERFACES): NgDict {
  const p = MEDIA_PROFILES[leg];
  return {
    ...p.offer.flags,
    "call-id": call.callId,
    "from-tag": call.fromTag,
    ...(call.toTag !== undefined ? { "to-tag": call.toTag } : {}),
    ...(call.viaBranch !== undefined ? { "via-branch": call.viaBranch } : {}),
    direction: [interfaces[p.offerer], interfaces[p.answerer]],
    sdp,
  };
}

/** The ng `answer` for this leg: the 18x/2xx with SDP. */
export function answerCommand(leg: MediaLeg, call: CallKeys & { toTag: string }, sdp: string): NgDict {
  return {
    ...MEDIA_PROFILES[leg].answer.flags,
    "call-id": call.callId,
    "from-tag": call.fromTag,
    "to-tag": call.toTag,
    ...(call.viaBranch !== undefined ? { "via-branch": call.viaBranch } : {}),
    sdp,
  };
}

/** `delete` frees the ports now; without `delete-delay: 0` rtpengine keeps them 30 s (PLATFORM.md, PITFALLS 18). */
export function deleteCommand(call: CallKeys): NgDict {
  return {
    "call-id": call.callId,
    "from-tag": call.fromTag,
    ...(call.toTag !== undefined ? { "to-tag": call.toTag } : {}),
    "delete-delay": 0,
  };
}

/** Applies the phase's fixups to the SDP rtpengine returned. */
export function fixupSdp(leg: MediaLeg, phase: SdpPhase, sdp: string): string {
  const { fixups } = MEDIA_PROFILES[leg][phase];
  let out = stripAttributes(sdp, fixups.strip);
  if (fixups.restoreBundle) out = restoreBundleGroup(out);
  return out;
}
