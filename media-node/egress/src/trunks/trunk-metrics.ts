// /metrics families of carrier registration and gateway health checks
// (Prometheus text format 0.0.4), rendered from their snapshots at each
// scrape: Registry.registerDynamic(() => trunkMetrics(…)).
import { prometheusLabels } from "../../../agent/src/metrics.ts";
import type { HealthSnapshot } from "../gateway-health.ts";
import type { RegistrationSnapshot } from "../trunk-registration.ts";

type Sample = [Record<string, string>, number];

function family(name: string, help: string, type: "counter" | "gauge", samples: Sample[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${prometheusLabels(labels)} ${v}`)];
}

export function registrationMetrics(s: RegistrationSnapshot): string[] {
  const c = s.counters;
  return [
    ...family("sipedge_egress_register_requests_total", "REGISTER requests sent to carriers (each a new transaction).", "counter", [[{}, c.registersSent]]),
    ...family("sipedge_egress_register_challenges_answered_total", "Registrar 401/407 challenges answered with the trunk's credentials.", "counter", [[{}, c.challengesAnswered]]),
    ...family("sipedge_egress_registrations_total", "Bindings created or refreshed (2xx to REGISTER).", "counter", [[{}, c.registered]]),
    ...family("sipedge_egress_registration_refreshes_total", "Refreshes started before a binding ran out.", "counter", [[{}, c.refreshes]]),
    ...family("sipedge_egress_registration_failures_total", "Registration attempts that ended without a binding, by cause.", "counter", Object.entries(c.failures).map(([cause, n]): Sample => [{ cause }, n])),
    ...family("sipedge_egress_registration_failovers_total", "REGISTERs moved to the next gateway (timeout, 408, 503, transport error).", "counter", [[{}, c.failovers]]),
    ...family("sipedge_egress_registration_interval_too_brief_total", "423 Interval Too Brief answered with Min-Expires.", "counter", [[{}, c.intervalTooBrief]]),
    ...family("sipedge_egress_unregistrations_total", "Bindings removed on stop or trunk change (Expires: 0).", "counter", [[{}, c.unregistered]]),
    ...family("sipedge_egress_registration_state", "1 for each trunk's current registration phase.", "gauge", s.trunks.map((t): Sample => [{ trunk: t.trunk_id, state: t.phase }, 1])),
    ...family("sipedge_egress_registrations", "Trunks in each registration phase.", "gauge", Object.entries(s.phases).map(([state, n]): Sample => [{ state }, n])),
  ];
}

export function healthMetrics(s: HealthSnapshot): string[] {
  const c = s.counters;
  return [
    ...family("sipedge_egress_gateway_options_total", "OPTIONS health checks sent to gateways.", "counter", [[{}, c.optionsSent]]),
    ...family("sipedge_egress_gateway_options_failures_total", "OPTIONS health checks that failed, by cause (timeout, transport-error, 408, 503).", "counter", Object.entries(c.failures).map(([cause, n]): Sample => [{ cause }, n])),
    ...family("sipedge_egress_gateway_transitions_total", "Gateways marked down or up.", "counter", [[{ to: "down" }, c.wentDown], [{ to: "up" }, c.wentUp]]),
    ...family("sipedge_egress_gateway_up", "1 if the gateway answers its health checks, 0 if marked down (absent while unknown).", "gauge", s.gateways.filter((g) => g.state !== "unknown").map((g): Sample => [{ gateway: g.gateway }, g.state === "up" ? 1 : 0])),
    ...family("sipedge_egress_gateways", "Gateways in each health state.", "gauge", Object.entries(s.states).map(([state, n]): Sample => [{ state }, n])),
  ];
}
