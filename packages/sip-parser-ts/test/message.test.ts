import { describe, expect, it } from "vitest";
import {
  Contact, SipParseError, SipRequest, SipResponse, SipUri, TelUri, parseMessage, type SipMessage,
} from "../src/index.ts";
import { INVITE, INVITE_200, REGISTER, REGISTER_200, WEBRTC_SDP, crlf } from "./samples.ts";

function req(text: string): SipRequest {
  const m = parseMessage(text);
  expect(m).toBeInstanceOf(SipRequest);
  return m as SipRequest;
}

function res(text: string): SipResponse {
  const m = parseMessage(text);
  expect(m).toBeInstanceOf(SipResponse);
  return m as SipResponse;
}

/** The SipParseError thrown by f, with its status and reason checked. */
function parseError(f: () => unknown, reason?: string | RegExp, status: 400 | 513 = 400): SipParseError {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(SipParseError);
  const err = thrown as SipParseError;
  expect(err.status).toBe(status);
  if (typeof reason === "string") expect(err.reason).toBe(reason);
  else if (reason) expect(err.reason).toMatch(reason);
  return err;
}

/** A minimal valid request with extra header lines. */
function withHeaders(...lines: string[]): string {
  return crlf([
    "OPTIONS sip:bob@example.com SIP/2.0",
    "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1",
    "To: <sip:bob@example.com>",
    "From: <sip:alice@example.com>;tag=1",
    "Call-ID: abc@host",
    "CSeq: 1 OPTIONS",
    ...lines,
    "Content-Length: 0",
    "",
    "",
  ]);
}

describe("typical messages from WebRTC clients", () => {
  it("REGISTER (JsSIP style, RFC 7118 + RFC 5626)", () => {
    const m = req(REGISTER);
    expect(m.method).toBe("REGISTER");
    expect(m.requestUri).toBe("sip:example.com");
    expect(m.uri).toBeInstanceOf(SipUri);
    expect((m.uri as SipUri).host).toBe("example.com");
    expect(m.version).toBe("SIP/2.0");
    expect(m.topVia.transport).toBe("WSS");
    expect(m.topVia.host).toBe("3hj7k2mf9q1d.invalid");
    expect(m.topVia.branch).toBe("z9hG4bK8297461");
    expect(m.to.uri.toString()).toBe("sip:alice@example.com");
    expect(m.to.tag).toBeUndefined();
    expect(m.from.displayName).toBe("Alice");
    expect(m.from.tag).toBe("m0d1kuf4pg");
    expect(m.callId).toBe("9r1c5h0t8e2a4k6d3l7s");
    expect(m.cseq).toEqual({ seq: 2, method: "REGISTER" });
    expect(m.maxForwards).toBe(69);
    expect(m.expires).toBe(600);
    const contacts = m.contacts as Contact[];
    expect(contacts).toHaveLength(1);
    const c = contacts[0]!;
    expect(c).toBeInstanceOf(Contact);
    expect((c.uri as SipUri).uriParam("transport")).toBe("ws");
    expect(c.instance).toBe("<urn:uuid:1c9d6a0e-5b2f-4c3a-9e8d-7f6a5b4c3d2e>");
    expect(c.regId).toBe(1);
    expect(c.ob).toBe(true);
    expect(c.expires).toBe(600);
    expect(c.q).toBeUndefined();
    expect(c.params.get("+sip.ice")).toBeNull();
    expect(m.allow).toEqual(["INVITE", "ACK", "CANCEL", "BYE", "UPDATE", "MESSAGE", "OPTIONS", "REFER", "INFO", "NOTIFY"]);
    expect(m.supported).toEqual(["path", "gruu", "outbound"]);
    expect(m.require).toEqual([]);
    expect(m.get("User-Agent")).toBe("JsSIP 3.10.1");
    expect(m.contentLength).toBe(0);
    expect(m.contentType).toBeUndefined();
    expect(m.body).toBe("");
    expect(m.toString()).toBe(REGISTER);
  });

  it("200 OK to REGISTER", () => {
    const m = res(REGISTER_200);
    expect(m.status).toBe(200);
    expect(m.reason).toBe("OK");
    expect(m.topVia.received).toBe("198.51.100.7");
    expect(m.topVia.rport).toBe(53122);
    expect(m.to.tag).toBe("as4b7c9d1e");
    expect(m.require).toEqual(["outbound"]);
    expect(m.supported).toEqual(["outbound", "path"]);
    expect(m.flowTimer).toBe(25);
    expect(m.toString()).toBe(REGISTER_200);
  });

  it("INVITE with a WebRTC SDP offer", () => {
    const m = req(INVITE);
    expect(m.contentType).toBe("application/sdp");
    expect(m.body).toBe(WEBRTC_SDP);
    expect(m.contentLength).toBe(WEBRTC_SDP.length);
    expect(m.sessionExpires).toEqual({ delta: 90 });
    expect(m.supported).toContain("replaces");
    expect((m.contacts as Contact[])[0]!.ob).toBe(true);
    expect(m.toString()).toBe(INVITE);
  });

  it("200 OK to INVITE with Record-Route", () => {
    const m = res(INVITE_200);
    expect(m.recordRoutes.map((r) => r.uri.toString())).toEqual([
      "sip:edge.example.com;transport=ws;lr;r2=on",
      "sip:edge.example.com;transport=udp;lr;r2=on",
    ]);
    expect(m.sessionExpires).toEqual({ delta: 90, refresher: "uac" });
    expect(m.require).toEqual(["timer"]);
    expect(m.body).toBe(WEBRTC_SDP);
  });
});

describe("header names", () => {
  it("match case-insensitively and in compact form (RFC 3261 §7.3.3)", () => {
    const m = req(crlf([
      "MESSAGE sip:bob@example.com SIP/2.0",
      "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
      "VIA: SIP/2.0/TCP b.example.com;branch=z9hG4bK2",
      "t: <sip:bob@example.com>",
      "f: <sip:alice@example.com>;tag=1",
      "i: short@host",
      "cseq: 4 MESSAGE",
      "m: <sip:alice@a.example.com>",
      "k: 100rel",
      "s: Hello",
      "c: text/plain",
      "o: presence;id=7",
      "r: <sip:carol@example.com>",
      "b: <sip:alice@example.com>",
      "x: 1800;refresher=UAS",
      "u: dialog",
      "e: gzip",
      "l: 2",
      "",
      "hi",
    ]));
    expect(m.vias.map((v) => v.host)).toEqual(["a.example.com", "b.example.com"]);
    expect(m.get("via")).toBe("SIP/2.0/UDP a.example.com;branch=z9hG4bK1");
    expect(m.getAll("Via")).toHaveLength(2);
    expect(m.callId).toBe("short@host");
    expect(m.get("Call-ID")).toBe("short@host");
    expect(m.get("CALL-id")).toBe("short@host");
    expect(m.supported).toEqual(["100rel"]);
    expect(m.get("Subject")).toBe("Hello");
    expect(m.contentType).toBe("text/plain");
    expect(m.event).toEqual({ type: "presence", id: "7", params: new Map([["id", "7"]]) });
    expect(m.referTo?.uri.toString()).toBe("sip:carol@example.com");
    expect(m.get("Referred-By")).toBe("<sip:alice@example.com>");
    expect(m.sessionExpires).toEqual({ delta: 1800, refresher: "uas" });
    expect(m.getAll("Allow-Events")).toEqual(["dialog"]);
    expect(m.get("Content-Encoding")).toBe("gzip");
    expect(m.body).toBe("hi");
    expect(m.headers.map((h) => h.key)).toEqual([
      "via", "via", "to", "from", "call-id", "cseq", "contact", "supported", "subject", "content-type", "event",
      "refer-to", "referred-by", "session-expires", "allow-events", "content-encoding", "content-length",
    ]);
    expect(m.headers[0]!.name).toBe("v");
    expect(m.has("X-Nope")).toBe(false);
    expect(m.get("X-Nope")).toBeUndefined();
    expect(m.getAll("X-Nope")).toEqual([]);
  });

  it("keeps unknown headers whole, commas and all", () => {
    const m = req(withHeaders("X-Custom: a, b, \"c\"", "Date: Sat, 13 Nov 2010 23:29:00 GMT", "X-Custom: d"));
    expect(m.getAll("x-custom")).toEqual(['a, b, "c"', "d"]);
    expect(m.get("Date")).toBe("Sat, 13 Nov 2010 23:29:00 GMT");
  });
});

describe("line folding (RFC 3261 §7.3.1)", () => {
  const folded = crlf([
    "INVITE sip:bob@example.com SIP/2.0",
    "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,",
    "  SIP/2.0/TCP b.example.com;branch=z9hG4bK2",
    "To:",
    " <sip:bob@example.com>",
    "From: <sip:alice@example.com>",
    "\t;tag=98asjd8",
    "Call-ID: fold@host",
    "CSeq: 0009",
    "  INVITE",
    "Subject: first   ",
    "   second",
    "Content-Length: 0",
    "",
    "",
  ]);

  it("unfolds values to one SP and keeps the text byte-exact", () => {
    const m = req(folded);
    expect(m.vias.map((v) => v.host)).toEqual(["a.example.com", "b.example.com"]);
    expect(m.to.uri.toString()).toBe("sip:bob@example.com");
    expect(m.from.tag).toBe("98asjd8");
    expect(m.cseq).toEqual({ seq: 9, method: "INVITE" });
    expect(m.get("Subject")).toBe("first second");
    expect(m.toString()).toBe(folded);
  });

  it("writes untouched folded lines back as they were when rebuilding", () => {
    const m = req(folded);
    m.set("Max-Forwards", "70");
    const out = m.toString();
    expect(out).toContain("Subject: first   \r\n   second\r\n");
    expect(out).toContain("Max-Forwards: 70\r\n");
    expect(req(out).get("Subject")).toBe("first second");
  });

  it("writes bare-LF folds back with CRLF", () => {
    const m = req(folded.replace("first   \r\n", "first   \n"));
    m.set("Max-Forwards", "70");
    expect(m.toString()).toContain("Subject: first   \r\n   second\r\n");
  });

  it("refuses a continuation line right after the start line", () => {
    parseError(() => parseMessage("OPTIONS sip:a@b.example SIP/2.0\r\n folded\r\nVia: x\r\n\r\n"), "Bad Request - Malformed header line");
  });
});

describe("list values", () => {
  it("splits Contact on commas outside quotes and brackets", () => {
    const m = req(withHeaders(
      'Contact: "Watson, Thomas" <sip:t,w@a.example.com;x=1>;q=0.7, <sip:b@b.example.com>;expires=60,',
      " sip:c@c.example.com;q=1",
      "Contact: <sip:d@[2001:db8::1]:5070;transport=tcp>",
    ));
    const c = m.contacts as Contact[];
    expect(c.map((x) => x.uri.toString())).toEqual([
      "sip:t,w@a.example.com;x=1", "sip:b@b.example.com", "sip:c@c.example.com", "sip:d@[2001:db8::1]:5070;transport=tcp",
    ]);
    expect(c[0]!.displayName).toBe("Watson, Thomas");
    expect(c.map((x) => x.q)).toEqual([0.7, undefined, 1, undefined]);
    expect(c[1]!.expires).toBe(60);
    expect((c[3]!.uri as SipUri).host).toBe("[2001:db8::1]");
    expect(m.getAll("Contact")).toHaveLength(4);
  });

  it("gives Route and Path in order", () => {
    const m = req(withHeaders("Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>", "Route: <sip:p3.example.com;lr>", "Path: <sip:edge.example.com;lr;ob>"));
    expect(m.routes.map((r) => (r.uri as SipUri).host)).toEqual(["p1.example.com", "p2.example.com", "p3.example.com"]);
    expect((m.paths[0]!.uri as SipUri).uriParam("ob")).toBeNull();
    expect(m.recordRoutes).toEqual([]);
  });

  it("refuses empty elements in typed lists (RFC 4475 §3.1.2.1)", () => {
    const m = req(withHeaders("Route: <sip:p1.example.com;lr>,,<sip:p2.example.com>"));
    parseError(() => m.routes, "Bad Request - Malformed Route");
    const v = req(withHeaders().replace("branch=z9hG4bK1", "branch=z9hG4bK1;;,;,,"));
    parseError(() => v.vias, "Bad Request - Malformed Via");
    expect(req(withHeaders("Supported:", "Require: ,timer,")).supported).toEqual([]);
  });
});

describe("Contact", () => {
  it("accepts the wildcard alone (RFC 3261 §10.2.2)", () => {
    expect(req(withHeaders("Contact: *")).contacts).toBe("*");
    expect(req(withHeaders()).contacts).toEqual([]);
    parseError(() => req(withHeaders("Contact: *, <sip:a@b.example.com>")).contacts, "Bad Request - Malformed Contact");
    parseError(() => req(withHeaders("Contact: *;expires=0")).contacts, "Bad Request - Malformed Contact");
  });

  it("reads the outbound parameters (RFC 5626)", () => {
    const m = req(withHeaders('Contact: <sip:line1@192.0.2.2;transport=tcp>;reg-id=2;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";ob'));
    const c = (m.contacts as Contact[])[0]!;
    expect(c.regId).toBe(2);
    expect(c.instance).toBe("<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
    expect(c.ob).toBe(true); // as a header parameter, tolerated
    expect(c.expires).toBeUndefined();
  });

  it("refuses malformed expires, q and reg-id", () => {
    for (const p of ["expires=abc", "expires=99999999999", "expires", "q=1.5", "q=0.1234", "q=x", "reg-id=0", "reg-id=2147483648"]) {
      parseError(() => req(withHeaders(`Contact: <sip:a@b.example.com>;${p}`)).contacts, "Bad Request - Malformed Contact");
    }
  });
});

describe("typed accessors", () => {
  it("read session timer, reliability, event and flow headers", () => {
    const m = req(withHeaders(
      "Session-Expires: 1800 ; refresher = uac",
      "Min-SE: 90",
      "RSeq: 988789",
      "RAck: 776656 1 INVITE",
      "Event: dialog;id=xyz;call-id=abc",
      "Flow-Timer: 120",
      "Min-Expires: 3600",
      "Max-Forwards: 0",
      "Proxy-Require: sec-agree",
      "Unsupported: foo, bar",
    ));
    expect(m.sessionExpires).toEqual({ delta: 1800, refresher: "uac" });
    expect(m.minSE).toBe(90);
    expect(m.rseq).toBe(988789);
    expect(m.rack).toEqual({ rseq: 776656, cseq: 1, method: "INVITE" });
    expect(m.event?.type).toBe("dialog");
    expect(m.event?.id).toBe("xyz");
    expect(m.event?.params.get("call-id")).toBe("abc");
    expect(m.flowTimer).toBe(120);
    expect(m.minExpires).toBe(3600);
    expect(m.maxForwards).toBe(0);
    expect(m.proxyRequire).toEqual(["sec-agree"]);
    expect(m.unsupported).toEqual(["foo", "bar"]);
  });

  it("gives undefined for absent optional headers", () => {
    const m = req(withHeaders());
    for (const v of [m.maxForwards, m.expires, m.minExpires, m.contentType, m.sessionExpires, m.minSE, m.rseq, m.rack, m.event, m.referTo, m.flowTimer]) {
      expect(v).toBeUndefined();
    }
    expect(m.authorization).toEqual([]);
    expect(m.routes).toEqual([]);
  });

  it("reads authentication headers, one value per line", () => {
    const m = res(crlf([
      "SIP/2.0 401 Unauthorized",
      "Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1",
      "To: <sip:bob@example.com>;tag=2",
      "From: <sip:alice@example.com>;tag=1",
      "Call-ID: abc@host",
      "CSeq: 1 REGISTER",
      'WWW-Authenticate: Digest realm="example.com", nonce="abc, def", algorithm=SHA-256, qop="auth"',
      'WWW-Authenticate: Digest realm="example.com", nonce="xyz", algorithm=MD5',
      "Content-Length: 0",
      "",
      "",
    ]));
    expect(m.wwwAuthenticate).toHaveLength(2);
    expect(m.wwwAuthenticate[0]!.scheme).toBe("Digest");
    expect(m.wwwAuthenticate[0]!.params.nonce).toBe("abc, def");
    expect(m.wwwAuthenticate[1]!.params.algorithm).toBe("MD5");
    expect(m.getAll("WWW-Authenticate")).toHaveLength(2);
    expect(m.proxyAuthenticate).toEqual([]);
    const a = req(withHeaders('Authorization: Digest username="alice", realm="example.com", nonce="n", uri="sip:example.com", response="0123456789abcdef0123456789abcdef"'));
    expect(a.authorization[0]!.params.username).toBe("alice");
    parseError(() => req(withHeaders("Proxy-Authorization: Digest =")).proxyAuthorization, "Bad Request - Malformed Proxy-Authorization");
  });

  it("reads Refer-To with an escaped Replaces (RFC 3515, RFC 3891)", () => {
    const m = req(withHeaders("Refer-To: <sip:bob@example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994%3Bearly-only>"));
    expect(m.referTo?.uri.toString()).toBe("sip:bob@example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994%3Bearly-only");
    expect(m.referTo?.replaces).toEqual({ callId: "12345@192.168.118.3", toTag: "12345", fromTag: "5FFE-3994", earlyOnly: true });
    expect(req(withHeaders("Refer-To: sip:carol@example.com")).referTo?.replaces).toBeUndefined();
    parseError(() => req(withHeaders("Refer-To: <sip:b@example.com?Replaces=abc%3Bto-tag%3D1>")).referTo, "Bad Request - Malformed Refer-To");
  });

  it("takes tel URIs and IPv6 in name-addrs", () => {
    const m = req(withHeaders().replace("To: <sip:bob@example.com>", "To: <tel:+1-201-555-0123>").replace("From: <sip:alice@example.com>;tag=1", "From: sip:alice@[2001:db8::5]:5060;tag=1"));
    expect(m.to.uri).toBeInstanceOf(TelUri);
    expect((m.to.uri as TelUri).number).toBe("+1-201-555-0123");
    expect((m.from.uri as SipUri).host).toBe("[2001:db8::5]");
    expect(m.from.tag).toBe("1");
  });

  it("throw 400 naming the header when it is malformed", () => {
    const cases: Array<[string, (m: SipMessage) => unknown, string]> = [
      ["Max-Forwards: 256", (m) => m.maxForwards, "Max-Forwards"],
      ["Max-Forwards: -1", (m) => m.maxForwards, "Max-Forwards"],
      ["Expires: 4294967296", (m) => m.expires, "Expires"],
      ["Expires: soon", (m) => m.expires, "Expires"],
      ["Min-Expires: x", (m) => m.minExpires, "Min-Expires"],
      ["Content-Type: application", (m) => m.contentType, "Content-Type"],
      ["Content-Type: application/sdp;", (m) => m.contentType, "Content-Type"],
      ["Supported: a b", (m) => m.supported, "Supported"],
      ["Allow: INVITE, @", (m) => m.allow, "Allow"],
      ["Session-Expires: 90;refresher=both", (m) => m.sessionExpires, "Session-Expires"],
      ["Session-Expires: ninety", (m) => m.sessionExpires, "Session-Expires"],
      ["Min-SE: -5", (m) => m.minSE, "Min-SE"],
      ["RSeq: 0", (m) => m.rseq, "RSeq"],
      ["RAck: 1 INVITE", (m) => m.rack, "RAck"],
      ["Event: ;id=1", (m) => m.event, "Event"],
      ["Event: presence;id", (m) => m.event, "Event"],
      ["Flow-Timer: x", (m) => m.flowTimer, "Flow-Timer"],
      ["Refer-To: <sip:a@example.com", (m) => m.referTo, "Refer-To"],
      ["Record-Route: sip:a@example.com?x=y", (m) => m.recordRoutes, "Record-Route"],
      ["Path: <sip:a@exa mple.com>", (m) => m.paths.map((p) => p.uri), "Path"],
      ["Expires: 1", (m) => m.getAll("Expires").length === 1 && (m as SipRequest).uri, "never"],
    ];
    for (const [line, read, what] of cases) {
      const m = req(withHeaders(line));
      if (what === "never") {
        expect(() => read(m)).not.toThrow();
        continue;
      }
      parseError(() => read(m), `Bad Request - Malformed ${what}`);
    }
    parseError(() => req(withHeaders("Max-Forwards: 70", "Max-Forwards: 69")).maxForwards, "Bad Request - Multiple Max-Forwards");
    parseError(() => req(withHeaders("Expires: 1", "Expires: 2")).expires, "Bad Request - Multiple Expires");
    const badTo = req(withHeaders().replace("To: <sip:bob@example.com>", 'To: "Mr. J. User <sip:j.user@example.com>'));
    parseError(() => badTo.to, "Bad Request - Malformed To");
    const badUri = req(withHeaders().replace("To: <sip:bob@example.com>", "To: <sip:bob@exa mple.com>"));
    parseError(() => badUri.to.uri, "Bad Request - Malformed To");
    const badCallId = req(withHeaders().replace("Call-ID: abc@host", "Call-ID: a b"));
    parseError(() => badCallId.callId, "Bad Request - Malformed Call-ID");
    const badRuri = req(withHeaders().replace("sip:bob@example.com SIP", "sip:bob@exa%mple.com SIP"));
    parseError(() => badRuri.uri, "Bad Request - Malformed Request-URI");
  });

  it("caches results and shares topVia with vias[0]", () => {
    const m = req(INVITE);
    expect(m.to).toBe(m.to);
    const top = m.topVia;
    expect(m.vias[0]).toBe(top);
    m.set("X-Any", "1");
    expect(m.to).not.toBe(undefined);
  });
});

describe("framing (RFC 3261 §7, §18.3)", () => {
  it("skips CRLFs before the start line (§7.5)", () => {
    const m = parseMessage("\r\n\r\n" + REGISTER);
    expect(m.toString()).toBe(REGISTER);
    expect(m.raw).toBe(REGISTER);
  });

  it("ignores octets after the body in a datagram (§18.3)", () => {
    const m = parseMessage(REGISTER + "INVITE sip:x@example.com SIP/2.0\r\n");
    expect(m.body).toBe("");
    expect(m.toString()).toBe(REGISTER);
  });

  it("takes the rest of the datagram as body without Content-Length", () => {
    const text = withHeaders().replace("Content-Length: 0\r\n", "") + "v=0\r\n";
    const m = parseMessage(text);
    expect(m.body).toBe("v=0\r\n");
    expect(m.toString()).toBe(text);
    m.set("X-A", "1");
    expect(m.toString()).toContain("Content-Length: 5\r\n");
  });

  it("counts Content-Length in octets, also for text input", () => {
    const body = "héllo wörld ✓ 😀";
    const octets = new TextEncoder().encode(body).length;
    const text = withHeaders().replace("Content-Length: 0", `Content-Type: text/plain;charset=utf-8\r\nContent-Length: ${octets}`) + body;
    const m = parseMessage(text);
    expect(m.body).toBe(body);
    expect(m.contentLength).toBe(octets);
    // Octets beyond Content-Length are dropped even mid-text.
    const short = parseMessage(text.replace(`Content-Length: ${octets}`, "Content-Length: 7"));
    expect(short.body).toBe("héllo ");
    parseError(() => parseMessage(text.replace(`Content-Length: ${octets}`, "Content-Length: 2")), "Bad Request - Content-Length mismatch");
    const bytes = parseMessage(new TextEncoder().encode(text));
    expect(bytes.body).toBe(body);
    expect(bytes.toString()).toBe(text);
  });

  it("refuses a Content-Length larger than the message, with the message as partial (RFC 4475 §3.1.2.2)", () => {
    const text = withHeaders().replace("Content-Length: 0", "Content-Length: 9999") + "v=0\r\n";
    const err = parseError(() => parseMessage(text), "Bad Request - Content-Length mismatch");
    expect(err.partial).toBeInstanceOf(SipRequest);
    expect(err.partial!.callId).toBe("abc@host");
    parseError(() => parseMessage(new TextEncoder().encode(text)), "Bad Request - Content-Length mismatch");
  });

  it("refuses negative, non-numeric, huge and repeated Content-Length (RFC 4475 §3.1.2.3, §3.3.9)", () => {
    for (const v of ["-999", "abc", "1e3", "99999999999999999999", ""]) {
      parseError(() => parseMessage(withHeaders().replace("Content-Length: 0", `Content-Length: ${v}`)), "Bad Request - Malformed Content-Length");
    }
    parseError(() => parseMessage(withHeaders("l: 0")), "Bad Request - Multiple Content-Length");
  });

  it("keeps a binary body octet for octet (RFC 4475 §3.1.1.11)", () => {
    const head = new TextEncoder().encode(withHeaders().replace("Content-Length: 0", "Content-Type: application/octet-stream\r\nContent-Length: 6"));
    const body = new Uint8Array([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x80]);
    const wire = new Uint8Array(head.length + body.length + 3);
    wire.set(head);
    wire.set(body, head.length);
    wire.set([0x41, 0x42, 0x43], head.length + body.length); // trailing octets, dropped
    const m = parseMessage(wire);
    expect([...m.bodyBytes]).toEqual([...body]);
    expect(m.contentLength).toBe(6);
    expect([...m.toBytes()]).toEqual([...wire.subarray(0, head.length + body.length)]);
    expect(m.body).toContain("\uFFFD");
    m.set("X-A", "1");
    const out = m.toBytes();
    expect([...out.subarray(out.length - 6)]).toEqual([...body]);
    expect(parseMessage(out).bodyBytes).toEqual(body);
  });

  it("decodes invalid UTF-8 in headers without throwing", () => {
    const head = new TextEncoder().encode(withHeaders("Subject: XY"));
    const i = head.indexOf(0x58); // "X"
    head[i] = 0xc3;
    head[i + 1] = 0x28;
    const m = parseMessage(head);
    expect(m.get("Subject")).toBe("\uFFFD(");
    expect([...m.toBytes()]).toEqual([...head]);
  });

  it("accepts bare LF line ends", () => {
    const m = parseMessage(withHeaders().replace(/\r\n/g, "\n"));
    expect(m.callId).toBe("abc@host");
    expect(m.get("Via")).toBe("SIP/2.0/UDP host.example.com;branch=z9hG4bK1");
  });

  it("refuses a CR that does not end a line", () => {
    parseError(() => parseMessage(withHeaders("X-A: a\rInjected: b")), "Bad Request - Malformed header line");
    parseError(() => parseMessage("OPTIONS sip:a@b.example SIP/2.0\rX\r\n\r\n"), "Bad Request - Malformed start line");
  });

  it("refuses lines that are not header fields", () => {
    for (const line of ["NoColon", ": value", "Bad Name: x", "Bad@Name: x", "Näme: x"]) {
      parseError(() => parseMessage(withHeaders(line)), "Bad Request - Malformed header line");
    }
    expect(req(withHeaders("Content-Length   : 0").replace("Content-Length: 0\r\n", "")).contentLength).toBe(0);
    parseError(() => parseMessage(withHeaders().slice(0, -2)), "Bad Request - Truncated message");
    parseError(() => parseMessage(""), "Bad Request - Empty message");
    parseError(() => parseMessage("\r\n\r\n"), "Bad Request - Empty message");
    parseError(() => parseMessage(new Uint8Array([13, 10])), "Bad Request - Empty message");
    parseError(() => parseMessage(new Uint8Array(0)), "Bad Request - Empty message");
    parseError(() => parseMessage(new TextEncoder().encode(withHeaders().slice(0, -2))), "Bad Request - Truncated message");
    parseError(() => parseMessage(42 as unknown as string));
  });

  it("does not stumble over NUL in a quoted-pair (RFC 4475 §3.1.1.2)", () => {
    const m = parseMessage(withHeaders().replace("To: <sip:bob@example.com>", 'To: "NUL:\\\0" <sip:bob@example.com>'));
    expect(m.to.displayName).toBe("NUL:\0");
  });
});

describe("start line (RFC 3261 §7.1, §7.2)", () => {
  it("accepts extension methods and versions, and empty reason phrases", () => {
    const m = req(withHeaders().replace("OPTIONS sip", "!interesting-Method0123456789_*+`.%indeed'~ sip").replace("CSeq: 1 OPTIONS", "CSeq: 1 !interesting-Method0123456789_*+`.%indeed'~"));
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(req(withHeaders().replace("SIP/2.0\r\n", "SIP/7.0\r\n")).version).toBe("SIP/7.0");
    expect(req(withHeaders().replace("SIP/2.0\r\n", "sip/2.0\r\n")).version).toBe("sip/2.0");
    const r = res(withHeaders().replace("OPTIONS sip:bob@example.com SIP/2.0", "SIP/2.0 100 "));
    expect(r.status).toBe(100);
    expect(r.reason).toBe("");
    expect(res(withHeaders().replace("OPTIONS sip:bob@example.com SIP/2.0", "SIP/2.0 180")).reason).toBe("");
    expect(res(withHeaders().replace("OPTIONS sip:bob@example.com SIP/2.0", "SIP/2.0 200 = 2**3 * 5**2 но сто")).reason).toBe("= 2**3 * 5**2 но сто");
    expect(req(withHeaders().replace("sip:bob@example.com SIP", "nobodyKnowsThisScheme:totallyopaquecontent SIP")).uri.toString()).toBe("nobodyKnowsThisScheme:totallyopaquecontent");
  });

  it("refuses malformed start lines (RFC 4475 §3.1.2.7-§3.1.2.10, §3.1.2.19)", () => {
    const line = "OPTIONS sip:bob@example.com SIP/2.0";
    for (const bad of [
      "OPTIONS  sip:bob@example.com SIP/2.0", "OPTIONS sip:bob@example.com  SIP/2.0", "OPTIONS sip:bob@example.com SIP/2.0 ",
      "OPTIONS <sip:bob@example.com> SIP/2.0", "OPTIONS sip:bob@example.com; lr SIP/2.0", "OPTIONS sip:bob@example.com",
      "OPTIONS sip:bob@example.com HTTP/1.1", "OPTIONS sip:bob@example.com SIP/2", "OPT@ONS sip:bob@example.com SIP/2.0",
      " OPTIONS sip:bob@example.com SIP/2.0", "OPTIONS bob SIP/2.0",
    ]) {
      parseError(() => parseMessage(withHeaders().replace(line, bad)), "Bad Request - Malformed Request-Line");
    }
    for (const bad of ["SIP/2.0 4294967301 better not break the receiver", "SIP/2.0 99 Low", "SIP/2.0 700 High", "SIP/2.0 2000 OK", "SIP/2.0  200 OK", "SIP/2.0 2x0 OK", "SIP/X.0 200 OK"]) {
      parseError(() => parseMessage(withHeaders().replace(line, bad)), "Bad Request - Malformed Status-Line");
    }
  });
});

describe("required headers (RFC 3261 §8.1.1)", () => {
  it("are checked during parsing, with the message as partial", () => {
    for (const [name, reason] of [["Via", "Missing Via"], ["To", "Missing To"], ["From", "Missing From"], ["Call-ID", "Missing Call-ID"], ["CSeq", "Missing CSeq"]] as const) {
      const text = withHeaders().split("\r\n").filter((l) => !l.startsWith(name + ":")).join("\r\n");
      const err = parseError(() => parseMessage(text), `Bad Request - ${reason}`);
      expect(err.partial).toBeInstanceOf(SipRequest);
    }
  });

  it("refuses repeated From, To, Call-ID and CSeq (RFC 4475 §3.3.8)", () => {
    parseError(() => parseMessage(withHeaders("From: <sip:x@example.com>;tag=2")), "Bad Request - Multiple From");
    parseError(() => parseMessage(withHeaders("To: <sip:x@example.com>")), "Bad Request - Multiple To");
    parseError(() => parseMessage(withHeaders("i: other@host")), "Bad Request - Multiple Call-ID");
    parseError(() => parseMessage(withHeaders("CSeq: 2 OPTIONS")), "Bad Request - Multiple CSeq");
  });

  it("refuses a CSeq method other than the request's (RFC 4475 §3.1.2.17-18)", () => {
    const err = parseError(() => parseMessage(withHeaders().replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE")), "Bad Request - CSeq method mismatch");
    expect(err.partial).toBeInstanceOf(SipRequest);
    parseError(() => parseMessage(withHeaders().replace("CSeq: 1 OPTIONS", "CSeq: 1 options")), "Bad Request - CSeq method mismatch");
    const ack = withHeaders().replace("OPTIONS sip", "ACK sip").replace("CSeq: 1 OPTIONS", "CSeq: 1 ACK");
    expect(req(ack).method).toBe("ACK");
    parseError(() => parseMessage(ack.replace("CSeq: 1 ACK", "CSeq: 1 INVITE")), "Bad Request - CSeq method mismatch");
    const malformed = parseError(() => parseMessage(withHeaders().replace("CSeq: 1 OPTIONS", "CSeq: 36893488147419103232 OPTIONS")), "Bad Request - Malformed CSeq");
    expect(malformed.partial).toBeInstanceOf(SipRequest);
  });

  it("checks the same in responses, except the method", () => {
    const ok = withHeaders().replace("OPTIONS sip:bob@example.com SIP/2.0", "SIP/2.0 200 OK");
    expect(res(ok).cseq.method).toBe("OPTIONS");
    parseError(() => parseMessage(ok.replace("Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\r\n", "")), "Bad Request - Missing Via");
  });
});

describe("limits", () => {
  it("answers 513 above maxMessageBytes, counting octets", () => {
    const big = withHeaders(`X-Pad: ${"a".repeat(70000)}`);
    parseError(() => parseMessage(big), "Message Too Large", 513);
    parseError(() => parseMessage(new TextEncoder().encode(big)), "Message Too Large", 513);
    const wide = withHeaders(`X-Pad: ${"é".repeat(600)}`);
    const octets = new TextEncoder().encode(wide).length;
    parseError(() => parseMessage(wide, { maxMessageBytes: octets - 1, maxHeaderLineBytes: 1e6 }), "Message Too Large", 513);
    expect(() => parseMessage(wide, { maxMessageBytes: octets })).not.toThrow();
  });

  it("answers 400 for too many headers and too long lines", () => {
    const many = withHeaders(...Array.from({ length: 300 }, (_, i) => `X-H${i}: v`));
    parseError(() => parseMessage(many), "Bad Request - Too many headers");
    expect(() => parseMessage(many, { maxHeaders: 400 })).not.toThrow();
    parseError(() => parseMessage(withHeaders(`X-Long: ${"b".repeat(9000)}`)), "Bad Request - Header line too long");
    parseError(() => parseMessage(withHeaders(`X-Long: ${"b".repeat(60)}`), { maxHeaderLineBytes: 60 }), "Bad Request - Header line too long");
    expect(() => parseMessage(withHeaders(`X-Long: ${"b".repeat(52)}`), { maxHeaderLineBytes: 60 })).not.toThrow();
    parseError(() => parseMessage(withHeaders().replace("sip:bob@example.com", "sip:" + "b".repeat(9000) + "@example.com")), "Bad Request - Start line too long");
  });
});

describe("changing and serializing", () => {
  it("returns the exact input when unchanged, as text and as octets", () => {
    for (const text of [REGISTER, REGISTER_200, INVITE, INVITE_200]) {
      const m = parseMessage(text);
      expect(m.toString()).toBe(text);
      expect(m.raw).toBe(text);
      expect(new TextDecoder().decode(m.toBytes())).toBe(text);
      const fromBytes = parseMessage(new TextEncoder().encode(text));
      expect(fromBytes.toString()).toBe(text);
      expect(new TextDecoder().decode(fromBytes.toBytes())).toBe(text);
    }
  });

  it("rebuilds only the header block, keeping untouched lines as written", () => {
    const text = REGISTER.replace("Max-Forwards: 69", "max-forwards:   69  ");
    const m = req(text);
    m.set("max-forwards", "68");
    m.prepend("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1");
    m.append("Record-Route", "<sip:proxy.example.com;lr>");
    m.append("Via", "SIP/2.0/UDP last.example.com;branch=z9hG4bKl");
    const out = m.toString();
    const lines = out.split("\r\n");
    expect(lines[0]).toBe("REGISTER sip:example.com SIP/2.0");
    expect(lines[1]).toBe("Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1");
    expect(lines[2]).toBe("Via: SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK8297461");
    expect(lines[3]).toBe("Via: SIP/2.0/UDP last.example.com;branch=z9hG4bKl");
    expect(lines[4]).toBe("Max-Forwards: 68");
    expect(out).toContain('From: "Alice" <sip:alice@example.com>;tag=m0d1kuf4pg\r\n');
    expect(out.endsWith("Content-Length: 0\r\nRecord-Route: <sip:proxy.example.com;lr>\r\n\r\n")).toBe(true);
    const again = req(out);
    expect(again.vias.map((v) => v.host)).toEqual(["proxy.example.com", "3hj7k2mf9q1d.invalid", "last.example.com"]);
    expect(again.maxForwards).toBe(68);
    expect(again.recordRoutes).toHaveLength(1);
    expect(m.maxForwards).toBe(68);
    expect(m.topVia.host).toBe("proxy.example.com");
  });

  it("writes canonical names for headers it sets", () => {
    const m = req(withHeaders());
    m.set("call-id", "new@host");
    m.set("WWW-AUTHENTICATE", 'Digest realm="x"');
    m.set("x-custom", "1");
    m.append("cseq", "1 OPTIONS");
    const out = m.toString();
    expect(out).toContain("Call-ID: new@host\r\n");
    expect(out).toContain('WWW-Authenticate: Digest realm="x"\r\n');
    expect(out).toContain("x-custom: 1\r\n");
    expect(m.callId).toBe("new@host");
  });

  it("removes headers and values", () => {
    const m = req(INVITE_200.replace("SIP/2.0 200 OK", "OPTIONS sip:x@example.com SIP/2.0").replace("CSeq: 7385 INVITE", "CSeq: 7385 OPTIONS"));
    expect(m.removeFirst("Record-Route")).toBe("<sip:edge.example.com;transport=ws;lr;r2=on>");
    expect(m.recordRoutes.map((r) => (r.uri as SipUri).uriParam("transport"))).toEqual(["udp"]);
    expect(m.removeFirst("record-route")).toBe("<sip:edge.example.com;transport=udp;lr;r2=on>");
    expect(m.has("Record-Route")).toBe(false);
    expect(m.removeFirst("Record-Route")).toBeUndefined();
    expect(m.remove("Session-Expires")).toBe(true);
    expect(m.remove("Session-Expires")).toBe(false);
    expect(m.sessionExpires).toBeUndefined();
    expect(req(m.toString()).has("Session-Expires")).toBe(false);
  });

  it("sets the body and Content-Length in octets", () => {
    const m = req(withHeaders());
    m.setBody("v=0\r\no=- 1 1 IN IP4 192.0.2.1 ✓\r\n", "application/sdp");
    expect(m.contentLength).toBe(new TextEncoder().encode(m.body).length);
    const out = m.toString();
    expect(out).toContain(`Content-Length: ${m.contentLength}\r\n`);
    expect(out).toContain("Content-Type: application/sdp\r\n");
    const back = req(out);
    expect(back.body).toBe(m.body);
    expect(back.contentType).toBe("application/sdp");
    m.setBody("");
    expect(m.has("Content-Type")).toBe(false);
    expect(req(m.toString()).contentLength).toBe(0);
    m.setBody(new Uint8Array([1, 2, 3]), "application/octet-stream");
    expect([...parseMessage(m.toBytes()).bodyBytes]).toEqual([1, 2, 3]);
  });

  it("corrects a wrong Content-Length when rebuilding", () => {
    const m = req(withHeaders());
    m.set("Content-Length", "999");
    expect(req(m.toString()).contentLength).toBe(0);
    expect(m.toString()).toContain("Content-Length: 0\r\n");
  });

  it("changes the Request-URI", () => {
    const m = req(INVITE);
    m.setUri("sip:bob@192.0.2.44:5060;transport=udp");
    expect(m.toString().startsWith("INVITE sip:bob@192.0.2.44:5060;transport=udp SIP/2.0\r\n")).toBe(true);
    expect((m.uri as SipUri).port).toBe(5060);
    m.setUri(new SipUri({ user: "carol", host: "example.net" }));
    expect(m.requestUri).toBe("sip:carol@example.net");
    expect(() => m.setUri("not a uri")).toThrow(TypeError);
  });

  it("refuses header names and values that would break the message", () => {
    const m = req(withHeaders());
    expect(() => m.set("X-A", "a\r\nInjected: 1")).toThrow(TypeError);
    expect(() => m.append("Bad Name", "1")).toThrow(TypeError);
    expect(() => m.prepend("X-A", "nul\0")).toThrow(TypeError);
    expect(m.toString()).toBe(withHeaders());
  });
});
