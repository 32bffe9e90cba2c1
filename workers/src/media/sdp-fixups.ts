import { parse, write, type SessionDescription } from "sdp-transform";

/** A session or media section seen as a bag of sdp-transform properties, for deleting by name. */
type SdpAttributes = { [property: string]: unknown; invalid?: { value: string }[] };

/**
 * What we change in the SDP rtpengine returns, where ng flags cannot do it
 * on rtpengine 10.5 (it has no `sdp-attr` and no `bundle` dictionary keys:
 * both are logged as "Unknown dictionary key" and ignored).
 */

/**
 * sdp-transform's property for each attribute name we strip; attributes its
 * grammar does not know are matched in `invalid` by name.
 */
const PROPERTIES: Record<string, readonly string[]> = {
  mid: ["mid"],
  msid: ["msid"],
  "msid-semantic": ["msidSemantic"],
  ssrc: ["ssrcs"],
  "ssrc-group": ["ssrcGroups"],
  "rtcp-fb": ["rtcpFb", "rtcpFbTrrInt"],
  extmap: ["ext"],
  "extmap-allow-mixed": ["extmapAllowMixed"],
  "rtcp-rsize": ["rtcpRsize"],
  "ice-options": ["iceOptions"],
  group: ["groups"],
};

function stripFrom(target: SdpAttributes, names: readonly string[]): void {
  for (const name of names) {
    for (const prop of PROPERTIES[name] ?? []) delete target[prop];
    if (target.invalid) target.invalid = target.invalid.filter((a) => a.value !== name && !a.value.startsWith(`${name}:`));
  }
  if (target.invalid?.length === 0) delete target.invalid;
}

/**
 * Removes attributes at session and media level. Toward a plain SIP peer the
 * WebRTC-only ones (`mid`, `msid`, `ssrc`, `extmap`, `rtcp-fb`, …) pass
 * through rtpengine untouched (PLATFORM.md) and only make the SDP bigger —
 * past the UDP MTU for SIP over UDP (PITFALLS 17) — or confuse old stacks.
 */
export function stripAttributes(sdp: string, names: readonly string[]): string {
  if (names.length === 0) return sdp;
  const session = parse(sdp);
  stripFrom(session as unknown as SdpAttributes, names);
  for (const m of session.media) stripFrom(m as unknown as SdpAttributes, names);
  return write(session);
}

/**
 * Puts `a=group:BUNDLE` back in an SDP going to a browser. rtpengine strips
 * the group and never adds it (PLATFORM.md); Chrome rejects a max-bundle
 * answer without it, and iOS wants it (PITFALLS 7, 9). Only m-lines that
 * really share one transport (same port and address, not rejected, with a
 * mid) are grouped, so the browser never sends bundled media to a port
 * rtpengine did not bundle.
 */
export function restoreBundleGroup(sdp: string): string {
  if (/^a=group:BUNDLE /m.test(sdp)) return sdp;
  const session: SessionDescription = parse(sdp);
  if (session.groups?.some((g) => g.type === "BUNDLE")) return sdp;
  const live = session.media.filter((m) => m.port !== 0 && m.mid !== undefined);
  const first = live[0];
  if (first === undefined) return sdp;
  const address = (m: typeof first) => m.connection?.ip ?? session.connection?.ip;
  const bundled = live.filter((m) => m.port === first.port && address(m) === address(first));
  session.groups = [...(session.groups ?? []), { type: "BUNDLE", mids: bundled.map((m) => String(m.mid)).join(" ") }];
  return write(session);
}
