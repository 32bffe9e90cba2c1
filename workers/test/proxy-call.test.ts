// alice calls bob through two UserAgent DOs' proxy cores (RFC 3261 §16):
// the headers on every hop, and each way a call is refused.
import { describe, expect, it } from "vitest";
import { parseNameAddr, SipUri } from "sip-parser-ts";
import { peekFlowToken } from "../src/proxy/flow-token.ts";
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

function tokenOf(rr: string): { aor: string; flowId: string } | undefined {
  const uri = parseNameAddr(rr).uri as SipUri;
  return peekFlowToken(uri.user!);
}

describe("proxy core: browser to browser call", () => {
  it("INVITE/407/ACK/INVITE/100/180/200/ACK/BYE/200 with the exact headers on each hop", async () => {
    const { w, alice, bob, a1, b } = aliceAndBob();
    const b1 = b[0]!;

    // 1. INVITE without credentials: 407 from alice's DO, nothing reaches bob.
    await a1.send(
      browserRequest({ method: "INVITE", uri: `sip:${BOB}`, from: ALICE, fromTag: "atag", to: BOB, callId: "c1", cseq: 1, branch: "z9hG4bK407", host: "ahost", body: SDP }),
    );
    const challenge = a1.lastResponse(407);
    expect(challenge.get("Proxy-Authenticate")).toContain('realm="example.com"');
    expect(challenge.getAll("Via")).toEqual(["SIP/2.0/WSS ahost.invalid;branch=z9hG4bK407"]);
    expect(challenge.to.tag).toBeDefined();
    expect(bob.rpcIn).toHaveLength(0);
    // The ACK for the 407 is hop by hop: absorbed by alice's DO.
    await a1.send(
      browserRequest({ method: "ACK", uri: `sip:${BOB}`, from: ALICE, fromTag: "atag", to: BOB, toTag: challenge.to.tag!, callId: "c1", cseq: 1, branch: "z9hG4bK407", host: "ahost" }),
    );
    expect(bob.rpcIn).toHaveLength(0);
    a1.take();

    // 2. INVITE with credentials: 100 to alice, INVITE to bob's flow.
    await a1.send(
      browserRequest({
        method: "INVITE", uri: `sip:${BOB}`, from: ALICE, fromTag: "atag", to: BOB, callId: "c1", cseq: 2, branch: "z9hG4bKauth", host: "ahost",
        headers: [["Proxy-Authorization", 'Digest username="alice", realm="example.com", nonce="n0nce", uri="sip:bob@example.com", response="00"']],
        body: SDP,
      }),
    );
    const trying = a1.lastResponse(100);
    expect(trying.getAll("Via")).toEqual(["SIP/2.0/WSS ahost.invalid;branch=z9hG4bKauth"]);

    // The DO-to-DO hop: alice's Via on top, alice's Record-Route, Max-Forwards 68, no credentials.
    expect(bob.rpcIn).toHaveLength(1);
    const hop = bob.rpcIn[0]!;
    expect(hop.startsWith(`INVITE sip:${BOB} SIP/2.0\r\n`)).toBe(true);
    expect(hop).not.toContain("Proxy-Authorization");

    const inv = b1.lastRequest("INVITE");
    expect(inv.requestUri).toBe("sip:b1@b1.invalid;transport=ws;ob"); // §16.6 item 2: the binding's Contact
    const vias = inv.getAll("Via");
    expect(vias).toHaveLength(3);
    expect(vias[0]).toMatch(/^SIP\/2\.0\/WSS example\.com;branch=z9hG4bK[0-9a-f]{8}\.\w+\.0;ua=bob%40example\.com$/);
    expect(vias[1]).toMatch(/^SIP\/2\.0\/WSS example\.com;branch=z9hG4bK[0-9a-f]{8}\.\w+\.0;ua=alice%40example\.com$/);
    expect(vias[2]).toBe("SIP/2.0/WSS ahost.invalid;branch=z9hG4bKauth");
    expect(inv.maxForwards).toBe(67); // 69 from JsSIP, one per DO
    const rr = inv.getAll("Record-Route");
    expect(rr).toHaveLength(2);
    for (const r of rr) expect(r).toMatch(/^<sip:[A-Za-z0-9_-]+\.[0-9a-f]{32}@example\.com;transport=ws;lr>$/);
    expect(tokenOf(rr[0]!)).toEqual({ aor: BOB, flowId: "b1" });
    expect(tokenOf(rr[1]!)).toEqual({ aor: ALICE, flowId: "a1" });
    expect(inv.get("Proxy-Authorization")).toBeUndefined();
    expect(inv.body).toBe(SDP);
    expect(inv.from.tag).toBe("atag");
    expect(inv.callId).toBe("c1");

    // 3. 180 and 200 travel back by Via: each DO pops its own.
    await b1.reply(inv, 180);
    const ringing = a1.lastResponse(180);
    expect(ringing.getAll("Via")).toEqual(["SIP/2.0/WSS ahost.invalid;branch=z9hG4bKauth"]);
    expect(ringing.getAll("Record-Route")).toEqual(rr);
    await b1.reply(inv, 200, { body: SDP });
    const ok = a1.lastResponse(200);
    expect(ok.getAll("Via")).toEqual(["SIP/2.0/WSS ahost.invalid;branch=z9hG4bKauth"]);
    expect(ok.to.tag).toBe("tag-b1");
    expect(ok.body).toBe(SDP);
    expect(a1.responses(100)).toHaveLength(1); // bob's DO sends no 100 over the DO hop; only alice's DO's own

    // Both DOs hold the dialog. Alice's DO keeps the INVITE for Timer M (RFC 6026): bob's DO may send more 2xx from other forks.
    expect(alice.core.listDialogs()).toEqual([expect.objectContaining({ callId: "c1", side: "caller", caller: ALICE, callee: BOB, flowId: "a1" })]);
    expect(bob.core.listDialogs()).toEqual([expect.objectContaining({ callId: "c1", side: "callee", flowId: "b1" })]);
    expect(alice.store.listTransactions().map((t) => t.branches.map((b) => b.state))).toEqual([["accepted"]]);
    expect(bob.store.listTransactions()).toEqual([]);

    // 4. ACK for the 2xx follows the route set (§12.1.2: reversed Record-Route).
    await a1.send(callerInDialog("ACK", ok, 2, [], "z9hG4bKack"));
    const ack = b1.lastRequest("ACK");
    expect(ack.requestUri).toBe("sip:b1@b1.invalid;transport=ws;ob");
    expect(ack.getAll("Route")).toEqual([]); // both DOs consumed their Route (§16.4)
    expect(ack.getAll("Via")).toHaveLength(3);
    expect(ack.getAll("Via")[2]).toBe("SIP/2.0/WSS ahost.invalid;branch=z9hG4bKack");
    expect(ack.maxForwards).toBe(67);

    // 5. BYE from alice, 200 from bob.
    await a1.send(callerInDialog("BYE", ok, 3));
    const bye = b1.lastRequest("BYE");
    expect(bye.getAll("Route")).toEqual([]);
    expect(bye.getAll("Via")).toHaveLength(3);
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
    await b1.reply(bye, 200);
    const byeOk = a1.lastResponse(200);
    expect(byeOk.cseq.method).toBe("BYE");
    expect(byeOk.getAll("Via")).toHaveLength(1);

    await w.advance(32_000); // Timer M
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
    expect([...alice.timers.keys(), ...bob.timers.keys()]).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("the callee hangs up: BYE follows the callee's route set back to alice's socket", async () => {
    const { alice, bob, a1, b } = aliceAndBob();
    const { inv, ok } = await establishCall({ a1, b });
    a1.take();
    await b[0]!.send(calleeInDialog("BYE", inv, ok, 1));
    const bye = a1.lastRequest("BYE");
    expect(bye.requestUri).toBe("sip:ahost@ahost.invalid;transport=ws;ob"); // never resolved: delivered by flow token
    expect(bye.getAll("Route")).toEqual([]);
    expect(bye.getAll("Via")).toHaveLength(3);
    expect(alice.core.listDialogs()).toEqual([]);
    expect(bob.core.listDialogs()).toEqual([]);
    await a1.reply(bye, 200);
    expect(b[0]!.lastResponse(200).cseq.method).toBe("BYE");
  });

  it("486 Busy Here is passed through, ACKed to the callee's socket, and ACK from alice is absorbed", async () => {
    const { alice, bob, a1, b } = aliceAndBob();
    await a1.send(invite({ branch: "z9hG4bKbusy" }));
    const inv = b[0]!.lastRequest("INVITE");
    await b[0]!.reply(inv, 486);
    const busy = a1.lastResponse(486);
    expect(busy.getAll("Via")).toEqual(["SIP/2.0/WSS ahost.invalid;branch=z9hG4bKbusy"]);
    // §17.1.1.3: bob's DO's client transaction ACKs the 486 on bob's socket, same branch as its INVITE.
    const ack = b[0]!.lastRequest("ACK");
    expect(ack.topVia.branch).toBe(inv.topVia.branch);
    expect(ack.to.tag).toBe("tag-b1");
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
    expect(alice.core.listDialogs()).toEqual([]);
    const rpcBefore = bob.rpcIn.length;
    await a1.send(browserRequest({ method: "ACK", uri: `sip:${BOB}`, from: ALICE, fromTag: "atag", to: BOB, toTag: busy.to.tag!, callId: busy.callId, cseq: 2, branch: "z9hG4bKbusy", host: "ahost" }));
    expect(bob.rpcIn.length).toBe(rpcBefore);
  });

  it("480 when bob is a subscriber with no live flow", async () => {
    const { a1, bob } = aliceAndBob([]);
    await a1.send(invite());
    const res = a1.lastResponse();
    expect(res.status).toBe(480);
    expect(res.getAll("Via")).toHaveLength(1);
    expect(bob.store.listTransactions()).toEqual([]);
  });

  it("480 when bob's only socket is open but not registered", async () => {
    const { a1, bob } = aliceAndBob([]);
    bob.connect("b-unregistered", false);
    await a1.send(invite());
    expect(a1.lastResponse().status).toBe(480);
  });

  it("404 for a user who is not a subscriber", async () => {
    const { a1 } = aliceAndBob();
    await a1.send(invite({ to: "carol@example.com" }));
    expect(a1.lastResponse().status).toBe(404);
  });

  it("404 for a number or another domain (the trunk's business, not implemented here)", async () => {
    const { a1, bob } = aliceAndBob();
    await a1.send(invite({ to: "bob@elsewhere.net" }));
    expect(a1.lastResponse().status).toBe(404);
    expect(bob.rpcIn).toHaveLength(0);
  });

  it("483 when Max-Forwards is 0, on either DO", async () => {
    const { a1, bob, b } = aliceAndBob();
    await a1.send(invite({ maxForwards: 0 }));
    expect(a1.lastResponse().status).toBe(483);
    expect(bob.rpcIn).toHaveLength(0);
    a1.take();
    // Max-Forwards 1: alice's DO forwards with 0, bob's DO refuses; the 483 comes back by Via.
    await a1.send(invite({ maxForwards: 1 }));
    expect(a1.lastResponse().status).toBe(483);
    expect(b[0]!.requests("INVITE")).toHaveLength(0);
  });

  it("482 when a request comes back to the same DO unchanged (loop), not for a spiral", async () => {
    const { w, a1, b, bob } = aliceAndBob();
    await a1.send(invite({ callId: "loop1", branch: "z9hG4bKloop" }));
    const inv = b[0]!.lastRequest("INVITE");
    const carol = w.user("carol@example.com");
    // Someone (say carol's DO, forwarding) sends bob's DO the copy it forwarded, for the same Request-URI:
    // bob's own Via is in it with the branch hash bob's DO computes again (§16.3 item 4).
    const back = (uri: string) =>
      inv
        .toString()
        .replace(`INVITE ${inv.requestUri} SIP/2.0\r\n`, `INVITE ${uri} SIP/2.0\r\nVia: SIP/2.0/WSS example.com;branch=z9hG4bKfwd;ua=carol%40example.com\r\n`);
    await bob.core.onUserMessage(carol.aor, back(`sip:${BOB}`));
    expect(carol.rpcIn.map((t) => t.slice(0, t.indexOf("\r\n")))).toEqual(["SIP/2.0 482 Loop Detected"]);
    expect(b[0]!.requests("INVITE")).toHaveLength(1);
    // A spiral (the Request-URI changed) is not a loop: it is proxied again.
    await bob.core.onUserMessage(carol.aor, back(`sip:${BOB};spiral=1`));
    expect(carol.rpcIn).toHaveLength(1);
    expect(b[0]!.requests("INVITE")).toHaveLength(2);
  });

  it("403 when a socket sends an INVITE with another user's From", async () => {
    const { a1, bob } = aliceAndBob();
    await a1.send(invite({ from: "carol@example.com" }));
    const res = a1.lastResponse();
    expect(res.status).toBe(403);
    expect(bob.rpcIn).toHaveLength(0);
  });

  it("403 for an in-dialog request from a socket with another user's From", async () => {
    const { a1, b } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    await a1.send(callerInDialog("INFO", ok, 4).replace("From: <sip:alice@example.com>", "From: <sip:carol@example.com>"));
    expect(a1.lastResponse(403).cseq.method).toBe("INFO");
    expect(b[0]!.requests("INFO")).toHaveLength(0);
  });

  it("an in-dialog request from a socket that never authenticated is challenged (host policy)", async () => {
    const { a1, b, alice } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    const intruder = alice.connect("x1", false);
    await intruder.send(callerInDialog("INFO", ok, 4));
    expect(intruder.lastResponse(407).cseq.method).toBe("INFO");
    expect(b[0]!.requests("INFO")).toHaveLength(0);
  });

  it("430 Flow Failed when the flow a Route's token names is gone (RFC 5626 §5.3)", async () => {
    const { a1, b } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    b[0]!.open = false; // closed, webSocketClose not processed yet
    await a1.send(callerInDialog("INFO", ok, 4));
    expect(a1.lastResponse(430).cseq.method).toBe("INFO");
  });

  it("403 for a forged flow token in a Route (a route into someone else's socket)", async () => {
    const { a1, b, bob } = aliceAndBob();
    const { ok } = await establishCall({ a1, b });
    b[0]!.take();
    const bye = callerInDialog("BYE", ok, 5).replace(/(Route: <sip:[A-Za-z0-9_-]+\.)[0-9a-f]{32}/g, "$1" + "0".repeat(32));
    await a1.send(bye);
    expect(a1.lastResponse().status).toBe(403);
    expect(b[0]!.requests("BYE")).toHaveLength(0);
    expect(bob.core.listDialogs()).toHaveLength(1);
  });

  it("OPTIONS to the domain itself is answered 200 with Allow", async () => {
    const { a1, bob } = aliceAndBob();
    await a1.send(
      browserRequest({
        method: "OPTIONS", uri: "sip:example.com", from: ALICE, fromTag: "o1", to: "example.com", callId: "opt1", cseq: 1, branch: "z9hG4bKopt", host: "ahost",
        headers: [["Proxy-Authorization", 'Digest username="alice", realm="example.com", nonce="n0nce", uri="sip:example.com", response="00"']],
      }),
    );
    const res = a1.lastResponse(200);
    expect(res.get("Allow")).toContain("INVITE");
    expect(res.get("Allow")).toContain("MESSAGE");
    expect(bob.rpcIn).toHaveLength(0);
  });

  it("MESSAGE is forked to every socket, no 100, first 2xx wins and goes back once", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob(["b1", "b2"]);
    await a1.send(
      browserRequest({
        method: "MESSAGE", uri: `sip:${BOB}`, from: ALICE, fromTag: "m1", to: BOB, callId: "msg1", cseq: 1, branch: "z9hG4bKmsg", host: "ahost",
        headers: [["Proxy-Authorization", 'Digest username="alice", realm="example.com", nonce="n0nce", uri="sip:bob@example.com", response="00"'], ["Content-Type", "text/plain"]],
      }),
    );
    expect(a1.responses(100)).toHaveLength(0);
    const m1 = b[0]!.lastRequest("MESSAGE");
    const m2 = b[1]!.lastRequest("MESSAGE");
    expect(m1.getAll("Record-Route")).toEqual([]); // not dialog-creating
    await b[0]!.reply(m1, 200);
    expect(a1.responses(200)).toHaveLength(1);
    await b[1]!.reply(m2, 200);
    expect(a1.responses(200)).toHaveLength(1);
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("a non-INVITE that nobody answers times out silently (RFC 4320: no 408 upstream)", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob();
    await a1.send(
      browserRequest({
        method: "MESSAGE", uri: `sip:${BOB}`, from: ALICE, fromTag: "m2", to: BOB, callId: "msg2", cseq: 1, branch: "z9hG4bKmsg2", host: "ahost",
        headers: [["Proxy-Authorization", 'Digest username="alice", realm="example.com", nonce="n0nce", uri="sip:bob@example.com", response="00"']],
      }),
    );
    expect(b[0]!.requests("MESSAGE")).toHaveLength(1);
    await w.advance(60_000);
    expect(a1.responses()).toHaveLength(0);
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
  });
});
