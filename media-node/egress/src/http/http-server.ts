import { type Server, createServer } from "node:http";
import { PROMETHEUS_CONTENT_TYPE } from "../../../agent/src/metrics.ts";
import type { Logger } from "../log.ts";

export interface HealthReport {
  /** 200 when healthy (serving SIP with the link to the edge up), 503 otherwise. */
  healthy: boolean;
  body: Record<string, unknown>;
}

/**
 * The egress's small HTTP side: `GET /healthz` (JSON; 503 while the link to
 * the edge is down, so a load balancer or an orchestrator sees it) and
 * `GET /metrics` (Prometheus). Nothing else; no secrets in either.
 */
export async function startHttpServer(opts: { host: string; port: number; health: () => HealthReport; metrics: () => string; logger: Logger }): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("Method Not Allowed\n");
      return;
    }
    if (path === "/healthz") {
      const h = opts.health();
      res.writeHead(h.healthy ? 200 : 503, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(JSON.stringify(h.body) + "\n");
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" }).end(opts.metrics());
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not Found: try /healthz or /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`the HTTP port ${opts.host}:${opts.port} (/healthz, /metrics) is already in use: stop what holds it or choose another with --http-listen`)
          : new Error(`cannot listen for HTTP on ${opts.host}:${opts.port}: ${err.message}`),
      );
    });
    server.listen({ host: opts.host, port: opts.port }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;
  opts.logger.info("http-listening", { address: opts.host, port });
  return { server, port };
}
