import path from "node:path";
import {
  ROLES,
  coreRoutes,
  createApi,
  ensureDemoKeys,
  listen,
  serveMetrics,
  type CapabilityRoutes,
  type NewApiKey,
  type Role,
  type WsStreams,
} from "./api";
import {
  chainHealthProbe,
  createChainGateway,
  kycRegistryWriter,
  loadDeployment,
  type ChainGateway,
  type ContractHandler,
  type DeploymentRecord,
  type Indexer,
} from "./chain";
import { reservesContracts } from "./chain/reservesContracts";
import { marginEngineHandler, oracleRouterHandler } from "./chain/handlers/marginEngine";
import { Keeper, keeperRoutes } from "./keeper";
import { expireApprovals, kycRoutes, loadSdnFile, reconcileKyc, type KycDeps } from "./kyc";
import {
  RESERVES_INDEXER,
  reservesMarginAccountsHandler,
  reservesRoutes,
  type PendingAmountsProvider,
} from "./reserves";
import { portfolioRoutes } from "./portfolio";
import { settlementHubHandler } from "./chain/handlers/settlementHub";
import { settlementChain, type SettlementChain } from "./chain/settlementHubWriter";
import { statementChain } from "./chain/statementChain";
import { DailyStatements } from "./settlement/dailyStatements";
import { SettlementBatcher, settlementDomain, settlementQueueSink } from "./settlement";
import { reconcileAnchors } from "./settlement/anchorAgreement";
import { agreementDomain } from "./settlement/legal";
import { settlementRoutes } from "./settlement/routes";
import { orderbookChain } from "./chain/orderbookChain";
import {
  OrderGateway,
  orderbookRoutes,
  orderbookStreams,
  storeTradeSink,
  type InstrumentSpec,
  ChainRiskState,
  PreTradeRisk,
  type RiskLimits,
  type TradeSink,
  type WriteFence,
} from "./orderbook";
import { sqlitePath, type Config } from "./shared/config";
import { AppError } from "./shared/errors";
import { startJobs, type Job } from "./shared/jobs";
import { DEFAULT_LEASE_TTL_MS, ServiceInstance, singletonStatus } from "./shared/instance";
import { Lease, leaseLostError } from "./shared/lease";
import { createLogger, type Logger } from "./shared/logger";
import { openStore, type Repositories, type Store } from "./store";
import { webConsoleMounts } from "./web";

export interface ServiceOptions {
  /** Use this deployment record instead of reading deployments/<network>.json. */
  deployment?: DeploymentRecord;
  /** Create one API key per role and return them (development only). */
  demoKeys?: boolean;
  /** Subject (account address) of the demo client key. */
  demoClientAccount?: string;
  /** Contract handlers of later capabilities, indexed with the core ones. */
  extraHandlers?: ContractHandler[];
  /** Routes of later capabilities (order book, settlement, reserves…). */
  extraRoutes?: CapabilityRoutes[];
  /** The highest block a crash cannot lose (the embedded chain's durable head); the indexers stay at or below it. */
  durableHead?: () => number;
  /** Off-chain ledger amounts (unsettled trade proceeds) added to the proof-of-reserves snapshot; none by default. */
  reservesPending?: PendingAmountsProvider;
  /** JSON-RPC URL the web console's auditor page is told to use (GET /v1/config); default: the service's own. */
  publicRpcUrl?: string;
  /** Runs the order books (needs a deployment with a SettlementHub). */
  orderbook?: OrderbookOptions;
  /**
   * Several instances on one store (docs/production.md): the order book runs only on the holder of the
   * `role:orderbook` lease (the others answer order writes with 503 NOT_LEADER and the leader's URL), and every
   * singleton's lease lives `ttlMs` (bounds the failover time). Without it the order book opens at once.
   */
  leases?: LeaseSettings;
  log?: Logger;
}

export interface LeaseSettings {
  /** Lease time-to-live of every singleton role (ms; a standby takes over this long after the holder died). */
  ttlMs: number;
  /** The URL other instances tell clients to use for order writes (default: this instance's listen URL). */
  advertisedUrl?: string;
}

export interface OrderbookOptions {
  /** Default: every security token of the deployment, tick 0.01 of the cash token, lot 1 token unit. */
  instruments?: InstrumentSpec[];
  /** Where trades go (the settlement batcher's queue); default: the store's fallback orderbook_trades table. */
  sink?: TradeSink;
  /** Pre-trade risk over an in-process source; otherwise `limits` builds it over the chain (ChainRiskState). */
  risk?: PreTradeRisk;
  /** Limits for pre-trade risk over the chain; with `instrumentRisk` (sector, initial margin WAD) per instrument. */
  limits?: RiskLimits;
  instrumentRisk?: Record<string, { sector: string; initialMargin: bigint }>;
  /** How often the oracle router is polled into the books (ms; default 2,000). */
  oraclePollMs?: number;
  snapshotEvery?: number;
}

export interface Service {
  url: string;
  /** The separate Prometheus listener's URL, when MB_METRICS_PORT is set. */
  metricsUrl?: string;
  store: Store;
  chain?: ChainGateway;
  indexer?: Indexer;
  /** The proof-of-reserves indexer (MarginEngine accounts), on its own cursor. */
  reservesIndexer?: Indexer;
  keeper?: Keeper;
  demoKeys: Partial<Record<Role, NewApiKey>>;
  /** The order gateway when the order books run. */
  orderbook?: OrderGateway;
  /** This process as a start of its instance (identity, process epoch). */
  instance: ServiceInstance;
  log: Logger;
  stop(): Promise<void>;
}

/**
 * Wires the service from one parsed configuration: store → chain gateway and indexer (when a deployment is
 * known) → capabilities → HTTP/WebSocket API → background jobs. Nothing here decides anything.
 */
export async function startService(config: Config, opts: ServiceOptions = {}): Promise<Service> {
  const log = opts.log ?? createLogger({ level: config.log.level, base: { service: "marginbridge" } });
  const store =
    config.store.engine === "sqlite"
      ? await openStore({ engine: "sqlite", path: sqlitePath(config) })
      : await openStore({ engine: "postgres", url: config.store.url, poolSize: config.store.poolSize });

  // Set once this instance's lease owner is known: checks a job's lease epoch inside a transaction (fencing).
  let jobFence: (tx: Repositories, name: string) => Promise<void> = async () => undefined;
  let chain: ChainGateway | undefined;
  let indexer: Indexer | undefined;
  const deployment = opts.deployment ?? tryLoadDeployment(config, log);
  if (deployment) {
    chain = createChainGateway(config.chain, deployment, log.child({ component: "chain" }));
    const hubHandlers = deployment.contracts.SettlementHub
      ? [settlementHubHandler(deployment.contracts.SettlementHub)]
      : [];
    const marginHandlers = [
      ...(deployment.contracts.MarginEngine ? [marginEngineHandler(deployment.contracts.MarginEngine)] : []),
      ...(deployment.contracts.OracleRouter ? [oracleRouterHandler(deployment.contracts.OracleRouter)] : []),
    ];
    indexer = chain.createIndexer(store, [
      ...chain.coreHandlers(),
      ...hubHandlers,
      ...marginHandlers,
      ...(opts.extraHandlers ?? []),
    ]);
    if (opts.durableHead) indexer.limitHead(opts.durableHead);
  }
  const reserves = chain ? reservesContracts(chain, config.chain.reservePublisherKey) : undefined;
  let reservesIndexer: Indexer | undefined;
  if (chain && reserves) {
    const handler = reservesMarginAccountsHandler(chain.deployment.contracts.MarginEngine, config.api.secretKey);
    reservesIndexer = chain.createIndexer(store, [handler], RESERVES_INDEXER);
    if (opts.durableHead) reservesIndexer.limitHead(opts.durableHead);
  }

  const kycDeps: KycDeps = {
    store,
    chain: chain?.kycOfficer ? kycRegistryWriter(chain) : undefined,
    sanctions: config.kyc.sanctionsFile ? loadSdnFile(config.kyc.sanctionsFile) : loadSdnFile(),
    settings: {
      dataKey: config.kyc.dataKey,
      fuzzyThreshold: config.kyc.fuzzyThreshold,
      reviewAboveTier: config.kyc.reviewAboveTier,
      validityDays: config.kyc.validityDays,
      claimTtlMs: config.kyc.claimTtlMs,
    },
    log: log.child({ component: "kyc" }),
  };

  let settlement: SettlementChain | undefined;
  const settlementCaps: CapabilityRoutes[] = [];
  const settlementJobs: Job[] = [];
  if (chain && deployment?.contracts.SettlementHub && deployment.contracts.AgreementRegistry) {
    const slog = log.child({ component: "settlement" });
    if (config.settlement.operatorKey) settlement = settlementChain(chain, config.settlement.operatorKey, slog);
    // Daily statements from the indexed chain: a job after each natural day closes, and POST /v1/statements/daily.
    const dailyStatements = deployment.contracts.OracleRouter
      ? new DailyStatements({ store, chain: statementChain(chain), deployment, log: slog })
      : undefined;
    if (dailyStatements)
      settlementJobs.push({
        name: "daily-statements",
        intervalMs: 60_000,
        timeoutMs: 300_000,
        run: () => dailyStatements.runDue(),
      });
    const agreements = agreementDomain(BigInt(deployment.chainId), deployment.contracts.AgreementRegistry);
    settlementCaps.push(
      settlementRoutes({
        store,
        chain: settlement,
        dailyStatements,
        agreementDomain: agreements,
        settlementDomain: settlementDomain(deployment.chainId, deployment.contracts.SettlementHub),
        anchorClaimTtlMs: config.settlement.anchorClaimTtlMs,
      }),
    );
    if (settlement) {
      const anchoring = {
        store,
        chain: settlement,
        domain: agreements,
        claimTtlMs: config.settlement.anchorClaimTtlMs,
      };
      settlementJobs.push({
        name: "agreement-anchors",
        intervalMs: 60_000,
        timeoutMs: 120_000,
        run: () => reconcileAnchors({ ...anchoring, log: slog }),
      });
    }
    if (settlement) {
      const batcher = new SettlementBatcher({
        store,
        chain: settlement,
        log: slog,
        maxFills: config.settlement.maxFills,
        blockGasBudget: config.settlement.blockGasBudget,
        fence: (tx) => jobFence(tx, "job:settlement-batcher"),
      });
      settlementJobs.push({
        name: "settlement-batcher",
        intervalMs: config.settlement.intervalMs,
        timeoutMs: 120_000,
        run: async () => {
          await batcher.runOnce();
        },
      });
    }
  }

  // The liquidation keeper: on by default in development (config.keeper.enabled overrides), needs the chain.
  let keeper: Keeper | undefined;
  if (chain && (config.keeper.enabled ?? config.env === "development")) {
    keeper = new Keeper({
      store,
      provider: chain.provider,
      signer: chain.signer(config.keeper.signerKey),
      retry: chain.retry,
      deployment: chain.deployment,
      settings: config.keeper,
      log: log.child({ component: "keeper" }),
    });
  }

  // This process as a start of its instance: set once the API listens (the listen address is the identity).
  let instance: ServiceInstance | undefined = undefined;
  const leaseTtlMs = opts.leases?.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const status = async (): Promise<Record<string, unknown>> => ({
    store: store.engine,
    network: deployment?.network ?? null,
    chainId: deployment?.chainId ?? null,
    indexer: indexer ? { ...indexer.status } : null,
    kycSigner: chain?.kycOfficer?.address ?? null,
    instance: instance?.status() ?? null,
    singletons: singletonStatus(await store.locks.leases(), instance),
  });
  // The order books: opened here, or (with leases) only while this instance holds the `role:orderbook` lease.
  const book: { gateway?: OrderGateway; risk?: ChainRiskState; leaderUrl?: string } = {};
  const openOrderbook = async (
    spec: OrderbookOptions,
    ch: ChainGateway,
    fence?: WriteFence,
  ): Promise<{ gateway: OrderGateway; risk?: ChainRiskState }> => {
    const obChain = orderbookChain(ch);
    const cash = ch.deployment.tokens.find((t) => t.kind === "cash");
    const obLog = log.child({ component: "orderbook" });
    const instruments =
      spec.instruments ??
      ch.deployment.tokens
        .filter((t) => t.kind === "security")
        .map((t) => ({
          id: t.symbol,
          base: t.address,
          baseDecimals: t.decimals,
          quote: cash?.address ?? "",
          quoteDecimals: cash?.decimals ?? 6,
          tickSize: 10n ** BigInt(Math.max(0, (cash?.decimals ?? 6) - 2)),
          lotSize: 1n,
        }));
    let riskState: ChainRiskState | undefined;
    let risk = spec.risk;
    if (!risk && spec.limits) {
      riskState = new ChainRiskState(
        obChain,
        instruments.map((i) => ({
          spec: i,
          sector: spec.instrumentRisk?.[i.id]?.sector ?? "default",
          initialMargin: spec.instrumentRisk?.[i.id]?.initialMargin ?? 2n * 10n ** 17n,
        })),
      );
      risk = new PreTradeRisk(riskState, spec.limits);
    }
    const gateway = await OrderGateway.open({
      store,
      domain: settlementDomain(obChain.chainId, obChain.hub),
      instruments,
      riskState,
      // Trades go to the settlement batcher's queue when the deployment has a hub (the store's fallback table otherwise).
      sink: spec.sink ?? (ch.deployment.contracts.SettlementHub ? settlementQueueSink(store) : storeTradeSink(store)),
      risk,
      isTradingKey: (owner, key) => obChain.isTradingKey(owner, key),
      snapshotEvery: spec.snapshotEvery,
      fence,
      log: (level, msg, fields) => obLog[level](msg, fields),
    });
    return { gateway, risk: riskState };
  };
  if (opts.orderbook && chain && !opts.leases) {
    const opened = await openOrderbook(opts.orderbook, chain);
    book.gateway = opened.gateway;
    book.risk = opened.risk;
  }
  const leasedBook = opts.orderbook && chain && opts.leases ? opts.orderbook : undefined;
  const orderbook: OrderGateway | undefined = leasedBook ? leaderOnly(book) : book.gateway;
  const api = createApi({
    store,
    log: log.child({ component: "api" }),
    secretKey: config.api.secretKey,
    timestampWindowMs: config.api.timestampWindowMs,
    rateLimitPerMinute: config.api.rateLimitPerMinute,
    bodyLimitBytes: config.api.bodyLimitBytes,
    capabilities: [
      coreRoutes({
        store,
        secretKey: config.api.secretKey,
        status,
        chainHealth: chain ? chainHealthProbe(chain, store, { timeoutMs: config.api.readyTimeoutMs }) : undefined,
        readyMaxLagBlocks: config.api.readyMaxLagBlocks,
      }),
      kycRoutes(kycDeps),
      ...(reserves
        ? [
            reservesRoutes({
              store,
              ...reserves,
              secretKey: config.api.secretKey,
              dataDir: path.join(config.dataDir, "reserves"),
              pending: opts.reservesPending,
              leaseHolder: () => instance && { owner: instance.owner("reserves"), claim: instance.claim },
              log: log.child({ component: "reserves" }),
            }),
          ]
        : []),
      portfolioRoutes({ chain, publicRpcUrl: opts.publicRpcUrl ?? config.chain.rpcUrl }),
      ...settlementCaps,
      keeperRoutes({ store }, keeper),
      ...(orderbook ? [orderbookRoutes(orderbook)] : []),
      ...(opts.extraRoutes ?? []),
    ],
    staticMounts: webConsoleMounts(deployment ? (opts.publicRpcUrl ?? config.chain.rpcUrl) : undefined),
    idempotencyOwner: () => instance && { instance: instance.id, epoch: instance.epoch, staleAfterMs: instance.ttlMs },
  });
  if (indexer) {
    const i = indexer;
    api.metrics.gauge("mb_indexer_last_block", "last block indexed", () => i.status.lastBlock);
    api.metrics.gauge("mb_indexer_head_block", "chain head seen by the indexer", () => i.status.head);
    api.metrics.gauge("mb_indexer_rewinds_total", "reorg rewinds since start", () => i.status.rewinds);
  }
  if (keeper) {
    const k = keeper;
    for (const state of Object.keys(k.metrics.accountsByState) as (keyof typeof k.metrics.accountsByState)[])
      api.metrics.gauge(
        `mb_keeper_accounts_${state.toLowerCase()}`,
        `indexed accounts in ${state}`,
        () => k.metrics.accountsByState[state],
      );
    api.metrics.gauge("mb_keeper_liquidations_mined", "liquidations mined", () => k.metrics.liquidationsMined);
    api.metrics.gauge("mb_keeper_segments_liquidated", "segments liquidated", () => k.metrics.segmentsLiquidated);
    api.metrics.gauge("mb_keeper_bad_debt_written_off", "bad debt written off (cash base units)", () =>
      Number(k.metrics.badDebt.writtenOff),
    );
    api.metrics.gauge("mb_keeper_insurance_coverage", "insurance fund / shortfall", () =>
      k.metrics.shortfall === 0n ? 1e9 : Number(k.metrics.insuranceCoverage) / 1e18,
    );
    api.metrics.gauge(
      "mb_keeper_last_round_rechecked",
      "accounts re-read for the last price round",
      () => k.metrics.lastRoundRechecked,
    );
  }
  const running = await listen(api, {
    host: config.api.host,
    port: config.api.port,
    store,
    secretKey: config.api.secretKey,
    timestampWindowMs: config.api.timestampWindowMs,
    log,
    streams: orderbook ? leaderStreams(book, orderbookStreams) : undefined,
  });

  // The owner names this process of this instance and, first, the URL it advertises (read by the others from the
  // lease row). A restart of the same instance takes back at once every lease its dead predecessor held.
  instance = await ServiceInstance.register(
    store.instances,
    ServiceInstance.identity(running.url, opts.leases?.advertisedUrl),
    leaseTtlMs,
    log.child({ component: "instance" }),
  );
  const owner = instance.owner(opts.leases?.advertisedUrl ?? running.url);
  const holder = { owner, claim: instance.claim };
  indexer?.start(config.chain.pollIntervalMs, opts.leases?.ttlMs, holder);
  reservesIndexer?.start(config.chain.pollIntervalMs, opts.leases?.ttlMs, holder);
  keeper?.start(holder);
  const epochs = new Map<string, number>();
  const tryLease = async (name: string, ttl: number): Promise<boolean> => {
    const epoch = await store.locks.acquireLease(name, owner, ttl, Date.now(), holder.claim);
    if (epoch === undefined) epochs.delete(name);
    else epochs.set(name, epoch);
    return epoch !== undefined;
  };
  jobFence = async (tx, name) => {
    const epoch = epochs.get(name);
    if (epoch === undefined || !(await tx.locks.holdsLease(name, owner, epoch))) throw leaseLostError(name, epoch ?? 0);
  };
  let bookLease: Lease | undefined;
  let leaderWatch: NodeJS.Timeout | undefined;
  if (leasedBook && chain) {
    const ch = chain;
    const name = "role:orderbook";
    const lease: Lease = new Lease({
      name,
      owner,
      claim: holder.claim,
      ttlMs: opts.leases!.ttlMs,
      store: store.locks,
      log: log.child({ component: "orderbook-lease" }),
      onAcquired: async (epoch) => {
        const fence: WriteFence = async (tx) => {
          if (await tx.locks.holdsLease(name, owner, epoch)) return;
          lease.lost("a fenced order-book write was refused");
          throw leaseLostError(name, epoch);
        };
        const opened = await openOrderbook(leasedBook, ch, fence);
        // Oracle prices first: a new leader must not refuse orders for want of them (pre-trade price band).
        await opened.gateway
          .pollOracles()
          .catch((err: unknown) => log.warn("order book: first oracle poll failed", { err }));
        book.gateway = opened.gateway;
        book.risk = opened.risk;
        log.info("order book leader", { epoch, url: opts.leases?.advertisedUrl ?? running.url });
      },
      onLost: async () => {
        const g = book.gateway;
        book.gateway = undefined;
        book.risk = undefined;
        await g?.close().catch(() => undefined);
      },
    });
    bookLease = lease;
    lease.start();
    const watch = async (): Promise<void> => {
      const holder = await store.locks.leaseHolder(name).catch(() => undefined);
      book.leaderUrl = holder ? holder.owner.split(" ")[0] : undefined;
    };
    void watch();
    leaderWatch = setInterval(() => void watch(), Math.max(200, Math.floor(opts.leases!.ttlMs / 3)));
  }
  const jobList: Job[] = [
    { name: "kyc-expiry", intervalMs: 60_000, timeoutMs: 30_000, run: () => expireApprovals(kycDeps) },
    ...(kycDeps.chain
      ? [
          {
            name: "kyc-reconcile",
            intervalMs: config.kyc.reconcileIntervalMs,
            timeoutMs: 120_000,
            run: () => reconcileKyc(kycDeps),
          },
        ]
      : []),
    { name: "nonce-prune", intervalMs: 60_000, timeoutMs: 30_000, run: () => store.nonces.prune(Date.now()) },
    ...settlementJobs,
    ...(keeper ? [{ name: "keeper-outbox", intervalMs: 1_000, timeoutMs: 30_000, run: () => keeper!.deliver() }] : []),
    ...(orderbook
      ? [
          {
            // Fills the settlement batcher has settled (from indexed events) leave the pre-trade unsettled view.
            // Local: the books (and this view) live in this instance's memory, on the order-book leader only.
            name: "orderbook-settled",
            intervalMs: 2_000,
            timeoutMs: 10_000,
            local: true,
            run: async () => {
              const risk = book.risk;
              if (!risk) return;
              for (const id of risk.unsettledTradeIds()) {
                if ((await store.settlement.trade(id))?.status === "settled") risk.settled(id);
              }
            },
          },
          {
            // Book orders whose nonce the hub has since spent or retired can never settle: cancel them.
            name: "orderbook-nonces",
            intervalMs: 2_000,
            timeoutMs: 10_000,
            local: true,
            run: async () => book.gateway?.cancelDeadNonces(),
          },
          {
            name: "orderbook-oracle",
            intervalMs: opts.orderbook?.oraclePollMs ?? 2_000,
            timeoutMs: 10_000,
            local: true,
            run: async () => book.gateway?.pollOracles(),
          },
        ]
      : []),
  ];
  // Job leases live one lease time (renewed every ttl/3 while a run lasts), not twice the job's timeout: a dead
  // holder that is not restarted is replaced within the lease time.
  const jobs = startJobs(
    jobList.map((j) => (j.local ? j : { ...j, leaseTtlMs: leaseTtlMs })),
    { tryLease, log: log.child({ component: "jobs" }) },
  );

  // Development keys: the same set across restarts (the previous set is reused or revoked, never left beside).
  const demoKeys: Partial<Record<Role, NewApiKey>> = opts.demoKeys
    ? await ensureDemoKeys(
        store,
        config.api.secretKey,
        Object.fromEntries(
          ROLES.map((role) => [
            role,
            role === "client"
              ? (opts.demoClientAccount ?? "0x0000000000000000000000000000000000000000")
              : `demo-${role}`,
          ]),
        ),
      )
    : {};
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
    indexer,
    reservesIndexer,
    keeper,
    demoKeys,
    orderbook,
    instance,
    log,
    async stop() {
      clearInterval(leaderWatch);
      await jobs.stop();
      await keeper?.stop();
      await running.close();
      await metricsServer?.close();
      if (bookLease) await bookLease.stop();
      else await book.gateway?.close();
      await indexer?.stop();
      await reservesIndexer?.stop();
      chain?.close();
      await instance?.stop();
      await store.close();
    },
  };
}

/**
 * The order gateway as the routes see it: the leader's books, or on a standby a NOT_LEADER error (503) naming
 * the leader's advertised URL, for order writes and for the book reads that need the in-memory books.
 */
function leaderOnly(book: { gateway?: OrderGateway; leaderUrl?: string }): OrderGateway {
  return new Proxy({} as OrderGateway, {
    get(_target, prop) {
      const g = book.gateway;
      if (g) {
        const v = (g as unknown as Record<string | symbol, unknown>)[prop];
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(g) : v;
      }
      return () => {
        throw notLeader(book.leaderUrl);
      };
    },
  });
}

function leaderStreams(
  book: { gateway?: OrderGateway; leaderUrl?: string },
  make: (g: OrderGateway) => WsStreams,
): WsStreams {
  return {
    channels: ["depth", "trades", "orders"],
    subscribe(req, caller, send) {
      const g = book.gateway;
      if (!g) return `NOT_LEADER: the order books run on ${book.leaderUrl ?? "another instance"}`;
      return make(g).subscribe(req, caller, send);
    },
  };
}

function notLeader(leaderUrl: string | undefined): AppError {
  return new AppError(
    "NOT_LEADER",
    leaderUrl
      ? `this instance is a standby; the order books run on ${leaderUrl}`
      : "this instance is a standby and no order-book leader is known yet; retry shortly",
    { details: { leader: leaderUrl ?? null } },
  );
}

function tryLoadDeployment(config: Config, log: Logger): DeploymentRecord | undefined {
  try {
    return loadDeployment(config.chain.network, config.chain.deploymentsDir);
  } catch (err) {
    log.warn("no deployment record; starting without chain access", { network: config.chain.network, err });
    return undefined;
  }
}
