import { parseMessage, type SipRequest, type SipResponse } from "sip-parser-ts";
import { describe, expect, it, vi } from "vitest";
import { phoneRegistrationExpires, PhoneKeepAlive } from "../src/proxy/phone-keepalive.ts";
import type { Destination } from "../src/transport/protocol.ts";

// NAT keep-alive of legacy phones registered through the egress (issue 5):
// a CRLFCRLF ping to each registered phone every interval, until its
// registration expires or it unregisters. The ping and the clock are fakes
// here (pure logic); the real pings are counted in test/integration/egress-phones.test.ts.

const A: Destination = { transport: "UDP", host: "198.51.100.7", port: 5062 };
const B: Destination = { transport: "TCP", host: "198.51.100.8", port: 40112 };
const at = (d: Destination) => ({ transport: d.transport, address: d.host, port: d.port });

/** A keep-alive with a fake clock and a ping that records where it went, failing for the hosts in `failing`. */
function harness(failing: string[] = []) {
  let now = 1_000_000;
  const pinged: string[] = [];
  const k = new PhoneKeepAlive(
    async (d) => {
      pinged.push(`${d.transport} ${d.host}:${d.port}`);
      if (failing.includes(d.host)) throw new Error("EHOSTUNREACH");
    },
    20_000,
    () => now,
  );
  return { k, pinged, advance: (ms: number) => void (now += ms) };
}

describe("PhoneKeepAlive", () => {
  it("pings every registered phone once per tick, and counts what it sent", async () => {
    const { k, pinged } = harness();
    k.registered(A, 300);
    k.registered(B, 300);
    expect(k.size).toBe(2);
    await k.tick();
    expect(pinged.sort()).toEqual(["TCP 198.51.100.8:40112", "UDP 198.51.100.7:5062"]);
    await k.tick();
    expect(pinged).toHaveLength(4);
    expect(k.sent).toBe(4);
    expect(k.failed).toBe(0);
  });

  it("a refresh from the same address is one phone, with the new expiry", async () => {
    const { k, pinged, advance } = harness();
    k.registered(A, 60);
    advance(50_000);
    k.registered({ ...A }, 60);
    expect(k.size).toBe(1);
    advance(30_000); // 80 s after the first REGISTER, 30 s after the refresh
    await k.tick();
    expect(pinged).toEqual(["UDP 198.51.100.7:5062"]);
    expect(k.has(at(A))).toBe(true);
  });

  it("forgets a phone whose registration expired, at the next tick", async () => {
    const { k, pinged, advance } = harness();
    k.registered(A, 60);
    k.registered(B, 3600);
    advance(60_000);
    // Expired: no longer the phone's address for has(), though not swept yet.
    expect(k.has(at(A))).toBe(false);
    expect(k.size).toBe(2);
    await k.tick();
    expect(pinged).toEqual(["TCP 198.51.100.8:40112"]);
    expect(k.size).toBe(1);
  });

  it("forgets a phone that unregistered (expires 0), and one never registered is no phone", async () => {
    const { k, pinged } = harness();
    k.registered(A, 300);
    k.registered(A, 0);
    expect(k.size).toBe(0);
    expect(k.has(at(A))).toBe(false);
    await k.tick();
    expect(pinged).toEqual([]);
    k.registered(B, 0);
    expect(k.size).toBe(0);
  });

  it("counts a ping that fails, and keeps pinging that phone while registered", async () => {
    const { k } = harness(["198.51.100.7"]);
    k.registered(A, 300);
    k.registered(B, 300);
    await k.tick();
    await k.tick();
    expect({ sent: k.sent, failed: k.failed }).toEqual({ sent: 2, failed: 2 });
    expect(k.size).toBe(2);
  });

  it("has(): exactly the transport, address and port the phone registered from", () => {
    const { k } = harness();
    k.registered(A, 300);
    expect(k.has(at(A))).toBe(true);
    expect(k.has({ ...at(A), port: 5063 })).toBe(false);
    expect(k.has({ ...at(A), address: "198.51.100.9" })).toBe(false);
    expect(k.has({ ...at(A), transport: "TCP" })).toBe(false);
  });

  it("start() pings every interval until stop(); interval 0 turns it off", async () => {
    vi.useFakeTimers();
    try {
      const pings: Destination[] = [];
      const on = new PhoneKeepAlive(async (d) => void pings.push(d), 20_000);
      on.registered(A, 300);
      on.start();
      on.start(); // a second start() adds no second timer
      await vi.advanceTimersByTimeAsync(60_000);
      expect(pings).toHaveLength(3);
      on.stop();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(pings).toHaveLength(3);

      const off = new PhoneKeepAlive(async (d) => void pings.push(d), 0);
      off.registered(A, 300);
      off.start();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(pings).toHaveLength(3);
      off.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A 200 to REGISTER as the edge's registrar writes it (workers/src/registrar/registrar.ts), with these extra fields. */
function ok(fields: string[]): SipResponse {
  return parseMessage(
    [
      "SIP/2.0 200 OK",
      "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKr;rport=5062",
      "From: <sip:bob@example.com>;tag=1",
      "To: <sip:bob@example.com>;tag=2",
      "Call-ID: reg-1",
      "CSeq: 2 REGISTER",
      ...fields,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  ) as SipResponse;
}

describe("phoneRegistrationExpires (RFC 3261 §10.2.4)", () => {
  const CONTACT = "<sip:bob@198.51.100.7:5062>";
  it("takes the expires of the phone's own Contact, not the longest of the user's bindings", () => {
    expect(phoneRegistrationExpires(register([`Contact: ${CONTACT}`]), ok([`Contact: ${CONTACT};expires=300`]))).toBe(300);
    expect(phoneRegistrationExpires(register([`Contact: ${CONTACT}`]), ok([`Contact: ${CONTACT};expires=120, <sip:bob@198.51.100.8:5062>;expires=600`, "Contact: <sip:bob@x.invalid;transport=ws>;expires=3000"]))).toBe(120);
  });

  it("falls back to the Expires header, then to what the phone asked for", () => {
    expect(phoneRegistrationExpires(register([`Contact: ${CONTACT}`]), ok([`Contact: ${CONTACT}`, "Expires: 900"]))).toBe(900);
    expect(phoneRegistrationExpires(register([`Contact: ${CONTACT}`, "Expires: 600"]), ok([]))).toBe(600);
    expect(phoneRegistrationExpires(register([`Contact: ${CONTACT};expires=60`]), ok([]))).toBe(60);
  });

  it("an unregistration is 0 whatever other bindings the 2xx lists", () => {
    expect(phoneRegistrationExpires(register([`Contact: ${CONTACT};expires=0`]), ok(["Contact: <sip:bob@198.51.100.8:5062>;expires=600"]))).toBe(0);
    expect(phoneRegistrationExpires(register(["Contact: *", "Expires: 0"]), ok([]))).toBe(0);
    expect(phoneRegistrationExpires(register([]), ok(["Contact: <sip:bob@198.51.100.8:5062>;expires=600"]))).toBe(0);
  });
});

describe("Flow-Timer for phones under outbound rules (RFC 5626 §4.4.1)", () => {
  it("lowers the DO's Flow-Timer to the keep-alive interval when the 2xx says Require: outbound", () => {
    const { k } = harness(); // 20 s
    const r = ok(["Require: outbound", "Flow-Timer: 60"]);
    k.lowerFlowTimer(r);
    expect(r.get("Flow-Timer")).toBe("20");
    const missing = ok(["Require: path, outbound"]);
    k.lowerFlowTimer(missing);
    expect(missing.get("Flow-Timer")).toBe("20");
  });

  it("leaves a shorter Flow-Timer, a 2xx without Require: outbound, and everything when keep-alives are off", () => {
    const { k } = harness();
    const shorter = ok(["Require: outbound", "Flow-Timer: 15"]);
    k.lowerFlowTimer(shorter);
    expect(shorter.get("Flow-Timer")).toBe("15");
    const plain = ok(["Supported: outbound, path"]);
    k.lowerFlowTimer(plain);
    expect(plain.has("Flow-Timer")).toBe(false);
    const off = ok(["Require: outbound", "Flow-Timer: 60"]);
    new PhoneKeepAlive(async () => {}, 0).lowerFlowTimer(off);
    expect(off.get("Flow-Timer")).toBe("60");
  });
});

/** A phone's REGISTER with these extra fields. */
function register(fields: string[]): SipRequest {
  return parseMessage(
    [
      "REGISTER sip:example.com SIP/2.0",
      "Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bKr;rport",
      "From: <sip:bob@example.com>;tag=1",
      "To: <sip:bob@example.com>",
      "Call-ID: reg-1",
      "CSeq: 2 REGISTER",
      "Max-Forwards: 70",
      ...fields,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  ) as SipRequest;
}
