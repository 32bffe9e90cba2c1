// The egress proxy process, wired: SIP listeners and the carrier-side
// transaction layer, the link to the edge and its transaction layer, the
// trunks table, the proxy core, /healthz and /metrics, and the services
// that run beside the proxy (egress-service.ts). main.ts runs it.
import type { Server } from "node:http";
import { TrunkDirectory, type TrunksTableConfig } from "../../../workers/src/directory/trunks.ts";
import type { EgressConfig } from "./config.ts";
import type { EgressContext, EgressService } from "./egress-service.ts";
import { startHttpServer } from "./http/http-server.ts";
import { EdgeLink } from "./link/edge-link.ts";
import { LinkTransport } from "./link/link-transport.ts";
import type { Logger } from "./log.ts";
import { EgressMetrics } from "./metrics/egress-metrics.ts";
import { EgressProxy } from "./proxy/egress-proxy.ts";
import { EgressRoutes } from "./proxy/egress-routes.ts";
import { TransactionLayer } from "./transaction/transaction-layer.ts";
import type { TransportProtocol } from "./transport/protocol.ts";
import { PhoneKeepAlive } from "./proxy/phone-keepalive.ts";
import { SipTransportLayer } from "./transport/sip-transport-layer.ts";
import { DirectoryTrunkSource } from "./trunks/trunk-source.ts";

export interface Egress {
  readonly config: EgressConfig;
  readonly transport: SipTransportLayer;
  /** Toward carriers. */
  readonly carrier: TransactionLayer;
  /** Toward the edge. */
  readonly edge: TransactionLayer;
  readonly link: EdgeLink;
  readonly proxy: EgressProxy;
  readonly metrics: EgressMetrics;
  readonly httpPort: number;
  /** Stops the services, closes the link (1001), ends every transaction, closes the sockets. */
  stop(): Promise<void>;
}

export async function startEgress(config: EgressConfig, deps: { logger: Logger; services?: EgressService[] }): Promise<Egress> {
  const { logger } = deps;
  const sip = config.sip;
  const transport = new SipTransportLayer(
    {
      udp: sip.udpPort === false ? false : { host: sip.host, port: sip.udpPort },
      tcp: sip.tcpPort === false ? false : { host: sip.host, port: sip.tcpPort },
      tls: sip.tls === undefined ? false : { host: sip.host, port: sip.tls.port, certFile: sip.tls.certFile, keyFile: sip.tls.keyFile, ...(sip.tls.caFile !== undefined ? { caFile: sip.tls.caFile } : {}) },
      ...(sip.publicAddress !== undefined ? { advertise: sip.publicAddress } : {}),
    },
    { logger },
  );
  const carrier = new TransactionLayer({ transport, timers: { t1: config.t1Ms }, logger });
  await transport.start();
  const bound = transport.addresses();
  const ports: Partial<Record<TransportProtocol, number>> = {};
  for (const [t, a] of Object.entries(bound)) ports[t as TransportProtocol] = a.port;
  const publicHost = sip.publicAddress ?? sip.host;
  const routes = new EgressRoutes(config.id, config.secret, { host: publicHost, ports });

  const link = new EdgeLink({ edgeUrl: config.edgeUrl, linkId: config.id, secret: config.secret, logger, keepaliveMs: config.keepaliveMs });
  const linkTransport = new LinkTransport(link, link.url.startsWith("wss:") ? "WSS" : "WS", logger);
  const edge = new TransactionLayer({ transport: linkTransport, timers: { t1: config.t1Ms }, logger });

  const table: TrunksTableConfig = {
    dynamo: { ...(config.dynamo.endpoint !== undefined ? { endpoint: config.dynamo.endpoint } : {}), region: config.dynamo.region, accessKeyId: config.dynamo.accessKeyId, secretAccessKey: config.dynamo.secretAccessKey },
    tables: { trunks: config.dynamo.trunksTable },
  };
  const trunks = new DirectoryTrunkSource(config.id, table);
  const phoneKeepAlive = new PhoneKeepAlive((d) => transport.sendKeepAlive(d), config.phoneKeepaliveMs);
  const metrics = new EgressMetrics({
    phones: () => ({ registered: phoneKeepAlive.size, pingsSent: phoneKeepAlive.sent, pingsFailed: phoneKeepAlive.failed }),
    link: () => ({ state: link.state, counters: link.counters }),
    transport: () => transport.counters,
    transactions: () => ({ carrier: carrier.counters, edge: edge.counters }),
  });
  const proxy = new EgressProxy({
    routes,
    carrier,
    carrierTransport: transport,
    edge,
    link,
    trunks,
    metrics,
    logger,
    gatewayTimeoutMs: config.gatewayTimeoutMs,
    phoneDomains: config.phoneDomains,
    phoneKeepAlive,
  });

  let http: { server: Server; port: number };
  try {
    http = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      logger,
      metrics: () => metrics.render(),
      health: () => ({
        healthy: link.state === "up",
        body: {
          status: link.state === "up" ? "ok" : "link-down",
          id: config.id,
          link: link.state,
          sip: Object.fromEntries(Object.entries(bound).map(([t, a]) => [t.toLowerCase(), `${publicHost}:${a.port}`])),
          transactions: { carrier: carrier.size, edge: edge.size },
        },
      }),
    });
  } catch (e) {
    await transport.stop();
    throw e;
  }

  trunks.trunks().then(
    (ts) => logger.info("trunks-loaded", { count: ts.length, trunks: ts.map((t) => t.id) }),
    (e: unknown) => logger.warn("trunks-unreadable", { error: e instanceof Error ? e.message : String(e) }),
  );
  link.start();
  phoneKeepAlive.start();

  const services = deps.services ?? [];
  const context: EgressContext = {
    egressId: config.id,
    transactions: carrier,
    transport,
    trunks,
    directory: new TrunkDirectory(table),
    metrics: metrics.registry,
    logger,
    localAddress: (t) => (ports[t] === undefined ? undefined : { host: publicHost, port: ports[t]! }),
    setGatewayHealth: (h) => proxy.setGatewayHealth(h),
  };
  const started: EgressService[] = [];
  for (const s of services) {
    await s.start(context);
    started.push(s);
    logger.info("service-started", { service: s.name });
  }

  return {
    config,
    transport,
    carrier,
    edge,
    link,
    proxy,
    metrics,
    httpPort: http.port,
    async stop() {
      for (const s of started.reverse()) {
        try {
          await s.stop();
        } catch (e) {
          logger.warn("service-stop-failed", { service: s.name, error: e instanceof Error ? e.message : String(e) });
        }
      }
      phoneKeepAlive.stop();
      await link.stop();
      carrier.close();
      edge.close();
      await transport.stop();
      await new Promise<void>((resolve) => {
        http.server.close(() => resolve());
        // Idle keep-alive connections (a scraper's) would hold close() for their timeout.
        http.server.closeAllConnections();
      });
    },
  };
}
