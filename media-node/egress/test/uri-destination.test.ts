import { parseUri } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { destinationOf, gatewayRequestUri } from "../src/proxy/uri-destination.ts";

// Where an in-dialog request goes on the carrier side (RFC 3263 §4.1-4.2 without DNS).

describe("destinationOf", () => {
  it("reads transport, port and host, with the defaults of §19.1.2", () => {
    expect(destinationOf(parseUri("sip:carrier@198.51.100.7:5080;transport=tcp"))).toEqual({ transport: "TCP", host: "198.51.100.7", port: 5080 });
    expect(destinationOf(parseUri("sip:carrier@198.51.100.7"))).toEqual({ transport: "UDP", host: "198.51.100.7", port: 5060 });
    expect(destinationOf(parseUri("sips:carrier@sip.example.com"))).toEqual({ transport: "TLS", host: "sip.example.com", port: 5061 });
    expect(destinationOf(parseUri("sip:[2001:db8::1]:5062"))).toEqual({ transport: "UDP", host: "2001:db8::1", port: 5062 });
  });

  it("has none for what it cannot reach: a .invalid host (PITFALLS 5), another transport, another scheme", () => {
    expect(destinationOf(parseUri("sip:alice@df7jal23ls0d.invalid;transport=ws"))).toBeUndefined();
    expect(destinationOf(parseUri("sip:carrier@198.51.100.7;transport=sctp"))).toBeUndefined();
    expect(destinationOf(parseUri("tel:+15550100"))).toBeUndefined();
  });
});

describe("gatewayRequestUri", () => {
  it("puts the dialled number at the gateway, user=phone, transport when not UDP", () => {
    expect(gatewayRequestUri("+15550100", { host: "198.51.100.7", port: 5060, transport: "udp" })).toBe("sip:+15550100@198.51.100.7:5060;user=phone");
    expect(gatewayRequestUri("+15550100", { host: "2001:db8::1", port: 5061, transport: "tls" })).toBe("sip:+15550100@[2001:db8::1]:5061;user=phone;transport=tls");
  });
});
