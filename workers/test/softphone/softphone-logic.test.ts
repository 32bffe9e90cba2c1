import { describe, expect, it } from "vitest";
import { summariseStats } from "../../softphone/call-quality.ts";
import { dialTarget, signInAor, webSocketUrl } from "../../softphone/dial-target.ts";
import { callMessage, registrationMessage } from "../../softphone/messages.ts";

/** The softphone's pure parts (no DOM, no JsSIP); the page itself runs in Chromium in test/integration/softphone.test.ts and softphone-calls.test.ts. */
describe("what the person typed → a request URI", () => {
  it.each([
    ["bob", "sip:bob@example.com"],
    [" bob@Other.Example ", "sip:bob@other.example"],
    ["sip:carol@example.org", "sip:carol@example.org"],
    ["+1 (555) 010-0199", "sip:+15550100199@example.com;user=phone"],
    ["5550100", "sip:5550100@example.com;user=phone"],
    ["", undefined],
    ["bob smith", undefined],
    ["bob@", undefined],
    ["+", undefined],
  ])("%j → %j", (input, uri) => {
    expect(dialTarget(input, "example.com")).toBe(uri);
  });

  it("signs in as name@domain, completing the domain from the page", () => {
    expect(signInAor("alice", "example.com")).toBe("alice@example.com");
    expect(signInAor("sip:Alice@Example.COM", undefined)).toBe("Alice@example.com");
    expect(signInAor("alice", undefined)).toBeUndefined();
    expect(signInAor("@example.com", "example.com")).toBeUndefined();
  });

  it("derives the SIP WebSocket from the page's own origin", () => {
    expect(webSocketUrl("http://127.0.0.1:8787/", "alice@example.com")).toBe("ws://127.0.0.1:8787/ws/alice@example.com");
    expect(webSocketUrl("https://edge.example.com/?x=1", "alice@example.com")).toBe("wss://edge.example.com/ws/alice@example.com");
  });
});

describe("messages", () => {
  it("sign-in failures", () => {
    expect(registrationMessage({ cause: "Authentication Error" })).toBe("Wrong password");
    expect(registrationMessage({ status: 401 })).toBe("Wrong password");
    expect(registrationMessage({ status: 403, reason: "Forbidden - Too many failed attempts" })).toMatch(/^Too many failed sign-ins/);
    expect(registrationMessage({ status: 404 })).toBe("User not found");
    expect(registrationMessage({ cause: "Connection Error" })).toBe("Cannot reach the server");
    expect(registrationMessage({ status: 500, reason: "Server Internal Error" })).toBe("Sign-in failed: 500 Server Internal Error");
  });

  it("call failures, and silence for a normal end", () => {
    expect(callMessage({ status: 404, cause: "Not Found" })).toBe("User not found");
    expect(callMessage({ status: 480, cause: "Unavailable" })).toBe("User offline");
    expect(callMessage({ status: 503, reason: "No Media Node Available" })).toBe("No media node available, try again");
    expect(callMessage({ status: 486, cause: "Busy" })).toBe("Busy");
    expect(callMessage({ status: 603, cause: "Rejected", originator: "remote" })).toBe("Call declined");
    expect(callMessage({ status: 407, cause: "Authentication Error" })).toBe("Wrong password");
    expect(callMessage({ cause: "User Denied Media Access", originator: "local" })).toMatch(/^Microphone access was denied/);
    expect(callMessage({ cause: "Terminated", originator: "remote" })).toBeUndefined();
    expect(callMessage({ cause: "Canceled", originator: "local" })).toBeUndefined();
    expect(callMessage({ cause: "Rejected", originator: "local" })).toBeUndefined();
    expect(callMessage({ status: 487, originator: "local" })).toBeUndefined();
  });
});

describe("call quality from getStats()", () => {
  it("sums the audio streams, converts seconds to ms and names the codec", () => {
    const q = summariseStats([
      { id: "C1", type: "codec", mimeType: "audio/opus", clockRate: 48000 },
      { id: "O1", type: "outbound-rtp", kind: "audio", packetsSent: 500, bytesSent: 40_000, codecId: "C1" },
      { id: "I1", type: "inbound-rtp", kind: "audio", packetsReceived: 490, packetsLost: 10, jitter: 0.004, audioLevel: 0.03, bytesReceived: 39_000, codecId: "C1" },
      { id: "R1", type: "remote-inbound-rtp", kind: "audio", roundTripTime: 0.021 },
      { id: "T1", type: "transport", dtlsState: "connected", selectedCandidatePairId: "P1" },
      { id: "P1", type: "candidate-pair", currentRoundTripTime: 0.5, localCandidateId: "L1", remoteCandidateId: "R2" },
      { id: "L1", type: "local-candidate", address: "127.0.0.1", port: 50123, protocol: "udp", candidateType: "host" },
      { id: "R2", type: "remote-candidate", address: "127.0.0.1", port: 31004, protocol: "udp", candidateType: "host" },
      // Another pair that was checked but not selected: not where media goes.
      { id: "P2", type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R3" },
      { id: "R3", type: "remote-candidate", address: "127.0.0.1", port: 50999, protocol: "udp", candidateType: "prflx" },
      { id: "V1", type: "inbound-rtp", kind: "video", packetsReceived: 9999 },
    ]);
    expect(q).toEqual({
      codec: "opus/48000",
      packetsSent: 500,
      packetsReceived: 490,
      packetsLost: 10,
      lossPercent: 2,
      jitterMs: 4,
      roundTripMs: 21,
      audioLevel: 0.03,
      bytesSent: 40_000,
      bytesReceived: 39_000,
      dtlsState: "connected",
      localCandidate: { address: "127.0.0.1", port: 50123, protocol: "udp", candidateType: "host" },
      remoteCandidate: { address: "127.0.0.1", port: 31004, protocol: "udp", candidateType: "host" },
    });
  });

  it("reads a candidate's address from `ip` when an older browser has no `address`, and leaves out a candidate it cannot place", () => {
    const q = summariseStats([
      { id: "T1", type: "transport", dtlsState: "connected", selectedCandidatePairId: "P1" },
      { id: "P1", type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R1" },
      { id: "L1", type: "local-candidate", ip: "192.0.2.7", port: 40000 },
      { id: "R1", type: "remote-candidate", address: "198.51.100.9" }, // no port
    ]);
    expect(q.localCandidate).toEqual({ address: "192.0.2.7", port: 40000 });
    expect(q.remoteCandidate).toBeUndefined();
  });

  it("falls back to the ICE pair's round trip, and reports zeros before media", () => {
    const q = summariseStats([
      { id: "T1", type: "transport", dtlsState: "connecting", selectedCandidatePairId: "P1" },
      { id: "P1", type: "candidate-pair", currentRoundTripTime: 0.002 },
    ]);
    expect(q).toMatchObject({ packetsSent: 0, packetsReceived: 0, lossPercent: 0, roundTripMs: 2, dtlsState: "connecting" });
    expect(q.codec).toBeUndefined();
    expect(q.remoteCandidate).toBeUndefined(); // no pair selected yet: nowhere to send
  });
});
