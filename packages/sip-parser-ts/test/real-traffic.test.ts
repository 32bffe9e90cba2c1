// Messages captured from real clients (fixtures/real/README.md): JsSIP and
// SIP.js over WebSocket, SIPp and baresip over UDP. Each one must parse,
// every accessor that applies must give sane values, and an unchanged
// message must serialize to exactly the bytes received.

import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMessage, SipParseError, SipRequest, SipResponse, SipUri, type Uri } from "../src/index.ts";

const DIR = fileURLToPath(new URL("./fixtures/real", import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".sip")).sort();
const CHROMIUM_SDP = readFileSync(join(DIR, "chromium-offer.sdp"), "utf8");

type Msg = SipRequest | SipResponse;

function parse(file: string): { raw: Uint8Array; m: Msg } {
  const raw = new Uint8Array(readFileSync(join(DIR, file)));
  try {
    return { raw, m: parseMessage(raw) };
  } catch (e) {
    throw new Error(`${file}: ${e instanceof SipParseError ? `${e.status} ${e.reason}` : String(e)}`);
  }
}

/** Which client sent it, and which message of the capture it is. */
function origin(file: string): { client: "jssip" | "sipjs" | "sipp" | "baresip"; label: string } {
  const dash = file.indexOf("-");
  return { client: file.slice(0, dash) as "jssip", label: file.slice(dash + 1, -".sip".length) };
}

/** The raw value of a header line, straight from the bytes (first one). */
function rawHeader(raw: Uint8Array, name: string): string | undefined {
  const text = Buffer.from(raw).toString("utf8");
  const head = text.slice(0, text.indexOf("\r\n\r\n"));
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (line.slice(0, colon).trim().toLowerCase() === name.toLowerCase()) return line.slice(colon + 1).trim();
  }
  return undefined;
}

function sipUri(u: Uri): SipUri {
  if (!(u instanceof SipUri)) throw new Error(`not a SIP URI: ${u.toString()}`);
  return u;
}

const isUuidInstance = (s: string | undefined) => /^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>$/.test(s ?? "");

function checkCommon(file: string, raw: Uint8Array, m: Msg): void {
  // Byte-exact (README "Byte-exact"): an unchanged message is what came in.
  expect(m.toString()).toBe(Buffer.from(raw).toString("utf8"));
  expect(Buffer.from(m.toBytes()).equals(Buffer.from(raw))).toBe(true);
  expect(m.version).toBe("SIP/2.0");

  // Transaction identity (RFC 3261 §8.1.1.7, §17.2.3).
  expect(m.vias.length).toBeGreaterThan(0);
  expect(m.topVia).toBe(m.vias[0]);
  expect(m.topVia.branch).toMatch(/^z9hG4bK./);
  expect(m.callId.length).toBeGreaterThan(0);
  expect(m.callId).toBe(rawHeader(raw, "Call-ID"));
  expect(Number.isInteger(m.cseq.seq)).toBe(true);
  expect(m.cseq.seq).toBeGreaterThanOrEqual(0);
  expect(m.cseq.seq).toBeLessThanOrEqual(0xffffffff);

  // Dialog identity: every one of these clients tags its From.
  expect(m.from.tag).toMatch(/^\S+$/);
  expect(["sip", "sips"]).toContain(m.from.uri.scheme);
  expect(["sip", "sips"]).toContain(m.to.uri.scheme);

  // Framing: Content-Length says the body's length, and the body is there.
  expect(m.contentLength).toBe(Number(rawHeader(raw, "Content-Length")));
  expect(m.bodyBytes.length).toBe(m.contentLength);

  if (m instanceof SipRequest) {
    expect(m.method).toMatch(/^[A-Z]+$/);
    // §8.1.1.5: the CSeq method matches the request method (ACK and CANCEL included).
    expect(m.cseq.method).toBe(m.method);
    expect(m.maxForwards).toBeGreaterThan(0);
    expect(m.maxForwards).toBeLessThanOrEqual(255);
    expect(["sip", "sips"]).toContain(m.uri.scheme);
    expect(m.requestUri).toBe(m.uri.toString());
    if (m.method === "ACK" || m.method === "BYE") expect(m.to.tag, "in-dialog request has a To tag").toMatch(/^\S+$/);
  } else {
    expect(m.status).toBeGreaterThanOrEqual(100);
    expect(m.status).toBeLessThan(700);
    expect(m.reason.length).toBeGreaterThan(0);
    if (m.status > 100) expect(m.to.tag, "a response past 100 carries the UAS's To tag").toMatch(/^\S+$/);
  }

  if (m.contentLength > 0) {
    expect(m.contentType).toBe("application/sdp");
    expect(m.body.startsWith("v=0\r\n")).toBe(true);
  } else {
    expect(m.body).toBe("");
  }
}

function checkBrowserLibrary(client: "jssip" | "sipjs", label: string, m: Msg): void {
  // Browsers cannot know their address: RFC 7118 §5 has the Via sent-by and
  // Contact host be a random ".invalid" domain, transport WS. (A response's
  // top Via is the requester's: ours, for the OPTIONS they answered.)
  expect(m.topVia.transport).toBe("WS");
  if (m instanceof SipRequest) {
    expect(m.topVia.host).toMatch(/^[a-z0-9]+\.invalid$/);
    expect(m.topVia.port).toBeUndefined();
  }
  // Not every message names the library (SIP.js leaves it off the ACK of a
  // 487, JsSIP off its 200 to OPTIONS); REGISTER and INVITE always do.
  const userAgent = m.get("User-Agent");
  if (m instanceof SipRequest && (m.method === "REGISTER" || m.method === "INVITE")) expect(userAgent).toBeDefined();
  if (userAgent !== undefined) expect(userAgent).toMatch(client === "jssip" ? /^JsSIP 3\.13\.8$/ : /^SIP\.js\/0\.21\.\d$/);

  if (m instanceof SipRequest && m.method === "REGISTER") {
    expect(m.uri.toString()).toBe("sip:sipedge.test");
    expect(m.to.uri.toString()).toBe(client === "jssip" ? "sip:alice@sipedge.test" : "sip:bob@sipedge.test");
    expect(m.to.tag).toBeUndefined();
    const contacts = m.contacts;
    if (contacts === "*") throw new Error("unexpected Contact: *");
    expect(contacts).toHaveLength(1);
    const c = contacts[0]!;
    expect(c.uri.scheme).toBe("sip");
    if (!(c.uri instanceof SipUri)) throw new Error("Contact is not a SIP URI");
    expect(c.uri.host).toMatch(/\.invalid$/);
    expect(c.uri.host).toBe(m.topVia.host);
    expect(c.uri.params.get("transport")).toBe("ws");
    // RFC 5626 outbound: instance id and reg-id, which both libraries send here.
    expect(isUuidInstance(c.instance), `+sip.instance ${c.instance}`).toBe(true);
    expect(c.regId).toBe(1);
    if (client === "jssip") expect(c.params.has("+sip.ice")).toBe(true);
    expect(m.supported).toContain("outbound");
    const unregister = label === "unregister";
    expect(c.expires).toBe(unregister ? 0 : 600);
    if (client === "jssip") expect(m.expires).toBe(unregister ? 0 : 600);
    if (label === "register-auth") {
      const auth = m.authorization;
      expect(auth).toHaveLength(1);
      expect(auth[0]!.scheme.toLowerCase()).toBe("digest");
      expect(auth[0]!.params).toMatchObject({ username: client === "jssip" ? "alice" : "bob", realm: "sipedge.test", uri: "sip:sipedge.test", qop: "auth", algorithm: "MD5", nc: "00000001" });
      expect(auth[0]!.params.response).toMatch(/^[0-9a-f]{32}$/);
    } else if (label === "register") {
      expect(m.get("Authorization")).toBeUndefined(); // the first try, before the 401
    }
  }

  if (m instanceof SipRequest && m.method === "INVITE") {
    expect(m.uri.toString()).toBe("sip:carol@sipedge.test");
    expect(m.to.tag).toBeUndefined();
    const contacts = m.contacts;
    if (contacts === "*") throw new Error("unexpected Contact: *");
    expect(contacts).toHaveLength(1);
    // RFC 5626 §5.4: "ob" in the Contact URI of dialog-forming requests.
    expect(contacts[0]!.ob).toBe(true);
    expect(m.contentType).toBe("application/sdp");
    expect(m.body).toBe(CHROMIUM_SDP);
    expect(m.contentLength).toBe(Buffer.byteLength(CHROMIUM_SDP));
    if (client === "jssip") expect(m.sessionExpires?.delta).toBe(90);
  }

  if (m instanceof SipRequest && (m.method === "CANCEL" || label === "ack-487")) {
    // §9.1: CANCEL (and the ACK of a non-2xx, §17.1.1.3) reuse the INVITE's
    // Request-URI, Call-ID, From, CSeq number and top Via branch.
    expect(m.uri.toString()).toBe("sip:carol@sipedge.test");
  }

  if (m instanceof SipResponse) {
    expect(label).toBe("200-options");
    expect(m.status).toBe(200);
    expect(m.reason).toBe("OK");
    expect(m.cseq.method).toBe("OPTIONS");
    expect(m.topVia.host).toBe("127.0.0.1");
    expect(m.allow).toContain("INVITE");
  }
}

function checkSipp(label: string, m: Msg): void {
  expect(m.topVia.transport).toBe("UDP");
  expect(m.topVia.host).toBe("127.0.0.1");
  expect(m.topVia.port).toBeGreaterThan(0);
  expect(m.from.displayName).toBe("sipp");
  expect(sipUri(m.from.uri).user).toBe("sipp");
  if (m instanceof SipRequest) {
    expect(sipUri(m.uri).user).toBe("service");
    if (m.method === "INVITE") {
      const c = m.contacts;
      expect(c !== "*" && c[0]!.uri.toString()).toMatch(/^sip:sipp@127\.0\.0\.1:\d+$/);
      expect(m.get("Subject")).toBe("Performance Test");
    }
  } else {
    expect({ "180-invite": [180, "Ringing", "INVITE"], "200-invite": [200, "OK", "INVITE"], "200-bye": [200, "OK", "BYE"] }[label]).toEqual([m.status, m.reason, m.cseq.method]);
  }
}

function checkBaresip(label: string, m: Msg): void {
  expect(m.topVia.transport).toBe("UDP");
  expect(m.topVia.host).toBe("127.0.0.1");
  expect(m.topVia.rport).toBe(true); // RFC 3581: rport without a value
  expect(m.get("User-Agent")).toMatch(/^baresip v1\.0\.0/);
  if (!(m instanceof SipRequest)) throw new Error("baresip sent a response?");
  if (m.method === "REGISTER" || m.method === "INVITE") {
    // The outbound proxy, as a loose route (§16.12).
    expect(m.routes).toHaveLength(1);
    const r = sipUri(m.routes[0]!.uri);
    expect([r.host, r.params.has("lr"), r.params.get("transport")]).toEqual(["127.0.0.1", true, "udp"]);
  }
  if (m.method === "REGISTER") {
    const c = m.contacts;
    if (c === "*") throw new Error("unexpected Contact: *");
    expect(c[0]!.expires).toBe(label === "unregister" ? 0 : 600);
    expect(label === "register-auth" ? m.authorization[0]!.params.username : m.get("Authorization")).toBe(label === "register-auth" ? "dave" : undefined);
  }
  if (m.method === "INVITE") {
    // baresip sends an empty Supported header: legal (§20.37, *option-tag).
    expect(m.get("Supported")).toBe("");
    expect(m.supported).toEqual([]);
    expect(m.body).toContain("a=tool:baresip");
  }
}

describe("real traffic", () => {
  it("has captures from every client", () => {
    for (const client of ["jssip", "sipjs", "sipp", "baresip"]) {
      expect(FILES.some((f) => f.startsWith(`${client}-`)), client).toBe(true);
    }
    for (const f of ["jssip-register.sip", "jssip-invite.sip", "sipjs-register.sip", "sipjs-invite.sip", "sipp-invite.sip", "sipp-180-invite.sip", "sipp-200-invite.sip", "sipp-ack.sip", "sipp-bye.sip", "baresip-register.sip", "baresip-invite.sip"]) {
      expect(FILES).toContain(f);
    }
  });

  for (const file of FILES) {
    it(file, () => {
      const { raw, m } = parse(file);
      checkCommon(file, raw, m);
      const { client, label } = origin(file);
      if (client === "jssip" || client === "sipjs") checkBrowserLibrary(client, label, m);
      else if (client === "sipp") checkSipp(label, m);
      else checkBaresip(label, m);
      if (m instanceof SipRequest) {
        const expected = { register: "REGISTER", "register-auth": "REGISTER", unregister: "REGISTER", invite: "INVITE", "invite-2": "INVITE", ack: "ACK", "ack-487": "ACK", bye: "BYE", cancel: "CANCEL" }[label];
        expect(m.method).toBe(expected);
      }
    });
  }
});
