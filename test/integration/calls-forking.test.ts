import { afterEach, describe, expect, inject, it } from "vitest";
import { adminFetch, eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { SipPhone } from "../harness/sip-phone.ts";
import "../harness/stack-info.ts";

/**
 * Several sockets of one user (PITFALLS 13, 15), with the raw client: the
 * proxy forks to every live flow, cancels the others on a 2xx, skips a
 * socket that closed, and ends the calls of a socket that dropped.
 * Each test calls a fresh subscriber, so no socket of another test rings.
 */
describe("calls to a user with several sockets, and sockets that go away", () => {
  const stack = inject("stack");
  const alice = stack.users[0]!;
  const phones: SipPhone[] = [];
  const open = async (aor: string, password: string, opts: Parameters<typeof SipPhone.open>[3] = {}): Promise<SipPhone> => {
    const p = await SipPhone.open(stack.edgeUrl, aor, password, opts);
    phones.push(p);
    return p;
  };
  const registered = async (aor: string, password: string, opts: Parameters<typeof SipPhone.open>[3] = {}): Promise<SipPhone> => {
    const p = await open(aor, password, opts);
    expect((await p.register()).status).toBe(200);
    return p;
  };
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  it("two sockets both ring; one answers, the other is CANCELled and ACKed (RFC 3261 §16.7 step 10)", async () => {
    const bob = await newSubscriber(stack, "bob");
    const [b1, b2] = [await registered(bob.aor, bob.password), await registered(bob.aor, bob.password)];
    const a = await registered(alice.aor, alice.password);
    const call = await a.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const [in1, in2] = [await b1!.incoming(), await b2!.incoming()];
    expect(in1.callId).toBe(call.callId);
    expect(in2.callId).toBe(call.callId);
    // Each branch has its own Request-URI: the binding's Contact (§16.6 item 2), never resolved (PITFALLS 5).
    expect(in1.invite.text.split("\r\n")[0]).toBe(`INVITE ${b1!.contact} SIP/2.0`);
    expect(in2.invite.text.split("\r\n")[0]).toBe(`INVITE ${b2!.contact} SIP/2.0`);
    in1.reply(180);
    in2.reply(180);
    await call.response(180);
    in1.reply(200, { sdp: CHROMIUM_ANSWER });
    const ok = await call.answered();
    // The answer is anchored too: the caller gets rtpengine's SDP, with rtpengine's candidate.
    expect(ok.text.endsWith(CHROMIUM_ANSWER)).toBe(false);
    expect(ok.text).toMatch(/a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 3\d{4} typ host/);
    await in1.ack();

    const cancel = await in2.request("CANCEL");
    b2!.respond(cancel, 200);
    in2.reply(487);
    await in2.ack(); // the edge's client transaction ACKs the 487 (§17.1.1.3)

    const bye = call.bye();
    b1!.respond(await in1.request("BYE"), 200);
    expect((await bye).status).toBe(200);
    expect(b2!.client.unclaimed().filter((m) => m.startsWith("BYE "))).toEqual([]);
  });

  it("a socket closed while ringing is skipped: the other one still answers", async () => {
    const bob = await newSubscriber(stack, "bob");
    const [b1, b2] = [await registered(bob.aor, bob.password), await registered(bob.aor, bob.password)];
    const a = await registered(alice.aor, alice.password);
    const call = await a.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const [in1, in2] = [await b1!.incoming(), await b2!.incoming()];
    in1.reply(180);
    in2.reply(180);
    await call.response(180);
    await b2!.close(); // PITFALLS 15: that branch fails (480) and must not end the call
    await eventually(() => registrationsOf(stack, bob.aor), (r) => r.length === 1, 5_000, "the closed socket's binding to go");
    in1.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered();
    await in1.ack();
    const bye = call.bye();
    b1!.respond(await in1.request("BYE"), 200);
    expect((await bye).status).toBe(200);

    // The next call rings the remaining socket only.
    const again = await a.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const only = await b1!.incoming();
    expect(only.callId).toBe(again.callId);
    only.reply(486);
    expect((await again.final()).status).toBe(486);
  });

  it("a socket drops mid-call: the other side gets a BYE; the client reconnects, re-registers, and the next call reaches the new socket", async () => {
    const bob = await newSubscriber(stack, "bob");
    const b1 = await registered(bob.aor, bob.password, { outbound: true });
    const a = await registered(alice.aor, alice.password);
    const call = await a.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const in1 = await b1.incoming();
    in1.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered();
    await in1.ack();
    const before = await registrationsOf(stack, bob.aor);
    expect(before).toHaveLength(1);

    b1.client.ws.terminate(); // no close frame: the TCP connection just goes (1006)
    // PITFALLS 13: the edge ends the call on the other side, with a Reason (RFC 3326).
    const bye = await a.nextRequest("BYE", 5_000, (m) => m.includes(call.callId));
    expect(bye.header("Reason")).toMatch(/cause=480/);
    a.respond(bye, 200);
    await eventually(() => registrationsOf(stack, bob.aor), (r) => r.length === 0, 5_000, "the dropped socket's binding to go");
    await eventually(() => dialogs(bob.aor), (d) => d.length === 0, 5_000, "bob's dialog to end");
    expect(await dialogs(alice.aor)).not.toContainEqual(expect.objectContaining({ call_id: call.callId }));

    // The same device (same +sip.instance, reg-id) comes back on a new socket (RFC 5626 §6).
    const b2 = await registered(bob.aor, bob.password, { identity: b1.identity, registerCSeq: b1.nextRegisterCSeq });
    const after = await registrationsOf(stack, bob.aor);
    expect(after).toHaveLength(1);
    expect(after[0]!.flow_id).not.toBe(before[0]!.flow_id);
    expect(after[0]!.flow_connected).toBe(true);
    const next = await a.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const in2 = await b2.incoming();
    expect(in2.callId).toBe(next.callId);
    in2.reply(200, { sdp: CHROMIUM_ANSWER });
    await next.answered();
    await in2.ack();
    const hangup = in2.bye(); // this time the callee hangs up
    a.respond(await a.nextRequest("BYE", 5_000, (m) => m.includes(next.callId)), 200);
    expect((await hangup).status).toBe(200);
  });

  it("the caller's socket drops mid-call: the callee gets the BYE", async () => {
    const bob = await newSubscriber(stack, "bob");
    const b = await registered(bob.aor, bob.password);
    const a = await registered(alice.aor, alice.password);
    const call = await a.call(bob.aor, { sdp: CHROMIUM_OFFER });
    const inc = await b.incoming();
    inc.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered();
    await inc.ack();
    a.client.ws.terminate();
    const bye = await inc.request("BYE");
    expect(bye.header("Reason")).toMatch(/cause=480/);
    b.respond(bye, 200);
  });

  async function dialogs(aor: string): Promise<Array<Record<string, unknown>>> {
    const r = await adminFetch(stack, "GET", `/v1/subscribers/${encodeURIComponent(aor)}/dialogs`);
    return r.json.dialogs as Array<Record<string, unknown>>;
  }
});
