import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Input SDPs for the media tests. The Chromium offer and the SIPp INVITE are
 * real captures (packages/sip-parser-ts/test/fixtures/real/README.md); the
 * answers are written here in the shape the real peers produce, because an
 * answer depends on the offer it answers.
 */
const REAL = join(import.meta.dirname, "..", "..", "..", "..", "packages", "sip-parser-ts", "test", "fixtures", "real");

/** Chromium 156, getUserMedia audio, ICE gathered: opus/111, red, G722, PCMU, PCMA, CN, telephone-event/48000 and /8000, BUNDLE, mid, extmap, msid, ssrc. */
export function chromiumOffer(): string {
  return readFileSync(join(REAL, "chromium-offer.sdp"), "utf8");
}

/** The SDP body of SIPp 3.6.1's built-in `uac` INVITE: plain RTP, PCMU only. */
export function sippOffer(): string {
  const invite = readFileSync(join(REAL, "sipp-invite.sip"), "utf8");
  return invite.slice(invite.indexOf("\r\n\r\n") + 4);
}

/** The Chromium offer with every codec but opus (and its telephone-event/48000) removed. */
export function chromiumOpusOnlyOffer(): string {
  const keep = new Set(["111", "110"]);
  return chromiumOffer()
    .split("\r\n")
    .map((l) => (l.startsWith("m=audio ") ? l.replace(/ ([\d ]+)$/, ` ${[...keep].join(" ")}`) : l))
    .filter((l) => {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+) /.exec(l)?.[1];
      return pt === undefined || keep.has(pt);
    })
    .join("\r\n");
}

/** A plain SIP phone's answer (SIPp `uas` style): RTP/AVP, the given codecs. */
export function sipAnswer(codecs: { pt: number; rtpmap: string }[], port = 6000): string {
  return [
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${port} RTP/AVP ${codecs.map((c) => c.pt).join(" ")}`,
    ...codecs.map((c) => `a=rtpmap:${c.pt} ${c.rtpmap}`),
    "a=sendrecv",
    "",
  ].join("\r\n");
}

/**
 * What Chromium answers to an offer from the relay: same mid, `a=setup:active`
 * (RFC 5763: the answerer picks a role), ICE, DTLS fingerprint, rtcp-mux,
 * the first offered codec it supports plus telephone-event/8000 if offered.
 */
export function chromiumAnswerTo(offer: string): string {
  const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? "0";
  const pts = /^m=audio \d+ \S+ ([\d ]+)/m.exec(offer)?.[1]?.split(" ") ?? [];
  const rtpmap = new Map([...offer.matchAll(/^a=rtpmap:(\d+) (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
  const supported = ["opus/48000/2", "G722/8000", "PCMU/8000", "PCMA/8000"];
  const audio = pts.find((pt) => supported.includes(rtpmap.get(pt) ?? "")) ?? pts[0] ?? "0";
  const dtmf = pts.find((pt) => rtpmap.get(pt) === "telephone-event/8000");
  const chosen = [audio, ...(dtmf ? [dtmf] : [])];
  return [
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    `a=group:BUNDLE ${mid}`,
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS 9a7e1b4c-5f0e-4a8e-9d3b-2f6c1e0d7a55",
    `m=audio 9 UDP/TLS/RTP/SAVPF ${chosen.join(" ")}`,
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=candidate:2999745851 1 udp 2122260223 127.0.0.1 51234 typ host generation 0 network-id 1",
    "a=ice-ufrag:Hq3L",
    "a=ice-pwd:Tm1f8yJ5xW9vKc2sQpR7uN4e",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
    "a=setup:active",
    `a=mid:${mid}`,
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=sendrecv",
    "a=msid:9a7e1b4c-5f0e-4a8e-9d3b-2f6c1e0d7a55 0d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
    "a=rtcp-mux",
    ...chosen.map((pt) => `a=rtpmap:${pt} ${rtpmap.get(pt) ?? "PCMU/8000"}`),
    "a=ssrc:3735928559 cname:Yq0vXr2bT8kLmN4p",
    "",
  ].join("\r\n");
}

/**
 * A browser SDP as Chromium writes it when it hides local addresses behind
 * mDNS (PITFALLS 20): its host candidates become `<uuid>.local` names, the
 * default address `0.0.0.0` port 9. `candidates: "none"` drops them all, as
 * an offer sent before gathering (trickle ICE, RFC 8838) has none.
 */
export function withMdnsCandidates(sdp: string, candidates: "mdns" | "none" = "mdns"): string {
  const names = ["2b3f5e1a-7c4d-4e8f-9a0b-1c2d3e4f5a6b.local", "8d9e0f1a-2b3c-4d5e-6f7a-8b9c0d1e2f3a.local"];
  let n = 0;
  return sdp
    .split("\r\n")
    .flatMap((l) => {
      if (l.startsWith("m=audio ")) return [l.replace(/^m=audio \d+/, "m=audio 9")];
      if (l.startsWith("c=IN IP4 ")) return ["c=IN IP4 0.0.0.0"];
      const c = /^a=candidate:(\S+) (\d) udp (\d+) \S+ (\d+) typ host(.*)$/.exec(l);
      if (c !== null) return candidates === "none" || n >= names.length ? [] : [`a=candidate:${c[1]} ${c[2]} udp ${c[3]} ${names[n++]} ${c[4]} typ host${c[5]}`];
      if (l.startsWith("a=candidate:")) return []; // tcp candidates: Chromium drops those with mDNS too
      return [l];
    })
    .join("\r\n");
}
