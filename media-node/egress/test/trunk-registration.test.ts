import { parseAuthHeader } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { TrunkRegistrations, type TrunkRegistrationOptions } from "../src/trunk-registration.ts";
import type { EgressTrunk } from "../src/trunks/egress-trunk.ts";
import { CHALLENGE, T0, advance, distinct, flush, gateway, reply, trunk, trunkSetup, validDigest } from "./support/trunk-fixtures.ts";

// Registration to carriers (RFC 3261 §10.2) on the real transaction layer
// over a recording transport, time driven by a manual clock: what is sent,
// when, and what the trunk status says.

function setup(trunks: EgressTrunk[] = [trunk()], options: Partial<TrunkRegistrationOptions> = {}) {
  const s = trunkSetup();
  const registrations = new TrunkRegistrations({
    transactions: s.transactions,
    clock: s.clock,
    logger: s.logger,
    status: s.board,
    trunks,
    contact: { host: "203.0.113.10", ports: { UDP: 5060, TCP: 5062 } },
    random: () => 0,
    ...options,
  });
  const registers = () => distinct(s.transport, "REGISTER");
  const last = () => registers().at(-1)!.request;
  const registrationWrites = () => s.writes.filter((w) => w.status.registration !== undefined).map((w) => w.status.registration!.state);
  return { ...s, registrations, registers, last, registrationWrites };
}

/** Registers the default trunk: REGISTER, 401, REGISTER with credentials, 200 granting `granted` seconds. */
async function registered(t: ReturnType<typeof setup>, granted = 3600) {
  t.registrations.start();
  await flush();
  reply(t.transport, t.last(), 401, [["WWW-Authenticate", CHALLENGE]]);
  await flush();
  reply(t.transport, t.last(), 200, [["Contact", `<sip:trunk-user@203.0.113.10:5060>;expires=${granted}`]]);
  await flush();
}

describe("trunk registration (RFC 3261 §10.2)", () => {
  it("registers: the REGISTER of §10.2.1, the 401 answered with the trunk's credentials, the granted interval kept", async () => {
    const t = setup();
    t.registrations.start();
    await flush();
    const first = t.last();
    expect(first.requestUri).toBe("sip:192.0.2.30:5060");
    expect(first.get("To")).toBe("<sip:trunk-user@192.0.2.30>");
    expect(first.from.uri.toString()).toBe("sip:trunk-user@192.0.2.30");
    expect(first.from.tag).toBeDefined();
    expect(first.get("Contact")).toBe("<sip:trunk-user@203.0.113.10:5060>");
    expect(first.get("Expires")).toBe("3600");
    expect(first.has("Authorization")).toBe(false);
    expect(t.registrations.view()[0]).toMatchObject({ trunk_id: "carrier", phase: "registering" });

    reply(t.transport, first, 401, [["WWW-Authenticate", CHALLENGE]]);
    await flush();
    const second = t.last();
    expect(second).not.toBe(first);
    expect(second.callId).toBe(first.callId); // §10.2: one Call-ID per registrar
    expect(second.cseq.seq).toBe(first.cseq.seq + 1); // §22.2: CSeq incremented
    expect(second.from.tag).toBe(first.from.tag);
    expect(validDigest(second, "Authorization")).toBe(true);
    const creds = parseAuthHeader(second.get("Authorization")!).params;
    expect(creds).toMatchObject({ username: "trunk-user", realm: "carrier.test", uri: "sip:192.0.2.30:5060", nc: "00000001", qop: "auth" });

    reply(t.transport, second, 200, [["Contact", "<sip:trunk-user@203.0.113.10:5060>;expires=1800"], ["Expires", "7200"]]);
    await flush();
    expect(t.registrations.view()[0]).toMatchObject({ phase: "registered", gateway: "192.0.2.30:5060;transport=udp", expires_in_s: 1800, failures: 0 });
    expect(t.registrations.isRegistered("carrier")).toBe(true);
    await t.board.idle();
    expect(t.board.status("carrier")?.registration).toEqual({ state: "registered", expires_at: new Date(T0 + 1_800_000).toISOString(), updated_at: new Date(T0).toISOString() });
    expect(t.registrationWrites()).toEqual(["registering", "registered"]);
    expect(t.registrations.counters).toMatchObject({ registersSent: 2, challengesAnswered: 1, registered: 1 });
    // Nothing in the logs carries the password or the digest response.
    expect(t.lines.join("\n")).not.toMatch(/s3cret|response=/);
  });

  it("takes the Expires header when our Contact has no expires, and what it asked for when neither says", async () => {
    const t = setup([trunk({ id: "a" }), trunk({ id: "b", gateways: [gateway("192.0.2.31")] })]);
    t.registrations.start();
    await flush();
    const [a, b] = t.registers().map((r) => r.request);
    reply(t.transport, a!, 200, [["Contact", "<sip:other@198.51.100.1>;expires=10"], ["Expires", "900"]]);
    reply(t.transport, b!, 200);
    await flush();
    expect(t.registrations.view().map((v) => [v.trunk_id, v.expires_in_s])).toEqual([["a", 900], ["b", 3600]]);
  });

  it("refreshes `margin` before the binding ends, reusing the nonce (nc 2), same Call-ID, next CSeq", async () => {
    const t = setup();
    await registered(t, 3600);
    const before = t.registers().length;
    await advance(t.clock, 3539_000, 60_000);
    expect(t.registers()).toHaveLength(before);
    await advance(t.clock, 1000);
    const refresh = t.last();
    expect(t.registers()).toHaveLength(before + 1);
    expect(t.registers().at(-1)!.at).toBe(3540_000);
    expect(refresh.callId).toBe(t.registers()[0]!.request.callId);
    expect(refresh.cseq.seq).toBe(3);
    expect(parseAuthHeader(refresh.get("Authorization")!).params.nc).toBe("00000002");
    expect(validDigest(refresh, "Authorization")).toBe(true);
    expect(t.registrations.view()[0]!.phase).toBe("registered"); // still bound while refreshing
    reply(t.transport, refresh, 200, [["Contact", "<sip:trunk-user@203.0.113.10:5060>;expires=60"]]);
    await flush();
    // A short grant is refreshed halfway: 30 s later.
    await advance(t.clock, 30_000);
    expect(t.registers().at(-1)!.at).toBe(3570_000);
    expect(t.registrations.counters.refreshes).toBe(2);
  });

  it("answers a new challenge on a refresh (the registrar wants a new nonce)", async () => {
    const t = setup();
    await registered(t, 60);
    await advance(t.clock, 30_000);
    reply(t.transport, t.last(), 401, [["WWW-Authenticate", CHALLENGE.replace("n0nce-1", "n0nce-2")]]);
    await flush();
    const again = t.last();
    expect(parseAuthHeader(again.get("Authorization")!).params).toMatchObject({ nonce: "n0nce-2", nc: "00000001" });
    reply(t.transport, again, 200, [["Expires", "60"]]);
    await flush();
    expect(t.registrations.view()[0]!.phase).toBe("registered");
  });

  it("answers a proxy's 407 and the registrar's 401 together (§22.3)", async () => {
    const t = setup();
    t.registrations.start();
    await flush();
    reply(t.transport, t.last(), 407, [["Proxy-Authenticate", 'Digest realm="proxy.test", nonce="p1", algorithm=MD5']]);
    await flush();
    expect(validDigest(t.last(), "Proxy-Authorization", "proxy.test")).toBe(true);
    reply(t.transport, t.last(), 401, [["WWW-Authenticate", CHALLENGE]]);
    await flush();
    const third = t.last();
    expect(validDigest(third, "Proxy-Authorization", "proxy.test")).toBe(true);
    expect(validDigest(third, "Authorization")).toBe(true);
    reply(t.transport, third, 200);
    await flush();
    expect(t.registrations.view()[0]!.phase).toBe("registered");
    expect(t.registrations.counters.challengesAnswered).toBe(2);
  });

  it("does not retry credentials the registrar rejected, unless it says the nonce was stale", async () => {
    const t = setup();
    t.registrations.start();
    await flush();
    reply(t.transport, t.last(), 401, [["WWW-Authenticate", CHALLENGE]]);
    await flush();
    reply(t.transport, t.last(), 401, [["WWW-Authenticate", CHALLENGE.replace("n0nce-1", "n0nce-2") + ", stale=true"]]);
    await flush();
    expect(t.registers()).toHaveLength(3);
    reply(t.transport, t.last(), 401, [["WWW-Authenticate", CHALLENGE.replace("n0nce-1", "n0nce-3")]]);
    await flush();
    expect(t.registers()).toHaveLength(3);
    expect(t.registrations.view()[0]).toMatchObject({ phase: "backing-off", last_error: "credentials rejected (401 Unauthorized)", failures: 1, retry_in_s: 30 });
    await t.board.idle();
    expect(t.board.status("carrier")?.registration).toMatchObject({ state: "failed", last_error: "credentials rejected (401 Unauthorized); next try in 30 s" });
    expect(t.registrations.counters.failures.challenge).toBe(1);
  });

  it("never answers a challenge from a realm other than the trunk's", async () => {
    const t = setup([trunk({ credentials: { username: "trunk-user", password: "s3cret", realm: "carrier.test" } })]);
    t.registrations.start();
    await flush();
    reply(t.transport, t.last(), 401, [["WWW-Authenticate", 'Digest realm="evil.test", nonce="x", algorithm=MD5']]);
    await flush();
    expect(t.registers()).toHaveLength(1);
    expect(t.registrations.view()[0]!.last_error).toBe('401 Unauthorized for realm "evil.test", but the trunk\'s credentials are for realm "carrier.test"');
  });

  it("handles 423 Interval Too Brief: asks again for Min-Expires, and keeps asking for it on refreshes (§10.2.8)", async () => {
    const t = setup([trunk({ register_expires: 60 })]);
    t.registrations.start();
    await flush();
    expect(t.last().get("Expires")).toBe("60");
    reply(t.transport, t.last(), 423, [["Min-Expires", "300"]]);
    await flush();
    expect(t.last().get("Expires")).toBe("300");
    reply(t.transport, t.last(), 200);
    await flush();
    expect(t.registrations.view()[0]).toMatchObject({ phase: "registered", expires_in_s: 300 });
    await advance(t.clock, 240_000, 10_000);
    expect(t.registers().at(-1)!.at).toBe(240_000);
    expect(t.last().get("Expires")).toBe("300");
    expect(t.registrations.counters.intervalTooBrief).toBe(1);
  });

  it("backs off on a 423 without a usable Min-Expires", async () => {
    const t = setup();
    t.registrations.start();
    await flush();
    reply(t.transport, t.last(), 423);
    await flush();
    expect(t.registrations.view()[0]).toMatchObject({ phase: "backing-off", last_error: "423 Interval Too Brief without a Min-Expires above 3600" });
  });

  it("backs off exponentially up to the cap, with jitter, and honours Retry-After", async () => {
    let r = 0;
    const t = setup([trunk()], { backoffBaseMs: 1000, backoffMaxMs: 8000, random: () => r });
    t.registrations.start();
    await flush();
    const sentAt: number[] = [];
    for (let i = 0; i < 6; i++) {
      sentAt.push(t.clock.now());
      reply(t.transport, t.last(), 403);
      await flush();
      const wait = t.registrations.view()[0]!.retry_in_s!;
      await advance(t.clock, wait * 1000, 100);
    }
    // 1, 2, 4, 8, 8 s: doubling from the base, capped.
    expect(sentAt.slice(1).map((at, i) => at - sentAt[i]!)).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(t.registrations.counters.failures.rejected).toBe(6);

    // Jitter shortens the wait by up to half (RFC 5626 §4.5).
    r = 0.999;
    const t2 = setup([trunk()], { backoffBaseMs: 1000, backoffMaxMs: 8000, random: () => r });
    t2.registrations.start();
    await flush();
    reply(t2.transport, t2.last(), 403);
    await flush();
    await advance(t2.clock, 499, 1);
    expect(t2.registers()).toHaveLength(1);
    await advance(t2.clock, 2, 1);
    expect(t2.registers()).toHaveLength(2);

    // Retry-After wins when longer than the backoff.
    reply(t2.transport, t2.last(), 500, [["Retry-After", "5 (maintenance)"]]);
    await flush();
    expect(t2.registrations.view()[0]).toMatchObject({ phase: "backing-off", retry_in_s: 5, last_error: "500 Server Internal Error from 192.0.2.30:5060;transport=udp" });
  });

  it("fails over to the next gateway on timeout, 503 or a transport error, in priority order, each its own Call-ID", async () => {
    const gateways = [gateway("192.0.2.33", { priority: 30 }), gateway("192.0.2.31", { priority: 10 }), gateway("192.0.2.32", { priority: 20 })];
    const t = setup([trunk({ gateways })]);
    t.registrations.start();
    await flush();
    expect(t.registers().map((r) => r.host)).toEqual(["192.0.2.31"]);
    // Timer F: 64*T1 = 32 s without an answer.
    await advance(t.clock, 32_000, 500);
    expect(t.registers().map((r) => r.host)).toEqual(["192.0.2.31", "192.0.2.32"]);
    reply(t.transport, t.last(), 503);
    await flush();
    expect(t.registers().map((r) => r.host)).toEqual(["192.0.2.31", "192.0.2.32", "192.0.2.33"]);
    const callIds = new Set(t.registers().map((r) => r.request.callId));
    expect(callIds.size).toBe(3);
    t.transport.failWith = "ECONNREFUSED";
    reply(t.transport, t.last(), 401, [["WWW-Authenticate", CHALLENGE]]);
    await flush();
    // The answer to the challenge could not be sent: every gateway failed, back off.
    expect(t.registrations.view()[0]).toMatchObject({ phase: "backing-off", last_error: "transport error to 192.0.2.33:5060;transport=udp", failures: 1 });
    expect(t.registrations.counters.failovers).toBe(2);
    expect(t.registrations.counters.failures["transport-error"]).toBe(1);
    t.transport.failWith = undefined;
    // The retry starts from the best gateway again.
    await advance(t.clock, 30_000);
    expect(t.registers().at(-1)!.host).toBe("192.0.2.31");
  });

  it("tries gateways the health checks call down last", async () => {
    const gateways = [gateway("192.0.2.31", { priority: 10 }), gateway("192.0.2.32", { priority: 20 })];
    const t = setup([trunk({ gateways })], { isGatewayUp: (g) => g.host !== "192.0.2.31" });
    t.registrations.start();
    await flush();
    expect(t.registers().map((r) => r.host)).toEqual(["192.0.2.32"]);
  });

  it("does not fail over on a final refusal (403): another gateway would say the same", async () => {
    const t = setup([trunk({ gateways: [gateway("192.0.2.31", { priority: 1 }), gateway("192.0.2.32", { priority: 2 })] })]);
    t.registrations.start();
    await flush();
    reply(t.transport, t.last(), 403);
    await flush();
    expect(t.registers()).toHaveLength(1);
    expect(t.registrations.view()[0]).toMatchObject({ phase: "backing-off", last_error: "403 Forbidden from 192.0.2.31:5060;transport=udp" });
  });

  it("un-REGISTERs on stop (Expires: 0, our Contact only), and sends nothing when it holds no binding", async () => {
    const t = setup();
    await registered(t);
    const stopping = t.registrations.stop();
    await flush();
    const un = t.last();
    expect(un.get("Expires")).toBe("0");
    expect(un.get("Contact")).toBe("<sip:trunk-user@203.0.113.10:5060>");
    expect(validDigest(un, "Authorization")).toBe(true);
    expect(t.registrations.view()[0]!.phase).toBe("unregistering");
    reply(t.transport, un, 200);
    await stopping;
    expect(t.registrations.view()[0]!.phase).toBe("unregistered");
    expect(t.registrations.counters.unregistered).toBe(1);
    await t.board.idle();
    expect(t.board.status("carrier")?.registration?.state).toBe("unregistered");
    // No timers left behind: nothing more is ever sent.
    const n = t.registers().length;
    await advance(t.clock, 7200_000, 600_000);
    expect(t.registers()).toHaveLength(n);

    const idle = setup();
    idle.registrations.start();
    await flush();
    reply(idle.transport, idle.last(), 403);
    await flush();
    await idle.registrations.stop();
    expect(idle.registers()).toHaveLength(1);
  });

  it("removes a binding a REGISTER in flight at stop() makes", async () => {
    const t = setup();
    t.registrations.start();
    await flush();
    const stopping = t.registrations.stop();
    reply(t.transport, t.last(), 200);
    await flush();
    expect(t.last().get("Expires")).toBe("0");
    reply(t.transport, t.last(), 200);
    await stopping;
    expect(t.registrations.counters.unregistered).toBe(1);
  });

  it("follows the trunk list: a disabled trunk un-REGISTERs and drops its registration state, a changed one registers anew, a new one registers", async () => {
    const t = setup();
    await registered(t);
    // Credentials changed: un-REGISTER the old binding first, then register with the new ones.
    t.registrations.update([trunk({ credentials: { username: "trunk-user", password: "n3w" } })]);
    await flush();
    expect(t.last().get("Expires")).toBe("0");
    reply(t.transport, t.last(), 200);
    await flush();
    const fresh = t.last();
    expect(fresh.get("Expires")).toBe("3600");
    expect(fresh.callId).not.toBe(t.registers()[0]!.request.callId);
    reply(t.transport, fresh, 401, [["WWW-Authenticate", CHALLENGE]]);
    await flush();
    expect(validDigest(t.last(), "Authorization", "carrier.test", "n3w")).toBe(true);
    reply(t.transport, t.last(), 200);
    await flush();
    expect(t.registrations.isRegistered("carrier")).toBe(true);

    // The same list again changes nothing.
    const n = t.registers().length;
    t.registrations.update([trunk({ credentials: { username: "trunk-user", password: "n3w" } })]);
    await flush();
    expect(t.registers()).toHaveLength(n);

    // Disabled: un-REGISTER, then the status has no registration; another trunk added registers.
    t.registrations.update([trunk({ enabled: false, credentials: { username: "trunk-user", password: "n3w" } }), trunk({ id: "other", gateways: [gateway("192.0.2.40")] })]);
    await flush();
    const [un, other] = t.registers().slice(n).map((r) => r.request);
    expect(un!.get("Expires")).toBe("0");
    expect(other!.requestUri).toBe("sip:192.0.2.40:5060");
    reply(t.transport, un!, 200);
    await flush();
    await t.board.idle();
    expect(t.board.status("carrier")?.registration).toBeUndefined();
    expect(t.registrations.view().map((v) => v.trunk_id)).toEqual(["other"]);
  });

  it("reports a trunk it cannot register as configured, and sends nothing", async () => {
    const noCredentials = trunk({ id: "a" });
    delete noCredentials.credentials;
    const tlsOnly = trunk({ id: "b", gateways: [gateway("192.0.2.31", { transport: "tls", port: 5061 })] });
    const t = setup([noCredentials, tlsOnly, trunk({ id: "c", register: false })]);
    t.registrations.start();
    await flush();
    expect(t.registers()).toHaveLength(0);
    expect(t.registrations.view()).toEqual([
      { trunk_id: "a", phase: "failed", failures: 0, last_error: "register is on but the trunk has no credentials (the user name is the address-of-record's user part)" },
      { trunk_id: "b", phase: "failed", failures: 0, last_error: "the egress does not listen on tls, the transport of the trunk's gateways" },
    ]);
    expect(t.registrations.snapshot().phases).toMatchObject({ failed: 2 });
    expect(t.registrations.counters.failures.config).toBe(2);
  });

  it("registers over TCP with the TCP port and transport in the Contact", async () => {
    const t = setup([trunk({ gateways: [gateway("192.0.2.31", { transport: "tcp" })] })]);
    t.registrations.start();
    await flush();
    expect(t.last().requestUri).toBe("sip:192.0.2.31:5060;transport=tcp");
    expect(t.last().get("Contact")).toBe("<sip:trunk-user@203.0.113.10:5062;transport=tcp>");
    expect(t.transport.requests("REGISTER")[0]!.destination).toMatchObject({ transport: "TCP", host: "192.0.2.31", port: 5060 });
  });

  it("refuses a configuration it cannot work with, saying what to change", () => {
    const s = trunkSetup();
    const base = { transactions: s.transactions, clock: s.clock, logger: s.logger, status: s.board, trunks: [] };
    expect(() => new TrunkRegistrations({ ...base, contact: { host: "", ports: {} } })).toThrow(/contact.host must be/);
    expect(() => new TrunkRegistrations({ ...base, contact: { host: "h", ports: { UDP: 70000 } } })).toThrow(/contact.ports.UDP must be a port number/);
    expect(() => new TrunkRegistrations({ ...base, contact: { host: "h", ports: {} }, backoffBaseMs: 0 })).toThrow(/backoffBaseMs must be above 0/);
  });
});
