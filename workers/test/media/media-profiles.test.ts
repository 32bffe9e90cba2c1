import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MediaAgent } from "../../../media-node/agent/src/agent.ts";
import {
  agentConfig,
  startTestAgent,
  startTestDynalite,
  startTestRtpengineWithInterfaces,
  TEST_SECRET,
  type RtpengineProcess,
} from "../../../media-node/agent/test/support/media-stack.ts";
import { chromiumAnswerTo, chromiumOffer, chromiumOpusOnlyOffer, sipAnswer, sippOffer, withMdnsCandidates } from "../../../media-node/agent/test/support/sdp-fixtures.ts";
import { NgClient } from "../../src/media/ng-client.ts";
import { answerCommand, deleteCommand, fixupSdp, offerCommand, type MediaInterfaces, type MediaLeg } from "../../src/media/profiles.ts";

/**
 * Every flag profile through the real path: NgClient (signed fetch) → agent
 * → rtpengine 10.5, with a VM's interface pair on loopback (PITFALLS 2):
 * `internal/127.0.0.1` and `external/127.0.0.1!127.0.0.2`, so the public
 * address is 127.0.0.2. Media ports 33500-33599.
 */
const PRIVATE = "127.0.0.1";
const PUBLIC = "127.0.0.2";

let rtpengine: RtpengineProcess;
let dynalite: Awaited<ReturnType<typeof startTestDynalite>>;
let agent: MediaAgent;
let ng: NgClient;
let seq = 0;

beforeAll(async () => {
  [rtpengine, dynalite] = await Promise.all([
    startTestRtpengineWithInterfaces([`internal/${PRIVATE}`, `external/${PRIVATE}!${PUBLIC}`], 33500, 33599),
    startTestDynalite(),
  ]);
  agent = await startTestAgent(
    agentConfig({ SIPEDGE_RTPENGINE_NG: `127.0.0.1:${rtpengine.ng.port}`, SIPEDGE_DYNAMODB_ENDPOINT: dynalite.endpoint, SIPEDGE_HEARTBEAT_INTERVAL_MS: "60000" }),
    dynalite.client,
  );
  ng = new NgClient({ url: `${agent.url}/ng`, secret: TEST_SECRET });
});

afterAll(async () => {
  ng?.close();
  await agent?.close();
  await Promise.all([rtpengine?.stop(), dynalite?.stop()]);
});

interface Exchange {
  offerOut: string;
  answerOut: string;
}

/** offer → (the answerer's SDP) → answer → delete, with the fix-ups the edge applies. */
async function exchange(leg: MediaLeg, offerIn: string, answerFor: (offerOut: string) => string, interfaces?: MediaInterfaces): Promise<Exchange> {
  const call = { callId: `profile-${process.pid}-${++seq}`, fromTag: `from-${seq}`, viaBranch: `z9hG4bK-${seq}` };
  const offered = await ng.request("offer", offerCommand(leg, call, offerIn, interfaces));
  const offerOut = fixupSdp(leg, "offer", offered.sdp!);
  const answered = await ng.request("answer", answerCommand(leg, { ...call, toTag: `to-${seq}` }, answerFor(offerOut)));
  const answerOut = fixupSdp(leg, "answer", answered.sdp!);
  const deleted = await ng.request("delete", deleteCommand({ ...call, toTag: `to-${seq}` }));
  expect(deleted.result).toBe("ok");
  return { offerOut, answerOut };
}

const lines = (sdp: string) => sdp.split(/\r?\n/).filter((l) => l !== "");
const attr = (sdp: string, name: string) => lines(sdp).filter((l) => l === `a=${name}` || l.startsWith(`a=${name}:`));

/** Snapshot form: what changes per run (ports, ICE credentials, DTLS fingerprint) replaced by placeholders. */
function normalized(sdp: string): string {
  return lines(sdp)
    .map((l) =>
      l
        .replace(/^(m=\w+ )\d+/, "$1<port>")
        .replace(/^a=rtcp:\d+/, "a=rtcp:<port>")
        .replace(/^a=ice-ufrag:.*/, "a=ice-ufrag:<ufrag>")
        .replace(/^a=ice-pwd:.*/, "a=ice-pwd:<pwd>")
        .replace(/^a=fingerprint:sha-256 .*/, "a=fingerprint:sha-256 <fingerprint>")
        .replace(/^a=candidate:\S+ (\d) UDP (\d+) (\S+) \d+ typ host/, "a=candidate:<foundation> $1 UDP $2 $3 <port> typ host"),
    )
    .join("\n");
}

/** What must never reach a plain SIP peer (PITFALLS 1, 8, 17). */
function expectPlainRtp(sdp: string, address: string): void {
  expect(sdp).toMatch(/^m=audio \d+ RTP\/AVP [\d ]+$/m);
  for (const a of ["ice-ufrag", "ice-pwd", "ice-options", "candidate", "end-of-candidates", "fingerprint", "setup", "crypto", "rtcp-mux", "mid", "msid", "msid-semantic", "ssrc", "ssrc-group", "extmap", "extmap-allow-mixed", "rtcp-fb", "group"]) {
    expect(attr(sdp, a), `a=${a} toward SIP`).toEqual([]);
  }
  expect(attr(sdp, "rtcp")).toHaveLength(1); // RTCP on its own port (rtcp-mux demux)
  expect(sdp).toContain(`c=IN IP4 ${address}`);
  expect(sdp).not.toContain(address === PUBLIC ? `IN IP4 ${PRIVATE}\r\n` : `IN IP4 ${PUBLIC}\r\n`);
}

/** What a browser needs (PITFALLS 2, 3, 6, 7, 8). */
function expectWebRtc(sdp: string, setup: "actpass" | "passive" | "active", mid: string): void {
  expect(sdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF [\d ]+$/m);
  expect(attr(sdp, "fingerprint")).toEqual([expect.stringMatching(/^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/)]);
  expect(attr(sdp, "setup")).toEqual([`a=setup:${setup}`]);
  expect(attr(sdp, "rtcp-mux")).toEqual(["a=rtcp-mux"]);
  expect(attr(sdp, "crypto")).toEqual([]);
  expect(attr(sdp, "ice-ufrag")).toHaveLength(1);
  expect(attr(sdp, "ice-pwd")).toHaveLength(1);
  const port = /^m=audio (\d+)/m.exec(sdp)![1];
  // rtpengine is the only candidate, on the PUBLIC address and the m-line's port.
  expect(attr(sdp, "candidate")).toEqual([expect.stringMatching(new RegExp(`^a=candidate:\\S+ 1 UDP \\d+ ${PUBLIC.replace(/\./g, "\\.")} ${port} typ host$`))]);
  expect(sdp).toContain(`c=IN IP4 ${PUBLIC}`);
  expect(sdp).not.toContain(`IN IP4 ${PRIVATE}`);
  expect(attr(sdp, "mid")).toEqual([`a=mid:${mid}`]);
  expect(attr(sdp, "group")).toEqual([`a=group:BUNDLE ${mid}`]);
}

describe("browser-to-sip (a browser calls a SIP phone or trunk)", () => {
  it("turns a real Chromium offer into plain RTP toward SIP and the SIP answer into DTLS-SRTP toward the browser", async () => {
    const x = await exchange("browser-to-sip", chromiumOffer(), () => sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }, { pt: 126, rtpmap: "telephone-event/8000" }]));
    expectPlainRtp(x.offerOut, PUBLIC);
    expect(x.offerOut).toContain("a=rtpmap:0 PCMU/8000");
    expect(x.offerOut).not.toContain("red/48000");
    expectWebRtc(x.answerOut, "passive", "0");
    expect(x.answerOut).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 126$/m);
    expect(normalized(x.offerOut)).toMatchSnapshot("offer toward SIP");
    expect(normalized(x.answerOut)).toMatchSnapshot("answer toward the browser");
  });

  it("transcodes: an opus-only browser reaches a PCMU-only SIP peer (PITFALLS 11)", async () => {
    const x = await exchange("browser-to-sip", chromiumOpusOnlyOffer(), (offerOut) => {
      // rtpengine added the G.711/G.722 codecs and telephone-event/8000 the browser did not offer.
      expect(offerOut).toMatch(/^m=audio \d+ RTP\/AVP 111 0 8 9 \d+ 110$/m);
      expect(offerOut).toContain("a=rtpmap:0 PCMU/8000");
      expect(offerOut).toMatch(/a=rtpmap:\d+ telephone-event\/8000/);
      return sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }]);
    });
    // The browser keeps opus; rtpengine transcodes to the PCMU the SIP side chose.
    expect(x.answerOut).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111$/m);
    expect(x.answerOut).toContain("a=rtpmap:111 opus/48000/2");
    expectWebRtc(x.answerOut, "passive", "0");
  });

  it("puts the SIP leg on the private address when the SIP side is reached privately (PITFALLS 2)", async () => {
    const x = await exchange("browser-to-sip", chromiumOffer(), () => sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }]), { browser: "external", sip: "internal" });
    expectPlainRtp(x.offerOut, PRIVATE);
    expectWebRtc(x.answerOut, "passive", "0");
  });
});

describe("sip-to-browser (a SIP phone or trunk calls a browser)", () => {
  it("offers a SIPp PCMU call to the browser as DTLS-SRTP with ICE, and its answer back as plain RTP", async () => {
    const x = await exchange("sip-to-browser", sippOffer(), (offerOut) => chromiumAnswerTo(offerOut));
    expectWebRtc(x.offerOut, "actpass", "1");
    expect(x.offerOut).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0$/m);
    expectPlainRtp(x.answerOut, PUBLIC);
    expect(x.answerOut).toMatch(/^m=audio \d+ RTP\/AVP 0$/m);
    expect(normalized(x.offerOut)).toMatchSnapshot("offer toward the browser");
    expect(normalized(x.answerOut)).toMatchSnapshot("answer toward SIP");
  });
});

describe("sip-to-sip (a phone or trunk calls a user who also rings on a browser)", () => {
  it("relays a SIPp PCMU offer and a plain answer as plain RTP both ways, rtpengine's address in each", async () => {
    const x = await exchange("sip-to-sip", sippOffer(), () => sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }]));
    expectPlainRtp(x.offerOut, PUBLIC);
    expectPlainRtp(x.answerOut, PUBLIC);
    expect(x.offerOut).toMatch(/^m=audio \d+ RTP\/AVP 0( \d+)*$/m);
    expect(x.answerOut).toMatch(/^m=audio \d+ RTP\/AVP 0$/m);
    expect(normalized(x.offerOut)).toMatchSnapshot("offer toward the callee");
    expect(normalized(x.answerOut)).toMatchSnapshot("answer toward the caller");
  });
});

describe("browser-to-browser (anchored through the relay)", () => {
  it("offers actpass to the callee and answers passive to the caller, both DTLS-SRTP with ICE (PITFALLS 3)", async () => {
    const x = await exchange("browser-to-browser", chromiumOffer(), (offerOut) => chromiumAnswerTo(offerOut));
    expectWebRtc(x.offerOut, "actpass", "0");
    expectWebRtc(x.answerOut, "passive", "0");
    expect(x.answerOut).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111 126$/m);
    expect(normalized(x.offerOut)).toMatchSnapshot("offer toward the callee");
    expect(normalized(x.answerOut)).toMatchSnapshot("answer toward the caller");
  });
});

describe("mDNS `.local` candidates and candidate-less SDP from the browser (PITFALLS 20)", () => {
  // rtpengine cannot resolve `.local` names and need not: it answers with its own
  // address and learns the browser's from its ICE checks (peer-reflexive).
  const noMdns = (sdp: string): void => expect(sdp).not.toMatch(/\.local\b/);
  const mdnsAnswerTo = (offerOut: string): string => {
    const answer = withMdnsCandidates(chromiumAnswerTo(offerOut));
    expect(attr(answer, "candidate")).toEqual([expect.stringMatching(/ [0-9a-f-]{36}\.local \d+ typ host/)]);
    return answer;
  };

  it.each(["mdns", "none"] as const)("browser-to-sip with %s candidates: plain RTP from rtpengine's address toward SIP, WebRTC back", async (candidates) => {
    const offer = withMdnsCandidates(chromiumOffer(), candidates);
    expect(attr(offer, "candidate")).toHaveLength(candidates === "mdns" ? 2 : 0);
    const x = await exchange("browser-to-sip", offer, () => sipAnswer([{ pt: 0, rtpmap: "PCMU/8000" }]));
    expectPlainRtp(x.offerOut, PUBLIC);
    noMdns(x.offerOut);
    expectWebRtc(x.answerOut, "passive", "0");
  });

  it("sip-to-browser with the browser's answer on mDNS candidates: plain RTP from rtpengine's address toward SIP", async () => {
    const x = await exchange("sip-to-browser", sippOffer(), mdnsAnswerTo);
    expectWebRtc(x.offerOut, "actpass", "1");
    expectPlainRtp(x.answerOut, PUBLIC);
    noMdns(x.answerOut);
  });

  it("browser-to-browser with mDNS on both sides: each browser sees only rtpengine's candidate", async () => {
    const x = await exchange("browser-to-browser", withMdnsCandidates(chromiumOffer()), mdnsAnswerTo);
    expectWebRtc(x.offerOut, "actpass", "0");
    expectWebRtc(x.answerOut, "passive", "0");
    noMdns(x.offerOut);
    noMdns(x.answerOut);
  });
});

describe("the profiles as rtpengine 10.5 reads them", () => {
  it("left no session behind: delete with delete-delay 0 (PITFALLS 18)", async () => {
    const list = await ng.request("list", {});
    expect(list.calls).toEqual([]);
  });

  it("uses only keys and flags rtpengine knows", () => {
    expect(rtpengine.lines.filter((l) => /Unknown .*encountered/.test(l))).toEqual([]);
  });
});
