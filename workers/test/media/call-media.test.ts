// The media lifecycle (ARCHITECTURE.md "Who owns media") as pure logic: two
// simulated DOs' proxy cores (proxy-world.ts), each with a CallMedia over
// in-memory sessions and a fake ng channel that records every command and
// answers like rtpengine. The real rtpengine is exercised in
// test/integration (calls-libraries, media-calls, softphone).
import { describe, expect, it } from "vitest";
import type { CdrRecord } from "../../src/directory/cdrs.ts";
import { CallMedia, type AnswerKinds } from "../../src/media/call-media.ts";
import { pathFlowId } from "../../src/proxy/path-flow.ts";
import type { MediaNode } from "../../src/media/media-node-record.ts";
import { MemoryMediaSessionStore } from "../../src/media/media-session.ts";
import type { NgDict, NgReply } from "../../src/media/ng-client.ts";
import { NgError, NgTimeoutError } from "../../src/media/ng-errors.ts";
import { NoMediaNodeError } from "../../src/media/node-failover.ts";
import { ALICE, BOB, SDP, aliceAndBob, browserRequest, calleeInDialog, callerInDialog, establishCall, invite, type World } from "../proxy-world.ts";

const NODE: MediaNode = {
  id: "n1", region: "eu", publicAddress: "192.0.2.1", privateAddress: "10.0.0.1", ngUrl: "https://n1/ng",
  capacity: 100, sessions: 0, load: 0, state: "active", heartbeatAt: 0, expiresAt: 0,
};

interface Sent {
  url: string;
  command: string;
  dict: NgDict;
}

/** A CallMedia per DO of `w`, sharing one fake rtpengine. */
function withMedia(w: World, opts: { place?: "ok" | "none"; fail?: (command: string, dict: NgDict) => Error | undefined; answerKinds?: AnswerKinds } = {}) {
  const sent: Sent[] = [];
  const cdrs: CdrRecord[] = [];
  const sessions = new Map<string, MemoryMediaSessionStore>();
  const ng = (url: string) => ({
    async request(command: string, dict: NgDict): Promise<NgReply> {
      sent.push({ url, command, dict });
      const err = opts.fail?.(command, dict);
      if (err !== undefined) throw err;
      if (command === "delete") return { result: "ok", totals: { RTP: { packets: 42, bytes: 4200, errors: 0 }, RTCP: { packets: 3 } } };
      const branch = dict["via-branch"] === undefined ? "" : `:${String(dict["via-branch"])}`;
      return { result: "ok", sdp: `${SDP}a=rtpengine:${command}:${String(dict["from-tag"])}${branch}\r\n` };
    },
  });
  for (const aor of [ALICE, BOB]) {
    const store = new MemoryMediaSessionStore();
    sessions.set(aor, store);
    w.media.set(
      aor,
      new CallMedia({
        sessions: store,
        place: async (_loc, attempt) => {
          if (opts.place === "none") throw new NoMediaNodeError(7, [], [], "test: no node");
          return { node: NODE, value: await attempt(NODE), failures: [] };
        },
        ng,
        locationOf: () => undefined,
        ...(opts.answerKinds !== undefined ? { answerKinds: async () => opts.answerKinds! } : {}),
        cdrs: { put: async (r) => void cdrs.push(r) },
        now: () => w.now,
        log: () => undefined,
      }),
    );
  }
  const commands = (): string[] => sent.map((s) => s.command);
  return { sent, cdrs, sessions, commands };
}

describe("media lifecycle in the caller's DO", () => {
  it("offer on the INVITE, answer on the 200, both rewritten once; bob's DO holds no session", async () => {
    const world = aliceAndBob();
    const m = withMedia(world.w);
    const { inv, ok } = await establishCall(world);
    expect(m.commands()).toEqual(["offer", "answer"]);
    expect(m.sent[0]!.dict).toMatchObject({ "call-id": inv.callId, "from-tag": "atag", ICE: "force", "DTLS-reverse": "passive" });
    expect(m.sent[1]!.dict).toMatchObject({ "call-id": inv.callId, "from-tag": "atag", "to-tag": ok.to.tag! });
    expect(inv.body).toContain("a=rtpengine:offer:atag");
    expect(ok.body).toContain("a=rtpengine:answer:atag");
    expect(ok.body).not.toContain("a=rtpengine:offer");
    expect(m.sessions.get(ALICE)!.get(inv.callId)).toMatchObject({ nodeId: "n1", ngUrl: "https://n1/ng", toTag: ok.to.tag, caller: ALICE, callee: BOB });
    expect(m.sessions.get(BOB)!.list()).toEqual([]);
  });

  it("a BYE from the callee deletes the session on its node and writes the CDR", async () => {
    const world = aliceAndBob();
    const m = withMedia(world.w);
    const { inv, ok, answered } = await establishCall(world);
    world.w.now += 65_000;
    await answered.send(calleeInDialog("BYE", inv, ok, 1));
    expect(m.commands()).toEqual(["offer", "answer", "delete"]);
    expect(m.sent[2]).toMatchObject({ url: "https://n1/ng", dict: { "call-id": inv.callId, "from-tag": "atag", "delete-delay": 0 } });
    expect(m.cdrs).toHaveLength(1);
    expect(m.cdrs[0]).toMatchObject({ call_id: inv.callId, caller: ALICE, callee: BOB, end_reason: "bye", ended_by: "callee", duration_s: 65, media_node: "n1", rtp_packets: 42, rtcp_packets: 3 });
    expect(m.sessions.get(ALICE)!.list()).toEqual([]);
    // The BYE's 200 and a second end (the caller's socket closing) find nothing more to delete.
    await world.alice.close("a1");
    expect(m.commands()).toEqual(["offer", "answer", "delete"]);
  });

  it("a re-INVITE from the callee (hold) is a new offer with the callee's tag, its 200 a new answer", async () => {
    const world = aliceAndBob();
    const m = withMedia(world.w);
    const { inv, ok, answered } = await establishCall(world);
    await answered.send(calleeInDialog("INVITE", inv, ok, 2).replace("Content-Length: 0\r\n\r\n", `Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`));
    const reinvite = world.a1.lastRequest("INVITE");
    expect(reinvite.body).toContain(`a=rtpengine:offer:${ok.to.tag}`);
    await world.a1.reply(reinvite, 200, { toTag: "atag", body: SDP });
    expect(m.commands()).toEqual(["offer", "answer", "offer", "answer"]);
    expect(m.sent[2]!.dict).toMatchObject({ "from-tag": ok.to.tag!, "to-tag": "atag" });
    expect(m.sent[3]!.dict).toMatchObject({ "from-tag": ok.to.tag!, "to-tag": "atag" });
    expect(answered.lastResponse(200).body).toContain(`a=rtpengine:answer:${ok.to.tag}`);
  });

  describe("a callee on a browser and a legacy phone (one offer per kind, rtpengine via-branch)", () => {
    const PHONE = pathFlowId({ linkId: "edge-eu-1", route: "sip:ph1.x.0123456789abcdef0123@192.0.2.1:5060;transport=udp;lr" });
    const kinds = { browsers: true, phones: true };

    it("both ring, each with its own offer; the phone answers: answered as the SIP branch, and the call is browser → SIP from then on", async () => {
      const world = aliceAndBob(["b1"]);
      const phone = world.bob.connect(PHONE);
      const m = withMedia(world.w, { answerKinds: kinds });
      await world.a1.send(invite({ callId: "fork-phone" }));
      expect(m.commands()).toEqual(["offer", "offer"]);
      expect(m.sent[0]!.dict).toMatchObject({ "via-branch": "sipedge-webrtc", "transport-protocol": "UDP/TLS/RTP/SAVPF" });
      expect(m.sent[1]!.dict).toMatchObject({ "via-branch": "sipedge-sip", "transport-protocol": "RTP/AVP", "from-tag": "atag" });
      expect(world.b[0]!.lastRequest("INVITE").body).toContain("a=rtpengine:offer:atag:sipedge-webrtc");
      const toPhone = phone.lastRequest("INVITE");
      expect(toPhone.body).toContain("a=rtpengine:offer:atag:sipedge-sip");
      expect(toPhone.has("X-Sipedge-Sip-Offer")).toBe(false);

      await world.b[0]!.reply(world.b[0]!.lastRequest("INVITE"), 180); // ringing: a branch can be cancelled (§9.1)
      await phone.reply(toPhone, 200, { body: SDP });
      const ok = world.a1.lastResponse(200);
      expect(m.sent[2]).toMatchObject({ command: "answer", dict: { "via-branch": "sipedge-sip", "to-tag": ok.to.tag!, "rtcp-mux": expect.anything() } });
      expect(ok.body).toContain("a=rtpengine:answer:atag:sipedge-sip");
      expect(ok.has("X-Sipedge-Sip-Answer")).toBe(false);
      expect(m.sessions.get(ALICE)!.get("fork-phone")).toMatchObject({ leg: "browser-to-sip", toTag: ok.to.tag });
      expect(m.sessions.get(ALICE)!.get("fork-phone")!.fork).toBeUndefined();
      expect(world.b[0]!.requests("CANCEL")).toHaveLength(1);

      // A re-INVITE from alice (hold) is offered as browser → SIP, without a via-branch (the to-tag names the branch now).
      await world.a1.send(callerInDialog("INVITE", ok, 3).replace("Content-Length: 0\r\n\r\n", `Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`));
      expect(m.sent[3]).toMatchObject({ command: "offer", dict: { "transport-protocol": "RTP/AVP", "to-tag": ok.to.tag! } });
      expect(m.sent[3]!.dict["via-branch"]).toBeUndefined();
    });

    it("the browser answers: answered as the WebRTC branch, the phone is cancelled", async () => {
      const world = aliceAndBob(["b1"]);
      const phone = world.bob.connect(PHONE);
      const m = withMedia(world.w, { answerKinds: kinds });
      await world.a1.send(invite({ callId: "fork-browser" }));
      await phone.reply(phone.lastRequest("INVITE"), 180);
      await world.b[0]!.reply(world.b[0]!.lastRequest("INVITE"), 200, { body: SDP });
      expect(m.sent[2]).toMatchObject({ command: "answer", dict: { "via-branch": "sipedge-webrtc", "transport-protocol": "UDP/TLS/RTP/SAVPF" } });
      expect(m.sessions.get(ALICE)!.get("fork-browser")).toMatchObject({ leg: "browser-to-browser" });
      expect(phone.requests("CANCEL")).toHaveLength(1);
    });

    it("a carrier's call (anchored by the callee's DO): the tab gets WebRTC, the phone a SIP → SIP offer; the phone's answer is answered as that leg and reaches the carrier unmarked", async () => {
      const world = aliceAndBob(["b1"]);
      const phone = world.bob.connect(PHONE);
      const m = withMedia(world.w, { answerKinds: kinds });
      const carrierInvite = browserRequest({ method: "INVITE", uri: `sip:${BOB}`, from: "+15550001111@carrier.example", fromTag: "ctag", to: BOB, callId: "fork-carrier", cseq: 1, branch: "z9hG4bKcarrier1", host: "egress", body: SDP });
      await world.bob.core.onUserMessage("egress:edge-eu-1", carrierInvite);
      expect(m.sent.map((x) => [x.command, x.dict["via-branch"], x.dict["transport-protocol"]])).toEqual([
        ["offer", "sipedge-webrtc", "UDP/TLS/RTP/SAVPF"],
        ["offer", "sipedge-sip", "RTP/AVP"],
      ]);
      expect(world.b[0]!.lastRequest("INVITE").body).toContain("a=rtpengine:offer:ctag:sipedge-webrtc");
      const toPhone = phone.lastRequest("INVITE");
      expect(toPhone.body).toContain("a=rtpengine:offer:ctag:sipedge-sip");
      await phone.reply(toPhone, 200, { body: SDP });
      expect(m.sent[2]).toMatchObject({ command: "answer", dict: { "via-branch": "sipedge-sip", "transport-protocol": "RTP/AVP", "from-tag": "ctag" } });
      expect(m.sessions.get(BOB)!.get("fork-carrier")).toMatchObject({ leg: "sip-to-sip" });
      const toCarrier = world.w.user("egress:edge-eu-1").rpcIn.map((t) => t.split("\r\n")[0]!);
      expect(toCarrier).toContain("SIP/2.0 200 OK");
      for (const text of world.w.user("egress:edge-eu-1").rpcIn) expect(text).not.toContain("X-Sipedge-Sip-Answer");
    });

    it("a phone's call (anchored by the caller's DO): the callee's phone gets a SIP → SIP offer", async () => {
      const world = aliceAndBob(["b1"]);
      world.bob.connect(PHONE);
      const callerPhone = world.alice.connect(pathFlowId({ linkId: "edge-eu-1", route: "sip:ph1.y.0123456789abcdef0123@192.0.2.1:5060;transport=udp;lr" }));
      const m = withMedia(world.w, { answerKinds: kinds });
      await callerPhone.send(invite({ callId: "fork-from-phone" }));
      expect(m.sent.map((x) => [x.command, x.dict["via-branch"], x.dict["transport-protocol"]])).toEqual([
        ["offer", "sipedge-webrtc", "UDP/TLS/RTP/SAVPF"],
        ["offer", "sipedge-sip", "RTP/AVP"],
      ]);
      expect(world.bob.flows.get(PHONE)!.lastRequest("INVITE").body).toContain("a=rtpengine:offer:atag:sipedge-sip");
    });

    it("rtpengine refusing the phones' offer: only the browser rings, answered under the browsers' via-branch", async () => {
      const world = aliceAndBob(["b1"]);
      const phone = world.bob.connect(PHONE);
      const m = withMedia(world.w, { answerKinds: kinds, fail: (command, dict) => (command === "offer" && dict["via-branch"] === "sipedge-sip" ? new NgError("offer", "rtpengine: Unsupported") : undefined) });
      await world.a1.send(invite({ callId: "fork-refused" }));
      expect(phone.requests("INVITE")).toEqual([]);
      await world.b[0]!.reply(world.b[0]!.lastRequest("INVITE"), 200, { body: SDP });
      expect(m.sent[2]).toMatchObject({ command: "answer", dict: { "via-branch": "sipedge-webrtc" } });
    });
  });

  it("a re-INVITE from the caller is re-offered on the same node", async () => {
    const world = aliceAndBob();
    const m = withMedia(world.w);
    const { ok, answered } = await establishCall(world);
    await world.a1.send(callerInDialog("INVITE", ok, 3).replace("Content-Length: 0\r\n\r\n", `Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`));
    expect(answered.lastRequest("INVITE").body).toContain("a=rtpengine:offer:atag");
    expect(m.sent[2]).toMatchObject({ url: "https://n1/ng", command: "offer", dict: { "from-tag": "atag", "to-tag": ok.to.tag! } });
  });

  it("a rejected call (486) and a cancelled one (487) are deleted, with the status in the CDR", async () => {
    const world = aliceAndBob();
    const m = withMedia(world.w);
    await world.a1.send(invite({ callId: "rejected" }));
    const b1 = world.b[0]!;
    await b1.reply(b1.lastRequest("INVITE"), 486);
    expect(world.a1.lastResponse(486)).toBeDefined();
    expect(m.commands()).toEqual(["offer", "delete"]);
    expect(m.cdrs[0]).toMatchObject({ call_id: "rejected", end_reason: "rejected", status: 486, duration_s: 0 });
    expect(m.cdrs[0]!.answered_at).toBeUndefined();

    await world.a1.send(invite({ callId: "cancelled", branch: "z9hG4bKcancelme" }));
    await b1.reply(b1.lastRequest("INVITE"), 180);
    await world.a1.send(
      ["CANCEL sip:bob@example.com SIP/2.0", "Via: SIP/2.0/WSS ahost.invalid;branch=z9hG4bKcancelme", "Max-Forwards: 69", "To: <sip:bob@example.com>", "From: <sip:alice@example.com>;tag=atag", "Call-ID: cancelled", "CSeq: 2 CANCEL", "Content-Length: 0", "", ""].join("\r\n"),
    );
    await b1.reply(b1.lastRequest("INVITE"), 487);
    expect(m.commands().slice(2)).toEqual(["offer", "delete"]);
    expect(m.cdrs[1]).toMatchObject({ call_id: "cancelled", status: 487 });
  });

  it("the caller's socket closing mid-call deletes the session", async () => {
    const world = aliceAndBob();
    const m = withMedia(world.w);
    await establishCall(world);
    await world.alice.close("a1");
    expect(m.commands()).toEqual(["offer", "answer", "delete"]);
    expect(m.cdrs[0]).toMatchObject({ end_reason: "flow-closed" });
  });

  it("no media node: 503 with Retry-After to the caller, nothing reaches the callee", async () => {
    const world = aliceAndBob();
    withMedia(world.w, { place: "none" });
    await world.a1.send(invite());
    const res = world.a1.lastResponse(503);
    expect(res.get("Retry-After")).toBe("7");
    expect(world.bob.rpcIn).toEqual([]);
  });

  it("rtpengine refusing the SDP is 488; a node failing mid-call makes the re-INVITE 503 and the call goes on", async () => {
    const refused = aliceAndBob();
    withMedia(refused.w, { fail: (c) => (c === "offer" ? new NgError("offer", "rtpengine: Failed to parse SDP") : undefined) });
    await refused.a1.send(invite());
    expect(refused.a1.lastResponse(488)).toBeDefined();

    const world = aliceAndBob();
    let down = false;
    const m = withMedia(world.w, { fail: (c) => (down && c === "offer" ? new NgTimeoutError("offer", "no answer") : undefined) });
    const { ok, answered } = await establishCall(world);
    down = true;
    await world.a1.send(callerInDialog("INVITE", ok, 3).replace("Content-Length: 0\r\n\r\n", `Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`));
    expect(world.a1.lastResponse(503).get("Retry-After")).toBe("5");
    expect(answered.requests("INVITE")).toHaveLength(1);
    down = false;
    await world.a1.send(callerInDialog("BYE", ok, 4));
    expect(m.commands().at(-1)).toBe("delete");
  });

  it("a user calling herself is anchored once, not once per pass through her DO", async () => {
    const { w, alice, a1 } = aliceAndBob();
    const m = withMedia(w);
    const a2 = alice.connect("a2");
    await a1.send(invite({ to: ALICE }));
    const inv = a2.lastRequest("INVITE");
    await a2.reply(inv, 200, { body: SDP });
    expect(m.commands()).toEqual(["offer", "answer"]);
    expect(a1.lastResponse(200).body).toContain("a=rtpengine:answer:atag");
  });
});
