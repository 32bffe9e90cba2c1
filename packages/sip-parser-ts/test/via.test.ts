import { describe, expect, it } from "vitest";
import { SipParseError, Via, parseVia } from "../src/index.ts";

describe("Via (RFC 3261 §20.42)", () => {
  it("parses a WebSocket Via (RFC 7118)", () => {
    const v = parseVia("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKbd9e6e8;rport");
    expect(v.protocolName).toBe("SIP");
    expect(v.protocolVersion).toBe("2.0");
    expect(v.transport).toBe("WSS");
    expect(v.host).toBe("df7jal23ls0d.invalid");
    expect(v.port).toBeUndefined();
    expect(v.branch).toBe("z9hG4bKbd9e6e8");
    expect(v.rport).toBe(true);
    expect(v.received).toBeUndefined();
  });

  it("uppercases the transport and keeps unknown ones (RFC 4475 §3.1.1.10)", () => {
    expect(parseVia("SIP/2.0/udp host.example.com").transport).toBe("UDP");
    expect(parseVia("SIP/2.0/ws host.example.com").transport).toBe("WS");
    expect(parseVia("SIP/2.0/sctp host.example.com").transport).toBe("SCTP");
    expect(parseVia("SIP/2.0/TLS-SCTP host.example.com").transport).toBe("TLS-SCTP");
    expect(parseVia("SIP/2.0/UNKNOWN host.example.com").transport).toBe("UNKNOWN");
  });

  it("parses rport with a value, received, maddr and ttl (RFC 3581)", () => {
    const v = parseVia("SIP/2.0/UDP 10.0.0.1:5060;rport=61234;received=198.51.100.7;maddr=224.2.0.1;ttl=16;branch=z9hG4bK1");
    expect(v.port).toBe(5060);
    expect(v.rport).toBe(61234);
    expect(v.received).toBe("198.51.100.7");
    expect(v.maddr).toBe("224.2.0.1");
    expect(v.ttl).toBe(16);
  });

  it("takes IPv6 sent-by and received with or without brackets (RFC 5118 §4.5)", () => {
    const v = parseVia("SIP/2.0/UDP [2001:db8::9:1]:5060;received=[2001:db8::9:255];branch=z9hG4bKas3-111");
    expect(v.host).toBe("[2001:db8::9:1]");
    expect(v.port).toBe(5060);
    expect(v.received).toBe("[2001:db8::9:255]");
    expect(parseVia("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255").received).toBe("2001:db8::9:255");
  });

  it("allows LWS around '/', ':' and ';' (RFC 4475 §3.1.1.1)", () => {
    const v = parseVia("SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw");
    expect(v.transport).toBe("UDP");
    expect(v.host).toBe("192.0.2.2");
    const w = parseVia("SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8");
    expect(w.host).toBe("spindle.example.com");
    expect(w.branch).toBe("z9hG4bK9ikj8");
    expect(parseVia("sip/2.0/tcp host.example.com : 5070 ;branch=x").port).toBe(5070);
  });

  it("rejects malformed values", () => {
    for (const s of [
      "", "SIP/2.0/UDP", "SIP/2.0 host.example.com", "SIP/2.0/UDPhost", "SIP/2.0/UDP host:99999",
      "SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;;", "SIP/2.0/UDP 192.0.2.15;;,;,,", "SIP/2.0/UDP host;rport=x",
      "SIP/2.0/UDP host;received=example.com", "SIP/2.0/UDP host;ttl=256", "SIP/2.0/UDP [::1", "SIP/2.0/UDP host junk",
      "SIP/2.0/UDP 2001:db8::1",
    ]) {
      expect(() => parseVia(s), s).toThrow(SipParseError);
    }
  });

  it("serializes unchanged values exactly and rebuilds changed ones", () => {
    const text = "SIP/2.0/UDP pc33.atlanta.example.com;Branch=z9hG4bK776asdhds;rport";
    const v = parseVia(text);
    expect(v.toString()).toBe(text);
    v.received = "192.0.2.1";
    v.rport = 5066;
    expect(v.toString()).toBe("SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport=5066;received=192.0.2.1");
    const built = new Via({ transport: "wss", host: "edge.example.com", params: [["branch", "z9hG4bKx"]] });
    expect(built.toString()).toBe("SIP/2.0/WSS edge.example.com;branch=z9hG4bKx");
    built.rport = true;
    expect(built.toString()).toBe("SIP/2.0/WSS edge.example.com;branch=z9hG4bKx;rport");
  });
});
