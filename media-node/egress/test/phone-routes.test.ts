import { parseMessage, type SipRequest } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { EgressRoutes } from "../src/proxy/egress-routes.ts";

// A legacy phone's entry (issue 5; egress-routes.ts `ph1`): the Path its
// REGISTER gets and the phone-side Record-Route of its dialogs. It names
// where the phone was seen, MACed, so a request from the edge carrying it
// reaches that phone and no other address a browser would pick.

const SECRET = "s".repeat(40);
const routes = new EgressRoutes("egress-1", SECRET, { host: "203.0.113.10", ports: { UDP: 5060, TCP: 5070 } });

/** An INVITE of the edge for the phone, with its Path preloaded as Route (workers/src/platform/user-agent.ts withRoute). */
function request(routeLines: string[]): SipRequest {
  const text = [
    "INVITE sip:phone@198.51.100.7:5062 SIP/2.0",
    "Via: SIP/2.0/WSS example.com;branch=z9hG4bKx",
    ...routeLines.map((r) => `Route: ${r}`),
    "From: <sip:alice@example.com>;tag=1",
    "To: <sip:bob@example.com>",
    "Call-ID: call-1",
    "CSeq: 1 INVITE",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  return parseMessage(text) as SipRequest;
}

/** The two fields of a phone entry's user part after `ph1.`: the address (base64url) and its MAC. */
function parts(entry: string): { where: string; mac: string } {
  const m = /^sip:ph1\.([A-Za-z0-9_-]+)\.([0-9a-f]+)@/.exec(entry);
  if (m === null) throw new Error(`not a phone entry: ${entry}`);
  return { where: m[1]!, mac: m[2]! };
}

describe("EgressRoutes: a legacy phone's entry", () => {
  it("names the egress's listener for the phone's transport; consumed, it gives back where the phone is", () => {
    const entry = routes.phoneEntry({ transport: "UDP", address: "198.51.100.7", port: 5062 });
    expect(entry).toMatch(/^sip:ph1\.[A-Za-z0-9_-]+\.[0-9a-f]{20}@203\.0\.113\.10:5060;transport=udp;lr$/);
    const req = request([`<${entry}>`, "<sip:beyond.example.com;lr>"]);
    expect(routes.consume(req)).toEqual({ edgeSide: false, token: undefined, phone: { transport: "UDP", host: "198.51.100.7", port: 5062, tcp: false }, forged: false });
    // Only our entry is removed (§16.4); the rest of the route set stays.
    expect(req.getAll("Route")).toEqual(["<sip:beyond.example.com;lr>"]);
  });

  it("is the same for the same address, and does not depend on the Call-ID (a Path outlives every dialog)", () => {
    const a = routes.phoneEntry({ transport: "UDP", address: "198.51.100.7", port: 5062 });
    expect(routes.phoneEntry({ transport: "UDP", address: "198.51.100.7", port: 5062 })).toBe(a);
    const other = parseMessage(request([`<${a}>`]).toString().replace("Call-ID: call-1", "Call-ID: another-call")) as SipRequest;
    expect(routes.consume(other).phone).toEqual({ transport: "UDP", host: "198.51.100.7", port: 5062, tcp: false });
  });

  it("a TCP phone: the TCP listener's port and transport=tcp, and back a TCP destination", () => {
    const entry = routes.phoneEntry({ transport: "TCP", address: "198.51.100.7", port: 40112 });
    expect(entry).toMatch(/@203\.0\.113\.10:5070;transport=tcp;lr$/);
    expect(routes.consume(request([`<${entry}>`])).phone).toEqual({ transport: "TCP", host: "198.51.100.7", port: 40112, tcp: false });
  });

  it("an IPv6 phone, and an egress on IPv6 (a bracketed host in the entry)", () => {
    const entry = routes.phoneEntry({ transport: "UDP", address: "2001:db8::7", port: 5062 });
    expect(routes.consume(request([`<${entry}>`])).phone).toEqual({ transport: "UDP", host: "2001:db8::7", port: 5062, tcp: false });
    const v6 = new EgressRoutes("egress-1", SECRET, { host: "2001:db8::10", ports: { UDP: 5060 } });
    const e6 = v6.phoneEntry({ transport: "UDP", address: "2001:db8::7", port: 5062 });
    expect(e6).toMatch(/@\[2001:db8::10\]:5060;transport=udp;lr$/);
    expect(v6.consume(request([`<${e6}>`])).phone).toEqual({ transport: "UDP", host: "2001:db8::7", port: 5062, tcp: false });
  });

  it("has no entry for a transport it does not listen on", () => {
    expect(() => routes.phoneEntry({ transport: "TLS", address: "198.51.100.7", port: 5061 })).toThrow(/no TLS listener/);
  });

  it("calls an entry with a changed MAC, a changed address, or another egress's key forged, and gives no destination", () => {
    const entry = routes.phoneEntry({ transport: "UDP", address: "198.51.100.7", port: 5062 });
    const { where, mac } = parts(entry);
    const flipped = (mac[0] === "0" ? "1" : "0") + mac.slice(1);
    const tampered = entry.replace(`.${mac}@`, `.${flipped}@`);
    expect(routes.consume(request([`<${tampered}>`]))).toEqual({ edgeSide: false, token: undefined, phone: undefined, forged: true });

    // Someone else's address under this entry's MAC: the MAC covers the address.
    const elsewhere = Buffer.from("UDP 192.0.2.66 5060").toString("base64url");
    expect(routes.consume(request([`<${entry.replace(where, elsewhere)}>`]))).toMatchObject({ phone: undefined, forged: true });

    // The same address, MACed by an egress with another secret.
    const stranger = new EgressRoutes("egress-1", "t".repeat(40), { host: "203.0.113.10", ports: { UDP: 5060, TCP: 5070 } });
    expect(routes.consume(request([`<${stranger.phoneEntry({ transport: "UDP", address: "198.51.100.7", port: 5062 })}>`]))).toMatchObject({ phone: undefined, forged: true });

    // Malformed: no MAC at all; or MACed right by this egress but naming no usable address (a port that is no number).
    expect(routes.consume(request([`<sip:ph1.${where}@203.0.113.10:5060;lr>`])).forged).toBe(true);
    for (const port of [Number.NaN, 123456]) {
      const odd = routes.phoneEntry({ transport: "UDP", address: "198.51.100.7", port });
      expect(routes.consume(request([`<${odd}>`])), String(port)).toMatchObject({ phone: undefined, forged: true });
    }
  });

  it("an entry naming another host or port is not ours at all: left in place", () => {
    const entry = routes.phoneEntry({ transport: "UDP", address: "198.51.100.7", port: 5062 });
    const req = request([`<${entry.replace("203.0.113.10", "203.0.113.11")}>`]);
    expect(routes.consume(req)).toEqual({ edgeSide: false, token: undefined, phone: undefined, forged: false });
    expect(req.getAll("Route")).toHaveLength(1);
  });
});
