// Dialogs kept by both DOs (RFC 3261 §12): routing after hibernation, BYE when
// a socket closes (PITFALLS 13), RFC 4028 session timers (PITFALLS 19).
import { describe, expect, it } from "vitest";
import { createResponse } from "sip-parser-ts";
import {
  ALICE,
  BOB,
  SDP,
  aliceAndBob,
  browserRequest,
  callerInDialog,
  calleeInDialog,
  establishCall,
  invite,
} from "./proxy-world.ts";

describe("proxy core: dialogs", () => {
  it("bob's socket closes during the call: alice gets a BYE through her DO, both DOs forget the dialog", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    a1.take();
    await bob.close("b1");
    const bye = a1.lastRequest("BYE");
    expect(bye.requestUri).toBe("sip:ahost@ahost.invalid;transport=ws;ob");
    expect(bye.from.tag).toBe(ok.to.tag); // on behalf of bob
    expect(bye.to.tag).toBe("atag");
    expect(bye.callId).toBe(ok.callId);
    expect(bye.cseq).toEqual({ seq: 1, method: "BYE" });
    expect(bye.get("Reason")).toContain("cause=480");
    expect(bye.getAll("Route")).toEqual([]);
    expect(bye.getAll("Via")).toHaveLength(2); // bob's DO (originated it) and alice's DO
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
    await a1.reply(bye, 200);
    expect(w.events("local-request-answered").map((e) => e.aor)).toEqual([BOB]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("alice's socket closes during the call: bob's socket gets the BYE, in CSeq order after alice's requests", async () => {
    const { a1, b, alice, bob } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    await a1.send(callerInDialog("INFO", ok, 7, [["Content-Type", "application/dtmf-relay"]]));
    await b[0]!.reply(b[0]!.lastRequest("INFO"), 200);
    await alice.close("a1");
    const bye = b[0]!.lastRequest("BYE");
    expect(bye.requestUri).toBe("sip:b1@b1.invalid;transport=ws;ob");
    expect(bye.from.tag).toBe("atag");
    expect(bye.cseq.seq).toBe(8);
    expect(bye.getAll("Route")).toEqual([]);
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
    await b[0]!.reply(bye, 200);
  });

  it("a restart loses every socket but not the dialog (flowLost); the devices come back on new flows and the BYE reaches the new one", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    // The process restarts: sockets gone, fresh ProxyCores over the same stores.
    a1.open = false;
    b[0]!.open = false;
    alice.hibernate();
    bob.hibernate();
    await alice.core.flowLost("a1");
    await bob.core.flowLost("b1");
    expect(alice.core.listDialogs()).toHaveLength(1);
    expect(bob.core.listDialogs()).toHaveLength(1);
    expect(new Set(alice.core.flowsInUse())).toEqual(new Set(["a1"]));
    // Both devices register again on new sockets; the host hands the lost flows to them.
    const a2 = alice.connect("a2");
    const b2 = bob.connect("b2");
    alice.successors.set("a1", "a2");
    bob.successors.set("b1", "b2");
    await a2.send(callerInDialog("BYE", ok, 3));
    const bye = b2.lastRequest("BYE");
    expect(bye.callId).toBe(ok.callId);
    await b2.reply(bye, 200);
    expect(a2.lastResponse(200).cseq.method).toBe("BYE");
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("flowLost fails what rings on the lost flow (480 to the caller) but ends no dialog", async () => {
    const { a1, b, bob } = aliceAndBob();
    await a1.send(invite({ callId: "ringing" }));
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    b[0]!.open = false;
    bob.hibernate();
    await bob.core.flowLost("b1");
    expect(a1.lastResponse().status).toBe(480);
    expect(b[0]!.requests("BYE")).toEqual([]);
  });

  it("hibernation: both ProxyCores are dropped between every message, and the call still completes and the BYE routes", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob(["b1", "b2"]);
    const sleep = () => {
      alice.hibernate();
      bob.hibernate();
    };
    await a1.send(invite({ callId: "hib" }));
    sleep();
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    sleep();
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 180);
    sleep();
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 200, { body: SDP });
    sleep();
    const cancel = b[0]!.lastRequest("CANCEL");
    await b[0]!.reply(cancel, 200);
    sleep();
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 487);
    sleep();
    const ok = a1.lastResponse(200);
    expect(ok.to.tag).toBe("tag-b2");
    await a1.send(callerInDialog("ACK", ok, 2));
    expect(b[1]!.requests("ACK")).toHaveLength(1);
    sleep();
    await w.advance(60_000); // timers fire on fresh instances too
    sleep();
    await a1.send(callerInDialog("BYE", ok, 3));
    sleep();
    await b[1]!.reply(b[1]!.lastRequest("BYE"), 200);
    expect(a1.responses(200).filter((r) => r.cseq.method === "BYE")).toHaveLength(1);
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("hibernation mid-ring: the caller's CANCEL still finds the INVITE", async () => {
    const { a1, b, alice, bob } = aliceAndBob();
    const inv = invite({ callId: "hib2", branch: "z9hG4bKhib2" });
    await a1.send(inv);
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    alice.hibernate();
    bob.hibernate();
    await a1.send(browserRequest({ method: "CANCEL", uri: `sip:${BOB}`, from: ALICE, fromTag: "atag", to: BOB, callId: "hib2", cseq: 2, branch: "z9hG4bKhib2", host: "ahost" }));
    alice.hibernate();
    bob.hibernate();
    await b[0]!.reply(b[0]!.lastRequest("CANCEL"), 200);
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 487);
    expect(a1.lastResponse(487).cseq.method).toBe("INVITE");
  });

  it("the callee's re-INVITE reaches alice's socket and refreshes the dialog", async () => {
    const { a1, b, alice } = aliceAndBob();
    const { inv, ok } = await establishCall({ a1, b });
    await b[0]!.send(calleeInDialog("INVITE", inv, ok, 1));
    const reinvite = a1.lastRequest("INVITE");
    expect(reinvite.getAll("Route")).toEqual([]);
    expect(reinvite.maxForwards).toBe(67);
    expect(b[0]!.responses(100)).toHaveLength(1); // bob's DO answers its own socket's INVITE with 100
    await a1.reply(reinvite, 200, { body: SDP });
    expect(b[0]!.lastResponse(200).cseq.method).toBe("INVITE");
    expect(alice.store.listDialogs()[0]!.callee.cseq).toBe(1);
  });

  it("422 with Min-SE: 90 for Session-Expires below 90 from a UA that supports timers (PITFALLS 19)", async () => {
    const { a1, bob } = aliceAndBob();
    await a1.send(invite({ headers: [["Session-Expires", "60"]] }));
    const res = a1.lastResponse(422);
    expect(res.get("Min-SE")).toBe("90");
    expect(bob.rpcIn).toHaveLength(0);
  });

  it("a UA that does not support timers gets its Session-Expires raised instead (RFC 4028 §8.1)", async () => {
    const { a1, b } = aliceAndBob();
    const text = invite({ headers: [["Session-Expires", "60;refresher=uac"]] }).replace("Supported: timer,ice,replaces,outbound\r\n", "");
    await a1.send(text);
    const inv = b[0]!.lastRequest("INVITE");
    expect(inv.get("Session-Expires")).toBe("90;refresher=uac");
    expect(inv.get("Min-SE")).toBe("90");
  });

  it("session timer: no refresh within Session-Expires ends the call with BYE both ways", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob();
    const { ok } = await establishCall({ a1, b }, { okHeaders: [["Session-Expires", "90;refresher=uac"], ["Require", "timer"]] });
    expect(alice.core.listDialogs()[0]!.sessionExpires).toBe(90);
    a1.take();
    b[0]!.take();
    await w.advance(89_000);
    expect(a1.requests("BYE")).toHaveLength(0);
    await w.advance(5_000);
    const toAlice = a1.lastRequest("BYE");
    const toBob = b[0]!.lastRequest("BYE");
    expect(toAlice.get("Reason")).toContain("Session expired");
    expect(toAlice.from.tag).toBe(ok.to.tag);
    expect(toBob.from.tag).toBe("atag");
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
    await a1.reply(toAlice, 200);
    await b[0]!.reply(toBob, 200);
    await w.advance(60_000); // alice's DO's own (later) timer finds nothing to do
    expect(a1.requests("BYE")).toHaveLength(1);
    expect(b[0]!.requests("BYE")).toHaveLength(1);
    expect([...alice.timers.keys(), ...bob.timers.keys()]).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("session timer: an UPDATE refresh moves the expiry", async () => {
    const { w, a1, b, alice } = aliceAndBob();
    const { ok } = await establishCall({ a1, b }, { okHeaders: [["Session-Expires", "90;refresher=uac"], ["Require", "timer"]] });
    await w.advance(45_000);
    await a1.send(callerInDialog("UPDATE", ok, 3, [["Session-Expires", "90;refresher=uac"]]));
    await b[0]!.reply(b[0]!.lastRequest("UPDATE"), 200, { headers: [["Session-Expires", "90;refresher=uac"], ["Require", "timer"]] });
    expect(a1.responses(200).filter((r) => r.cseq.method === "UPDATE")).toHaveLength(1);
    await w.advance(60_000); // 105 s after the start, 60 s after the refresh
    expect(a1.requests("BYE")).toHaveLength(0);
    expect(alice.core.listDialogs()).toHaveLength(1);
    await w.advance(40_000);
    expect(a1.requests("BYE")).toHaveLength(1);
  });

  it("an UPDATE with a too-small Session-Expires is refused 422 too", async () => {
    const { a1, b } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    await a1.send(callerInDialog("UPDATE", ok, 3, [["Session-Expires", "30"]]));
    expect(a1.lastResponse(422).get("Min-SE")).toBe("90");
    expect(b[0]!.requests("UPDATE")).toHaveLength(0);
  });

  it("the dialog's maximum lifetime ends a call that never ends itself", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob();
    w.config = { maxDialogLifetimeMs: 3_600_000 };
    alice.hibernate();
    bob.hibernate();
    await establishCall({ a1, b });
    await w.advance(3_600_000 + 10_000);
    expect(a1.lastRequest("BYE").get("Reason")).toContain("Maximum call duration");
    expect(b[0]!.lastRequest("BYE").get("Reason")).toContain("Maximum call duration");
  });

  it("481 to an in-dialog request ends the dialog (§12.2.1.2)", async () => {
    const { a1, b, alice, bob } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    await a1.send(callerInDialog("INFO", ok, 4));
    await b[0]!.reply(b[0]!.lastRequest("INFO"), 481);
    expect(a1.lastResponse(481).cseq.method).toBe("INFO");
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
  });

  it("listDialogs gives the admin API's view", async () => {
    const { w, a1, b, bob } = aliceAndBob();
    await establishCall({ a1, b }, { okHeaders: [["Session-Expires", "1800;refresher=uas"]] });
    expect(bob.core.listDialogs()).toEqual([
      {
        callId: expect.any(String),
        side: "callee",
        caller: ALICE,
        callee: BOB,
        flowId: "b1",
        createdAt: w.now,
        lastActivityAt: w.now,
        sessionExpires: 1800,
        expiresAt: w.now + 1_800_000,
      },
    ]);
  });

  it("a user calls herself from one tab: her other tab rings, not the calling one", async () => {
    const { w, a1, alice } = aliceAndBob();
    const a2 = alice.connect("a2");
    await a1.send(invite({ to: ALICE, callId: "self" }));
    expect(a1.requests("INVITE")).toHaveLength(0);
    const inv = a2.lastRequest("INVITE");
    expect(inv.getAll("Via")).toHaveLength(3);
    expect(inv.getAll("Record-Route")).toHaveLength(2);
    await a2.reply(inv, 200, { body: SDP });
    const ok = a1.lastResponse(200);
    expect(ok.getAll("Via")).toHaveLength(1);
    expect(alice.core.listDialogs().map((d) => `${d.side}:${d.flowId}`).sort()).toEqual(["callee:a2", "caller:a1"]);
    const ack = browserRequest({ method: "ACK", uri: ok.contacts === "*" ? "" : ok.contacts[0]!.uri.toString(), from: ALICE, fromTag: "atag", to: ALICE, toTag: ok.to.tag!, callId: "self", cseq: 2, branch: "z9hG4bKselfack", host: "ahost", routes: ok.getAll("Record-Route").reverse() });
    await a1.send(ack);
    expect(a2.requests("ACK")).toHaveLength(1);
    await alice.close("a2");
    const bye = a1.lastRequest("BYE");
    expect(bye.from.tag).toBe("tag-a2");
    expect(alice.core.listDialogs()).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("a response from a hop its branch did not go to is dropped (no injection into another user's socket)", async () => {
    const { w, a1, b, alice } = aliceAndBob();
    await a1.send(invite({ callId: "inject" }));
    const inv = b[0]!.lastRequest("INVITE");
    // carol's DO forges the 200 bob's DO would send to alice's DO (alice's DO's Via on top, right branch).
    const res = createResponse(inv, 200, "OK", { toTag: "evil", body: SDP, contentType: "application/sdp" });
    res.removeFirst("Via");
    await alice.core.onUserMessage("carol@example.com", res.toString());
    expect(a1.responses(200)).toHaveLength(0);
    expect(w.events("response-without-transaction").map((e) => e.aor)).toEqual([ALICE]);
    expect(alice.core.listDialogs()).toEqual([]);
  });
});
