// The proxy's small pure parts: flow tokens, our Via and branch, ranking of
// final responses, timer keys, session-timer checks.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseMessage, parseNameAddr, type SipRequest } from "sip-parser-ts";
import { SipError } from "../src/sip-error.ts";
import { base64urlDecode, base64urlEncode } from "../src/proxy/base64url.ts";
import { encodeFlowToken, peekFlowToken, verifyFlowToken } from "../src/proxy/flow-token.ts";
import { loopHash } from "../src/proxy/loop-detection.ts";
import { branchTimerKey, dialogTimerKey, parseTimerKey } from "../src/proxy/proxy-timers.ts";
import { decodeViaAor, encodeViaAor, localBranch, ourVia, parseOurBranch, statelessBranch, txBranch } from "../src/proxy/proxy-via.ts";
import { classifyRoute, recordRouteValue } from "../src/proxy/record-route.ts";
import { finalRank, isBetterFinal, upstreamStatus } from "../src/proxy/best-response.ts";
import { enforceMinSE, negotiatedInterval } from "../src/proxy/session-timer.ts";
import { aorOfUri } from "../src/proxy/uri-aor.ts";
import { browserRequest } from "./proxy-world.ts";

const signer = { sign: (d: string) => createHmac("sha256", "k1").update(d).digest("hex") };
const otherSigner = { sign: (d: string) => createHmac("sha256", "k2").update(d).digest("hex") };

describe("base64url", () => {
  it.each(["", "a", "ab", "abc", "alice@example.com\u0000f123", "zoë@exämple.com"])("round-trips %j like Buffer does", (s) => {
    expect(base64urlEncode(s)).toBe(Buffer.from(s, "utf8").toString("base64url"));
    expect(base64urlDecode(base64urlEncode(s))).toBe(s);
  });
  it("refuses what is not canonical base64url", () => {
    expect(base64urlDecode("a")).toBeUndefined();
    expect(base64urlDecode("ab+c")).toBeUndefined();
    expect(base64urlDecode("YR")).toBeUndefined(); // non-zero trailing bits
  });
});

describe("flow token (RFC 5626 §5.2)", () => {
  const token = { aor: "alice@example.com", flowId: "fk2j3h4g5" };
  it("round-trips and is a valid SIP user part", () => {
    const t = encodeFlowToken(token, signer);
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[0-9a-f]{32}$/);
    expect(verifyFlowToken(t, signer)).toEqual(token);
    expect(peekFlowToken(t)).toEqual(token);
  });
  it("is refused with another key, a changed MAC or a changed body", () => {
    const t = encodeFlowToken(token, signer);
    expect(verifyFlowToken(t, otherSigner)).toBeUndefined();
    expect(verifyFlowToken(t.slice(0, -1) + (t.endsWith("0") ? "1" : "0"), signer)).toBeUndefined();
    const forged = encodeFlowToken({ aor: "bob@example.com", flowId: "x" }, otherSigner);
    expect(verifyFlowToken(forged.split(".")[0] + "." + t.split(".")[1], signer)).toBeUndefined();
    expect(peekFlowToken("alice")).toBeUndefined();
  });
  it("Record-Route entries are classified: ours, forged, our bare domain, foreign", () => {
    const isLocal = (h: string) => h === "example.com";
    const rr = recordRouteValue("example.com", token, signer);
    expect(rr).toMatch(/^<sip:[^@]+@example\.com;transport=ws;lr>$/);
    expect(classifyRoute(parseNameAddr(rr), isLocal, signer)).toEqual({ kind: "edge", token });
    expect(classifyRoute(parseNameAddr(rr), isLocal, otherSigner)).toEqual({ kind: "forged" });
    expect(classifyRoute(parseNameAddr("<sip:example.com;lr>"), isLocal, signer)).toEqual({ kind: "domain" });
    expect(classifyRoute(parseNameAddr("<sip:proxy.carrier.net;lr>"), isLocal, signer).kind).toBe("foreign");
    expect(classifyRoute(parseNameAddr("<sip:bob@example.com;lr>"), isLocal, signer).kind).toBe("foreign");
  });
});

describe("our Via", () => {
  it("names the DO and carries loop hash, transaction and branch", () => {
    expect(ourVia("example.com", "alice@example.com", txBranch("0123abcd", "tx9", 2))).toBe(
      "SIP/2.0/WSS example.com;branch=z9hG4bK0123abcd.tx9.2;ua=alice%40example.com",
    );
    expect(parseOurBranch("z9hG4bK0123abcd.tx9.2")).toEqual({ kind: "tx", loop: "0123abcd", txId: "tx9", n: 2 });
    expect(parseOurBranch(statelessBranch("0123abcd", "r"))).toEqual({ kind: "stateless", loop: "0123abcd" });
    expect(parseOurBranch(localBranch("r"))?.kind).toBe("local");
    expect(parseOurBranch("z9hG4bK7133845")).toBeUndefined();
    expect(parseOurBranch(undefined)).toBeUndefined();
  });
  it("encodes an AOR as a Via parameter token and back", () => {
    for (const aor of ["alice@example.com", "o'neil+1@example.com", "a(b)@example.com"]) {
      const enc = encodeViaAor(aor);
      expect(enc).toMatch(/^[A-Za-z0-9\-.!%*_+`'~]+$/);
      expect(decodeViaAor(enc)).toBe(aor);
    }
    expect(decodeViaAor("%E0%A4%A")).toBeUndefined();
  });
  it("loop hash is stable and depends on each field", () => {
    expect(loopHash(["in", "sip:bob@example.com", "a", "", "c", "1", ""])).toBe(loopHash(["in", "sip:bob@example.com", "a", "", "c", "1", ""]));
    expect(loopHash(["in", "sip:bob@example.com"])).not.toBe(loopHash(["out", "sip:bob@example.com"]));
    expect(loopHash(["ab", "c"])).not.toBe(loopHash(["a", "bc"]));
  });
});

describe("best response (§16.7 step 6)", () => {
  it("6xx beats everything, then the lowest class, then 401/407/415/420/484 within 4xx", () => {
    expect(isBetterFinal(603, 302)).toBe(true);
    expect(isBetterFinal(302, 486)).toBe(true);
    expect(isBetterFinal(486, 503)).toBe(true);
    expect(isBetterFinal(407, 486)).toBe(true);
    expect(isBetterFinal(486, 480)).toBe(false); // equal: the first stays
    expect(isBetterFinal(500, undefined)).toBe(true);
    expect(finalRank(600)).toBeLessThan(finalRank(300));
  });
  it("a 503 is sent upstream as 500", () => {
    expect(upstreamStatus(503)).toBe(500);
    expect(upstreamStatus(486)).toBe(486);
  });
});

describe("timer keys", () => {
  it("round-trip, with Call-IDs containing colons", () => {
    expect(parseTimerKey(branchTimerKey("tx1", 3))).toEqual({ kind: "branch", txId: "tx1", n: 3 });
    expect(parseTimerKey(dialogTimerKey("caller|a:b@c|x|y"))).toEqual({ kind: "dialog", dialogId: "caller|a:b@c|x|y" });
    expect(parseTimerKey("registrar:expiry")).toBeUndefined();
  });
});

describe("session timers (RFC 4028 §8.1)", () => {
  const req = (se: string | undefined, supported = "timer") =>
    parseMessage(
      browserRequest({
        method: "INVITE", uri: "sip:bob@example.com", from: "alice@example.com", fromTag: "a", to: "bob@example.com", callId: "c", cseq: 1, branch: "z9hG4bK1", host: "h",
        headers: se === undefined ? [] : [["Session-Expires", se]],
      }).replace("Supported: timer,ice,replaces,outbound", `Supported: ${supported}`),
    ) as SipRequest;
  it("422 with Min-SE for a too-small interval when the UAC supports timers", () => {
    try {
      enforceMinSE(req("60"), 90);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SipError);
      expect((e as SipError).status).toBe(422);
      expect((e as SipError).headers).toEqual([["Min-SE", "90"]]);
    }
  });
  it("raises the interval instead when the UAC does not support timers", () => {
    const r = req("60;refresher=uac", "ice");
    enforceMinSE(r, 90);
    expect(r.get("Session-Expires")).toBe("90;refresher=uac");
    expect(r.get("Min-SE")).toBe("90");
  });
  it("leaves alone a request without Session-Expires or with a large enough one", () => {
    const a = req(undefined);
    enforceMinSE(a, 90);
    expect(a.get("Min-SE")).toBeUndefined();
    const b = req("1800");
    enforceMinSE(b, 90);
    expect(b.get("Session-Expires")).toBe("1800");
  });
  it("reads the negotiated interval from a 2xx, 0 when absent or unreadable", () => {
    const ok = (se: string) => parseMessage(`SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n${se}Content-Length: 0\r\n\r\n`);
    expect(negotiatedInterval(ok("Session-Expires: 90;refresher=uac\r\n") as never)).toBe(90);
    expect(negotiatedInterval(ok("") as never)).toBe(0);
    expect(negotiatedInterval(ok("Session-Expires: soon\r\n") as never)).toBe(0);
  });
});

describe("AOR of a URI", () => {
  it("user@host for SIP URIs, nothing for numbers and domains", () => {
    expect(aorOfUri(parseNameAddr("<sip:alice@EXAMPLE.com;transport=ws>").uri)).toBe("alice@example.com");
    expect(aorOfUri(parseNameAddr("<sip:+15551234@example.com;user=phone>").uri)).toBeUndefined();
    expect(aorOfUri(parseNameAddr("<tel:+15551234>").uri)).toBeUndefined();
    expect(aorOfUri(parseNameAddr("<sip:example.com>").uri)).toBeUndefined();
  });
});
