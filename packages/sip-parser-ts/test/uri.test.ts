import { describe, expect, it } from "vitest";
import { AbsoluteUri, SipParseError, SipUri, TelUri, parseUri } from "../src/index.ts";

function sip(s: string): SipUri {
  const u = parseUri(s);
  expect(u).toBeInstanceOf(SipUri);
  return u as SipUri;
}

function rejects(s: string): void {
  expect(() => parseUri(s), s).toThrow(SipParseError);
  try {
    parseUri(s);
  } catch (e) {
    expect((e as SipParseError).status).toBe(400);
    expect((e as SipParseError).reason).toBe("Bad Request - Malformed URI");
  }
}

describe("SIP URI (RFC 3261 §19.1)", () => {
  it("parses user, host, port, params and headers", () => {
    const u = sip("sips:alice:secret@Atlanta.example.com:5061;transport=TCP;Maddr=239.255.255.1;lr?subject=project%20x&priority=urgent");
    expect(u.scheme).toBe("sips");
    expect(u.user).toBe("alice");
    expect(u.password).toBe("secret");
    expect(u.host).toBe("Atlanta.example.com");
    expect(u.port).toBe(5061);
    expect([...u.params]).toEqual([["transport", "TCP"], ["maddr", "239.255.255.1"], ["lr", null]]);
    expect(u.uriParam("MADDR")).toBe("239.255.255.1");
    expect(u.uriParam("lr")).toBeNull();
    expect(u.uriParam("ttl")).toBeUndefined();
    expect([...u.headers]).toEqual([["subject", "project%20x"], ["priority", "urgent"]]);
  });

  it("accepts a case-insensitive scheme and no user part", () => {
    const u = sip("SIP:example.com");
    expect(u.scheme).toBe("sip");
    expect(u.user).toBeUndefined();
    expect(u.host).toBe("example.com");
    expect(u.toString()).toBe("SIP:example.com");
  });

  it("keeps escapes in user and decodes them in userDecoded (RFC 4475 §3.1.1.3, §3.1.1.4)", () => {
    const u = sip("sip:sips%3Auser%40example.com@example.net");
    expect(u.user).toBe("sips%3Auser%40example.com");
    expect(u.userDecoded).toBe("sips:user@example.com");
    expect(sip("sip:null-%00-null@example.com").userDecoded).toBe("null-\u0000-null");
    expect(sip("sip:%C3%A9l%C3%A8ve@example.com").userDecoded).toBe("élève");
    // Invalid UTF-8 in escapes decodes to U+FFFD instead of throwing URIError.
    expect(sip("sip:%C3%28@example.com").userDecoded).toBe("\uFFFD(");
  });

  it("takes ';', '?' and ',' in the user part (RFC 4475 §3.1.1.2, §3.1.1.9)", () => {
    const u = sip("sip:user;par=u%40example.net@example.com");
    expect(u.user).toBe("user;par=u%40example.net");
    expect(u.userDecoded).toBe("user;par=u@example.net");
    expect(u.host).toBe("example.com");
    expect(u.params.size).toBe(0);
    const weird = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    expect(weird.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(weird.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(weird.host).toBe("example.com");
  });

  it("parses telephone-subscriber users", () => {
    const u = sip("sip:+1-212-555-1212:1234@gateway.com;user=phone");
    expect(u.user).toBe("+1-212-555-1212");
    expect(u.password).toBe("1234");
    expect(u.uriParam("user")).toBe("phone");
  });

  it("parses IPv4 and IPv6 hosts (RFC 5118)", () => {
    expect(sip("sip:alice@192.0.2.4:5060").host).toBe("192.0.2.4");
    const v6 = sip("sip:[2001:db8::10]:5070");
    expect(v6.host).toBe("[2001:db8::10]");
    expect(v6.port).toBe(5070);
    // RFC 5118 §4.3: no port here, the last group is part of the address.
    const amb = sip("sip:[2001:db8::10:5070]");
    expect(amb.host).toBe("[2001:db8::10:5070]");
    expect(amb.port).toBeUndefined();
    expect(sip("sip:[::ffff:192.0.2.10]").host).toBe("[::ffff:192.0.2.10]");
    expect(sip("sip:[2001:db8::192.0.2.1]").host).toBe("[2001:db8::192.0.2.1]");
    expect(sip("sip:[::1]").host).toBe("[::1]");
    expect(sip("sip:[1:2:3:4:5:6:7:8]").host).toBe("[1:2:3:4:5:6:7:8]");
  });

  it("tolerates the RFC 3261 ABNF's three colons before an IPv4 tail (RFC 5118 §4.10)", () => {
    expect(sip("sip:user@[2001:db8:::192.0.2.1]").host).toBe("[2001:db8:::192.0.2.1]");
  });

  it("rejects bad IPv6 references (RFC 5118 §4.2)", () => {
    rejects("sip:user@2001:db8::10"); // no brackets
    rejects("sip:[2001:db8:::10]"); // three colons
    rejects("sip:[1:::2:3]");
    rejects("sip:[2001:db8::10");
    rejects("sip:[1:2:3:4:5:6:7:8:9]");
    rejects("sip:[12345::1]");
    rejects("sip:[1::2::3]");
    rejects("sip:[::ffff:300.0.2.10]");
    rejects("sip:[]");
    rejects("sip:[1:2:3:4:5:6:7]");
  });

  it("validates hosts and ports", () => {
    rejects("sip:alice@");
    rejects("sip:alice@exa mple.com");
    rejects("sip:alice@example..com");
    rejects("sip:alice@.example.com");
    rejects("sip:alice@256.0.0.1");
    rejects("sip:alice@1.2.3");
    rejects("sip:alice@example.com:");
    rejects("sip:alice@example.com:65536");
    rejects("sip:alice@example.com:123456");
    rejects("sip:alice@example.com:5x");
    rejects("sip:alice@example.com;");
    rejects("sip:alice@example.com;=x");
    rejects("sip:alice@example.com;a=");
    rejects("sip:alice@example.com?");
    rejects("sip:alice@example.com?a");
    rejects("sip:al ice@example.com");
    rejects("sip:alice@example.com>");
    rejects("sip:al%4@example.com");
    rejects("sip:");
    rejects(":alice");
    rejects("1sip:alice@example.com");
    expect(sip("sip:example.com.").host).toBe("example.com.");
    expect(sip("sip:a@host_1.example.com").host).toBe("host_1.example.com");
    expect(sip("sip:a@example.com:0").port).toBe(0);
    expect(sip("sip:a@example.com:65535").port).toBe(65535);
  });

  it("serializes unchanged URIs exactly and rebuilds changed ones", () => {
    const text = "sip:Bob@Biloxi.example.com;Transport=tcp;lr";
    const u = sip(text);
    expect(u.toString()).toBe(text);
    u.port = 5080;
    expect(u.toString()).toBe("sip:Bob@Biloxi.example.com:5080;transport=tcp;lr");
    const v = sip(text);
    v.params.set("ob", null);
    expect(v.toString()).toBe("sip:Bob@Biloxi.example.com;transport=tcp;lr;ob");
    const w = sip("sip:a@b.example.com?Replaces=abc");
    w.headers.delete("Replaces");
    expect(w.toString()).toBe("sip:a@b.example.com");
  });

  it("builds URIs", () => {
    const u = new SipUri({ user: "alice", host: "example.com", params: [["transport", "ws"]] });
    expect(u.toString()).toBe("sip:alice@example.com;transport=ws");
    expect(u.uriParam("transport")).toBe("ws");
  });
});

describe("tel URI (RFC 3966)", () => {
  it("parses number and params", () => {
    const u = parseUri("tel:+1-201-555-0123;Phone-Context=example.com;ext=12");
    expect(u).toBeInstanceOf(TelUri);
    const t = u as TelUri;
    expect(t.scheme).toBe("tel");
    expect(t.number).toBe("+1-201-555-0123");
    expect(t.uriParam("phone-context")).toBe("example.com");
    expect(t.toString()).toBe("tel:+1-201-555-0123;Phone-Context=example.com;ext=12");
    t.params.delete("ext");
    expect(t.toString()).toBe("tel:+1-201-555-0123;phone-context=example.com");
  });

  it("rejects an empty or bad number", () => {
    rejects("tel:");
    rejects("tel:;x=1");
    rejects("tel:+1 555");
  });
});

describe("other schemes (RFC 4475 §3.3.2-3.3.4)", () => {
  it("keeps them opaque", () => {
    for (const s of ["nobodyKnowsThisScheme:totallyopaquecontent", "soap.beep://192.0.2.103:3002", "isbn:2983792873", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"]) {
      const u = parseUri(s);
      expect(u).toBeInstanceOf(AbsoluteUri);
      expect(u.toString()).toBe(s);
      expect(u.uriParam("x")).toBeUndefined();
    }
    expect((parseUri("soap.beep://192.0.2.103:3002") as AbsoluteUri).scheme).toBe("soap.beep");
  });

  it("rejects whitespace, brackets and quotes", () => {
    rejects("http://example.com/a b");
    rejects("http://example.com/<");
    rejects('x:"');
    rejects("x:");
  });
});
