import {
  ROLES,
  createApi,
  ensureDemoKeys,
  listen,
  serveMetrics,
  type Api,
  type NewApiKey,
  type Role,
  type WsStreams,
} from "../api";
import { createChainGateway, loadDeployment, type ChainGateway, type DeploymentRecord, type Indexer } from "../chain";
import { sqlitePath, type Config } from "../shared/config";
import { DEFAULT_LEASE_TTL_MS, ServiceInstance, singletonStatus } from "../shared/instance";
import { Signals, startJobs } from "../shared/jobs";
import { leaseLostError } from "../shared/lease";
import { createLogger, type Logger } from "../shared/logger";
import { openStore, type Repositories, type Store } from "../store";
import {
  unmetNeeds,
  type Capability,
  type CapabilityDeps,
  type CapabilityParts,
  type CapabilityState,
  type Running,
} from "./capability";
import type { CoreServiceOptions, ServiceBase } from "./options";

/** One built capability. */
interface Built {
  name: string;
  parts: CapabilityParts;
}

/** The composed service before it listens: shared dependencies, built capabilities, the indexer. */
interface Composition<O extends object> {
  deps: CapabilityDeps<O>;
  built: Built[];
  states: Record<string, CapabilityState>;
  indexer?: Indexer;
  /** Set once this instance's lease owner is known (the job fence checks against it). */
  lease: { owner?: string; epochs: Map<string, number>; instance?: ServiceInstance };
}

/**
 * The generic part of the service: opens the store and the chain gateway, checks each capability's needs and
 * builds it (in list order), indexes every capability's contracts with one indexer, serves every route and stream
 * from one API, starts the capabilities in order once the API listens, runs their jobs (leased unless local), and
 * stops everything in reverse. It knows no capability's internals.
 */
export async function composeService<O extends object>(
  config: Config,
  opts: O & CoreServiceOptions,
  capabilities: readonly Capability<O>[],
): Promise<ServiceBase & { exposed: object }> {
  const log = opts.log ?? createLogger({ level: config.log.level, base: { service: "marginbridge" } });
  const store = await openConfiguredStore(config);
  const deployment = opts.deployment ?? tryLoadDeployment(config, log);
  const chain = deployment && createChainGateway(config.chain, deployment, log.child({ component: "chain" }));
  const c = await compose(config, opts, capabilities, { log, store, deployment, chain });
  const api = createServiceApi(config, opts, c);
  const running = await listen(api, {
    host: config.api.host,
    port: config.api.port,
    store,
    secretKey: config.api.secretKey,
    timestampWindowMs: config.api.timestampWindowMs,
    log,
    streams: combineStreams(c.built.flatMap((b) => (b.parts.streams ? [b.parts.streams] : []))),
  });
  const instance = await startCapabilities(config, opts, c, running.url);
  const jobs = startJobs(
    // Job leases live one lease time (renewed every ttl/3 while a run lasts), not twice the job's timeout: a dead
    // holder that is not restarted is replaced within the lease time.
    c.built.flatMap((b) => b.parts.jobs ?? []).map((j) => (j.local ? j : { ...j, leaseTtlMs: leaseTtl(opts) })),
    {
      tryLease: (name, ttl) => tryLease(store, c.lease, name, ttl),
      log: log.child({ component: "jobs" }),
      signals: c.deps.signals,
    },
  );
  const demoKeys = opts.demoKeys ? await developmentKeys(store, config, opts) : {};
  // Prometheus without signatures only on its own listener (MB_METRICS_PORT), never on the public API port.
  const metricsServer =
    config.api.metricsPort === undefined
      ? undefined
      : await serveMetrics(api.metrics, { host: config.api.metricsHost, port: config.api.metricsPort });
  log.info("service started", { url: running.url, store: store.engine, network: deployment?.network ?? null });
  return {
    url: running.url,
    metricsUrl: metricsServer?.url,
    store,
    chain,
    indexer: c.indexer,
    demoKeys,
    instance,
    log,
    exposed: Object.assign({}, ...c.built.map((b) => b.parts.exposes ?? {})) as object,
    async stop() {
      await jobs.stop();
      await running.close();
      await metricsServer?.close();
      for (const b of [...c.built].reverse()) await b.parts.stop?.();
      await c.indexer?.stop();
      chain?.close();
      await instance.stop();
      await store.close();
    },
  };
}

/** Checks each capability's needs, builds those that may run (in order) and the indexer over their handlers. */
async function compose<O extends object>(
  config: Config,
  opts: O & CoreServiceOptions,
  capabilities: readonly Capability<O>[],
  base: { log: Logger; store: Store; deployment?: DeploymentRecord; chain?: ChainGateway },
): Promise<Composition<O>> {
  const c: Composition<O> = {
    built: [],
    states: {},
    lease: { epochs: new Map() },
    deps: {
      ...base,
      config,
      options: opts,
      fence: (tx, name) => fence(tx, c.lease, name),
      signals: new Signals(),
      instance: () => c.lease.instance,
      status: () => status(c),
      exposed: () => Object.assign({}, ...c.built.map((b) => b.parts.exposes ?? {})) as object,
    },
  };
  for (const cap of capabilities) {
    const unmet = unmetNeeds(cap.needs, c.deps);
    if (unmet !== undefined) {
      // Said once, here and in GET /v1/status: a capability never silently disappears.
      c.states[cap.name] = { available: false, reason: unmet.reason };
      const fields = { capability: cap.name, reason: unmet.reason };
      if (unmet.missing) base.log.warn("capability unavailable", fields);
      else base.log.info("capability off", fields);
      continue;
    }
    const parts = await cap.build(c.deps);
    c.built.push({ name: cap.name, parts });
    c.states[cap.name] = parts.partial ? { available: true, partial: parts.partial } : { available: true };
    if (parts.partial) base.log.info("capability in part", { capability: cap.name, reason: parts.partial });
  }
  if (base.chain) {
    const handlers = [...c.built.flatMap((b) => b.parts.handlers ?? []), ...(opts.extraHandlers ?? [])];
    c.indexer = base.chain.createIndexer(base.store, handlers);
    if (opts.durableHead) c.indexer.limitHead(opts.durableHead);
  }
  return c;
}

/** GET /v1/status: the store, the deployment, the indexer, each capability's facts, this instance, the leases. */
async function status<O extends object>(c: Composition<O>): Promise<Record<string, unknown>> {
  const { store, deployment } = c.deps;
  return {
    store: store.engine,
    network: deployment?.network ?? null,
    chainId: deployment?.chainId ?? null,
    indexer: c.indexer ? { ...c.indexer.status } : null,
    ...Object.assign({}, ...c.built.map((b) => b.parts.status?.() ?? {})),
    instance: c.lease.instance?.status() ?? null,
    singletons: singletonStatus(await store.locks.leases(), c.lease.instance),
    capabilities: c.states,
  };
}

/** One API over every capability's routes (then the options' extra routes) and static mounts; their gauges. */
function createServiceApi<O extends object>(config: Config, opts: CoreServiceOptions, c: Composition<O>): Api {
  const { store, log } = c.deps;
  const api = createApi({
    store,
    log: log.child({ component: "api" }),
    secretKey: config.api.secretKey,
    timestampWindowMs: config.api.timestampWindowMs,
    rateLimitPerMinute: config.api.rateLimitPerMinute,
    bodyLimitBytes: config.api.bodyLimitBytes,
    capabilities: [...c.built.flatMap((b) => b.parts.routes ?? []), ...(opts.extraRoutes ?? [])],
    staticMounts: c.built.flatMap((b) => b.parts.staticMounts ?? []),
    mode: opts.mode,
    idempotencyOwner: () => {
      const i = c.lease.instance;
      return i && { instance: i.id, epoch: i.epoch, staleAfterMs: i.ttlMs };
    },
  });
  const i = c.indexer;
  if (i) {
    api.metrics.gauge("mb_indexer_last_block", "last block indexed", () => i.status.lastBlock);
    api.metrics.gauge("mb_indexer_head_block", "chain head seen by the indexer", () => i.status.head);
    api.metrics.gauge("mb_indexer_rewinds_total", "reorg rewinds since start", () => i.status.rewinds);
  }
  for (const b of c.built) b.parts.metrics?.(api.metrics);
  return api;
}

/**
 * Registers this process as a start of its instance (the listen address is the identity), then starts the
 * indexer and every capability in list order with this instance's lease holder.
 */
async function startCapabilities<O extends object>(
  config: Config,
  opts: CoreServiceOptions,
  c: Composition<O>,
  url: string,
): Promise<ServiceInstance> {
  // The owner names this process of this instance and, first, the URL it advertises (read by the others from the
  // lease row). A restart of the same instance takes back at once every lease its dead predecessor held.
  const instance = await ServiceInstance.register(
    c.deps.store.instances,
    ServiceInstance.identity(url, opts.leases?.advertisedUrl),
    leaseTtl(opts),
    c.deps.log.child({ component: "instance" }),
  );
  c.lease.instance = instance;
  const owner = instance.owner(opts.leases?.advertisedUrl ?? url);
  c.lease.owner = owner;
  const running: Running = { url, owner, holder: { owner, claim: instance.claim }, leaseTtlMs: leaseTtl(opts) };
  c.indexer?.start(config.chain.pollIntervalMs, opts.leases?.ttlMs, running.holder);
  for (const b of c.built) await b.parts.start?.(running);
  return instance;
}

function leaseTtl(opts: CoreServiceOptions): number {
  return opts.leases?.ttlMs ?? DEFAULT_LEASE_TTL_MS;
}

async function tryLease(
  store: Store,
  lease: Composition<object>["lease"],
  name: string,
  ttl: number,
): Promise<boolean> {
  const instance = lease.instance;
  if (!instance || !lease.owner) return false;
  const epoch = await store.locks.acquireLease(name, lease.owner, ttl, Date.now(), instance.claim);
  if (epoch === undefined) lease.epochs.delete(name);
  else lease.epochs.set(name, epoch);
  return epoch !== undefined;
}

/** Checks a job's lease epoch inside a transaction (fencing); a no-op until this instance's owner is known. */
async function fence(tx: Repositories, lease: Composition<object>["lease"], name: string): Promise<void> {
  const owner = lease.owner;
  if (owner === undefined) return;
  const epoch = lease.epochs.get(name);
  if (epoch === undefined || !(await tx.locks.holdsLease(name, owner, epoch))) throw leaseLostError(name, epoch ?? 0);
}

/** Every capability's WebSocket channels behind one endpoint (a single capability's streams as they are). */
function combineStreams(streams: WsStreams[]): WsStreams | undefined {
  if (streams.length <= 1) return streams[0];
  return {
    channels: streams.flatMap((s) => s.channels),
    subscribe(req, caller, send) {
      const s = streams.find((x) => x.channels.includes(req.channel));
      return s ? s.subscribe(req, caller, send) : `unknown channel ${req.channel}`;
    },
  };
}

async function openConfiguredStore(config: Config): Promise<Store> {
  return config.store.engine === "sqlite"
    ? openStore({ engine: "sqlite", path: sqlitePath(config) })
    : openStore({ engine: "postgres", url: config.store.url, poolSize: config.store.poolSize });
}

function tryLoadDeployment(config: Config, log: Logger): DeploymentRecord | undefined {
  try {
    return loadDeployment(config.chain.network, config.chain.deploymentsDir);
  } catch (err) {
    log.warn("no deployment record; starting without chain access", { network: config.chain.network, err });
    return undefined;
  }
}

/** Development keys: the same set across restarts (the previous set is reused or revoked, never left beside). */
async function developmentKeys(
  store: Store,
  config: Config,
  opts: CoreServiceOptions,
): Promise<Partial<Record<Role, NewApiKey>>> {
  return ensureDemoKeys(
    store,
    config.api.secretKey,
    Object.fromEntries(
      ROLES.map((role) => [
        role,
        role === "client" ? (opts.demoClientAccount ?? "0x0000000000000000000000000000000000000000") : `demo-${role}`,
      ]),
    ),
  );
}
