import { parseMessage, type SipRequest } from "sip-parser-ts";
import { describe, expect, it } from "vitest";
import { egressRecordRoute } from "../../../workers/src/proxy/egress-hop.ts";
import { EgressRoutes } from "../src/proxy/egress-routes.ts";

// The egress's double Record-Route (PITFALLS 4) and the token in its
// carrier-side entry that lets in-dialog requests route without state.

const SECRET = "s".repeat(40);
const routes = new EgressRoutes("egress-1", SECRET, { host: "203.0.113.10", ports: { UDP: 5060, TCP: 5060, TLS: 5061 } });

function request(routeLines: string[], callId = "call-1"): SipRequest {
  const text = ["BYE sip:carrier@198.51.100.7:5060 SIP/2.0", "Via: SIP/2.0/WSS example.com;branch=z9hG4bKx", ...routeLines.map((r) => `Route: ${r}`), "From: <sip:a@example.com>;tag=1", "To: <sip:+15550100@198.51.100.7>;tag=2", `Call-ID: ${callId}`, "CSeq: 2 BYE", "Content-Length: 0", "", ""].join("\r\n");
  return parseMessage(text) as SipRequest;
}

describe("EgressRoutes", () => {
  it("puts the entry facing where the request goes on top, each with its transport", () => {
    const [top, second] = routes.recordRoute("carrier", "UDP", "call-1", { trunk: "carrier-a", cseqOffset: 1 });
    expect(top).toMatch(/^<sip:eg1\.carrier-a\.1\.[0-9a-f]{20}@203\.0\.113\.10:5060;transport=udp;lr>$/);
    expect(second).toBe(egressRecordRoute("egress-1"));
    expect(second).toBe("<sip:egress-1@egress.invalid;transport=ws;lr>");
    const [edgeTop, carrier] = routes.recordRoute("edge", "TLS", "call-1", { trunk: "carrier-a", cseqOffset: 0 });
    expect(edgeTop).toBe(second);
    expect(carrier).toMatch(/@203\.0\.113\.10:5061;transport=tls;lr>$/);
  });

  it("consumes both of its entries, in either order, and reads the dialog's trunk and CSeq offset back", () => {
    const [carrier, edge] = routes.recordRoute("carrier", "UDP", "call-1", { trunk: "carrier-a", cseqOffset: 3 });
    for (const order of [[edge, carrier], [carrier, edge]]) {
      const req = request([...order, "<sip:proxy.carrier.example;lr>"]);
      expect(routes.consume(req)).toEqual({ edgeSide: true, token: { trunk: "carrier-a", cseqOffset: 3 }, forged: false });
      expect(req.getAll("Route")).toEqual(["<sip:proxy.carrier.example;lr>"]);
    }
  });

  it("stops at the first entry that is not its own", () => {
    const [carrier, edge] = routes.recordRoute("carrier", "UDP", "call-1", { trunk: "carrier-a", cseqOffset: 0 });
    const req = request(["<sip:tok@example.com;transport=ws;lr>", edge, carrier]);
    expect(routes.consume(req)).toEqual({ edgeSide: false, token: undefined, forged: false });
    expect(req.getAll("Route")).toHaveLength(3);
  });

  it("calls a carrier-side entry made for another Call-ID, another egress or with a changed offset forged", () => {
    const [carrier] = routes.recordRoute("carrier", "UDP", "call-1", { trunk: "carrier-a", cseqOffset: 0 });
    expect(routes.consume(request([carrier], "call-2")).forged).toBe(true);
    const other = new EgressRoutes("egress-2", SECRET, { host: "203.0.113.10", ports: { UDP: 5060 } });
    expect(other.consume(request([carrier])).forged).toBe(true);
    expect(routes.consume(request([carrier.replace(".carrier-a.0.", ".carrier-a.1.")])).forged).toBe(true);
    expect(routes.consume(request(["<sip:203.0.113.10:5060;lr>"])).forged).toBe(true);
    // Another egress's edge-side entry, or another host, is not ours at all.
    expect(routes.consume(request(["<sip:egress-2@egress.invalid;transport=ws;lr>"]))).toEqual({ edgeSide: false, token: undefined, forged: false });
    expect(routes.consume(request([carrier.replace("203.0.113.10", "203.0.113.11")])).forged).toBe(false);
  });
});
