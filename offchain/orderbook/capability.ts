import type { WsStreams } from "../api";
import type { ChainGateway } from "../chain";
import { orderbookChain, type OrderbookChain } from "../chain/orderbookChain";
import type { Capability, CapabilityDeps } from "../service/capability";
import { TRADES_QUEUED, settlementDomain, settlementQueueSink } from "../settlement";
import { AppError } from "../shared/errors";
import { groupDirectory, openGroupTradeReview, tierOf } from "../surveillance";
import type { InstanceClaim } from "../shared/instance";
import type { Job } from "../shared/jobs";
import { Lease, leaseLostError } from "../shared/lease";
import { ChainRiskState } from "./chainRiskState";
import { OrderGateway, storeTradeSink, type TradeSink } from "./gateway";
import { PreTradeRisk, type RiskLimits } from "./risk";
import { orderbookRoutes } from "./routes";
import type { Store } from "../store";
import type { WriteFence } from "./storeJournal";
import { orderbookStreams } from "./streams";
import type { InstrumentSpec } from "./instrument";

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
  /**
   * The ATR of the ATR trailing stops: bars of `barMs` (default one day, 86,400,000) starting `barOffsetMs` past
   * 00:00 UTC, built from the oracle rounds the books receive, averaged over `period` bars (default 14).
   */
  atr?: { period?: number; barMs?: number; barOffsetMs?: number };
}

/** The service options the order books read. */
export interface OrderbookServiceOptions {
  /** Runs the order books (needs a deployment with a SettlementHub). */
  orderbook?: OrderbookOptions;
}

/** The books as the routes, streams and jobs see them: this instance's (the leader's), or none on a standby. */
interface Books {
  gateway?: OrderGateway;
  risk?: ChainRiskState;
  leaderUrl?: string;
}

/**
 * The order books: opened at start-up, or with leases (ServiceOptions.leases) only while this instance holds the
 * `role:orderbook` lease; a standby answers order writes with 503 NOT_LEADER and the leader's URL.
 */
export const orderbookCapability: Capability<OrderbookServiceOptions> = {
  name: "orderbook",
  needs: {
    contracts: [],
    chain: true,
    enabled: ({ options }) => (options.orderbook ? undefined : "not requested (ServiceOptions.orderbook)"),
  },
  build: async (deps) => {
    const spec = deps.options.orderbook!;
    const chain = deps.chain!;
    const books: Books = {};
    const leased = deps.options.leases !== undefined;
    if (!leased) Object.assign(books, await openOrderbook(deps, spec, chain));
    const gateway = leased ? leaderOnly(books) : books.gateway!;
    let lease: Lease | undefined;
    let leaderWatch: NodeJS.Timeout | undefined;
    return {
      routes: [orderbookRoutes(gateway)],
      streams: leaderStreams(books, orderbookStreams),
      jobs: orderbookJobs(deps, books, spec),
      exposes: { orderbook: gateway },
      start: ({ owner, holder, url }) => {
        if (!leased) return;
        lease = bookLease(deps, spec, chain, books, { owner, claim: holder.claim, url });
        lease.start();
        const watch = async (): Promise<void> => {
          const h = await deps.store.locks.leaseHolder(BOOK_ROLE).catch(() => undefined);
          books.leaderUrl = h ? h.owner.split(" ")[0] : undefined;
        };
        void watch();
        leaderWatch = setInterval(() => void watch(), Math.max(200, Math.floor(deps.options.leases!.ttlMs / 3)));
      },
      stop: async () => {
        clearInterval(leaderWatch);
        if (lease) await lease.stop();
        else await books.gateway?.close();
      },
    };
  },
};

const BOOK_ROLE = "role:orderbook";

/** Opens the books over the chain: instruments, pre-trade risk, the trade sink, the journal fence. */
async function openOrderbook(
  deps: CapabilityDeps<OrderbookServiceOptions>,
  spec: OrderbookOptions,
  ch: ChainGateway,
  fence?: WriteFence,
): Promise<{ gateway: OrderGateway; risk?: ChainRiskState }> {
  const { store } = deps;
  const obChain = orderbookChain(ch);
  const obLog = deps.log.child({ component: "orderbook" });
  const instruments = spec.instruments ?? defaultInstruments(ch);
  let riskState: ChainRiskState | undefined;
  let risk = spec.risk;
  if (!risk && spec.limits) {
    const settledBatches = new Map<string, number>();
    riskState = new ChainRiskState(
      obChain,
      instruments.map((i) => ({
        spec: i,
        sector:
          spec.instrumentRisk?.[i.id]?.sector ??
          ch.deployment.tokens.find((t) => t.symbol === i.id)?.sector ??
          "default",
        initialMargin: spec.instrumentRisk?.[i.id]?.initialMargin ?? 2n * 10n ** 17n,
      })),
      {
        settledBy: (ids, block) => settledBy(store, obChain, settledBatches, ids, block),
        tierOf: (account) => tierOf(store, account),
      },
    );
    risk = new PreTradeRisk(riskState, spec.limits);
  }
  const gateway = await OrderGateway.open({
    store,
    domain: settlementDomain(obChain.chainId, obChain.hub),
    instruments,
    riskState,
    // Trades go to the settlement batcher's queue when the deployment has a hub (the store's fallback table otherwise).
    sink:
      spec.sink ??
      (ch.deployment.contracts.SettlementHub
        ? settlementQueueSink(store, () => deps.signals.notify(TRADES_QUEUED))
        : storeTradeSink(store)),
    risk,
    groups: {
      groupOf: (account) => groupDirectory(store, deps.config.linkedAccounts.groupCacheMs).groupOf(account),
      selfTrade: deps.config.linkedAccounts.selfTrade,
      onGroupTrade: (t) => openGroupTradeReview(store, t),
    },
    isTradingKey: (owner, key) => obChain.isTradingKey(owner, key),
    snapshotEvery: spec.snapshotEvery,
    atr: spec.atr,
    fence,
    log: (level, msg, fields) => obLog[level](msg, fields),
  });
  return { gateway, risk: riskState };
}

/**
 * The book trades whose settlement batch the hub had settled by `block` (a trade not yet batched had not): one store
 * query for all of them, then one hub read per batch the store does not yet know settled by then. A batch once seen
 * settled is remembered (`settledAt`), so a burst's many trades cost a handful of reads, not one each.
 */
async function settledBy(
  store: Store,
  chain: OrderbookChain,
  settledAt: Map<string, number>,
  ids: string[],
  block: number,
): Promise<string[]> {
  const out: string[] = [];
  const ask = new Map<string, string[]>();
  for (const t of await store.settlement.batchesOfTrades(ids.slice(0, 500))) {
    if (t.batchId === null) continue;
    if (t.status === "settled" && t.settledBlock !== null) settledAt.set(t.batchId, t.settledBlock);
    const known = settledAt.get(t.batchId);
    if (known !== undefined && known <= block) out.push(t.tradeId);
    else if (known === undefined) ask.set(t.batchId, [...(ask.get(t.batchId) ?? []), t.tradeId]);
  }
  for (const [batchId, trades] of ask) {
    if (!(await chain.batchSettledBy(batchId, block))) continue;
    settledAt.set(batchId, block); // settled at or before this block
    out.push(...trades);
  }
  if (settledAt.size > 10_000) settledAt.clear();
  return out;
}

/** Every security token of the deployment, tick 0.01 of the cash token, lot 1 token unit. */
function defaultInstruments(ch: ChainGateway): InstrumentSpec[] {
  const cash = ch.deployment.tokens.find((t) => t.kind === "cash");
  return ch.deployment.tokens
    .filter((t) => t.kind === "security" || t.kind === "option")
    .map((t) => ({
      id: t.symbol,
      base: t.address,
      baseDecimals: t.decimals,
      quote: cash?.address ?? "",
      quoteDecimals: cash?.decimals ?? 6,
      tickSize: 10n ** BigInt(Math.max(0, (cash?.decimals ?? 6) - 2)),
      lotSize: 1n,
    }));
}

/** The `role:orderbook` lease: opens the books (journal writes fenced by its epoch) while held, closes them when lost. */
function bookLease(
  deps: CapabilityDeps<OrderbookServiceOptions>,
  spec: OrderbookOptions,
  ch: ChainGateway,
  books: Books,
  me: { owner: string; claim: InstanceClaim; url: string },
): Lease {
  const { store, log, options } = deps;
  const lease: Lease = new Lease({
    name: BOOK_ROLE,
    owner: me.owner,
    claim: me.claim,
    ttlMs: options.leases!.ttlMs,
    store: store.locks,
    log: log.child({ component: "orderbook-lease" }),
    onAcquired: async (epoch) => {
      const fence: WriteFence = async (tx) => {
        if (await tx.locks.holdsLease(BOOK_ROLE, me.owner, epoch)) return;
        lease.lost("a fenced order-book write was refused", epoch);
        throw leaseLostError(BOOK_ROLE, epoch);
      };
      const opened = await openOrderbook(deps, spec, ch, fence);
      // Oracle prices first: a new leader must not refuse orders for want of them (pre-trade price band).
      await opened.gateway
        .pollOracles()
        .catch((err: unknown) => log.warn("order book: first oracle poll failed", { err }));
      books.gateway = opened.gateway;
      books.risk = opened.risk;
      log.info("order book leader", { epoch, url: options.leases?.advertisedUrl ?? me.url });
    },
    onLost: async () => {
      const g = books.gateway;
      books.gateway = undefined;
      books.risk = undefined;
      await g?.close().catch(() => undefined);
    },
  });
  return lease;
}

/** Local jobs (the books live in this instance's memory, on the order-book leader only). */
function orderbookJobs(deps: CapabilityDeps<OrderbookServiceOptions>, books: Books, spec: OrderbookOptions): Job[] {
  return [
    {
      // Fills the settlement batcher has settled (from indexed events) leave the pre-trade unsettled view.
      name: "orderbook-settled",
      intervalMs: 2_000,
      timeoutMs: 10_000,
      local: true,
      run: async () => {
        const risk = books.risk;
        if (!risk) return;
        for (const id of risk.unsettledTradeIds()) {
          if ((await deps.store.settlement.trade(id))?.status === "settled") risk.settled(id);
        }
      },
    },
    {
      // Book orders whose nonce the hub has since spent or retired can never settle: cancel them.
      name: "orderbook-nonces",
      intervalMs: 2_000,
      timeoutMs: 10_000,
      local: true,
      run: async () => books.gateway?.cancelDeadNonces(),
    },
    {
      name: "orderbook-oracle",
      intervalMs: spec.oraclePollMs ?? 2_000,
      timeoutMs: 10_000,
      local: true,
      run: async () => books.gateway?.pollOracles(),
    },
  ];
}

/**
 * The order gateway as the routes see it: the leader's books, or on a standby a NOT_LEADER error (503) naming
 * the leader's advertised URL, for order writes and for the book reads that need the in-memory books.
 */
function leaderOnly(books: Books): OrderGateway {
  return new Proxy({} as OrderGateway, {
    get(_target, prop) {
      const g = books.gateway;
      if (g) {
        const v = (g as unknown as Record<string | symbol, unknown>)[prop];
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(g) : v;
      }
      return () => {
        throw notLeader(books.leaderUrl);
      };
    },
  });
}

function leaderStreams(books: Books, make: (g: OrderGateway) => WsStreams): WsStreams {
  return {
    channels: ["depth", "trades", "orders"],
    subscribe(req, caller, send) {
      const g = books.gateway;
      if (!g) return `NOT_LEADER: the order books run on ${books.leaderUrl ?? "another instance"}`;
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
