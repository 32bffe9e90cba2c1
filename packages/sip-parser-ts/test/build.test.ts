import { describe, expect, it } from "vitest";
import {
  SipParseError, SipRequest, SipResponse, SipUri, createRequest, createResponse, newBranch, parseMessage, parseNameAddr,
  randomToken, reasonPhrase,
} from "../src/index.ts";
import { INVITE, REGISTER, crlf } from "./samples.ts";

function request(text: string): SipRequest {
  return parseMessage(text) as SipRequest;
}

describe("createResponse (RFC 3261 §8.2.6)", () => {
  const twoVias = crlf([
    "INVITE sip:bob@example.com SIP/2.0",
    "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp;received=192.0.2.9",
    "Via: SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK1, SIP/2.0/UDP c.example.com;branch=z9hG4bK0",
    "To: Bob <sip:bob@example.com>",
    'From: "Alice" <sip:alice@example.com>;tag=a1',
    "Call-ID: call-1@host",
    "CSeq: 10 INVITE",
    "Timestamp: 54",
    "Max-Forwards: 69",
    "Content-Length: 0",
    "",
    "",
  ]);

  it("copies Via (all, in order), From, To, Call-ID and CSeq", () => {
    const r = createResponse(request(twoVias), 180);
    expect(r).toBeInstanceOf(SipResponse);
    expect(r.status).toBe(180);
    expect(r.reason).toBe("Ringing");
    expect(r.getAll("Via")).toEqual([
      "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp;received=192.0.2.9",
      "SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK1",
      "SIP/2.0/UDP c.example.com;branch=z9hG4bK0",
    ]);
    expect(r.get("From")).toBe('"Alice" <sip:alice@example.com>;tag=a1');
    expect(r.callId).toBe("call-1@host");
    expect(r.cseq).toEqual({ seq: 10, method: "INVITE" });
    expect(r.has("Max-Forwards")).toBe(false);
    expect(r.has("Timestamp")).toBe(false);
    expect(r.contentLength).toBe(0);
    expect(r.get("Content-Length")).toBe("0");
  });

  it("adds a To tag except to 100, and keeps an existing one (§8.2.6.2)", () => {
    const req = request(twoVias);
    const trying = createResponse(req, 100);
    expect(trying.to.tag).toBeUndefined();
    expect(trying.reason).toBe("Trying");
    expect(trying.get("Timestamp")).toBe("54"); // §8.2.6.1
    const ok = createResponse(req, 200, undefined, { toTag: "b2" });
    expect(ok.to.tag).toBe("b2");
    expect(ok.get("To")).toBe("Bob <sip:bob@example.com>;tag=b2");
    const random = createResponse(req, 486);
    expect(random.to.tag).toMatch(/^[0-9A-Za-z]{10}$/);
    const inDialog = request(twoVias.replace("To: Bob <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=x9"));
    expect(createResponse(inDialog, 200, "OK", { toTag: "other" }).to.tag).toBe("x9");
  });

  it("takes a reason, extra headers and a body", () => {
    const r = createResponse(request(INVITE), 200, "Fine", {
      toTag: "t",
      headers: [["Contact", "<sip:bob@192.0.2.44>"], ["Supported", "timer"]],
      body: "v=0\r\n",
      contentType: "application/sdp",
    });
    expect(r.reason).toBe("Fine");
    expect(r.body).toBe("v=0\r\n");
    expect(r.contentType).toBe("application/sdp");
    expect(r.contentLength).toBe(5);
    expect((r.contacts as Array<{ uri: unknown }>).length).toBe(1);
    expect(r.supported).toEqual(["timer"]);
    const again = parseMessage(r.toString()) as SipResponse;
    expect(again.status).toBe(200);
    expect(again.body).toBe("v=0\r\n");
  });

  it("is a message like any other: changeable and serializable", () => {
    const r = createResponse(request(REGISTER), 401, undefined, { toTag: "z" });
    r.append("WWW-Authenticate", 'Digest realm="example.com", nonce="abc", algorithm=MD5, qop="auth"');
    const text = r.toString();
    expect(text.startsWith("SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WSS 3hj7k2mf9q1d.invalid;branch=z9hG4bK8297461\r\n")).toBe(true);
    const back = parseMessage(text) as SipResponse;
    expect(back.wwwAuthenticate[0]!.params.realm).toBe("example.com");
    expect(back.to.tag).toBe("z");
  });

  it("refuses bad input", () => {
    const req = request(twoVias);
    expect(() => createResponse(req, 99)).toThrow(TypeError);
    expect(() => createResponse(req, 700)).toThrow(TypeError);
    expect(() => createResponse(req, 200.5)).toThrow(TypeError);
    expect(() => createResponse(req, 200, "OK\r\nX: y")).toThrow(TypeError);
    expect(() => createResponse(req, 200, "OK", { toTag: "a b" })).toThrow(TypeError);
    expect(() => createResponse(req, 200, "OK", { headers: [["X-A", "a\r\nb"]] })).toThrow(TypeError);
    expect(() => createResponse(req, 200, "OK", { headers: [["X A", "1"]] })).toThrow(TypeError);
    // A request whose To cannot be read cannot be answered with a tag.
    const badTo = request(twoVias.replace("To: Bob <sip:bob@example.com>", 'To: "unterminated <sip:bob@example.com>'));
    expect(() => createResponse(badTo, 200)).toThrow(SipParseError);
    expect(createResponse(badTo, 100).status).toBe(100);
  });

  it("has the registered reason phrases", () => {
    const table: Array<[number, string]> = [
      [100, "Trying"], [180, "Ringing"], [183, "Session Progress"], [200, "OK"], [202, "Accepted"], [302, "Moved Temporarily"],
      [400, "Bad Request"], [401, "Unauthorized"], [403, "Forbidden"], [404, "Not Found"], [407, "Proxy Authentication Required"],
      [408, "Request Timeout"], [415, "Unsupported Media Type"], [416, "Unsupported URI Scheme"], [420, "Bad Extension"],
      [421, "Extension Required"], [422, "Session Interval Too Small"], [423, "Interval Too Brief"],
      [429, "Provide Referrer Identity"], [433, "Anonymity Disallowed"], [439, "First Hop Lacks Outbound Support"],
      [440, "Max-Breadth Exceeded"], [469, "Bad Info Package"], [470, "Consent Needed"], [480, "Temporarily Unavailable"],
      [481, "Call/Transaction Does Not Exist"], [482, "Loop Detected"], [483, "Too Many Hops"], [486, "Busy Here"],
      [487, "Request Terminated"], [488, "Not Acceptable Here"], [489, "Bad Event"], [491, "Request Pending"],
      [494, "Security Agreement Required"], [500, "Server Internal Error"], [501, "Not Implemented"], [503, "Service Unavailable"],
      [504, "Server Time-out"], [505, "Version Not Supported"], [513, "Message Too Large"], [600, "Busy Everywhere"],
      [603, "Decline"], [604, "Does Not Exist Anywhere"], [606, "Not Acceptable"],
    ];
    for (const [code, phrase] of table) expect(reasonPhrase(code), String(code)).toBe(phrase);
    expect(reasonPhrase(499)).toBe("Client Error");
    expect(reasonPhrase(199)).toBe("Early Dialog Terminated");
    expect(reasonPhrase(299)).toBe("Success");
  });
});

describe("createRequest (RFC 3261 §8.1.1)", () => {
  it("builds a request with the mandatory headers", () => {
    const r = createRequest({
      method: "INVITE",
      uri: "sip:bob@example.com",
      from: '"Alice" <sip:alice@example.com>',
      to: "<sip:bob@example.com>",
      callId: "abc@host",
      cseq: 1,
      via: "SIP/2.0/WSS edge.example.com",
      contact: "<sip:alice@edge.example.com;transport=ws;ob>",
      headers: [["Supported", "outbound"]],
      body: "v=0\r\n",
      contentType: "application/sdp",
    });
    expect(r).toBeInstanceOf(SipRequest);
    expect(r.method).toBe("INVITE");
    expect(r.requestUri).toBe("sip:bob@example.com");
    expect(r.cseq).toEqual({ seq: 1, method: "INVITE" });
    expect(r.maxForwards).toBe(70);
    expect(r.from.displayName).toBe("Alice");
    expect(r.from.tag).toMatch(/^[0-9A-Za-z]{10}$/);
    expect(r.to.tag).toBeUndefined();
    expect(r.callId).toBe("abc@host");
    expect(r.topVia.transport).toBe("WSS");
    expect(r.topVia.branch).toMatch(/^z9hG4bK[0-9A-Za-z]{16}$/);
    expect(r.supported).toEqual(["outbound"]);
    expect(r.body).toBe("v=0\r\n");
    expect(r.contentType).toBe("application/sdp");
    expect(parseMessage(r.toString()).toString()).toBe(r.toString());
  });

  it("keeps given tags and branches, takes parsed values, and may omit Via", () => {
    const r = createRequest({
      method: "BYE",
      uri: new SipUri({ user: "bob", host: "192.0.2.44", port: 5060 }),
      from: parseNameAddr("<sip:alice@example.com>;tag=keep"),
      to: "sip:bob@example.com;tag=theirs",
      callId: "c@h",
      cseq: 2,
      via: ["SIP/2.0/UDP a.example.com;branch=z9hG4bKmine", "SIP/2.0/UDP b.example.com"],
      maxForwards: 10,
    });
    expect(r.requestUri).toBe("sip:bob@192.0.2.44:5060");
    expect(r.from.tag).toBe("keep");
    expect(r.to.tag).toBe("theirs");
    expect(r.vias[0]!.branch).toBe("z9hG4bKmine");
    expect(r.vias[1]!.branch).toMatch(/^z9hG4bK/);
    expect(r.maxForwards).toBe(10);
    const noVia = createRequest({ method: "OPTIONS", uri: "sip:x@example.com", from: "<sip:a@example.com>", to: "<sip:x@example.com>", callId: "1@h", cseq: 1 });
    expect(noVia.has("Via")).toBe(false);
    expect(() => noVia.topVia).toThrow(SipParseError);
  });

  it("refuses bad input", () => {
    const base = { method: "OPTIONS", uri: "sip:x@example.com", from: "<sip:a@example.com>", to: "<sip:x@example.com>", callId: "1@h", cseq: 1 };
    expect(() => createRequest({ ...base, method: "BAD METHOD" })).toThrow(TypeError);
    expect(() => createRequest({ ...base, cseq: -1 })).toThrow(TypeError);
    expect(() => createRequest({ ...base, cseq: 2 ** 31 })).toThrow(TypeError);
    expect(() => createRequest({ ...base, maxForwards: 256 })).toThrow(TypeError);
    expect(() => createRequest({ ...base, from: "not a name-addr" })).toThrow(TypeError);
    expect(() => createRequest({ ...base, callId: "a\r\nb" })).toThrow(TypeError);
    expect(() => createRequest({ ...base, uri: "sip:x@example.com SIP/2.0\r\nX: y" })).toThrow(TypeError);
    expect(() => createRequest({ ...base, via: "garbage" })).toThrow(TypeError);
    expect(() => createRequest({ ...base, uri: "<sip:x@example.com>" })).toThrow(TypeError);
  });
});

describe("randomToken and newBranch", () => {
  it("are random alphanumerics of the asked length", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = randomToken(12);
      expect(t).toMatch(/^[0-9A-Za-z]{12}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(200);
    expect(randomToken(0)).toBe("");
    expect(randomToken(100)).toHaveLength(100);
    expect(newBranch()).toMatch(/^z9hG4bK[0-9A-Za-z]{16}$/);
  });
});
