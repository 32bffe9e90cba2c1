// /metrics of the egress (Prometheus text format 0.0.4), on the media
// agent's small registry (media-node/agent/src/metrics.ts). Families the
// proxy increments live here; the transport, transaction and link counters
// are read from their layers at each scrape.
import { Counter, Gauge, Registry, prometheusLabels } from "../../../agent/src/metrics.ts";
import type { TransactionCounters, TransportCounters } from "../counters.ts";
import type { LinkCounters, LinkState } from "../link/edge-link.ts";

export interface MetricSources {
  link: () => { state: LinkState; counters: LinkCounters };
  transport: () => TransportCounters;
  /** The two transaction layers: toward carriers and toward the edge. */
  transactions: () => { carrier: TransactionCounters; edge: TransactionCounters };
  /** Legacy phones registered through us, and their NAT keep-alive pings. */
  phones?: () => { registered: number; pingsSent: number; pingsFailed: number };
}

export class EgressMetrics {
  readonly registry = new Registry();
  /** Out-of-dialog INVITEs per trunk: outbound (edge → carrier) and inbound (carrier → edge). */
  readonly calls = this.registry.register(new Counter("sipedge_egress_calls_total", "Calls (out-of-dialog INVITEs) per trunk and direction."));
  readonly answered = this.registry.register(new Counter("sipedge_egress_calls_answered_total", "Calls answered (2xx) per trunk and direction."));
  readonly failures = this.registry.register(new Counter("sipedge_egress_call_failures_total", "Calls that ended with a final non-2xx, per trunk, direction and status."));
  readonly failovers = this.registry.register(new Counter("sipedge_egress_gateway_failovers_total", "Calls moved to the next gateway of their trunk (timeout, 408, 503)."));
  readonly challenges = this.registry.register(new Counter("sipedge_egress_challenges_answered_total", "Carrier 401/407 challenges answered with the trunk's credentials."));
  readonly refused = this.registry.register(new Counter("sipedge_egress_requests_refused_total", "Requests refused by the egress itself, by reason."));
  /** Legacy phones (issue 5): their out-of-dialog requests passed to the edge, and the phones kept alive. */
  readonly phoneRequests = this.registry.register(new Counter("sipedge_egress_phone_requests_total", "Out-of-dialog requests from legacy phones passed to the edge, by method (REGISTER, INVITE, other)."));

  constructor(sources: MetricSources) {
    const linkUp = this.registry.register(new Gauge("sipedge_egress_link_up", "1 while the WebSocket link to the edge is open."));
    this.registry.registerDynamic(() => {
      const { state, counters } = sources.link();
      linkUp.set(state === "up" ? 1 : 0);
      return [
        ...family("sipedge_egress_link_connects_total", "Link connections that opened.", "counter", [[{}, counters.connects]]),
        ...family("sipedge_egress_link_failed_attempts_total", "Link attempts that failed before opening (refused, unreachable, 401).", "counter", [[{}, counters.failedAttempts]]),
        ...family("sipedge_egress_link_disconnects_total", "Open link connections that closed.", "counter", [[{}, counters.disconnects]]),
        ...family("sipedge_egress_link_keepalive_timeouts_total", "Link connections closed because a CRLF keep-alive went unanswered.", "counter", [[{}, counters.keepaliveTimeouts]]),
        ...family("sipedge_egress_link_frames_total", "SIP messages over the link, by direction.", "counter", [[{ direction: "in" }, counters.framesIn], [{ direction: "out" }, counters.framesOut]]),
      ];
    });
    this.registry.registerDynamic(() => {
      const p = sources.phones?.() ?? { registered: 0, pingsSent: 0, pingsFailed: 0 };
      return [
        ...family("sipedge_egress_phones_registered", "Legacy phones registered through this egress (NAT keep-alive targets).", "gauge", [[{}, p.registered]]),
        ...family("sipedge_egress_phone_keepalives_total", "CRLFCRLF keep-alives sent to registered phones, by outcome.", "counter", [[{ outcome: "sent" }, p.pingsSent], [{ outcome: "failed" }, p.pingsFailed]]),
      ];
    });
    this.registry.registerDynamic(() => {
      const t = sources.transport();
      const perTransport = (v: Record<string, number>): Sample[] => Object.entries(v).map(([transport, n]) => [{ transport }, n]);
      return [
        ...family("sipedge_egress_sip_received_total", "SIP messages received from carriers, by transport.", "counter", perTransport(t.received)),
        ...family("sipedge_egress_sip_sent_total", "SIP messages sent to carriers (retransmissions included), by transport.", "counter", perTransport(t.sent)),
        ...family("sipedge_egress_sip_malformed_total", "Malformed messages from carriers: answered 400 or dropped.", "counter", [[{ outcome: "answered" }, t.malformedAnswered], [{ outcome: "dropped" }, t.malformedDropped]]),
        ...family("sipedge_egress_keepalives_answered_total", "Keep-alives from phones and carriers answered (RFC 5626): CRLFCRLF on TCP/TLS, STUN Binding on UDP.", "counter", [[{ kind: "crlf" }, t.keepAlivesAnswered], [{ kind: "stun" }, t.stunBindingsAnswered]]),
        ...family("sipedge_egress_sip_send_errors_total", "Sends to carriers that failed.", "counter", [[{}, t.sendErrors]]),
        ...family("sipedge_egress_sip_large_requests_over_tcp_total", "UDP requests over the MTU limit sent over TCP (RFC 3261 §18.1.1).", "counter", [[{}, t.largeRequestsOverTcp]]),
      ];
    });
    this.registry.registerDynamic(() => {
      const sides = sources.transactions();
      const created: Sample[] = [];
      const active: Sample[] = [];
      const retransmitted: Sample[] = [];
      const timeouts: Sample[] = [];
      for (const [side, c] of Object.entries(sides)) {
        for (const [method, n] of Object.entries(c.client)) created.push([{ side, kind: "client", method }, n]);
        for (const [method, n] of Object.entries(c.server)) created.push([{ side, kind: "server", method }, n]);
        active.push([{ side, kind: "client" }, c.active.client], [{ side, kind: "server" }, c.active.server]);
        for (const [what, n] of Object.entries(c.retransmissionsSent)) retransmitted.push([{ side, direction: "sent", what }, n]);
        for (const [what, n] of Object.entries(c.retransmissionsReceived)) retransmitted.push([{ side, direction: "received", what }, n]);
        timeouts.push([{ side, kind: "client" }, c.timeouts.client], [{ side, kind: "server" }, c.timeouts.server]);
      }
      return [
        ...family("sipedge_egress_transactions_total", "Transactions created (RFC 3261 §17), by side (carrier, edge), kind and method.", "counter", created),
        ...family("sipedge_egress_transactions_active", "Transactions alive now.", "gauge", active),
        ...family("sipedge_egress_retransmissions_total", "Retransmissions sent and absorbed, by side.", "counter", retransmitted),
        ...family("sipedge_egress_transaction_timeouts_total", "Timers B/F (client) and H (server) that fired.", "counter", timeouts),
      ];
    });
  }

  render(): string {
    return this.registry.render();
  }
}

type Sample = [Record<string, string>, number];

function family(name: string, help: string, type: "counter" | "gauge", samples: Sample[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${prometheusLabels(labels)} ${v}`)];
}
