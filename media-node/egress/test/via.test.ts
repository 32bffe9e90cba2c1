import { parseVia } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { responseTarget } from "../src/transport/response-route.ts";
import { markReceived, stampSentBy } from "../src/transport/via-stamp.ts";
import { incoming, outgoing } from "./support/messages.ts";

describe("Via on requests received (RFC 3261 §18.2.1, RFC 3581 §4)", () => {
  it("fills rport with the source port and adds received even when it equals sent-by", () => {
    const req = incoming("INVITE", { via: "SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bK-a;rport" });
    markReceived(req, { address: "192.0.2.20", port: 40123 });
    expect(req.getAll("Via")[0]).toBe("SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bK-a;rport=40123;received=192.0.2.20");
    expect(req.topVia.rport).toBe(40123);
  });

  it("adds received when sent-by is a name or another address, and nothing when it matches", () => {
    const named = incoming("OPTIONS", { via: "SIP/2.0/UDP phone.example.com;branch=z9hG4bK-b" });
    markReceived(named, { address: "198.51.100.7", port: 5060 });
    expect(named.topVia.received).toBe("198.51.100.7");
    expect(named.topVia.rport).toBeUndefined();
    const same = incoming("OPTIONS", { via: "SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bK-c" });
    const before = same.toString();
    markReceived(same, { address: "192.0.2.20", port: 5062 });
    expect(same.toString()).toBe(before);
  });

  it("touches only the top Via value, also when several share one line", () => {
    const req = incoming("INVITE", { via: "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-top;rport, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-2" });
    markReceived(req, { address: "203.0.113.5", port: 61000 });
    expect(req.getAll("Via")).toEqual(["SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-top;rport=61000;received=203.0.113.5", "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-2"]);
  });

  it("writes an IPv6 source without brackets in received (RFC 5118 §4.5 accepts both)", () => {
    const req = incoming("OPTIONS", { via: "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-6;rport" });
    markReceived(req, { address: "2001:db8::9", port: 5070 });
    expect(req.topVia.received).toBe("2001:db8::9");
  });
});

describe("Via on requests sent (§18.1.1)", () => {
  it("stamps transport and sent-by, keeping branch and rport", () => {
    const req = outgoing("OPTIONS");
    req.prepend("Via", "SIP/2.0/UDP sent-by.invalid;branch=z9hG4bK-s;rport");
    stampSentBy(req, "TCP", "192.0.2.10", 5070);
    expect(req.getAll("Via")[0]).toBe("SIP/2.0/TCP 192.0.2.10:5070;branch=z9hG4bK-s;rport");
    stampSentBy(req, "TCP", "::1", 5070);
    expect(req.topVia.host).toBe("[::1]");
  });
});

describe("where a response goes (§18.2.2, RFC 3581 §4)", () => {
  const via = (v: string) => parseVia(v);
  it("UDP: received and rport, else received and sent-by port, else sent-by", () => {
    expect(responseTarget(via("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-x;rport=40000;received=203.0.113.5"))).toEqual({ transport: "UDP", host: "203.0.113.5", port: 40000 });
    expect(responseTarget(via("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-x;received=203.0.113.5"))).toEqual({ transport: "UDP", host: "203.0.113.5", port: 5062 });
    expect(responseTarget(via("SIP/2.0/UDP pbx.example.com;branch=z9hG4bK-x"))).toEqual({ transport: "UDP", host: "pbx.example.com", port: 5060 });
    expect(responseTarget(via("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-x;maddr=239.1.1.1"))).toEqual({ transport: "UDP", host: "239.1.1.1", port: 5060 });
  });

  it("TCP/TLS: the connection of the request, else received (or sent-by) at the sent-by port", () => {
    const source = { transport: "TLS" as const, address: "203.0.113.5", port: 50123, local: { address: "192.0.2.10", port: 5061 }, connectionId: "tls-7" };
    expect(responseTarget(via("SIP/2.0/TLS 10.0.0.1;branch=z9hG4bK-x;received=203.0.113.5;rport=50123"), source)).toEqual({ transport: "TLS", host: "203.0.113.5", port: 5061, connectionId: "tls-7" });
    expect(responseTarget(via("SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK-x"))).toEqual({ transport: "TCP", host: "2001:db8::1", port: 5070 });
  });

  it("has no target for a transport we do not have", () => {
    expect(responseTarget(via("SIP/2.0/WSS abc.invalid;branch=z9hG4bK-x"))).toBeUndefined();
  });
});
