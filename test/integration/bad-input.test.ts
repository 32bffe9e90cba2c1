import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { newSubscriber } from "../harness/admin.ts";
import "../harness/stack-info.ts";
import { clientPool, digestAuthorization, parseChallenge, register, registerMessage, statusOf } from "../harness/sip-ws-client.ts";

function options(aor: string, callId: string, cseq: number, extra: string[] = [], body = ""): string {
  const domain = aor.slice(aor.indexOf("@") + 1);
  return [
    `OPTIONS sip:${domain} SIP/2.0`,
    "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bKopt" + cseq,
    "Max-Forwards: 70",
    `To: <sip:${domain}>`,
    `From: <sip:${aor}>;tag=opt`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} OPTIONS`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

describe("bad input: each gets its answer and the DO keeps serving", () => {
  const stack = inject("stack");
  const pool = clientPool(stack.edgeUrl);
  const connect = pool.connect;
  afterEach(() => pool.closeAll());

  it("OPTIONS to the domain: 200 with Allow", async () => {
    const { aor } = stack.users[0]!;
    const c = await connect(aor);
    const res = await c.request(options(aor, "opt-1", 1));
    expect(res.status).toBe(200);
    expect(res.header("Allow")).toContain("REGISTER");
  });

  it("garbage is dropped, a malformed header gets 400, an oversized message 513; the socket keeps working", async () => {
    const { aor } = stack.users[0]!;
    const c = await connect(aor);
    c.send("hello, this is not SIP");
    c.send(Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    c.send("");
    // Parses as a request but with a malformed CSeq: answered 400.
    const bad = options(aor, "opt-bad", 1).replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS");
    c.send(bad);
    const r400 = await c.next((m) => m.includes("opt-bad"));
    expect(statusOf(r400)).toBe(400);
    // Over 64 KiB (RFC 3261 §21.5.14): 513.
    const big = options(aor, "opt-big", 2, ["Content-Type: text/plain"], "x".repeat(70_000));
    c.send(big);
    const r513 = await c.next((m) => m.includes("opt-big"));
    expect(statusOf(r513)).toBe(513);
    // A response nobody asked for is dropped silently.
    c.send("SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bKzz\r\nTo: <sip:a@b>;tag=1\r\nFrom: <sip:a@b>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    const ok = await c.request(options(aor, "opt-after", 3));
    expect(ok.status).toBe(200);
    // Nothing was answered to the garbage or the stray response.
    expect(c.unclaimed()).toEqual([]);
  });

  it("a request the proxy core does not serve yet gets a final answer, not silence", async () => {
    const { aor } = stack.users[0]!;
    const c = await connect(aor);
    const msg = options(aor, "msg-1", 1).replace("OPTIONS sip:", "MESSAGE sip:bob@").replace("CSeq: 1 OPTIONS", "CSeq: 1 MESSAGE");
    c.send(msg);
    const res = await c.next((m) => m.includes("msg-1"));
    expect(statusOf(res)).toBeGreaterThanOrEqual(400);
  });

  it("1,000 failed logins: slowed, then refused 403 cheaply; other sources and users keep registering", async () => {
    const { aor, password } = await newSubscriber(stack, "target");
    const user = aor.split("@")[0]!;
    // The attacker comes from 127.0.0.2.
    const attacker = await connect(aor, "127.0.0.2");
    const first = await attacker.request(registerMessage({ aor, callId: attacker.callId, cseq: attacker.nextCSeq(), contactHost: attacker.contactHost }));
    const challenge = parseChallenge(first.headers("WWW-Authenticate").at(-1)!);
    const started = Date.now();
    const statuses = new Map<number, number>();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      const authorization = digestAuthorization({ challenge, method: "REGISTER", uri: `sip:${stack.domain}`, username: user, password: `guess-${i}`, nc: i + 1 });
      const msg = registerMessage({ aor, callId: attacker.callId, cseq: attacker.nextCSeq(), contactHost: attacker.contactHost, authorization });
      pending.push(attacker.request(msg, 30_000).then((r) => void statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)));
    }
    await Promise.all(pending);
    const elapsed = Date.now() - started;
    expect((statuses.get(401) ?? 0) + (statuses.get(403) ?? 0)).toBe(1000);
    expect(statuses.get(403) ?? 0).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(20_000);

    // The attacker's source stays locked even with the right password, on a fresh socket.
    const again = await connect(aor, "127.0.0.2");
    expect((await register(again, { aor, password })).response.status).toBe(403);

    // The real user, from another address, registers at once; so does another user from the attacker's address.
    const t0 = Date.now();
    const real = await connect(aor, "127.0.0.3");
    expect((await register(real, { aor, password, expires: 300 })).response.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2_000);
    const other = stack.users[1]!;
    const neighbour = await connect(other.aor, "127.0.0.2");
    expect((await register(neighbour, { aor: other.aor, password: other.password, expires: 300 })).response.status).toBe(200);
  });

  it("logs are JSON lines with the Call-ID, and never hold a password, an HA1 or an Authorization header", () => {
    const lines = readFileSync(join(stack.logDir, "edge.log"), "utf8").split("\n").filter((l) => l.startsWith("{"));
    const events = lines.map((l) => JSON.parse(l) as { event: string; call_id?: string });
    const refusals = events.filter((e) => e.event === "sip-refused" || e.event === "register");
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((e) => typeof e.call_id === "string")).toBe(true);
    const text = lines.join("\n");
    for (const u of stack.users) expect(text).not.toContain(u.password);
    expect(text).not.toMatch(/guess-\d+|Digest |response=|[0-9a-f]{32}/);
  });
});
