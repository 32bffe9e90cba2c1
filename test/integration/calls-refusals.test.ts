import { afterEach, describe, expect, inject, it } from "vitest";
import { newSubscriber } from "../harness/admin.ts";
import { CHROMIUM_ANSWER, CHROMIUM_OFFER } from "../harness/media-stub.ts";
import { SipPhone, rand, request } from "../harness/sip-phone.ts";
import { parseChallenge } from "../harness/sip-ws-client.ts";
import "../harness/stack-info.ts";

/**
 * What the proxy refuses (RFC 3261 §16.3, §22; issue 3), each answered on
 * the socket it came from, and the DO keeps serving the next request.
 */
describe("calls the edge refuses", () => {
  const stack = inject("stack");
  const phones: SipPhone[] = [];
  const registered = async (aor: string, password: string): Promise<SipPhone> => {
    const p = await SipPhone.open(stack.edgeUrl, aor, password);
    phones.push(p);
    expect((await p.register()).status).toBe(200);
    return p;
  };
  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  it("an INVITE without credentials is challenged 407, MD5 last (PITFALLS 24), and nothing reaches the callee", async () => {
    const [carol, dave] = [await newSubscriber(stack, "carol"), await newSubscriber(stack, "dave")];
    const c = await registered(carol.aor, carol.password);
    const d = await registered(dave.aor, dave.password);
    const call = await c.call(dave.aor, { sdp: CHROMIUM_OFFER, authenticate: false });
    const res = await call.final();
    expect(res.status).toBe(407);
    const challenges = res.headers("Proxy-Authenticate").map(parseChallenge);
    expect(challenges.map((x) => x.algorithm)).toEqual(["SHA-256", "MD5"]);
    expect(challenges.every((x) => x.realm === stack.domain)).toBe(true);
    call.ackFailure(res);
    // A wrong password is challenged again, and the callee still hears nothing.
    const wrong = await SipPhone.open(stack.edgeUrl, carol.aor, "not the password");
    phones.push(wrong);
    const retry = await wrong.call(dave.aor, { sdp: CHROMIUM_OFFER }); // answers the first 407 with the wrong password
    expect((await retry.final()).status).toBe(407);
    expect(d.client.unclaimed().filter((m) => m.startsWith("INVITE "))).toEqual([]);
  });

  it("an INVITE with another user's From is refused 403, before any challenge", async () => {
    const [carol, dave] = [await newSubscriber(stack, "carol"), await newSubscriber(stack, "dave")];
    const c = await registered(carol.aor, carol.password);
    const call = await c.call(dave.aor, { sdp: CHROMIUM_OFFER, authenticate: false, fromAor: stack.users[1]!.aor });
    const res = await call.final();
    expect(res.status).toBe(403);
    call.ackFailure(res);
  });

  it("an INVITE to an unknown user gets 404, to a known user with no socket 480", async () => {
    const carol = await newSubscriber(stack, "carol");
    const offline = await newSubscriber(stack, "offline");
    const c = await registered(carol.aor, carol.password);
    const unknown = await c.call(`nobody-${rand(4)}@${stack.domain}`, { sdp: CHROMIUM_OFFER });
    const r404 = await unknown.final();
    expect(r404.status).toBe(404);
    unknown.ackFailure(r404);
    const away = await c.call(offline.aor, { sdp: CHROMIUM_OFFER });
    const r480 = await away.final();
    expect(r480.status).toBe(480);
    away.ackFailure(r480);
  });

  it("Max-Forwards: 0 is answered 483 Too Many Hops (§16.3 step 3)", async () => {
    const [carol, dave] = [await newSubscriber(stack, "carol"), await newSubscriber(stack, "dave")];
    const c = await registered(carol.aor, carol.password);
    const call = await c.call(dave.aor, { sdp: CHROMIUM_OFFER, authenticate: false, maxForwards: 0 });
    const res = await call.final();
    expect(res.status).toBe(483);
    call.ackFailure(res);
  });

  it("a Route with a forged flow token is refused 403 (RFC 5626 §5.2), a CANCEL without a transaction 481", async () => {
    const [carol, dave] = [await newSubscriber(stack, "carol"), await newSubscriber(stack, "dave")];
    const c = await registered(carol.aor, carol.password);
    const d = await registered(dave.aor, dave.password);
    // A real dialog gives us a real token of dave's DO; flip its MAC.
    const call = await c.call(dave.aor, { sdp: CHROMIUM_OFFER });
    const inc = await d.incoming();
    inc.reply(200, { sdp: CHROMIUM_ANSWER });
    await call.answered();
    await inc.ack();
    const routes = call.ok!.headers("Record-Route").reverse();
    const forged = routes.map((r) => r.replace(/\.([0-9a-f])([0-9a-f]{31})@/, (_m, c1: string, rest: string) => `.${c1 === "0" ? "1" : "0"}${rest}@`));
    expect(forged).not.toEqual(routes);
    const bye = request({
      method: "BYE",
      uri: `sip:${dave.aor}`,
      via: c.via(),
      from: call.from,
      to: call.ok!.header("To")!,
      callId: call.callId,
      cseq: c.nextCSeq(),
      headers: forged.map((r) => `Route: ${r}`),
    });
    expect((await c.client.request(bye)).status).toBe(403);
    const cancel = request({ method: "CANCEL", uri: `sip:${dave.aor}`, via: c.via(), from: `<sip:${carol.aor}>;tag=${rand(4)}`, to: `<sip:${dave.aor}>`, callId: `nope-${rand(4)}`, cseq: 1 });
    expect((await c.client.request(cancel)).status).toBe(481);
    // The DO keeps serving: the real BYE still ends the call.
    const real = call.bye();
    d.respond(await inc.request("BYE"), 200);
    expect((await real).status).toBe(200);
  });
});
