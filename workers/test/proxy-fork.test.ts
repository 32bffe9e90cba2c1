// Parallel forking to every socket of the callee, CANCEL in its forms, Timer C
// and sockets that go away mid-ring (RFC 3261 §16.7, §16.8, §16.10; PITFALLS 15).
import { describe, expect, it } from "vitest";
import { ALICE, BOB, SDP, aliceAndBob, browserRequest, callerInDialog, invite } from "./proxy-world.ts";

function cancelFor(inviteText: string): string {
  const callId = /Call-ID: (.*)\r\n/.exec(inviteText)![1]!;
  const branch = /branch=([^;\r\n]+)/.exec(inviteText)![1]!;
  const cseq = Number(/CSeq: (\d+)/.exec(inviteText)![1]);
  return browserRequest({ method: "CANCEL", uri: `sip:${BOB}`, from: ALICE, fromTag: "atag", to: BOB, callId, cseq, branch, host: "ahost" });
}

describe("proxy core: forking and cancelling", () => {
  it("rings every socket; the first 200 wins, the other socket gets CANCEL and answers 487, which goes nowhere", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob(["b1", "b2"]);
    await a1.send(invite({ callId: "fork1" }));
    const [b1, b2] = b as [typeof b[0] & object, typeof b[0] & object];
    const inv1 = b1.lastRequest("INVITE");
    const inv2 = b2.lastRequest("INVITE");
    expect(inv1.requestUri).toBe("sip:b1@b1.invalid;transport=ws;ob");
    expect(inv2.requestUri).toBe("sip:b2@b2.invalid;transport=ws;ob");
    expect(inv1.topVia.branch).not.toBe(inv2.topVia.branch); // one branch each (§16.6 item 8)
    await b1.reply(inv1, 180);
    await b2.reply(inv2, 180);
    expect(a1.responses(180).map((r) => r.to.tag)).toEqual(["tag-b1", "tag-b2"]);

    await b2.reply(inv2, 200, { body: SDP });
    expect(a1.responses(200)).toHaveLength(1);
    // §16.7 step 10: the other branch is cancelled, with §9.1's CANCEL.
    const cancel = b1.lastRequest("CANCEL");
    expect(cancel.requestUri).toBe(inv1.requestUri);
    expect(cancel.topVia.branch).toBe(inv1.topVia.branch);
    expect(cancel.getAll("Via")).toHaveLength(1);
    expect(cancel.cseq).toEqual({ seq: inv1.cseq.seq, method: "CANCEL" });
    expect(cancel.to.tag).toBeUndefined();
    await b1.reply(cancel, 200);
    await b1.reply(inv1, 487);
    // The 487 is ACKed to b1 by bob's DO and not forwarded: the 2xx was the final response.
    expect(b1.lastRequest("ACK").topVia.branch).toBe(inv1.topVia.branch);
    expect(a1.responses().filter((r) => r.status >= 300)).toHaveLength(0);
    expect(bob.core.listDialogs().map((d) => d.flowId)).toEqual(["b2"]);
    expect(alice.core.listDialogs()).toHaveLength(1);
    await w.advance(32_000); // Timer M
    expect(bob.store.listTransactions()).toEqual([]);
    expect(alice.store.listTransactions()).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("two sockets answer at once: both 2xx go to the caller (§16.7 step 5), who hangs up the extra one", async () => {
    const { a1, b, alice, bob } = aliceAndBob(["b1", "b2"]);
    await a1.send(invite({ callId: "fork2" }));
    const [b1, b2] = [b[0]!, b[1]!];
    const inv1 = b1.lastRequest("INVITE");
    const inv2 = b2.lastRequest("INVITE");
    await b1.reply(inv1, 180);
    await b2.reply(inv2, 180);
    await b1.reply(inv1, 200, { body: SDP });
    await b2.reply(inv2, 200, { body: SDP }); // raced our CANCEL
    const oks = a1.responses(200);
    expect(oks.map((r) => r.to.tag)).toEqual(["tag-b1", "tag-b2"]);
    expect(bob.core.listDialogs()).toHaveLength(2);
    // JsSIP ACKs and BYEs the second one (PITFALLS 15); the BYE reaches b2 and ends that dialog only.
    await a1.send(callerInDialog("ACK", oks[1]!, 2));
    await a1.send(callerInDialog("BYE", oks[1]!, 3));
    expect(b2.lastRequest("BYE").to.tag).toBe("tag-b2");
    expect(bob.core.listDialogs().map((d) => d.flowId)).toEqual(["b1"]);
    expect(alice.core.listDialogs()).toHaveLength(1);
  });

  it("the caller cancels: 200 to the CANCEL at each hop, CANCEL to every socket, 487 back to the caller", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob(["b1", "b2"]);
    const inv = invite({ callId: "cancel1", branch: "z9hG4bKcan" });
    await a1.send(inv);
    for (const f of b) await f.reply(f.lastRequest("INVITE"), 180);
    await a1.send(cancelFor(inv));
    const cancelOk = a1.responses(200).find((r) => r.cseq.method === "CANCEL")!;
    expect(cancelOk.getAll("Via")).toEqual(["SIP/2.0/WSS ahost.invalid;branch=z9hG4bKcan"]);
    for (const f of b) {
      const c = f.lastRequest("CANCEL");
      await f.reply(c, 200);
      await f.reply(f.lastRequest("INVITE"), 487);
    }
    const terminated = a1.lastResponse(487);
    expect(terminated.cseq.method).toBe("INVITE");
    expect(terminated.getAll("Via")).toEqual(["SIP/2.0/WSS ahost.invalid;branch=z9hG4bKcan"]);
    expect(a1.responses().filter((r) => r.status >= 300)).toHaveLength(1);
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
    expect(alice.core.listDialogs()).toEqual([]);
    expect([...alice.timers.keys(), ...bob.timers.keys()]).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("a CANCEL before the socket answered at all waits for its provisional response (§9.1)", async () => {
    const { a1, b } = aliceAndBob();
    const inv = invite({ callId: "cancel2", branch: "z9hG4bKcan2" });
    await a1.send(inv);
    await a1.send(cancelFor(inv));
    const b1 = b[0]!;
    expect(b1.requests("CANCEL")).toHaveLength(0);
    await b1.reply(b1.lastRequest("INVITE"), 100);
    expect(b1.requests("CANCEL")).toHaveLength(1);
    await b1.reply(b1.lastRequest("INVITE"), 487);
    expect(a1.lastResponse(487).cseq.method).toBe("INVITE");
  });

  it("a CANCEL while the INVITE's RPC is still in flight is sent once the other DO has the INVITE", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob();
    let release!: () => void;
    w.rpcGate = new Promise((r) => (release = r));
    const inv = invite({ callId: "inflight", branch: "z9hG4bKinflight" });
    const sending = a1.send(inv);
    await new Promise((r) => setTimeout(r, 0)); // alice's DO is now awaiting the RPC
    await a1.send(cancelFor(inv));
    expect(a1.responses(200).map((r) => r.cseq.method)).toEqual(["CANCEL"]);
    expect(bob.rpcIn).toHaveLength(0);
    w.rpcGate = undefined;
    release();
    await sending;
    // bob's DO got the INVITE first, then the CANCEL; its socket has not answered yet, so it waits for a 1xx (§9.1).
    expect(bob.rpcIn.map((t) => t.slice(0, t.indexOf(" ")))).toEqual(["INVITE", "CANCEL"]);
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    await b[0]!.reply(b[0]!.lastRequest("CANCEL"), 200);
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 487);
    expect(a1.lastResponse(487).cseq.method).toBe("INVITE");
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
  });

  it("a CANCEL that arrives while the INVITE is being authenticated: 200, then 487, nothing forwarded", async () => {
    const { a1, bob } = aliceAndBob();
    const inv = invite({ callId: "early", branch: "z9hG4bKearly" });
    const sending = a1.send(inv); // now awaiting host.authenticate
    await a1.send(cancelFor(inv));
    await sending;
    expect(a1.responses().map((r) => `${r.status} ${r.cseq.method}`)).toEqual(["200 CANCEL", "487 INVITE"]);
    expect(bob.rpcIn).toHaveLength(0);
  });

  it("481 for a CANCEL that matches nothing", async () => {
    const { a1 } = aliceAndBob();
    await a1.send(cancelFor(invite({ callId: "nothing", branch: "z9hG4bKnothing" })));
    expect(a1.lastResponse(481).cseq.method).toBe("CANCEL");
  });

  it("a rejection on one socket waits for the others; all rejecting gives the best response (§16.7 step 6)", async () => {
    const { a1, b } = aliceAndBob(["b1", "b2"]);
    await a1.send(invite({ callId: "rej" }));
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 486);
    expect(a1.responses().filter((r) => r.status >= 300)).toHaveLength(0);
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 480);
    const final = a1.responses().filter((r) => r.status >= 300);
    expect(final.map((r) => r.status)).toEqual([486]); // equal rank: the first stays
  });

  it("603 Decline on one socket cancels the others and is what the caller gets (§16.7 step 5)", async () => {
    const { a1, b } = aliceAndBob(["b1", "b2"]);
    await a1.send(invite({ callId: "decline" }));
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 180);
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 603);
    expect(b[1]!.requests("CANCEL")).toHaveLength(1);
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 487);
    expect(a1.responses().filter((r) => r.status >= 300).map((r) => r.status)).toEqual([603]);
  });

  it("a socket closed mid-ring is skipped; the call still completes on the other", async () => {
    const { w, a1, b, bob } = aliceAndBob(["b1", "b2"]);
    await a1.send(invite({ callId: "closed1" }));
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    await bob.close("b1");
    expect(a1.responses().filter((r) => r.status >= 300)).toHaveLength(0);
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 200, { body: SDP });
    expect(a1.lastResponse(200).to.tag).toBe("tag-b2");
    await w.advance(32_000); // Timer M
    expect(bob.store.listTransactions()).toEqual([]);
    expect(w.events("proxy-error")).toEqual([]);
  });

  it("the only socket closed mid-ring: the caller gets 480", async () => {
    const { a1, bob, b } = aliceAndBob(["b1"]);
    await a1.send(invite({ callId: "closed2" }));
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    await bob.close("b1");
    expect(a1.lastResponse().status).toBe(480);
  });

  it("a socket that is already gone when we fork is skipped (sendToFlow false, PITFALLS 15)", async () => {
    const { a1, bob, b } = aliceAndBob(["b1", "b2"]);
    b[0]!.open = false; // the socket died, webSocketClose not processed yet
    await a1.send(invite({ callId: "stale" }));
    expect(b[1]!.requests("INVITE")).toHaveLength(1);
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 486);
    expect(a1.responses().filter((r) => r.status >= 300).map((r) => r.status)).toEqual([486]);
    expect(bob.store.listTransactions()).toEqual([]);
  });

  it("the caller's socket closes while ringing: every branch is cancelled", async () => {
    const { a1, b, alice, bob } = aliceAndBob(["b1"]);
    await a1.send(invite({ callId: "gone" }));
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    await alice.close("a1");
    const cancel = b[0]!.lastRequest("CANCEL");
    await b[0]!.reply(cancel, 200);
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 487);
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
  });

  it("Timer C: a socket ringing for more than 3 minutes is cancelled and the caller gets 487", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob(["b1"]);
    await a1.send(invite({ callId: "timerc" }));
    const b1 = b[0]!;
    await b1.reply(b1.lastRequest("INVITE"), 180);
    await w.advance(170_000);
    expect(b1.requests("CANCEL")).toHaveLength(0);
    await w.advance(15_000);
    const cancel = b1.lastRequest("CANCEL");
    await b1.reply(cancel, 200);
    await b1.reply(b1.lastRequest("INVITE"), 487);
    expect(a1.lastResponse(487).cseq.method).toBe("INVITE");
    expect(w.events("timer-c-fired").map((e) => e.aor)).toEqual([BOB]);
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
  });

  it("Timer C, and the socket does not even answer the CANCEL: 408 after 64*T1", async () => {
    const { w, a1, b, alice, bob } = aliceAndBob(["b1"]);
    await a1.send(invite({ callId: "timerc2" }));
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 180);
    await w.advance(181_000 + 32_000);
    expect(b[0]!.requests("CANCEL")).toHaveLength(1);
    expect(a1.lastResponse(408).cseq.method).toBe("INVITE");
    expect(alice.store.listTransactions()).toEqual([]);
    expect(bob.store.listTransactions()).toEqual([]);
    expect([...alice.timers.keys(), ...bob.timers.keys()]).toEqual([]);
  });

  it("Timer B: a socket that never answers the INVITE counts as 408", async () => {
    const { w, a1 } = aliceAndBob(["b1"]);
    await a1.send(invite({ callId: "timerb" }));
    await w.advance(32_000);
    expect(a1.lastResponse(408).cseq.method).toBe("INVITE");
  });

  it("401/407 from several branches are merged into the one forwarded (§16.7 step 7)", async () => {
    const { a1, b } = aliceAndBob(["b1", "b2"]);
    await a1.send(invite({ callId: "auth" }));
    await b[0]!.reply(b[0]!.lastRequest("INVITE"), 407, { headers: [["Proxy-Authenticate", 'Digest realm="one", nonce="1"']] });
    await b[1]!.reply(b[1]!.lastRequest("INVITE"), 407, { headers: [["Proxy-Authenticate", 'Digest realm="two", nonce="2"']] });
    const res = a1.lastResponse(407);
    expect(res.getAll("Proxy-Authenticate")).toEqual(['Digest realm="one", nonce="1"', 'Digest realm="two", nonce="2"']);
  });
});
