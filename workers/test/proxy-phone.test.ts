// A legacy phone registered through an egress is a flow of its user's DO
// (proxy/path-flow.ts; issue 5): the proxy core's view of it. The platform
// parts (the Route it preloads, the RPC to the EgressLink) are tested against
// workerd and the real egress in test/integration.
import { describe, expect, it } from "vitest";
import { base64urlEncode } from "../src/proxy/base64url.ts";
import { parsePathFlow, pathFlowId } from "../src/proxy/path-flow.ts";
import { SIP_BRANCH_ANSWER_HEADER, SIP_BRANCH_OFFER_HEADER } from "../src/proxy/proxy-media.ts";
import { ALICE, BOB, SDP, aliceAndBob, browserRequest, callerInDialog, invite, uacRouteSet } from "./proxy-world.ts";

/** The egress's phone-side entry for the phone (what media-node/egress writes in Path and Record-Route). */
const PHONE_ROUTE = "sip:ph1.VURQIDE5Mi4wLjIuOSA1MDYw.0123456789abcdef0123@192.0.2.1:5060;transport=udp;lr";
const PHONE_FLOW = pathFlowId({ linkId: "edge-eu-1", route: PHONE_ROUTE });

describe("proxy core: a legacy phone's flow", () => {
  it("names its egress and Path entry in its id, and is told apart from a WebSocket flow", () => {
    expect(parsePathFlow(PHONE_FLOW)).toEqual({ linkId: "edge-eu-1", route: PHONE_ROUTE });
    expect(parsePathFlow("f1k2j3h4g5")).toBeUndefined();
    expect(parsePathFlow("p@@@")).toBeUndefined();
  });

  it("a call to a user on a phone: the egress's entry after the user's token is taken as the phone's flow, so the BYE reaches it and ends the dialog", async () => {
    const { w, alice, bob, a1 } = aliceAndBob([]);
    const phone = bob.connect(PHONE_FLOW);
    await a1.send(invite({ callId: "ph1" }));
    const inv = phone.lastRequest("INVITE");
    // The egress Record-Routes on the phone side: its entry lands on top of the DOs' (what the phone copies into its 2xx).
    inv.prepend("Record-Route", `<${PHONE_ROUTE}>`);
    await phone.reply(inv, 200, { body: SDP });
    const ok = a1.lastResponse(200);
    expect(ok.getAll("Record-Route")[0]).toBe(`<${PHONE_ROUTE}>`);
    await a1.send(callerInDialog("ACK", ok, ok.cseq.seq));
    expect(phone.requests("ACK")).toHaveLength(1);
    expect(bob.core.listDialogs().map((d) => d.flowId)).toEqual([PHONE_FLOW]);

    // alice's route set ends with the egress's entry; bob's DO consumes it with its own token.
    expect(uacRouteSet(ok).at(-1)).toBe(`<${PHONE_ROUTE}>`);
    await a1.send(callerInDialog("BYE", ok, ok.cseq.seq + 1));
    const bye = phone.lastRequest("BYE");
    expect(bye.getAll("Route")).toEqual([]);
    await phone.reply(bye, 200);
    expect(a1.lastResponse(200).cseq.method).toBe("BYE");
    expect(bob.core.listDialogs()).toEqual([]);
    expect(alice.core.listDialogs()).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("a phone's in-dialog request passes without a challenge in its user's dialog; out of dialog it is challenged (407)", async () => {
    const { alice, bob } = aliceAndBob([]);
    alice.connect("a1");
    const phone = bob.connect(PHONE_FLOW);
    // bob's phone calls alice: challenged first.
    const request = (o: { cseq: number; branch: string; auth?: boolean; toTag?: string; routes?: string[]; method?: string }): string =>
      browserRequest({
        method: o.method ?? "INVITE",
        uri: `sip:${ALICE}`,
        from: BOB,
        fromTag: "ptag",
        to: ALICE,
        ...(o.toTag !== undefined ? { toTag: o.toTag } : {}),
        callId: "phone-call",
        cseq: o.cseq,
        branch: o.branch,
        host: "phone",
        ...(o.routes !== undefined ? { routes: o.routes } : {}),
        headers: o.auth === true ? [["Proxy-Authorization", 'Digest username="bob", realm="example.com", nonce="n0nce", uri="sip:alice@example.com", response="00"']] : [],
        ...(o.method === undefined ? { body: SDP } : {}),
      });
    await phone.send(request({ cseq: 1, branch: "z9hG4bKp1" }));
    expect(phone.lastResponse(407)).toBeDefined();
    await phone.send(request({ cseq: 2, branch: "z9hG4bKp2", auth: true }));
    const a1 = alice.flows.get("a1")!;
    const inv = a1.lastRequest("INVITE");
    await a1.reply(inv, 200, { body: SDP });
    const ok = phone.lastResponse(200);
    // The phone's BYE follows its route set (§12.1.2: the Record-Route reversed), with no credentials.
    phone.take();
    await phone.send(request({ method: "BYE", cseq: 3, branch: "z9hG4bKp3", toTag: ok.to.tag!, routes: uacRouteSet(ok) }));
    expect(phone.responses(407)).toEqual([]);
    await a1.reply(a1.lastRequest("BYE"), 200);
    expect(phone.lastResponse(200).cseq.method).toBe("BYE");
    expect(bob.core.listDialogs()).toEqual([]);
  });

  it("a user on a browser and a phone: an offer rings the browser only (one SDP cannot be WebRTC and plain RTP)", async () => {
    const { a1, b } = aliceAndBob(["b1"]);
    const phone = b[0]!.agent.connect(PHONE_FLOW);
    await a1.send(invite({ callId: "mixed" }));
    expect(b[0]!.requests("INVITE")).toHaveLength(1);
    expect(phone.requests("INVITE")).toEqual([]);
  });

  it("a user on a browser and a phone, called with the caller DO's plain-RTP offer (proxy-media.ts): the phone gets that offer as its body, the browser the WebRTC one; the phone's answer comes back marked", async () => {
    const { w, a1, b } = aliceAndBob(["b1"]);
    const phone = b[0]!.agent.connect(PHONE_FLOW);
    const sipSdp = SDP.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP").replace("127.0.0.1", "192.0.2.44");
    const answers: Array<{ status: number; fromPhone: boolean }> = [];
    // alice's DO as media/call-media.ts is for such a callee (pure fake: what it puts on the INVITE, what it sees back).
    w.media.set(ALICE, {
      offer: async (req) => {
        req.set(SIP_BRANCH_OFFER_HEADER, base64urlEncode(sipSdp));
        return true;
      },
      answer: async (res) => void answers.push({ status: res.status, fromPhone: res.has(SIP_BRANCH_ANSWER_HEADER) }),
      end: async () => {},
    });
    await a1.send(invite({ callId: "mixed-both" }));
    const toBrowser = b[0]!.lastRequest("INVITE");
    const toPhone = phone.lastRequest("INVITE");
    expect(toBrowser.body).toBe(SDP);
    expect(toPhone.body).toBe(sipSdp);
    expect(toPhone.get("Content-Type")).toBe("application/sdp");
    for (const r of [toBrowser, toPhone]) expect(r.has(SIP_BRANCH_OFFER_HEADER)).toBe(false);

    await b[0]!.reply(toBrowser, 183, { body: SDP, headers: [[SIP_BRANCH_ANSWER_HEADER, "1"]] }); // a socket cannot pass for a phone
    await phone.reply(toPhone, 200, { body: sipSdp });
    expect(answers).toEqual([
      { status: 183, fromPhone: false },
      { status: 200, fromPhone: true },
    ]);
    for (const r of a1.responses()) expect(r.has(SIP_BRANCH_ANSWER_HEADER)).toBe(false); // the marker ends at alice's DO
    expect(b[0]!.requests("CANCEL")).toHaveLength(1);
  });

  it("the phones' offer from a socket is removed: only a DO may hand one over, so the phone is not rung", async () => {
    const { a1, b } = aliceAndBob(["b1"]);
    const phone = b[0]!.agent.connect(PHONE_FLOW);
    await a1.send(invite({ callId: "mixed-forged", headers: [[SIP_BRANCH_OFFER_HEADER, base64urlEncode(SDP.replace("127.0.0.1", "203.0.113.9"))]] }));
    expect(b[0]!.lastRequest("INVITE").has(SIP_BRANCH_OFFER_HEADER)).toBe(false);
    expect(phone.requests("INVITE")).toEqual([]);
  });
});
