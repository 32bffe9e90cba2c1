import { Counter, Gauge, Histogram, NG_LATENCY_BUCKETS, Registry } from "./metrics.ts";
import { statisticsMetrics, type RtpengineSample } from "./rtpengine-statistics.ts";

/** ng commands we label by name; anything else is "other" so labels stay bounded. */
const KNOWN_COMMANDS = new Set([
  "ping", "offer", "answer", "delete", "query", "list", "statistics",
  "start recording", "stop recording", "pause recording", "block DTMF", "unblock DTMF",
  "block media", "unblock media", "silence media", "unsilence media", "start forwarding",
  "stop forwarding", "play media", "stop media", "play DTMF", "publish",
  "subscribe request", "subscribe answer", "unsubscribe",
]);

export function commandLabel(command: unknown): string {
  return typeof command === "string" && KNOWN_COMMANDS.has(command) ? command : "other";
}

/** The agent's Prometheus metrics (`GET /metrics`). */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly ngRequests = this.registry.register(new Counter("sipedge_agent_ng_requests_total", "ng requests relayed to rtpengine, by command and result (ok, error, pong, load limit, timeout, bad-reply, draining, …)."));
  readonly ngLatency = this.registry.register(new Histogram("sipedge_agent_ng_request_duration_seconds", "Time from a verified request to rtpengine's reply, by command.", NG_LATENCY_BUCKETS));
  readonly retransmissions = this.registry.register(new Counter("sipedge_agent_ng_retransmissions_total", "ng datagrams sent again (same cookie) because rtpengine had not answered, by command."));
  readonly authFailures = this.registry.register(new Counter("sipedge_agent_auth_failures_total", "POST /ng requests refused before reaching rtpengine, by reason."));
  readonly httpRequests = this.registry.register(new Counter("sipedge_agent_http_requests_total", "HTTP requests by route and status."));
  readonly inFlight = this.registry.register(new Gauge("sipedge_agent_ng_in_flight", "ng requests waiting for rtpengine."));
  readonly sessions = this.registry.register(new Gauge("sipedge_agent_sessions", "Sessions on this node at the last heartbeat (rtpengine sessionstotal)."));
  readonly capacity = this.registry.register(new Gauge("sipedge_agent_capacity", "Sessions this node is configured to hold."));
  readonly load = this.registry.register(new Gauge("sipedge_agent_load", "Load reported in the heartbeat (0..1)."));
  readonly state = this.registry.register(new Gauge("sipedge_agent_state", "1 for the node's current state."));
  readonly heartbeats = this.registry.register(new Counter("sipedge_agent_heartbeats_total", "Heartbeats into media_nodes by result (ok, rtpengine-error, dynamodb-error)."));
  readonly lastHeartbeat = this.registry.register(new Gauge("sipedge_agent_last_heartbeat_timestamp_seconds", "Unix time of the last successful heartbeat."));
  private sample: RtpengineSample | undefined;

  constructor() {
    this.registry.registerDynamic(() => statisticsMetrics(this.sample));
  }

  setSample(sample: RtpengineSample): void {
    this.sample = sample;
    this.sessions.set(sample.sessions);
    this.load.set(sample.load);
  }

  setState(state: "active" | "draining"): void {
    this.state.set(state === "active" ? 1 : 0, { state: "active" });
    this.state.set(state === "draining" ? 1 : 0, { state: "draining" });
  }
}
