// The egress proxy core (RFC 3261 §16, transaction-stateful): between the
// edge (one WebSocket, link/) and carriers (UDP/TCP/TLS, transport/), with
// a transaction layer on each side. ARCHITECTURE.md "Browser to carrier" and
// "Carrier to browser"; the header contract is in README.md.
//
//  from the edge                               from a carrier
//  ─────────────                               ──────────────
//  INVITE + X-Sipedge-Trunk → OutboundCall     INVITE (allowed source) → the edge
//  in dialog: our two Routes → next hop        in dialog: our two Routes → the edge
//  CANCEL → the pending branch                 CANCEL → the edge's branch
//  ACK for a 2xx → next hop, stateless         ACK for a 2xx → the edge, stateless
//  our phone Route → the legacy phone          a legacy phone (not a trunk) → the edge,
//                                                marked X-Sipedge-Phone, with our Path
//
// Legacy phones (issue 5) register and call through us: a request from an
// address no trunk allows, for a user of one of `phoneDomains`, goes to the
// edge with our Path (REGISTER) or Record-Route (dialogs), one phone-side
// entry naming where the phone was seen (egress-routes.ts); the user's DO
// takes it as a flow of its user (workers/src/proxy/path-flow.ts) and
// challenges it like a browser. Requests back carry that entry as Route.
//
// No dialog state: an in-dialog request is routed by its Route set alone
// (egress-routes.ts), so a restart loses no call.
import { SipUri, parseMessage, type SipRequest, type SipResponse } from "sip-parser-ts";
import { gatewayIsLive, orderGateways, trunksForSource, type TrunkRecord } from "../../../../workers/src/trunks/index.ts";
import type { GatewayHealth } from "../egress-service.ts";
import type { EdgeLink } from "../link/edge-link.ts";
import { EDGE, LINK_VIA_HOST } from "../link/link-transport.ts";
import type { Logger } from "../log.ts";
import { messageFields } from "../message-fields.ts";
import type { EgressMetrics } from "../metrics/egress-metrics.ts";
import type { ClientTransaction } from "../transaction/client-transaction.ts";
import { InviteClientTransaction } from "../transaction/invite-client-transaction.ts";
import { InviteServerTransaction } from "../transaction/invite-server-transaction.ts";
import type { ServerTransaction } from "../transaction/server-transaction.ts";
import type { TransactionLayer } from "../transaction/transaction-layer.ts";
import { type Destination, type MessageSource, describeSource } from "../transport/protocol.ts";
import type { SipTransportLayer } from "../transport/sip-transport-layer.ts";
import type { ReloadableTrunkSource } from "../trunks/trunk-source.ts";
import { PHONE_HEADER, TRUNK_HEADER, removeEdgeHeaders } from "./edge-headers.ts";
import type { DialogToken, EgressRoutes } from "./egress-routes.ts";
import { OutboundCall } from "./outbound-call.ts";
import { Forwarding, relayResponse } from "./response-relay.ts";
import { phoneRegistrationExpires, type PhoneKeepAlive } from "./phone-keepalive.ts";
import { answerTrunkChallenge } from "./trunk-auth.ts";
import { destinationOf } from "./uri-destination.ts";

export interface EgressProxyOptions {
  routes: EgressRoutes;
  /** Toward carriers. */
  carrier: TransactionLayer;
  carrierTransport: SipTransportLayer;
  /** Toward the edge (over link-transport.ts). */
  edge: TransactionLayer;
  link: EdgeLink;
  trunks: ReloadableTrunkSource;
  metrics: EgressMetrics;
  logger: Logger;
  /** Failover to the next gateway when one has not answered at all within this long. */
  gatewayTimeoutMs: number;
  /** SIP domains whose users may register and call through us as legacy phones; empty: none may. */
  phoneDomains?: readonly string[];
  /** NAT keep-alive of the phones registered through us. */
  phoneKeepAlive?: PhoneKeepAlive;
}

/** Methods whose out-of-dialog request makes a dialog we must stay in (§16.6 item 4). */
const DIALOG_CREATING = new Set(["INVITE", "SUBSCRIBE", "REFER"]);
const ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, PRACK, REFER, NOTIFY, SUBSCRIBE, MESSAGE";

/** A request refused by the egress itself: the status for the wire, the reason for the metric and the log. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly phrase: string,
    readonly why: string,
    readonly headers: Array<[string, string]> = [],
  ) {
    super(why);
  }
}

export class EgressProxy {
  private health: GatewayHealth = { isLive: (t, g) => gatewayIsLive(t.status, g) };
  /** INVITE server transactions (either side) → their forwarding, for CANCEL (§16.10). */
  private readonly forwardings = new Map<ServerTransaction, Forwarding>();

  constructor(private readonly o: EgressProxyOptions) {
    // §16.6 step 1: what is forwarded is a copy; the server transaction keeps
    // the request as received, or its own responses (the 100 Trying after
    // 200 ms) would carry the Via we add for the next hop.
    o.edge.onRequest((req, tx) => this.guard(req, tx, () => this.fromEdge(copyOf(req), tx)));
    o.carrier.onRequest((req, tx, source) => this.guard(req, tx, () => this.fromCarrier(copyOf(req), tx, source)));
    o.carrier.onStrayResponse((r) => this.strayFromCarrier(r));
    o.edge.onStrayResponse((r) => this.strayFromEdge(r));
  }

  /** The gateway health checker (gateway-health.ts) plugs in here; default: the trunk's stored status, no report = up. */
  setGatewayHealth(health: GatewayHealth): void {
    this.health = health;
  }

  // ---- from the edge ---------------------------------------------------------

  private async fromEdge(req: SipRequest, tx: ServerTransaction | undefined): Promise<void> {
    if (tx === undefined) return this.ackTowardCarrier(req);
    if (req.method === "CANCEL") return this.cancel(req, tx, this.o.edge);
    countDownMaxForwards(req);
    if (req.has(TRUNK_HEADER)) return this.callOut(req, tx);
    // In a dialog: our Routes carry the way (egress-routes.ts). Anything else
    // from the edge side is refused, so no browser can route through us to a
    // host of its choosing.
    const routes = this.o.routes.consume(req);
    if (routes.forged) throw new Refusal(403, "Forbidden - Route not issued by this egress", "forged-route");
    if (routes.phone !== undefined) return this.toPhone(req, tx, routes.phone);
    const token = routes.token;
    if (token === undefined) throw new Refusal(403, "Forbidden - Not a dialog of this egress", "no-route-of-ours");
    const destination = nextHop(req);
    if (destination === undefined) throw new Refusal(404, "Not Found - Next hop unreachable", "next-hop-unreachable");
    removeEdgeHeaders(req);
    const cseq = req.get("CSeq")!;
    if (token.cseqOffset !== 0) {
      req.set("CSeq", `${req.cseq.seq + token.cseqOffset} ${req.method}`);
      // RFC 3262 §7.2: a PRACK's RAck names the INVITE's CSeq, which the carrier knows shifted too.
      const rack = req.rack;
      if (rack !== undefined) req.set("RAck", `${rack.rseq} ${rack.cseq + token.cseqOffset} ${rack.method}`);
    }
    this.toCarrier(req, tx, destination, token, cseq);
  }

  /** A call to a number (X-Sipedge-Trunk): the trunk's gateways, in order, with failover (outbound-call.ts). */
  private async callOut(req: SipRequest, tx: ServerTransaction): Promise<void> {
    const trunkId = (req.get(TRUNK_HEADER) ?? "").trim();
    if (req.method !== "INVITE" || req.to.tag !== undefined) throw new Refusal(403, "Forbidden - Only new calls go to trunks", "trunk-header-on-non-call");
    const forwarding = this.track(tx);
    const trunk = await this.trunk(trunkId);
    if (trunk === undefined) throw new Refusal(404, "Not Found - Unknown trunk", `unknown-trunk ${trunkId.slice(0, 64)}`);
    if (!trunk.enabled) throw new Refusal(403, "Forbidden - Trunk disabled", `trunk-disabled ${trunk.id}`);
    const uri = req.uri;
    if (!(uri instanceof SipUri) || uri.user === undefined) throw new Refusal(404, "Not Found - Not a number", "no-number");
    const live = trunk.gateways.filter((g) => this.health.isLive(trunk, g));
    // Every gateway down by the health checks: try them all rather than fail every call on a false alarm.
    const gateways = orderGateways(live.length > 0 ? live : trunk.gateways);
    removeEdgeHeaders(req);
    // Credentials in the request were for the edge's realm, never the carrier's (§22.3).
    req.remove("Authorization");
    req.remove("Proxy-Authorization");
    this.o.metrics.calls.inc({ trunk: trunk.id, direction: "outbound" });
    this.o.logger.info("call-out", { call_id: req.callId, trunk: trunk.id, gateways: gateways.length, live: live.length });
    const call = new OutboundCall(this.o, req, tx as InviteServerTransaction, trunk, gateways, uri.user);
    forwarding.attach(() => call.cancel());
    if (!forwarding.canceled) call.start();
  }

  private ackTowardCarrier(ack: SipRequest): void {
    const routes = this.o.routes.consume(ack);
    // An ACK without our Routes is the ACK for a non-2xx, absorbed by its transaction already, or nobody's: dropped.
    if ((routes.token === undefined && routes.phone === undefined) || routes.forged) return void this.o.logger.debug("ack-dropped", { ...messageFields(ack), from: "edge" });
    const destination = routes.phone ?? nextHop(ack);
    if (destination === undefined) return;
    if (countDownMaxForwards(ack, false) === "exhausted") return;
    removeEdgeHeaders(ack);
    // §13.2.2.4: the ACK carries the INVITE's CSeq, shifted like it (trunk-auth.ts).
    if (routes.token !== undefined && routes.token.cseqOffset !== 0) ack.set("CSeq", `${ack.cseq.seq + routes.token.cseqOffset} ACK`);
    this.o.carrier.sendAck(ack, destination).catch((e: unknown) => this.o.logger.info("ack-not-sent", { ...messageFields(ack), error: errorText(e) }));
  }

  /**
   * An in-dialog request to the carrier in a client transaction; its
   * responses go back with the CSeq the edge sent. A 401/407 is answered
   * once with the trunk's credentials (CSeq + 1 more, trunk-auth.ts).
   */
  private toCarrier(req: SipRequest, serverTx: ServerTransaction, destination: Destination, token: DialogToken, edgeCSeq: string): void {
    const template = req.toString();
    const forwarding = req.method === "INVITE" ? this.track(serverTx) : undefined;
    const send = (request: SipRequest, authenticated: boolean): void => {
      const tx = this.o.carrier.sendRequest(request, destination, {
        onResponse: (r) => {
          if ((r.status === 401 || r.status === 407) && !authenticated && tx.failure === undefined) {
            void this.answerInDialogChallenge(r, template, token, tx).then((retry) => {
              if (retry !== undefined) send(retry, true);
              else refuseCarrierChallenge(serverTx);
            });
            return;
          }
          if (r.status === 401 || r.status === 407) return refuseCarrierChallenge(serverTx);
          relayResponse(r, serverTx, { cseq: edgeCSeq, logger: this.o.logger });
        },
      });
      if (tx instanceof InviteClientTransaction) forwarding?.attach(() => void tx.cancel());
    };
    send(req, false);
  }

  private async answerInDialogChallenge(r: SipResponse, template: string, token: DialogToken, tx: ClientTransaction): Promise<SipRequest | undefined> {
    const trunk = await this.trunk(token.trunk).catch(() => undefined);
    const answer = answerTrunkChallenge(r, tx.request, trunk?.credentials);
    if (!("value" in answer)) {
      this.o.logger.warn("challenge-not-answered", { ...messageFields(r), trunk: token.trunk, why: answer.refused });
      return undefined;
    }
    this.o.metrics.challenges.inc({ trunk: token.trunk });
    const retry = parseMessage(template) as SipRequest;
    retry.set("CSeq", `${retry.cseq.seq + 1} ${retry.method}`);
    retry.append(answer.header, answer.value);
    return retry;
  }

  /**
   * A request of the edge for a legacy phone (its user's DO preloaded our
   * phone-side entry as Route): to the address the entry names; a new
   * dialog is Record-Routed with that entry, so the phone's requests come
   * back through us. Its responses go back marked as the phone's.
   */
  private toPhone(req: SipRequest, serverTx: ServerTransaction, phone: Destination): void {
    removeEdgeHeaders(req);
    const entry = `<${this.o.routes.phoneEntry({ transport: phone.transport, address: phone.host, port: phone.port })}>`;
    if (DIALOG_CREATING.has(req.method) && req.to.tag === undefined) req.prepend("Record-Route", entry);
    const forwarding = req.method === "INVITE" ? this.track(serverTx) : undefined;
    const tx = this.o.carrier.sendRequest(req, phone, { onResponse: (r) => relayResponse(r, serverTx, { logger: this.o.logger, mark: [PHONE_HEADER, entry] }) });
    if (tx instanceof InviteClientTransaction) forwarding?.attach(() => void tx.cancel());
  }

  // ---- from a carrier --------------------------------------------------------

  private async fromCarrier(req: SipRequest, tx: ServerTransaction | undefined, source: MessageSource): Promise<void> {
    if (tx === undefined) return this.ackTowardEdge(req, source);
    if (req.method === "CANCEL") return this.cancel(req, tx, this.o.carrier);
    if (req.to.tag !== undefined) {
      // In a dialog we Record-Routed: the Routes are ours, the next one the edge's (its DO's flow token).
      const routes = this.o.routes.consume(req);
      if (routes.forged) throw new Refusal(403, "Forbidden - Route not issued by this egress", "forged-route");
      if (routes.token === undefined && routes.phone === undefined) throw new Refusal(403, "Forbidden - Not a dialog of this egress", "no-route-of-ours");
      countDownMaxForwards(req);
      return this.toEdge(req, tx, routes.token !== undefined ? { trunk: routes.token.trunk } : { phone: source });
    }
    // Out of dialog: only from an address some trunk of ours allows (issue 5; toll fraud and scanners),
    // or from a legacy phone of one of our users, which its user's DO challenges. Carriers never
    // REGISTER with us: a REGISTER for our domain is a phone's, whatever its address, and so is
    // what comes from the exact address (and port) a phone registered from.
    if (this.isPhoneRequest(req) && (req.method === "REGISTER" || this.o.phoneKeepAlive?.has(source) === true)) return this.fromPhone(req, tx, source);
    const trunk = await this.trunkForSource(source.address);
    if (trunk === undefined) {
      if (this.isPhoneRequest(req)) return this.fromPhone(req, tx, source);
      this.o.logger.warn("source-not-allowed", { source: describeSource(source), ...messageFields(req) });
      throw new Refusal(403, "Forbidden - Source not allowed", "source-not-allowed");
    }
    // A Route the carrier preloaded toward us (an outbound proxy setting) is ours to remove (§16.4).
    this.o.routes.consume(req);
    if (req.method === "OPTIONS") {
      // A carrier's keep-alive or capability query: answered here, the edge need not wake.
      tx.respond(200, "OK", { headers: [["Allow", ALLOW], ["Accept", "application/sdp"]] });
      return;
    }
    countDownMaxForwards(req);
    if (DIALOG_CREATING.has(req.method)) {
      // PITFALLS 4: two entries, the edge side's on top (it faces the edge).
      const [top, second] = this.o.routes.recordRoute("edge", source.transport, req.callId, { trunk: trunk.id, cseqOffset: 0 });
      req.prepend("Record-Route", second);
      req.prepend("Record-Route", top);
    }
    if (req.method === "INVITE") this.o.metrics.calls.inc({ trunk: trunk.id, direction: "inbound" });
    this.toEdge(req, tx, { trunk: trunk.id, newCall: req.method === "INVITE" });
  }

  /** A legacy phone's request for one of our phone domains: REGISTER for its To, anything else for its From. */
  private isPhoneRequest(req: SipRequest): boolean {
    const domains = this.o.phoneDomains ?? [];
    if (domains.length === 0) return false;
    const uri = req.method === "REGISTER" ? req.to.uri : req.from.uri;
    return uri instanceof SipUri && domains.includes(uri.host.toLowerCase());
  }

  /** A legacy phone's out-of-dialog request: to the edge with our Path (REGISTER) or Record-Route (a dialog). */
  private fromPhone(req: SipRequest, tx: ServerTransaction, source: MessageSource): void {
    this.o.routes.consume(req);
    countDownMaxForwards(req);
    const entry = `<${this.o.routes.phoneEntry(source)}>`;
    // RFC 3327 §5.2: our Path on top; the registrar sends requests for the phone back through it.
    if (req.method === "REGISTER") req.prepend("Path", entry);
    else if (DIALOG_CREATING.has(req.method)) req.prepend("Record-Route", entry);
    this.o.metrics.phoneRequests.inc({ method: req.method === "REGISTER" || req.method === "INVITE" ? req.method : "other" });
    this.toEdge(req, tx, { phone: source });
  }

  /**
   * To the edge: from a trunk (`trunk`, counted when a new call) or from a
   * legacy phone (`phone`: marked so its user's DO takes it as the phone's flow).
   */
  private toEdge(req: SipRequest, serverTx: ServerTransaction, from: { trunk?: string; phone?: MessageSource; newCall?: boolean }): void {
    if (this.o.link.state !== "up") {
      const retryAfter = Math.max(1, Math.ceil(this.o.link.retryInMs / 1000));
      throw new Refusal(503, "Service Unavailable - No link to the edge", "link-down", [["Retry-After", String(retryAfter)]]);
    }
    // A carrier must not speak for the edge (edge-headers.ts).
    removeEdgeHeaders(req);
    const phone = from.phone;
    if (phone !== undefined) req.set(PHONE_HEADER, `<${this.o.routes.phoneEntry(phone)}>`);
    const forwarding = req.method === "INVITE" ? this.track(serverTx) : undefined;
    let counted = from.newCall !== true;
    const trunk = from.trunk ?? "";
    const register = phone !== undefined && req.method === "REGISTER";
    const tx = this.o.edge.sendRequest(req, EDGE, {
      onResponse: (r) => {
        if (!counted && r.status >= 200) {
          counted = true;
          if (r.status < 300) this.o.metrics.answered.inc({ trunk, direction: "inbound" });
          else this.o.metrics.failures.inc({ trunk, direction: "inbound", status: String(r.status) });
        }
        if (register && r.status >= 200 && r.status < 300) {
          this.o.phoneKeepAlive?.registered({ transport: phone.transport, host: phone.address, port: phone.port }, phoneRegistrationExpires(req, r));
          this.o.phoneKeepAlive?.lowerFlowTimer(r);
        }
        relayResponse(r, serverTx, { logger: this.o.logger });
      },
    });
    if (tx instanceof InviteClientTransaction) forwarding?.attach(() => void tx.cancel());
  }

  private ackTowardEdge(ack: SipRequest, source: MessageSource): void {
    const routes = this.o.routes.consume(ack);
    if ((routes.token === undefined && routes.phone === undefined) || routes.forged) return void this.o.logger.debug("ack-dropped", { ...messageFields(ack), from: "carrier" });
    if (countDownMaxForwards(ack, false) === "exhausted") return;
    removeEdgeHeaders(ack);
    if (routes.phone !== undefined) ack.set(PHONE_HEADER, `<${this.o.routes.phoneEntry(source)}>`);
    this.o.edge.sendAck(ack, EDGE).catch((e: unknown) => this.o.logger.info("ack-not-sent", { ...messageFields(ack), error: errorText(e) }));
  }

  // ---- both sides ------------------------------------------------------------

  /** §16.10: 200 to the CANCEL at once, hop by hop, then the pending branch is cancelled; its 487 travels back. */
  private cancel(req: SipRequest, tx: ServerTransaction, layer: TransactionLayer): void {
    const invite = layer.findInviteFor(req);
    const forwarding = invite === undefined ? undefined : this.forwardings.get(invite);
    if (forwarding === undefined) {
      tx.respond(481);
      return;
    }
    tx.respond(200);
    forwarding.cancel();
  }

  /** §16.7: a response no transaction claims (a 2xx retransmitted after Timer M) goes on statelessly by its next Via. */
  private strayFromCarrier(r: SipResponse): void {
    r.removeFirst("Via");
    let next;
    try {
      next = r.topVia;
    } catch {
      return;
    }
    removeEdgeHeaders(r);
    if (next.transport === "WS" || next.transport === "WSS") {
      this.o.link.send(r.toString());
      return;
    }
    this.o.carrierTransport.sendResponse(r).catch((e: unknown) => this.o.logger.debug("stray-not-relayed", { ...messageFields(r), error: errorText(e) }));
  }

  private strayFromEdge(r: SipResponse): void {
    if (r.topVia.host !== LINK_VIA_HOST) return;
    r.removeFirst("Via");
    this.o.carrierTransport.sendResponse(r).catch((e: unknown) => this.o.logger.debug("stray-not-relayed", { ...messageFields(r), error: errorText(e) }));
  }

  /** Keeps the forwarding of an INVITE findable by its CANCEL while its server transaction lives. */
  private track(tx: ServerTransaction): Forwarding {
    let f = this.forwardings.get(tx);
    if (f === undefined) {
      f = new Forwarding();
      this.forwardings.set(tx, f);
      tx.onTerminated(() => this.forwardings.delete(tx));
    }
    return f;
  }

  /** A trunk the edge names: read the table again if we do not know it yet (the edge, authenticated, says it exists). */
  private trunk(id: string): Promise<TrunkRecord | undefined> {
    return this.findTrunk((ts) => ts.find((t) => t.id === id), () => this.o.trunks.reload());
  }

  /** The first trunk allowing a source address; a miss reads the table again at most once a second (TrunkSource). */
  private trunkForSource(address: string): Promise<TrunkRecord | undefined> {
    return this.findTrunk((ts) => trunksForSource(ts, address)[0], () => this.o.trunks.trunksAfterMiss());
  }

  /** A lookup in our trunks, tried again on `again()` if it finds nothing; 503 when the table cannot be read. */
  private async findTrunk(find: (trunks: readonly TrunkRecord[]) => TrunkRecord | undefined, again: () => Promise<readonly TrunkRecord[]>): Promise<TrunkRecord | undefined> {
    try {
      return find(await this.o.trunks.trunks()) ?? find(await again());
    } catch (e) {
      this.o.logger.error("trunks-unreadable", { error: errorText(e) });
      throw new Refusal(503, "Service Unavailable - Trunk directory unreachable", "directory-unreachable", [["Retry-After", "5"]]);
    }
  }

  /** Runs a handler; a Refusal (or a failure) becomes the final response, so no request goes unanswered. */
  private guard(req: SipRequest, tx: ServerTransaction | undefined, handler: () => Promise<void> | void): void {
    const answer = (e: unknown): void => {
      if (tx === undefined || tx.hasFinal) return;
      if (e instanceof Refusal) {
        this.o.metrics.refused.inc({ reason: e.why.split(" ")[0]! });
        this.o.logger.info("request-refused", { ...messageFields(req), status: e.status, why: e.why });
        tx.respond(e.status, e.phrase, { headers: e.headers });
        return;
      }
      this.o.logger.error("request-failed", { ...messageFields(req), error: errorText(e) });
      tx.respond(500, "Server Internal Error");
    };
    try {
      const done = handler();
      if (done instanceof Promise) done.catch(answer);
    } catch (e) {
      answer(e);
    }
  }
}

/** §16.6 items 6-7 (loose routing): the next Route if any is left, else the Request-URI. */
function nextHop(req: SipRequest): Destination | undefined {
  const route = req.routes[0];
  try {
    return destinationOf(route !== undefined ? route.uri : req.uri);
  } catch {
    return undefined;
  }
}

/** §16.3 item 3 and §16.6 item 3: 483 at zero, else one less (70 when absent). For ACK, "exhausted" instead of a response. */
function countDownMaxForwards(req: SipRequest, answer = true): "ok" | "exhausted" {
  const mf = req.maxForwards;
  if (mf === 0) {
    if (answer) throw new Refusal(483, "Too Many Hops", "max-forwards");
    return "exhausted";
  }
  req.set("Max-Forwards", String(mf === undefined ? 70 : mf - 1));
  return "ok";
}

/** A carrier's challenge we cannot answer is not relayed: the credentials are the trunk's, not the caller's (outbound-call.ts). */
function refuseCarrierChallenge(serverTx: ServerTransaction): void {
  if (!serverTx.hasFinal) serverTx.respond(403, "Forbidden - The carrier refused the trunk's credentials");
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function copyOf(req: SipRequest): SipRequest {
  return parseMessage(req.toString()) as SipRequest;
}
