import { describe, expect, inject, it } from "vitest";
import "../harness/stack-info.ts";
import { SipWsClient, wsUrl } from "../harness/sip-ws-client.ts";

describe("GET /ws/:aor — the SIP WebSocket upgrade (RFC 7118)", () => {
  const stack = inject("stack");
  const alice = stack.users[0]!.aor;

  it("opens with subprotocol sip echoed by the DO, by path and by ?aor=", async () => {
    const a = await SipWsClient.connect(wsUrl(stack.edgeUrl, alice));
    expect(a.ws.protocol).toBe("sip");
    await a.close();
    const b = await SipWsClient.connect(`${stack.edgeUrl.replace(/^http/, "ws")}/ws?aor=${encodeURIComponent(alice)}`);
    expect(b.ws.protocol).toBe("sip");
    await b.close();
  });

  it("accepts the edge's own Origin and a client that sends none", async () => {
    const a = await SipWsClient.connect(wsUrl(stack.edgeUrl, alice), { origin: stack.edgeUrl });
    await a.close();
  });

  it("400 for a malformed AOR", async () => {
    expect((await SipWsClient.refused(wsUrl(stack.edgeUrl, "not-an-aor"))).status).toBe(400);
    expect((await SipWsClient.refused(`${stack.edgeUrl.replace(/^http/, "ws")}/ws`)).status).toBe(400);
    expect((await SipWsClient.refused(wsUrl(stack.edgeUrl, "a%20b@example.com"))).status).toBe(400);
  });

  it("404 for a domain this edge does not serve", async () => {
    const r = await SipWsClient.refused(wsUrl(stack.edgeUrl, "alice@elsewhere.example"));
    expect(r.status).toBe(404);
    expect(r.body).toContain("elsewhere.example");
  });

  it("403 for an Origin not on the allow-list", async () => {
    const r = await SipWsClient.refused(wsUrl(stack.edgeUrl, alice), { origin: "https://evil.example" });
    expect(r.status).toBe(403);
    expect(r.body).toContain("Origin");
  });

  it("426 without the sip subprotocol, and for a plain GET", async () => {
    expect((await SipWsClient.refused(wsUrl(stack.edgeUrl, alice), { protocols: ["chat"] })).status).toBe(426);
    const res = await fetch(`${stack.edgeUrl}/ws/${alice}`);
    expect(res.status).toBe(426);
    expect(await res.text()).toContain("subprotocol");
  });

  it("answers a CRLFCRLF keep-alive with CRLF (RFC 5626 §4.4.1)", async () => {
    const c = await SipWsClient.connect(wsUrl(stack.edgeUrl, alice));
    c.send("\r\n\r\n");
    expect(await c.next()).toBe("\r\n");
    // A binary-frame keep-alive (not the runtime's exact auto-response pair) is answered by the DO.
    c.send(Buffer.from("\r\n\r\n"));
    expect(await c.next()).toBe("\r\n");
    await c.close();
  });
});
