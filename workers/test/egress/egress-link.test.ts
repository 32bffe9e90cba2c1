// The egress link's pure parts: the upgrade token (egress/egress-token.ts) and
// where a message from the egress goes (egress/link-routing.ts).
import { parseMessage, type SipRequest } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { signEgressToken, verifyEgressToken } from "../../src/egress/egress-token.ts";
import { routeFromEgress, type LinkRoutingDeps } from "../../src/egress/link-routing.ts";
import { encodeFlowToken } from "../../src/proxy/flow-token.ts";
import { DEFAULT_NUMBERING_PLAN } from "../../src/trunks/index.ts";

const SECRET = "egress-secret-0123456789abcdefghij";
const NOW = 1_800_000_000_000;

describe("egress link token", () => {
  it("verifies within the window, for its own link and secret only", () => {
    const token = signEgressToken(SECRET, "edge-eu-1", NOW);
    expect(verifyEgressToken([SECRET], "edge-eu-1", token, NOW + 59_000)).toMatchObject({ ok: true });
    expect(verifyEgressToken(["other", SECRET], "edge-eu-1", token, NOW)).toMatchObject({ ok: true }); // during a rotation
    expect(verifyEgressToken([SECRET], "edge-eu-2", token, NOW)).toEqual({ ok: false, why: "bad signature" });
    expect(verifyEgressToken(["wrong-secret"], "edge-eu-1", token, NOW)).toEqual({ ok: false, why: "bad signature" });
    expect(verifyEgressToken([SECRET], "edge-eu-1", token, NOW + 61_000)).toMatchObject({ ok: false, why: expect.stringContaining("time window") });
    expect(verifyEgressToken([SECRET], "edge-eu-1", "v1.x.y.z", NOW)).toEqual({ ok: false, why: "malformed token" });
    expect(verifyEgressToken([""], "edge-eu-1", token, NOW)).toEqual({ ok: false, why: "bad signature" });
  });

  it("two tokens signed in the same second differ (a nonce each)", () => {
    expect(signEgressToken(SECRET, "e", NOW)).not.toBe(signEgressToken(SECRET, "e", NOW));
  });
});

const deps = (dids: Record<string, string> = {}): LinkRoutingDeps => ({
  didToAor: async (did) => dids[did],
  isLocalDomain: (h) => h === "example.com",
  plan: DEFAULT_NUMBERING_PLAN,
});

function request(first: string, extra: string[] = []): SipRequest {
  return parseMessage(
    [first, "Via: SIP/2.0/WSS egress.invalid;branch=z9hG4bKe1", ...extra, "From: <sip:+15550001111@carrier.example>;tag=c1", "To: <sip:+15550002222@egress.example>", "Call-ID: in1", `CSeq: 1 ${first.split(" ")[0]}`, "Max-Forwards: 69", "Content-Length: 0", "", ""].join("\r\n"),
  ) as SipRequest;
}

describe("where a message from the egress goes", () => {
  it("an INVITE for a DID goes to its user, with the Request-URI made the AOR; an unknown DID is 404", async () => {
    const to = await routeFromEgress(request("INVITE sip:15550002222@egress.example SIP/2.0"), deps({ "+15550002222": "alice@example.com" }));
    expect(to).toMatchObject({ kind: "user", aor: "alice@example.com" });
    expect((to as { text: string }).text.startsWith("INVITE sip:alice@example.com SIP/2.0\r\n")).toBe(true);
    expect(await routeFromEgress(request("INVITE sip:+15550009999@egress.example SIP/2.0"), deps())).toMatchObject({ kind: "answer", error: { status: 404 } });
    expect(await routeFromEgress(request("INVITE sip:bob@egress.example SIP/2.0"), deps())).toMatchObject({ kind: "answer", error: { status: 404 } });
  });

  it("a legacy phone's request (X-Sipedge-Phone) goes to its user: REGISTER by To, the rest by From; never for another domain", async () => {
    const phone = "X-Sipedge-Phone: <sip:ph1.x.y@192.0.2.1:5060;transport=udp;lr>";
    const reg = parseMessage(request("REGISTER sip:example.com SIP/2.0", [phone]).toString().replace("To: <sip:+15550002222@egress.example>", "To: <sip:carol@example.com>")) as SipRequest;
    expect(await routeFromEgress(reg, deps())).toMatchObject({ kind: "user", aor: "carol@example.com" });
    const invite = parseMessage(request("INVITE sip:alice@example.com SIP/2.0", [phone]).toString().replace("sip:+15550001111@carrier.example", "sip:carol@example.com")) as SipRequest;
    expect(await routeFromEgress(invite, deps())).toMatchObject({ kind: "user", aor: "carol@example.com" });
    // From another domain: the DO of no user of ours may be asked to speak for it.
    expect(await routeFromEgress(request("INVITE sip:alice@example.com SIP/2.0", [phone]), deps())).toMatchObject({ kind: "answer", error: { status: 403 } });
  });

  it("an in-dialog request follows our flow token; a response follows the `ua` of its top Via", async () => {
    const token = encodeFlowToken({ aor: "bob@example.com", flowId: "f1" }, { sign: () => "0".repeat(32) });
    const bye = request("BYE sip:bob@b.invalid SIP/2.0", [`Route: <sip:${token}@example.com;transport=ws;lr>`]);
    expect(await routeFromEgress(bye, deps())).toMatchObject({ kind: "user", aor: "bob@example.com" });
    const res = parseMessage(
      ["SIP/2.0 200 OK", "Via: SIP/2.0/WSS example.com;branch=z9hG4bKx.y.0;ua=alice%40example.com", "From: <sip:a@example.com>;tag=1", "To: <sip:+1555@x>;tag=2", "Call-ID: c", "CSeq: 1 INVITE", "Content-Length: 0", "", ""].join("\r\n"),
    );
    expect(await routeFromEgress(res, deps())).toMatchObject({ kind: "user", aor: "alice@example.com" });
  });

  it("OPTIONS to the domain is answered; a carrier's REGISTER is refused (403)", async () => {
    expect(await routeFromEgress(request("OPTIONS sip:example.com SIP/2.0"), deps())).toEqual({ kind: "ok" });
    expect(await routeFromEgress(request("REGISTER sip:example.com SIP/2.0"), deps())).toMatchObject({ kind: "answer", error: { status: 403 } });
    expect(await routeFromEgress(request("MESSAGE sip:example.com SIP/2.0"), deps())).toMatchObject({ kind: "answer", error: { status: 405 } });
  });
});
