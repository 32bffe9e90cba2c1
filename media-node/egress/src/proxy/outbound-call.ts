// A browser's call to a number, from the edge to a trunk (ARCHITECTURE.md
// "Browser to carrier"): the INVITE goes to the trunk's gateways one at a
// time, in SRV order (workers/src/trunks orderGateways), each in its own
// client transaction, answering the carrier's digest challenge with the
// trunk's credentials (trunk-auth.ts).
//
// Failover (RFC 3261 §16.6 item 6 with §16.7: a proxy may try targets in
// sequence, and §16.9/§21.5.4 read 503 and a transport error as "try
// elsewhere"): to the next gateway when the current one
//  - does not answer at all within `gatewayTimeoutMs` (Kamailio's fr_timer:
//    Timer B's 32 s is far too long to keep a caller waiting), or hits Timer B,
//  - answers 408 or 503, or cannot be reached (a local 503, §8.1.3.1),
// but never once the gateway said 180/183: the callee was alerted (or early
// media started) there, and ringing a second phone for the same call is
// worse than a failed call. A 100 Trying is hop by hop and says nothing
// about the callee, so a 503 after it still fails over. Never after the
// edge cancelled. Any other final response ends the call: a 486 from one
// gateway is the callee's answer, not the gateway's failure.
import { parseMessage, type SipRequest, type SipResponse } from "sip-parser-ts";
import type { Gateway, TrunkRecord } from "../../../../workers/src/trunks/index.ts";
import type { Logger } from "../log.ts";
import type { EgressMetrics } from "../metrics/egress-metrics.ts";
import type { InviteClientTransaction } from "../transaction/invite-client-transaction.ts";
import type { InviteServerTransaction } from "../transaction/invite-server-transaction.ts";
import type { TransactionLayer } from "../transaction/transaction-layer.ts";
import type { EgressRoutes } from "./egress-routes.ts";
import { relayResponse } from "./response-relay.ts";
import { type Credentials, answerTrunkChallenge } from "./trunk-auth.ts";
import { gatewayDestination, gatewayRequestUri } from "./uri-destination.ts";

export interface OutboundCallDeps {
  carrier: TransactionLayer;
  routes: EgressRoutes;
  metrics: EgressMetrics;
  logger: Logger;
  gatewayTimeoutMs: number;
}

interface Attempt {
  gateway: Gateway;
  cseqOffset: number;
  /** Whether this attempt carries credentials already (one answer per gateway: a second challenge means they were refused). */
  authenticated: boolean;
  tx: InviteClientTransaction | undefined;
  /** Any response from the gateway (a 100 too) stops the no-answer timer. */
  heard: boolean;
  /** 180/183 seen: no failover from here on. */
  alerted: boolean;
  /** The no-answer timer fired and the transaction was abandoned. */
  abandoned: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** How the call ends when it is not answered: a response to relay, or one to make. */
interface Outcome {
  response: SipResponse | undefined;
  status: number;
  reason: string;
}

export class OutboundCall {
  private readonly gateways: Gateway[];
  private readonly baseText: string;
  private readonly cseq: string;
  private readonly seq: number;
  private readonly callId: string;
  private attempt: Attempt | undefined;
  private canceled = false;
  private finished = false;
  private best: Outcome | undefined;

  constructor(
    private readonly deps: OutboundCallDeps,
    /** The INVITE as it should leave, but for the Request-URI, Record-Route and Via (edge headers removed, Max-Forwards counted down). */
    base: SipRequest,
    private readonly serverTx: InviteServerTransaction,
    private readonly trunk: TrunkRecord,
    gateways: readonly Gateway[],
    /** The dialled number: the Request-URI's user part the edge chose. */
    private readonly number: string,
  ) {
    this.gateways = [...gateways];
    this.baseText = base.toString();
    this.seq = base.cseq.seq;
    this.cseq = `${this.seq} INVITE`;
    this.callId = base.callId;
  }

  start(): void {
    const first = this.gateways.shift();
    if (first === undefined) return this.finish({ response: undefined, status: 503, reason: "Service Unavailable - No gateway for this trunk" });
    this.tryGateway(first, 0, undefined);
  }

  /** §16.10: a CANCEL from the edge. The pending branch is cancelled (§9.1: once it has had a provisional); no failover after it. */
  cancel(): void {
    if (this.canceled || this.finished) return;
    this.canceled = true;
    const a = this.attempt;
    if (a?.tx !== undefined) void a.tx.cancel();
    else this.finish({ response: undefined, status: 487, reason: "Request Terminated" });
  }

  private tryGateway(gateway: Gateway, cseqOffset: number, credentials: Credentials | undefined): void {
    const { carrier, routes, logger } = this.deps;
    const req = parseMessage(this.baseText) as SipRequest;
    req.setUri(gatewayRequestUri(this.number, gateway));
    if (cseqOffset !== 0) req.set("CSeq", `${this.seq + cseqOffset} INVITE`);
    if (credentials !== undefined) req.append(credentials.header, credentials.value);
    const destination = gatewayDestination(gateway);
    // PITFALLS 4: two Record-Route entries, the carrier side's on top (it faces the gateway).
    const [top, second] = routes.recordRoute("carrier", destination.transport, this.callId, { trunk: this.trunk.id, cseqOffset });
    req.prepend("Record-Route", second);
    req.prepend("Record-Route", top);
    const attempt: Attempt = { gateway, cseqOffset, authenticated: credentials !== undefined, tx: undefined, heard: false, alerted: false, abandoned: false, timer: undefined };
    this.attempt = attempt;
    logger.info("call-out-attempt", { call_id: this.callId, trunk: this.trunk.id, gateway: `${gateway.host}:${gateway.port};transport=${gateway.transport}`, authenticated: attempt.authenticated, cseq_offset: cseqOffset });
    attempt.tx = carrier.sendInvite(req, destination, { onResponse: (r) => this.onResponse(attempt, r) });
    attempt.timer = setTimeout(() => {
      if (attempt.heard || attempt.tx === undefined || attempt !== this.attempt) return;
      attempt.abandoned = true;
      logger.warn("gateway-no-answer", { call_id: this.callId, trunk: this.trunk.id, gateway: `${gateway.host}:${gateway.port}`, after_ms: this.deps.gatewayTimeoutMs });
      // Stops the retransmissions; the transaction hands us a local response, read as a timeout below.
      attempt.tx.abort();
    }, this.deps.gatewayTimeoutMs);
    attempt.timer.unref();
  }

  private onResponse(attempt: Attempt, r: SipResponse): void {
    if (attempt !== this.attempt) return;
    const status = attempt.abandoned ? 408 : r.status;
    if (!attempt.abandoned) {
      attempt.heard = true;
      clearTimeout(attempt.timer);
    }
    if (status < 200) {
      if (status >= 180) attempt.alerted = true;
      this.relay(r);
      return;
    }
    if (status < 300) {
      // Every 2xx, retransmissions included: the caller's ACK ends them (§13.2.2.4, §16.7 step 4).
      if (!this.finished) {
        this.finished = true;
        this.deps.metrics.answered.inc({ trunk: this.trunk.id, direction: "outbound" });
        this.deps.logger.info("call-out-answered", { call_id: this.callId, trunk: this.trunk.id, gateway: `${attempt.gateway.host}:${attempt.gateway.port}` });
      }
      this.relay(r);
      return;
    }
    if (this.finished) return;
    if ((status === 401 || status === 407) && !attempt.authenticated && !this.canceled) {
      const answer = answerTrunkChallenge(r, attempt.tx!.request, this.trunk.credentials);
      if ("value" in answer) {
        this.deps.metrics.challenges.inc({ trunk: this.trunk.id });
        // §22.2: the same request again with credentials and CSeq + 1 (trunk-auth.ts).
        this.tryGateway(attempt.gateway, attempt.cseqOffset + 1, answer);
        return;
      }
      this.deps.logger.warn("challenge-not-answered", { call_id: this.callId, trunk: this.trunk.id, status, why: answer.refused });
    }
    if (status === 401 || status === 407) {
      // Not relayed (§16.7 step 7 would): the credentials are the trunk's, not the caller's, and a
      // browser shown the carrier's challenge would only answer it with its own password.
      if (attempt.authenticated) this.deps.logger.warn("challenge-not-answered", { call_id: this.callId, trunk: this.trunk.id, status, why: "credentials-refused" });
      return this.finish({ response: undefined, status: 403, reason: "Forbidden - The carrier refused the trunk's credentials" });
    }
    // A response we made ourselves (no answer, Timer B, a transport error) is relayed as what it means.
    const local = attempt.abandoned || attempt.tx?.failure !== undefined;
    const outcome: Outcome = attempt.abandoned ? { response: undefined, status: 408, reason: "Request Timeout" } : { response: r, status, reason: r.reason };
    this.remember(outcome);
    if (this.canceled) return this.finish(local ? { response: undefined, status: 487, reason: "Request Terminated" } : outcome);
    const next = this.gateways[0];
    if ((status === 408 || status === 503) && !attempt.alerted && next !== undefined) {
      this.gateways.shift();
      this.deps.metrics.failovers.inc({ trunk: this.trunk.id });
      this.deps.logger.warn("gateway-failover", { call_id: this.callId, trunk: this.trunk.id, from: `${attempt.gateway.host}:${attempt.gateway.port}`, to: `${next.host}:${next.port}`, status, local });
      this.tryGateway(next, 0, undefined);
      return;
    }
    this.finish(this.best ?? outcome);
  }

  /** §16.7 step 6, for targets tried in sequence: a 6xx wins, else what the last gateway said. */
  private remember(outcome: Outcome): void {
    if (this.best !== undefined && this.best.status >= 600 && outcome.status < 600) return;
    this.best = outcome;
  }

  private finish(outcome: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.attempt?.timer);
    this.deps.metrics.failures.inc({ trunk: this.trunk.id, direction: "outbound", status: String(outcome.status) });
    this.deps.logger.info("call-out-failed", { call_id: this.callId, trunk: this.trunk.id, status: outcome.status, canceled: this.canceled });
    if (outcome.response !== undefined) return this.relay(outcome.response);
    try {
      this.serverTx.respond(outcome.status, outcome.reason);
    } catch {
      // answered meanwhile
    }
  }

  private relay(r: SipResponse): void {
    relayResponse(r, this.serverTx, { cseq: this.cseq, logger: this.deps.logger });
  }
}
