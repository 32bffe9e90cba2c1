import { afterEach, describe, expect, inject, it } from "vitest";
import { newSubscriber } from "../harness/admin.ts";
import { noRtpengineSessions } from "../harness/media.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { type IncomingCall, type OutgoingCall, SipPhone } from "../harness/sip-phone.ts";
import type { SipMessageText } from "../harness/sip-ws-client.ts";
import "../harness/stack-info.ts";

/**
 * Call transfer through the edge (PITFALLS 21: REFER, RFC 3515; Replaces,
 * RFC 3891; Referred-By, RFC 3892), with the raw client so every byte is
 * ours. The user DO is a proxy, not a B2BUA: REFER and NOTIFY pass in the
 * dialog untouched, and the Replaces of an attended transfer reaches the
 * target with the Call-ID and tags it names (a topology-hiding proxy that
 * rewrote them would break it). The transferee's INVITE is a call of its
 * own: authenticated, and under the transferee's call-out policy, so a
 * REFER cannot launder a call to a number the transferee may not dial.
 */
describe("call transfer: REFER, NOTIFY and Replaces pass end to end (PITFALLS 21)", () => {
  const stack = inject("stack");
  const phones: SipPhone[] = [];
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  const registered = async (name: string): Promise<{ phone: SipPhone; aor: string }> => {
    const s = await newSubscriber(stack, name);
    const phone = await SipPhone.open(stack.edgeUrl, s.aor, s.password);
    phones.push(phone);
    expect((await phone.register()).status).toBe(200);
    return { phone, aor: s.aor };
  };

  /** caller calls callee; the callee answers; both sides of the dialog. */
  const connected = async (caller: SipPhone, callee: SipPhone, calleeAor: string, headers: string[] = []): Promise<{ out: OutgoingCall; in: IncomingCall }> => {
    const out = await caller.call(calleeAor, { sdp: CHROMIUM_OFFER, headers });
    const inc = await callee.incoming(5_000, (m) => m.includes(out.callId));
    inc.reply(200, { sdp: CHROMIUM_ANSWER });
    await out.answered();
    await inc.ack();
    return { out, in: inc };
  };

  /** A request sent by one side and the other side's 200 to it; returns what arrived. */
  const exchanged = async (sent: Promise<SipMessageText>, receiver: SipPhone, method: string, callId: string, status = 200): Promise<SipMessageText> => {
    const got = await receiver.nextRequest(method, 5_000, (m) => m.includes(`Call-ID: ${callId}`));
    receiver.respond(got, status);
    expect((await sent).status).toBe(status);
    return got;
  };

  /** The transferee's NOTIFY (RFC 3515 §2.4.5) with a sipfrag of the new call's progress; what the transferor got. */
  const notify = (from: OutgoingCall, to: SipPhone, frag: string, state: string): Promise<SipMessageText> =>
    exchanged(
      from.inDialog("NOTIFY", { headers: ["Event: refer", `Subscription-State: ${state}`, "Content-Type: message/sipfrag;version=2.0"], body: `${frag}\r\n` }),
      to,
      "NOTIFY",
      from.callId,
    );

  const bodyOf = (m: SipMessageText): string => m.text.slice(m.text.indexOf("\r\n\r\n") + 4);

  const referFrom = (inc: IncomingCall, referTo: string, referredBy: string): Promise<SipMessageText> =>
    inc.inDialog("REFER", { headers: [`Refer-To: <${referTo}>`, `Referred-By: <sip:${referredBy}>`, `Contact: <${inc.phone.contact}>`] });

  it("blind transfer: bob refers alice to carol; 202, NOTIFY sipfrag 100 then 200 reach bob; alice's new call reaches carol with Referred-By; every leg ends", async () => {
    const alice = await registered("xfer-alice");
    const bob = await registered("xfer-bob");
    const carol = await registered("xfer-carol");
    const first = await connected(alice.phone, bob.phone, bob.aor);

    // bob (the callee) refers alice to carol, in the dialog.
    const referred = bob.aor;
    const refer = referFrom(first.in, `sip:${carol.aor}`, referred);
    const got = await alice.phone.nextRequest("REFER", 5_000, (m) => m.includes(first.out.callId));
    expect(got.header("Refer-To")).toBe(`<sip:${carol.aor}>`);
    expect(got.header("Referred-By")).toBe(`<sip:${referred}>`);
    alice.phone.respond(got, 202, { reason: "Accepted" });
    expect((await refer).status).toBe(202);

    expect(bodyOf(await notify(first.out, bob.phone, "SIP/2.0 100 Trying", "active;expires=60"))).toBe("SIP/2.0 100 Trying\r\n");
    // alice's INVITE to carol: a new call, challenged and authenticated as alice like any other.
    const second = await connected(alice.phone, carol.phone, carol.aor, [`Referred-By: <sip:${referred}>`]);
    expect(second.in.invite.header("Referred-By")).toBe(`<sip:${referred}>`);
    const final = await notify(first.out, bob.phone, "SIP/2.0 200 OK", "terminated;reason=noresource");
    expect(bodyOf(final)).toBe("SIP/2.0 200 OK\r\n");
    expect(final.header("Subscription-State")).toBe("terminated;reason=noresource");

    // bob leaves; alice and carol talk, then hang up.
    await exchanged(first.in.bye(), alice.phone, "BYE", first.out.callId);
    await exchanged(second.out.bye(), carol.phone, "BYE", second.out.callId);
    await noRtpengineSessions(stack, [first.out.callId, second.out.callId]);
  });

  it("attended transfer: bob, talking to alice and to carol, joins them; the Replaces alice sends reaches carol byte for byte and carol's call with bob ends", async () => {
    const alice = await registered("xfer-alice");
    const bob = await registered("xfer-bob");
    const carol = await registered("xfer-carol");
    const first = await connected(alice.phone, bob.phone, bob.aor);
    const consult = await connected(bob.phone, carol.phone, carol.aor);

    // RFC 3891 §3: to-tag and from-tag as carol, the recipient, sees her dialog with bob.
    const replaces = `${consult.out.callId};to-tag=${consult.in.toTag};from-tag=${consult.out.fromTag}`;
    const refer = referFrom(first.in, `sip:${carol.aor}?Replaces=${encodeURIComponent(replaces)}`, bob.aor);
    const got = await alice.phone.nextRequest("REFER", 5_000, (m) => m.includes(first.out.callId));
    const carried = decodeURIComponent(/^<sip:[^?>]+\?Replaces=([^&>]+)>$/.exec(got.header("Refer-To")!)![1]!);
    expect(carried).toBe(replaces);
    alice.phone.respond(got, 202, { reason: "Accepted" });
    expect((await refer).status).toBe(202);

    // alice's INVITE with Replaces: carol's DO forks it to carol untouched.
    const joined = await connected(alice.phone, carol.phone, carol.aor, [`Replaces: ${carried}`, `Referred-By: <sip:${bob.aor}>`]);
    expect(joined.in.invite.header("Replaces")).toBe(replaces);
    expect(joined.in.invite.header("Call-ID")).toBe(joined.out.callId);
    await notify(first.out, bob.phone, "SIP/2.0 200 OK", "terminated;reason=noresource");

    // carol's UA replaces her call with bob: she ends it (RFC 3891 §3), and bob ends his with alice.
    await exchanged(consult.in.bye(), bob.phone, "BYE", consult.out.callId);
    await exchanged(first.in.bye(), alice.phone, "BYE", first.out.callId);
    await exchanged(joined.out.bye(), carol.phone, "BYE", joined.out.callId);
    await noRtpengineSessions(stack, [first.out.callId, consult.out.callId, joined.out.callId]);
  });

  it("a REFER cannot launder a call out: referred to a number, alice's INVITE meets her own policy (403) and her NOTIFY tells bob", async () => {
    const alice = await registered("xfer-alice");
    const bob = await registered("xfer-bob");
    const first = await connected(alice.phone, bob.phone, bob.aor);
    const number = `+19005550123@${stack.domain};user=phone`;

    const refer = referFrom(first.in, `sip:${number}`, bob.aor);
    const got = await alice.phone.nextRequest("REFER", 5_000, (m) => m.includes(first.out.callId));
    alice.phone.respond(got, 202, { reason: "Accepted" });
    expect((await refer).status).toBe(202);

    // A new subscriber may not call out (the default): refused before any trunk is looked at.
    const out = await alice.phone.call(number, { sdp: CHROMIUM_OFFER, headers: [`Referred-By: <sip:${bob.aor}>`] });
    const res = await out.final();
    out.ackFailure(res);
    expect([res.status, res.reason]).toEqual([403, "Forbidden - Calls Out Not Allowed"]);
    const frag = await notify(first.out, bob.phone, `SIP/2.0 ${res.status} ${res.reason}`, "terminated;reason=noresource");
    expect(bodyOf(frag)).toBe("SIP/2.0 403 Forbidden - Calls Out Not Allowed\r\n");

    // The original call is still up: bob hangs up and alice answers.
    await exchanged(first.in.bye(), alice.phone, "BYE", first.out.callId);
    await noRtpengineSessions(stack, [first.out.callId, out.callId]);
  });
});
