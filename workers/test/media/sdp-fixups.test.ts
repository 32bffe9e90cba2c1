import { describe, expect, it } from "vitest";
import { chromiumOffer } from "../../../media-node/agent/test/support/sdp-fixtures.ts";
import { restoreBundleGroup, stripAttributes } from "../../src/media/sdp-fixups.ts";
import { WEBRTC_ONLY_ATTRIBUTES } from "../../src/media/profiles.ts";

const two = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.2",
  "s=-",
  "c=IN IP4 127.0.0.2",
  "t=0 0",
  "m=audio 40000 UDP/TLS/RTP/SAVPF 111",
  "a=mid:0",
  "a=rtpmap:111 opus/48000/2",
  "m=video 40002 UDP/TLS/RTP/SAVPF 96",
  "a=mid:1",
  "a=rtpmap:96 VP8/90000",
  "",
].join("\r\n");

describe("SDP fix-ups rtpengine 10.5 cannot do with flags", () => {
  it("strips WebRTC-only attributes at session and media level, unknown ones included", () => {
    const out = stripAttributes(chromiumOffer(), [...WEBRTC_ONLY_ATTRIBUTES, "rtcp-xr", "group"]);
    for (const a of [...WEBRTC_ONLY_ATTRIBUTES, "rtcp-xr", "group"]) expect(out).not.toMatch(new RegExp(`^a=${a}(:|\\r?$)`, "m"));
    expect(out).toContain("a=rtpmap:111 opus/48000/2");
    expect(out).toContain("a=fingerprint:sha-256 3E:32");
    expect(out).toContain("a=candidate:4050008269 1 udp 2122194687 127.0.0.1 46273 typ host");
    expect(stripAttributes(chromiumOffer(), [])).toBe(chromiumOffer());
  });

  it("adds a=group:BUNDLE for the m-lines that share one transport", () => {
    expect(restoreBundleGroup(two.replace("40002", "40000"))).toMatch(/^a=group:BUNDLE 0 1\r$/m);
    // rtpengine gave video its own port: bundling it would send video to the audio port.
    expect(restoreBundleGroup(two)).toMatch(/^a=group:BUNDLE 0\r$/m);
  });

  it("leaves an SDP alone that has a BUNDLE group or no mid", () => {
    const grouped = two.replace("t=0 0\r\n", "t=0 0\r\na=group:BUNDLE 1\r\n");
    expect(restoreBundleGroup(grouped)).toBe(grouped);
    const noMid = two.replace(/a=mid:\d\r\n/g, "");
    expect(restoreBundleGroup(noMid)).not.toContain("a=group");
    expect(restoreBundleGroup(two.replace("m=audio 40000", "m=audio 0"))).toMatch(/^a=group:BUNDLE 1\r$/m);
  });
});
