import { buildChallenges } from "sip-parser-ts";
import { afterEach, describe, expect, inject, it } from "vitest";
import { eventually, newSubscriber, registrationsOf } from "../harness/admin.ts";
import "../harness/stack-info.ts";
import { clientPool, digestAuthorization, parseChallenge, register, registerMessage, SipWsClient } from "../harness/sip-ws-client.ts";

describe("REGISTER through the edge (RFC 3261 §10, digest, RFC 5626)", () => {
  const stack = inject("stack");
  const pool = clientPool(stack.edgeUrl);
  const connect = pool.connect;
  afterEach(() => pool.closeAll());

  it("challenges with SHA-256 and MD5, MD5 last (PITFALLS 24), realm = domain, same nonce", async () => {
    const { aor } = stack.users[0]!;
    const c = await connect(aor);
    const res = await c.request(registerMessage({ aor, callId: c.callId, cseq: c.nextCSeq(), contactHost: c.contactHost, expires: 300 }));
    expect(res.status).toBe(401);
    const challenges = res.headers("WWW-Authenticate").map(parseChallenge);
    expect(challenges.map((ch) => ch.algorithm)).toEqual(["SHA-256", "MD5"]);
    expect(challenges.every((ch) => ch.realm === stack.domain && ch.qop === "auth" && !ch.stale)).toBe(true);
    expect(challenges[0]!.nonce).toBe(challenges[1]!.nonce);
    expect(res.header("To")).toMatch(/;tag=/);
  });

  it("registers with MD5, lists the contact with its expires, and with SHA-256 too", async () => {
    const { aor, password } = stack.users[0]!;
    const c = await connect(aor);
    const { response } = await register(c, { aor, password, expires: 300 });
    expect(response.status).toBe(200);
    const contacts = response.headers("Contact");
    expect(contacts.some((v) => v.includes(c.contactHost) && /;expires=(29\d|300)\b/.test(v))).toBe(true);
    const d = await connect(aor);
    const sha = await register(d, { aor, password, expires: 300, algorithm: "SHA-256" });
    expect(sha.challenge.algorithm).toBe("SHA-256");
    expect(sha.response.status).toBe(200);
    expect(sha.response.headers("Contact").length).toBeGreaterThanOrEqual(2);
  });

  it("a wrong password is challenged again", async () => {
    const { aor } = await newSubscriber(stack, "wrongpw");
    const c = await connect(aor);
    const { response } = await register(c, { aor, password: "not the password" });
    expect(response.status).toBe(401);
    expect(parseChallenge(response.headers("WWW-Authenticate")[0]!).stale).toBe(false);
  });

  it("an unknown user is challenged like a known one and fails like a wrong password", async () => {
    const aor = `nobody-${Date.now()}@${stack.domain}`;
    const c = await connect(aor);
    const { response } = await register(c, { aor, password: "whatever123" });
    expect(response.status).toBe(401);
  });

  it("refuses a replayed nonce-count with stale=true, and a stale nonce with stale=true", async () => {
    const { aor, password } = await newSubscriber(stack, "replay");
    const c = await connect(aor);
    const { response, challenge } = await register(c, { aor, password, expires: 300 });
    expect(response.status).toBe(200);
    // register() used nc=1 on this nonce; nc=2 is accepted once, then replayed.
    const authorization = digestAuthorization({ challenge, method: "REGISTER", uri: `sip:${stack.domain}`, username: aor.split("@")[0]!, password, nc: 2, cnonce: "fixedcnonce" });
    const base = { aor, callId: c.callId, contactHost: c.contactHost, expires: 300, authorization };
    expect((await c.request(registerMessage({ ...base, cseq: c.nextCSeq() }))).status).toBe(200);
    const replay = await c.request(registerMessage({ ...base, cseq: c.nextCSeq() }));
    expect(replay.status).toBe(401);
    expect(parseChallenge(replay.headers("WWW-Authenticate")[0]!).stale).toBe(true);
    // nc=3 on the same nonce is fine.
    const next = digestAuthorization({ challenge, method: "REGISTER", uri: `sip:${stack.domain}`, username: aor.split("@")[0]!, password, nc: 3 });
    expect((await c.request(registerMessage({ ...base, authorization: next, cseq: c.nextCSeq() }))).status).toBe(200);

    // A nonce the edge minted 31 minutes ago (same secret and realm): stale.
    const old = parseChallenge(buildChallenges({ realm: stack.domain, secret: stack.secrets.NONCE_SECRET, nowMs: Date.now() - 31 * 60_000, algorithms: ["MD5"] })[0]!);
    const staleAuth = digestAuthorization({ challenge: old, method: "REGISTER", uri: `sip:${stack.domain}`, username: aor.split("@")[0]!, password });
    const stale = await c.request(registerMessage({ ...base, authorization: staleAuth, cseq: c.nextCSeq() }));
    expect(stale.status).toBe(401);
    expect(stale.headers("WWW-Authenticate").map((h) => parseChallenge(h).stale)).toEqual([true, true]);
  });

  it("403 for a REGISTER whose To is another AOR, and for another user's credentials", async () => {
    const [alice, bob] = stack.users;
    const c = await connect(alice!.aor);
    const res = await c.request(registerMessage({ aor: alice!.aor, toAor: bob!.aor, callId: c.callId, cseq: c.nextCSeq(), contactHost: c.contactHost }));
    expect(res.status).toBe(403);
    const d = await connect(alice!.aor);
    const { response } = await register(d, { aor: alice!.aor, password: bob!.password, username: bob!.aor.split("@")[0]! });
    expect(response.status).toBe(403);
  });

  it("423 with Min-Expires below 60 s (after authentication, §10.3 step 7)", async () => {
    const { aor, password } = stack.users[1]!;
    const c = await connect(aor);
    const { response } = await register(c, { aor, password, expires: 10 });
    expect(response.status).toBe(423);
    expect(response.header("Min-Expires")).toBe("60");
    expect(await registrationsOf(stack, aor)).toEqual([]);
  });

  it("'*' with Expires: 0 removes every binding; '*' otherwise is 400", async () => {
    const { aor, password } = await newSubscriber(stack, "star");
    const c = await connect(aor);
    expect((await register(c, { aor, password, expires: 300 })).response.status).toBe(200);
    expect((await register(c, { aor, password, contact: "*", expires: 60 })).response.status).toBe(400);
    const { response } = await register(c, { aor, password, contact: "*", expires: 0 });
    expect(response.status).toBe(200);
    expect(response.headers("Contact")).toEqual([]);
    expect(await registrationsOf(stack, aor)).toEqual([]);
  });

  it("RFC 5626: two devices keep two bindings; a device re-registering from a new socket replaces its old one", async () => {
    const { aor, password } = await newSubscriber(stack, "outbound");
    const phone = await connect(aor);
    const laptop = await connect(aor);
    const ob = (c: SipWsClient) => ({ aor, password, expires: 600, supported: "path, gruu, outbound", contactParams: `;+sip.instance="${c.instance}";reg-id=1` });
    const r1 = await register(phone, ob(phone));
    expect(r1.response.status).toBe(200);
    expect(r1.response.header("Require")).toBe("outbound");
    expect(r1.response.header("Flow-Timer")).toBe("60");
    expect((await register(laptop, ob(laptop))).response.status).toBe(200);
    const before = await registrationsOf(stack, aor);
    expect(before.length).toBe(2);

    // The phone's network changes: a new socket, the same instance and reg-id (PITFALLS 13).
    const phone2 = await connect(aor);
    const r3 = await register(phone2, { ...ob(phone2), contactParams: `;+sip.instance="${phone.instance}";reg-id=1` });
    expect(r3.response.status).toBe(200);
    const after = await registrationsOf(stack, aor);
    expect(after.length).toBe(2);
    const phoneBinding = after.find((b) => b.instance === phone.instance)!;
    expect(phoneBinding.flow_id).not.toBe(before.find((b) => b.instance === phone.instance)!.flow_id);
    expect(phoneBinding.contact).toContain(phone2.contactHost);
  });

  it("a socket that closes takes its bindings with it", async () => {
    const { aor, password } = await newSubscriber(stack, "closer");
    const a = await connect(aor);
    const b = await connect(aor);
    expect((await register(a, { aor, password, expires: 600 })).response.status).toBe(200);
    expect((await register(b, { aor, password, expires: 600 })).response.status).toBe(200);
    expect((await registrationsOf(stack, aor)).length).toBe(2);
    await a.close();
    const left = await eventually(() => registrationsOf(stack, aor), (r) => r.length === 1, 5_000, "the closed socket's binding to go");
    expect(left[0]!.contact).toContain(b.contactHost);
  });
});
