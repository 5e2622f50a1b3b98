import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";
import { defineRoute, type Route } from "./route";

/** Prometheus metrics of one service instance (its own registry, so tests can run several apps). */
export interface ApiMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  duration: Histogram<"method" | "route">;
  /** Register a gauge whose value is read at scrape time (indexer lag, queue sizes…). */
  gauge(name: string, help: string, read: () => number): void;
}

export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mb_" });
  const requests = new Counter({
    name: "mb_http_requests_total",
    help: "HTTP requests by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "mb_http_request_duration_seconds",
    help: "HTTP request duration",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    registry,
    requests,
    duration,
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    },
  };
}

/**
 * GET /v1/metrics: the Prometheus exposition, for operator keys only (signed like every request). Metrics are
 * not public: they show traffic, queue sizes and the keeper's figures.
 */
export function metricsRoute(metrics: ApiMetrics): Route {
  return defineRoute({
    method: "get",
    path: "/v1/metrics",
    summary: "Prometheus metrics of this instance (text exposition format)",
    description: "For scrapers that cannot sign requests, set MB_METRICS_PORT: a separate listener serves /metrics.",
    tags: ["service"],
    roles: ["operator"],
    write: false,
    contentType: metrics.registry.contentType,
    response: z.string(),
    handler: async () => metrics.registry.metrics(),
  });
}

/**
 * A separate listener for Prometheus (`GET /metrics`, nothing else), meant for an address only the monitoring
 * network reaches (default host 127.0.0.1). Returns its URL and a closer.
 */
export async function serveMetrics(
  metrics: ApiMetrics,
  opts: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    void metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
