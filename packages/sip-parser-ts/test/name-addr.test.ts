import { describe, expect, it } from "vitest";
import { SipParseError, SipUri, parseNameAddr } from "../src/index.ts";

function rejects(s: string): void {
  expect(() => parseNameAddr(s), s).toThrow(SipParseError);
}

describe("name-addr and addr-spec (RFC 3261 §20.10)", () => {
  it("parses a quoted display name, URI and header parameters", () => {
    const na = parseNameAddr('"Alice Liddell" <sip:alice@example.com;transport=ws>;tag=1928301774;+sip.instance="<urn:uuid:x>"');
    expect(na.displayName).toBe("Alice Liddell");
    expect(na.uri.toString()).toBe("sip:alice@example.com;transport=ws");
    expect((na.uri as SipUri).uriParam("transport")).toBe("ws");
    expect(na.tag).toBe("1928301774");
    expect(na.params.get("+sip.instance")).toBe('"<urn:uuid:x>"');
  });

  it("resolves quoted-pairs in display names (RFC 4475 §3.1.1.1)", () => {
    expect(parseNameAddr('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>').displayName).toBe('J Rosenberg \\"');
    expect(parseNameAddr('"Quoted string \\"\\"" <sip:jdrosen@example.com>').displayName).toBe('Quoted string ""');
    expect(parseNameAddr('"" <sip:a@example.com>').displayName).toBe("");
    expect(parseNameAddr('"Алиса" <sip:a@example.com>').displayName).toBe("Алиса");
    expect(parseNameAddr('"Watson, Thomas" <sip:t.watson@example.org>').displayName).toBe("Watson, Thomas");
  });

  it("parses token display names, with or without LWS before < (RFC 4475 §3.1.1.6)", () => {
    expect(parseNameAddr("caller<sip:caller@example.com>;tag=323").displayName).toBe("caller");
    expect(parseNameAddr("Bob  Smith <sip:bob@example.com>").displayName).toBe("Bob  Smith");
    expect(parseNameAddr("<sip:bob@example.com>").displayName).toBeUndefined();
    expect(parseNameAddr("%Z%45 <sip:resource@example.com>").displayName).toBe("%Z%45");
  });

  it("gives addr-spec parameters to the header, not the URI (§20.10, RFC 4475 §3.3.12)", () => {
    const na = parseNameAddr("sip:+19725552222@gw1.example.net;unknownparam;tag=abc");
    expect(na.uri.toString()).toBe("sip:+19725552222@gw1.example.net");
    expect((na.uri as SipUri).params.size).toBe(0);
    expect(na.params.get("unknownparam")).toBeNull();
    expect(na.tag).toBe("abc");
    const bracketed = parseNameAddr("<sip:+19725552222@gw1.example.net;unknownparam>");
    expect((bracketed.uri as SipUri).uriParam("unknownparam")).toBeNull();
    expect(bracketed.params.size).toBe(0);
  });

  it("accepts whitespace around ';' and '=' (RFC 4475 §3.1.1.1)", () => {
    const na = parseNameAddr("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
    expect(na.uri.toString()).toBe("sip:vivekg@chair-dnrc.example.com");
    expect(na.tag).toBe("1918181833n");
    const m = parseNameAddr('"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33');
    expect([...m.params]).toEqual([["newparam", "newvalue"], ["secondparam", null], ["q", "0.33"]]);
  });

  it("tolerates spaces inside the brackets (RFC 4475 §3.1.2.14)", () => {
    expect(parseNameAddr('"Watson, Thomas" < sip:t.watson@example.org >').uri.toString()).toBe("sip:t.watson@example.org");
  });

  it("keeps parameter names lowercased and values as written", () => {
    const na = parseNameAddr("<sip:a@example.com>;TAG=AbC;Expires=60");
    expect(na.tag).toBe("AbC");
    expect(na.params.get("expires")).toBe("60");
  });

  it("takes other URI schemes", () => {
    expect(parseNameAddr("<tel:+15551234>;tag=x").uri.toString()).toBe("tel:+15551234");
    expect(parseNameAddr("isbn:2983792873").uri.toString()).toBe("isbn:2983792873");
  });

  it("rejects malformed values", () => {
    rejects('"Mr. J. User <sip:j.user@example.com>'); // RFC 4475 §3.1.2.6
    rejects("Bell, Alexander <sip:a.g.bell@example.com>;tag=43"); // §3.1.2.15
    rejects("sip:user@example.com?Route=%3Csip:sip.example.com%3E"); // §3.1.2.13
    rejects("<sip:user@example.com");
    rejects("<sip:user@example.com>;;tag=1"); // §3.1.2.1
    rejects("<sip:user@example.com>;tag=1;");
    rejects("<sip:user@example.com>;tag=");
    rejects("<sip:user@example.com>, <sip:other@example.com>");
    rejects("<sip:user@example.com> junk");
    rejects('<sip:user@example.com>;a="unterminated');
    rejects("<>");
    rejects("");
    rejects("   ");
    rejects('"name"');
    rejects("<sip:bad host@example.com>");
  });

  it("serializes unchanged values exactly and rebuilds changed ones", () => {
    const text = 'Alice <sip:alice@example.com>;TAG=xyz';
    const na = parseNameAddr(text);
    expect(na.toString()).toBe(text);
    na.tag = "new";
    expect(na.toString()).toBe('"Alice" <sip:alice@example.com>;tag=new');
    const spec = parseNameAddr("sip:bob@example.com");
    spec.tag = "9";
    expect(spec.toString()).toBe("<sip:bob@example.com>;tag=9");
    const dn = parseNameAddr("<sip:bob@example.com>");
    dn.displayName = 'Bob "the" \\ Builder';
    expect(dn.toString()).toBe('"Bob \\"the\\" \\\\ Builder" <sip:bob@example.com>');
    expect(parseNameAddr(dn.toString()).displayName).toBe('Bob "the" \\ Builder');
  });
});
