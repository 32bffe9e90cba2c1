import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AgentMetrics } from "./agent-metrics.ts";
import type { AgentConfig } from "./config.ts";
import { handleRequest } from "./http-routes.ts";
import type { Logger } from "./log.ts";
import { MediaNodeRecord, type NodeState } from "./media-node-record.ts";
import { NgRelay } from "./ng-relay.ts";
import { NgUdpChannel } from "./ng-udp-channel.ts";
import { ReplayCache } from "./replay-cache.ts";
import { readStatistics, type RtpengineSample } from "./rtpengine-statistics.ts";

/**
 * One media node's agent (ARCHITECTURE.md, components): the authenticated
 * ng gateway in front of the local rtpengine, its heartbeat into
 * `media_nodes`, its metrics, and drain.
 */
export interface AgentDeps {
  dynamo: DynamoDBClient;
  log: Logger;
  now?: () => number;
}

export class MediaAgent {
  readonly metrics = new AgentMetrics();
  private readonly channel: NgUdpChannel;
  private readonly record: MediaNodeRecord;
  private readonly server: Server;
  private readonly now: () => number;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatRunning: Promise<void> | undefined;
  /** What the row in media_nodes says (an operator may set draining). */
  private storedState: NodeState = "active";
  /** We are draining ourselves (SIGTERM). */
  private selfDraining = false;
  private lastSample: RtpengineSample | undefined;
  private stopped = false;

  private constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.channel = new NgUdpChannel({
      ...config.rtpengineNg,
      timeoutMs: config.ngTimeoutMs,
      retransmitMs: config.ngRetransmitMs,
      onRetransmit: (command) => this.metrics.retransmissions.inc({ command }),
    });
    this.record = new MediaNodeRecord(deps.dynamo, config.dynamo.table, {
      id: config.nodeId,
      region: config.region,
      publicAddress: config.publicAddress,
      privateAddress: config.privateAddress,
      ngUrl: config.ngUrl,
      capacity: config.capacity,
    });
    const relay = new NgRelay(this.channel, this.metrics, () => this.state === "draining");
    const ctx = {
      secrets: config.secrets,
      signatureWindowMs: config.signatureWindowMs,
      maxBodyBytes: config.maxBodyBytes,
      replays: new ReplayCache(config.signatureWindowMs, config.replayCacheMax),
      relay,
      metrics: this.metrics,
      log: deps.log,
      now: this.now,
      health: () => this.health(),
    };
    const handler = (req: Parameters<typeof handleRequest>[0], res: Parameters<typeof handleRequest>[1]): void => void handleRequest(req, res, ctx);
    this.server = config.tls
      ? createHttpsServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, handler)
      : createHttpServer(handler);
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    // Cloudflare reuses a connection to an origin for up to 900 s idle (Proxy
    // Idle Timeout, developers.cloudflare.com/fundamentals/reference/connection-limits).
    // With Node's 5 s default the agent closed them first: most call setups
    // paid a new TCP + TLS handshake to the node, and a request racing our
    // close fails (a 520 the edge would take for a dead node).
    this.server.keepAliveTimeout = 905_000;
    this.metrics.capacity.set(config.capacity);
    this.metrics.setState("active");
  }

  /** Opens the ng channel, writes the first heartbeat, then listens. */
  static async start(config: AgentConfig, deps: AgentDeps): Promise<MediaAgent> {
    const agent = new MediaAgent(config, deps);
    await agent.channel.open();
    try {
      await agent.heartbeat();
      await new Promise<void>((resolve, reject) => {
        agent.server.once("error", reject);
        agent.server.listen(config.listen.port, config.listen.host, () => {
          agent.server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      agent.channel.close();
      throw err;
    }
    agent.scheduleHeartbeat();
    deps.log.info("agent_started", { url: agent.url, node_id: config.nodeId, state: agent.state });
    return agent;
  }

  /** Where the HTTP API listens (the port is known only after listening on port 0). */
  get url(): string {
    const addr = this.server.address() as AddressInfo;
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    return `${this.config.tls ? "https" : "http"}://${host}:${addr.port}`;
  }

  get state(): NodeState {
    return this.selfDraining || this.storedState === "draining" ? "draining" : "active";
  }

  get sessions(): number | undefined {
    return this.lastSample?.sessions;
  }

  private scheduleHeartbeat(): void {
    // While draining, drainAndStop() runs the heartbeats itself.
    if (this.stopped || this.selfDraining) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatRunning = this.heartbeat().finally(() => {
        this.heartbeatRunning = undefined;
        this.scheduleHeartbeat();
      });
    }, this.config.heartbeatIntervalMs);
  }

  /**
   * Samples rtpengine's `statistics` and writes the row. Without an answer
   * from rtpengine no heartbeat is written: the row expires and the edge
   * stops choosing this node.
   */
  async heartbeat(): Promise<void> {
    let sample: RtpengineSample;
    try {
      sample = readStatistics(await this.channel.request({ command: "statistics" }), this.config.capacity);
    } catch (err) {
      this.metrics.heartbeats.inc({ result: "rtpengine-error" });
      this.deps.log.error("heartbeat_skipped", { reason: "rtpengine did not answer statistics", error: (err as Error).message });
      return;
    }
    this.lastSample = sample;
    this.metrics.setSample(sample);
    try {
      const before = this.state;
      const { state, storedState } = await this.record.heartbeat({
        sessions: sample.sessions,
        load: sample.load,
        now: this.now(),
        ttlMs: this.config.recordTtlMs,
        draining: this.selfDraining,
      });
      this.storedState = state;
      if (storedState !== "active" && storedState !== "draining") this.deps.log.warn("unknown_node_state", { stored: storedState, treated_as: "draining" });
      if (this.state !== before) this.deps.log.info("node_state_changed", { from: before, to: this.state, sessions: sample.sessions });
      this.metrics.setState(this.state);
      this.metrics.heartbeats.inc({ result: "ok" });
      this.metrics.lastHeartbeat.set(Math.floor(this.now() / 1000));
    } catch (err) {
      this.metrics.heartbeats.inc({ result: "dynamodb-error" });
      this.deps.log.error("heartbeat_failed", { error: (err as Error).message });
    }
  }

  private async health(): Promise<{ ok: boolean; body: Record<string, unknown> }> {
    const base = { node_id: this.config.nodeId, region: this.config.region, state: this.state, sessions: this.lastSample?.sessions ?? null };
    try {
      const reply = await this.channel.request({ command: "ping" }, Math.min(1000, this.config.ngTimeoutMs));
      const ok = reply.result === "pong";
      return { ok, body: { status: ok ? "ok" : "unavailable", rtpengine: ok ? "pong" : String(reply.result), ...base } };
    } catch (err) {
      return { ok: false, body: { status: "unavailable", rtpengine: (err as Error).message, ...base } };
    }
  }

  /**
   * SIGTERM: mark the row draining at once, keep serving the calls this node
   * holds (answers, re-offers, deletes), and when rtpengine reports no
   * sessions — or the drain timeout passes — remove the row and stop.
   */
  async drainAndStop(): Promise<{ sessionsLeft: number }> {
    if (!this.selfDraining) {
      this.selfDraining = true;
      this.metrics.setState("draining");
      this.deps.log.info("drain_started", { sessions: this.lastSample?.sessions ?? null, timeout_ms: this.config.drainTimeoutMs });
    }
    clearTimeout(this.heartbeatTimer);
    await this.heartbeatRunning;
    const deadline = this.now() + this.config.drainTimeoutMs;
    for (;;) {
      await this.heartbeat();
      const sessions = this.lastSample?.sessions ?? 0;
      if (sessions === 0 || this.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(this.config.heartbeatIntervalMs, Math.max(0, deadline - this.now()))));
    }
    const sessionsLeft = this.lastSample?.sessions ?? 0;
    try {
      await this.record.remove();
    } catch (err) {
      this.deps.log.error("deregister_failed", { error: (err as Error).message });
    }
    this.deps.log.info("drain_finished", { sessions_left: sessionsLeft });
    await this.close();
    return { sessionsLeft };
  }

  /** Stops serving without touching the row (it expires). */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    await this.heartbeatRunning;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    this.channel.close();
  }
}
