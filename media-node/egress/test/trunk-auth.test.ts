import { createHash } from "node:crypto";
import { parseMessage, type SipResponse } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { answerTrunkChallenge } from "../src/proxy/trunk-auth.ts";
import { removeEdgeHeaders } from "../src/proxy/edge-headers.ts";

// Answering a carrier's 401/407 with the trunk's credentials (RFC 3261
// §22.2-22.3), checked against a digest computed here (RFC 2617 §3.2.2).

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

function challenge(status: 401 | 407, realm: string, extra = ""): SipResponse {
  const name = status === 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
  const text = [`SIP/2.0 ${status} Unauthorized`, "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bKx", "From: <sip:a@x>;tag=1", "To: <sip:b@y>;tag=2", "Call-ID: c", "CSeq: 1 INVITE", `${name}: Digest realm="${realm}", nonce="n1"${extra}`, "Content-Length: 0", "", ""].join("\r\n");
  return parseMessage(text) as SipResponse;
}

const request = { method: "INVITE", requestUri: "sip:+15550100@198.51.100.7:5060;user=phone" };

describe("answerTrunkChallenge", () => {
  it("answers a 407 with Proxy-Authorization and a 401 with Authorization, with a digest of the trunk's password", () => {
    const credentials = { username: "acct", password: "pw", realm: "carrier.test" };
    const a = answerTrunkChallenge(challenge(407, "carrier.test"), request, credentials);
    if (!("value" in a)) throw new Error(a.refused);
    expect(a.header).toBe("Proxy-Authorization");
    const response = /response="([0-9a-f]+)"/.exec(a.value)![1];
    expect(response).toBe(md5(`${md5("acct:carrier.test:pw")}:n1:${md5(`INVITE:${request.requestUri}`)}`));
    const b = answerTrunkChallenge(challenge(401, "carrier.test", ', qop="auth"'), request, credentials);
    expect("value" in b && b.header).toBe("Authorization");
  });

  it("refuses to answer a realm that is not the trunk's, or without credentials", () => {
    expect(answerTrunkChallenge(challenge(407, "evil.example"), request, { username: "acct", password: "pw", realm: "carrier.test" })).toEqual({ refused: "realm-not-the-trunks" });
    expect(answerTrunkChallenge(challenge(407, "carrier.test"), request, undefined)).toEqual({ refused: "trunk-has-no-credentials" });
    // No realm configured: any realm is answered.
    expect("value" in answerTrunkChallenge(challenge(407, "whatever"), request, { username: "acct", password: "pw" })).toBe(true);
  });
});

describe("removeEdgeHeaders", () => {
  it("removes every X-Sipedge-* field, whatever its case, and nothing else", () => {
    const msg = challenge(407, "r");
    msg.append("X-Sipedge-Trunk", "a");
    msg.append("x-sipedge-other", "b");
    msg.append("X-Other", "c");
    expect(removeEdgeHeaders(msg)).toBe(2);
    expect(msg.toString()).not.toMatch(/x-sipedge/i);
    expect(msg.get("X-Other")).toBe("c");
  });
});
