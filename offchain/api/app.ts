import express, { type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebSocketServer } from "ws";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { IdempotencyOwner, Store } from "../store";
import { httpStatusOf } from "./errors";
import { createMetrics, metricsRoute, type ApiMetrics } from "./metrics";
import { DOCS_HTML, DOCS_JS, buildOpenApi } from "./openapi";
import { errorBody, newRequestId, routeHandler } from "./pipeline";
import { RateLimiter } from "./ratelimit";
import type { CapabilityRoutes, Route } from "./route";
import { HEADER } from "./signing";
import { attachWebSocket, type WsLimits, type WsStreams } from "./ws";

export interface ApiOptions {
  store: Store;
  log: Logger;
  /** AES-256-GCM key for API secrets and stored responses (config.api.secretKey). */
  secretKey: Buffer;
  timestampWindowMs: number;
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  capabilities: CapabilityRoutes[];
  metrics?: ApiMetrics;
  version?: string;
  /** Directories of static files (the web console) served as they are, before the API routes. */
  staticMounts?: StaticMount[];
  /** This process as the claimant of idempotency keys (a gone claimant's keys are free to retry). */
  idempotencyOwner?: () => IdempotencyOwner | undefined;
  /**
   * A service that is not the real one (the practice service: "practice"): every response carries the header
   * MODE_HEADER and every JSON object body a `mode` field with this value. Unset for the real service.
   */
  mode?: string;
}

/** The header naming a service that is not the real one (absent on the real service's responses). */
export const MODE_HEADER = "marginbridge-mode";

/** A folder served under a URL prefix; `contentSecurityPolicy` replaces helmet's default for those files. */
export interface StaticMount {
  urlPath: string;
  dir: string;
  contentSecurityPolicy?: string;
}

export interface Api {
  app: express.Express;
  metrics: ApiMetrics;
  openapi: object;
  routes: Route[];
}

/** Maps anything thrown to a JSON error; input problems are 4xx, only the service's own failures are 5xx. */
function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown };
  if (e?.type === "entity.too.large") return new AppError("PAYLOAD_TOO_LARGE", "body is larger than allowed");
  const status = Number(e?.status ?? e?.statusCode);
  if (status >= 400 && status < 500) {
    return new AppError("VALIDATION_FAILED", "malformed request", {
      details: { issues: [{ field: "request", message: String((err as Error).message ?? "") }] },
      cause: err,
    });
  }
  return new AppError("INTERNAL", "internal error", { cause: err });
}

/**
 * helmet's headers with its defaults, computed once: they do not depend on the request, and setting them from a list
 * costs a fraction of running helmet's dozen middlewares on every request.
 */
function securityHeaders(): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader: (name: string, value: string) => void headers.push([name, value]),
    // helmet removes X-Powered-By, which this app never sets (x-powered-by is disabled)
    removeHeader: () => undefined,
  };
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
}

/** The request counter and duration histogram, with each label set's child looked up once, not hashed per request. */
class RequestSeries {
  private readonly children = new Map<
    string,
    { requests: { inc(): void }; duration: { observe(seconds: number): void } }
  >();

  constructor(private readonly metrics: ApiMetrics) {}

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = {
        requests: this.metrics.requests.labels({ method, route, status: String(status) }),
        duration: this.metrics.duration.labels({ method, route }),
      };
      this.children.set(key, child);
    }
    child.requests.inc();
    child.duration.observe(seconds);
  }
}

export function createApi(opts: ApiOptions): Api {
  const metrics = opts.metrics ?? createMetrics();
  const routes = [...opts.capabilities.flatMap((c) => c.routes), metricsRoute(metrics)];
  const seen = new Set<string>();
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) throw new AppError("CONFIG_INVALID", `route ${key} is registered twice`);
    seen.add(key);
    // Writes are audited and idempotent per API key, so they always need an authenticated caller.
    if (r.roles === "public" ? r.write : r.roles.length === 0) {
      throw new AppError("CONFIG_INVALID", `route ${key} must name the roles it allows (and writes cannot be public)`);
    }
  }
  const openapi = buildOpenApi(routes, { title: "MarginBridge API", version: opts.version ?? "0.1.0" });
  const deps = {
    store: opts.store,
    secretKey: opts.secretKey,
    timestampWindowMs: opts.timestampWindowMs,
    limiter: new RateLimiter(opts.rateLimitPerMinute),
    log: opts.log,
    owner: opts.idempotencyOwner,
  };

  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  const security = securityHeaders();
  const series = new RequestSeries(metrics);
  app.use((req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of security) res.setHeader(name, value);
    const given = req.headers[HEADER.requestId];
    const requestId = typeof given === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(given) ? given : newRequestId();
    res.locals.requestId = requestId;
    res.setHeader(HEADER.requestId, requestId);
    const started = performance.now();
    res.on("finish", () => {
      const route = (req.route?.path as string | undefined) ?? "unmatched";
      series.record(req.method, route, res.statusCode, (performance.now() - started) / 1000);
      opts.log.info("http", { requestId, method: req.method, route, status: res.statusCode });
    });
    next();
  });
  if (opts.mode !== undefined) app.use(markMode(opts.mode));
  const raw = express.raw({ type: () => true, limit: opts.bodyLimitBytes });

  app.get("/openapi.json", (_req, res) => void res.json(openapi));
  app.get("/docs", (_req, res) => void res.type("html").send(DOCS_HTML));
  app.get("/docs.js", (_req, res) => void res.type("application/javascript").send(DOCS_JS));
  for (const m of opts.staticMounts ?? []) {
    const csp = m.contentSecurityPolicy;
    app.use(
      m.urlPath,
      express.static(m.dir, {
        index: "index.html",
        dotfiles: "ignore",
        setHeaders: csp ? (res) => res.setHeader("content-security-policy", csp) : undefined,
      }),
    );
  }
  for (const r of routes) app[r.method](r.path, raw, routeHandler(r, deps));

  app.use((_req: Request, res: Response) => {
    res.status(404).json(errorBody(new AppError("NOT_FOUND", "no such route"), res.locals.requestId as string));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const appErr = toAppError(err);
    const status = httpStatusOf(appErr.code);
    if (status >= 500)
      opts.log.error("request failed", { requestId: res.locals.requestId, err: appErr, causes: appErr.causeChain() });
    if (res.headersSent) return;
    res.status(status).json(errorBody(appErr, res.locals.requestId as string));
  });
  return { app, metrics, openapi, routes };
}

/**
 * Marks every response of a non-real service: the header, and `mode` in every JSON object body (arrays and
 * non-JSON bodies carry the header only). Set before any route runs, so errors and static files are marked too.
 */
function markMode(mode: string) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader(MODE_HEADER, mode);
    const json = res.json.bind(res);
    res.json = (body: unknown) =>
      json(body !== null && typeof body === "object" && !Array.isArray(body) ? { ...body, mode } : body);
    next();
  };
}

export interface RunningApi {
  url: string;
  server: Server;
  wss: WebSocketServer;
  close(): Promise<void>;
}

/** Listens on host:port (port 0 picks a free one) with the WebSocket endpoint attached. */
export async function listen(
  api: Api,
  opts: {
    host: string;
    port: number;
    store: Store;
    secretKey: Buffer;
    timestampWindowMs: number;
    log: Logger;
    streams?: WsStreams;
    /** Caps on WebSocket subscriptions, sockets, frame size and buffering (DEFAULT_WS_LIMITS otherwise). */
    wsLimits?: Partial<WsLimits>;
  },
): Promise<RunningApi> {
  const server = createServer(api.app);
  server.keepAliveTimeout = 5_000;
  const wss = attachWebSocket(server, opts);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    server,
    wss,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
