import { randomBytes } from "node:crypto";
import { isAddress, type Log } from "ethers";
import {
  AggregatorV3Interface__factory,
  InsuranceFund__factory,
  IPortfolioRisk__factory,
  MarginEngine__factory,
  MedianPriceFeed__factory,
  OracleRouter__factory,
  type MarginEngine,
  type OracleRouter,
} from "../../typechain-types";
import {
  LogSpan,
  isStateUnavailable,
  isTransient,
  lensCapacity,
  valueAccounts,
  withRetry,
  type AccountValuation,
  type RetryOptions,
} from "../chain";
import { isAppError } from "../shared/errors";
import type { InstanceClaim } from "../shared/instance";
import type { Override } from "../store";
import { AccountIndex, State, STATE_NAMES, type AccountSnapshot } from "./accountIndex";
import { deliverNotifications } from "./deliverNotifications";
import { Liquidator, TX_GAS_CAP, type BatchItem, type Settled, type Trigger } from "./liquidator";
import { DEFAULT_KEEPER_SETTINGS, type KeeperDeps } from "./ports";
import { PositionBook, type EngineEvent } from "./positions";
import { readMarket, valueOffchain } from "./valuation";

const CURSOR = "cursor";
/** At most this many blocks per eth_getLogs (fewer on dense blocks: LogSpan). */
const LOG_BLOCKS = 2_000;
const WAD = 10n ** 18n;
/** Engine events that name accounts whose margin may have changed (argument names). */
const ACCOUNT_ARGS = ["account", "buyer", "seller", "from", "to"];
/** Ledger events the service's indexer stores only since issue 24 (older stores lack them below their coverage). */
const LEDGER_EVENTS = ["AccountTransfer", "TradeLegsSettled", "FreezeSynced", "LegalSeizure", "MarginModeSet"] as const;
/**
 * Accounts per liquidateMany at most: past a few hundred its gas grows faster than the accounts (300 one-segment
 * accounts ran out of a 30,000,000 simulation on hardhat where 150 used 9,800,000).
 */
const MAX_BATCH_ACCOUNTS = 200;
/** Reads of the node when the deps name no retry policy (connection resets of a busy node are retried). */
const DEFAULT_RETRY: RetryOptions = { retries: 8, baseMs: 100, deadlineMs: 30_000 };
/**
 * Cold start from events: an account valued off-chain is read through the lens at once when its equity is below
 * its warning line plus this share of its position value (18 dec): 2 %, a price fall of ≈ 2 % on a single asset.
 * The valuation is exact at the block it was made; the band covers what moves between that block and the reads.
 */
const COLD_BAND = (2n * WAD) / 100n;

export interface KeeperMetrics {
  accountsByState: Record<(typeof STATE_NAMES)[number], number>;
  accountsIndexed: number;
  rounds: number;
  /** Accounts re-read because of price rounds, all rounds together, and in the last round. */
  recheckedOnRounds: number;
  lastRoundRechecked: number;
  reads: number;
  pokes: number;
  /** OracleRouter.poke calls sent (new feed rounds absorbed). */
  routerPokes: number;
  liquidationsSent: number;
  /** Accounts liquidated (a Liquidated log in a mined transaction of this keeper). */
  liquidationsMined: number;
  /** Transactions mined (one per liquidation in single mode, one per batch in batch mode) and their gas. */
  txsMined: number;
  gasUsed: bigint;
  /** liquidateMany transactions sent, and accounts a mined batch skipped (cured meanwhile, cap reached…). */
  batchesSent: number;
  accountsSkipped: number;
  /** Cold start from events: accounts valued off-chain, and those still waiting for their confirming lens read. */
  valuedOffchain: number;
  awaitingConfirmation: number;
  /**
   * Where the first tick's time went (ms): accounts found and positions folded at init (the indexer's store and the
   * node's logs up to the keeper's cursor), logs read past it, the market read, the off-chain valuation.
   */
  coldStartMs: { rediscover: number; logs: number; market: number; valuation: number };
  /** Accounts sent to a batch on the index's prediction after a round, before any re-read (batch mode). */
  predicted: number;
  /** Liquidatable accounts held back because every asset they hold has its seizure cap used up in this window. */
  heldByCap: number;
  liquidationsReverted: number;
  liquidationsDropped: number;
  segmentsLiquidated: number;
  skippedPaused: number;
  skippedPolicy: number;
  refused: number;
  /** Round (or deadline) seen → liquidation mined, ms. */
  latencyMs: { count: number; last: number; max: number; sum: number };
  /** DefaultSettled totals seen (cash base units). */
  badDebt: { fromInsurance: bigint; writtenOff: bigint };
  insuranceBalance: bigint;
  /** Σ max(0, −equity) over indexed accounts: what the insurance fund would have to absorb now. */
  shortfall: bigint;
  /** insuranceBalance / shortfall (18 dec); max uint when there is no shortfall. */
  insuranceCoverage: bigint;
  lastBlock: number;
}

/**
 * The liquidation keeper. Each tick: settle journaled liquidations, read new logs (price rounds, account
 * events), re-check only the accounts a round can affect (the index) plus those not Healthy, those whose
 * margin-call deadline passed and, periodically, all of them; then poke accounts whose recorded state lags and
 * liquidate the liquidatable ones (unless a risk officer paused them). The engine's views are the authority.
 */
export class Keeper {
  readonly index = new AccountIndex();
  readonly liquidator: Liquidator;
  readonly metrics: KeeperMetrics;
  private readonly engine: MarginEngine;
  private readonly router: OracleRouter;
  private owner = `keeper-${process.pid}-${randomBytes(4).toString("hex")}`;
  private claim: InstanceClaim | undefined;
  private assets: string[] = [];
  private haircuts = new Map<string, bigint>();
  private feedToAsset = new Map<string, string>();
  private assetToFeed = new Map<string, string>();
  private cursor = -1;
  private lastResync = 0;
  private overrides: Override[] = [];
  private readonly dirty = new Map<string, Trigger>();
  private readonly liquidatableSince = new Map<string, Trigger>();
  private readonly pokedAt = new Map<string, number>();
  /** Chain time at which each account in a margin call was last re-read (see keepCallsAlive). */
  private readonly callCheckedAt = new Map<string, number>();
  /** The engine's grace period (s): a call no evaluation sees below maintenance for this long lapses. */
  private gracePeriod = 0;
  private chainTime = 0;
  /** The latest block's gas limit (the batch budget's default is 80 % of it). */
  private blockGasLimit = 30_000_000n;
  /** Gas per account used to pack batches: learned from mined batches (first guess: one segment, generous). */
  private gasPerAccount = 80_000n;
  /**
   * Gas per account seen in mined batches (with a 20 % margin): while known, a batch is sized from it instead of
   * simulated (liquidateMany skips a refused account instead of reverting, so a simulation mostly measures gas).
   * Forgotten after a reverted batch.
   */
  private learnedGasPerAccount: bigint | undefined;
  /** Accounts whose recorded state still lags (poke in flight or failed): re-read next tick. */
  private readonly lagging = new Set<string>();
  private readonly cash: string;
  private readonly retry: RetryOptions;
  private readonly settings: Required<Pick<KeeperDeps["settings"], "mode" | "lensChunk">> & KeeperDeps["settings"];
  /** Liquidatable accounts read this tick, waiting for the next batch flush (batch mode). */
  private readonly toLiquidate = new Map<string, { s: AccountSnapshot; trigger: Trigger }>();
  /** Accounts in a batch sent since their last read: a new round re-reads them instead of predicting (no re-send). */
  private readonly sentUnread = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();
  /** Cold start from events: positions folded from the engine's events until the first tick has read to the head. */
  private book: PositionBook | undefined;
  /** Accounts indexed from their off-chain valuation, confirmed by lens reads when the keeper has nothing else. */
  private readonly confirmQueue = new Set<string>();
  /** Blocks per eth_getLogs of the tick's log loop (adapts to the logs they hold). */
  private readonly logSpan = new LogSpan(LOG_BLOCKS);
  private initialised = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: KeeperDeps) {
    const c = deps.deployment.contracts;
    this.engine = MarginEngine__factory.connect(c.MarginEngine, deps.provider);
    this.router = OracleRouter__factory.connect(c.OracleRouter, deps.provider);
    this.retry = deps.retry ?? DEFAULT_RETRY;
    this.settings = {
      ...deps.settings,
      mode: deps.settings.mode ?? DEFAULT_KEEPER_SETTINGS.mode!,
      lensChunk: deps.settings.lensChunk ?? DEFAULT_KEEPER_SETTINGS.lensChunk!,
    };
    this.liquidator = new Liquidator(
      deps.store,
      deps.provider,
      c.MarginEngine,
      deps.signer,
      deps.log.child({ component: "liquidator" }),
      this.retry,
    );
    this.cash = deps.deployment.tokens.find((t) => t.kind === "cash")!.address.toLowerCase();
    this.metrics = {
      accountsByState: this.index.countByState(),
      accountsIndexed: 0,
      rounds: 0,
      recheckedOnRounds: 0,
      lastRoundRechecked: 0,
      reads: 0,
      pokes: 0,
      routerPokes: 0,
      liquidationsSent: 0,
      liquidationsMined: 0,
      txsMined: 0,
      gasUsed: 0n,
      batchesSent: 0,
      accountsSkipped: 0,
      heldByCap: 0,
      predicted: 0,
      valuedOffchain: 0,
      awaitingConfirmation: 0,
      coldStartMs: { rediscover: 0, logs: 0, market: 0, valuation: 0 },
      liquidationsReverted: 0,
      liquidationsDropped: 0,
      segmentsLiquidated: 0,
      skippedPaused: 0,
      skippedPolicy: 0,
      refused: 0,
      latencyMs: { count: 0, last: 0, max: 0, sum: 0 },
      badDebt: { fromInsurance: 0n, writtenOff: 0n },
      insuranceBalance: 0n,
      shortfall: 0n,
      insuranceCoverage: 2n ** 256n - 1n,
      lastBlock: -1,
    };
  }

  /** Reconciles the journal (before anything new is sent), loads the cursor, the listed assets and the feeds. */
  async init(): Promise<void> {
    await this.settle();
    const saved = await this.deps.store.keeper.getState(CURSOR);
    this.cursor = saved === undefined ? this.deps.deployment.deployBlock - 1 : Number(saved);
    await this.loadAssets();
    if ((this.deps.settings.indexFrom ?? "events") === "events" && this.index.size === 0)
      this.book = new PositionBook(this.cash);
    const t = Date.now();
    await this.rediscoverAccounts();
    this.metrics.coldStartMs.rediscover = Date.now() - t;
    this.initialised = true;
  }

  /**
   * After a restart the index is empty while the cursor is not: the engine's events up to the cursor name every
   * account to watch again (each is then read fresh at the head; no notice is re-sent). Where the service's indexer
   * already stored them (chain_events of the `indexerName` indexer, confirmed: every ledger movement), they come
   * from the store; from the node only what is past its cursor, and, for a store indexed before it kept the
   * transfers, trade legs, freezes, seizures and margin modes, those events below the block it keeps them from
   * (chain_event_coverage).
   */
  private async rediscoverAccounts(): Promise<void> {
    const restart = { at: Date.now(), reason: "restart" };
    const indexer = this.deps.indexerName ?? "main";
    let from = this.deps.deployment.deployBlock;
    const indexed = await this.deps.store.chain.cursor(indexer);
    if (indexed && indexed.blockNumber >= from) {
      const upTo = Math.min(indexed.blockNumber, this.cursor);
      // the ledger events an older indexer did not keep: stored only from the block its coverage says
      const coverage = await this.deps.store.chain.eventCoverage(indexer, "MarginEngine");
      const storedFrom = (name: string) => coverage.get(name) ?? Number.POSITIVE_INFINITY;
      const late = LEDGER_EVENTS.filter((name) => storedFrom(name) > from);
      for (let lo = from; lo <= upTo; lo += 10_000) {
        const events = await this.deps.store.chain.events(indexer, {
          contract: "MarginEngine",
          fromBlock: lo,
          toBlock: Math.min(upTo, lo + 9_999),
        });
        for (const e of events) {
          // below its coverage an event comes from the node (a rewind may have stored a few there too)
          if (e.blockNumber < storedFrom(e.event) && (LEDGER_EVENTS as readonly string[]).includes(e.event)) continue;
          this.book?.apply({ name: e.event, args: e.args });
          for (const name of ACCOUNT_ARGS) {
            const v = e.args[name];
            if (typeof v === "string" && isAddress(v)) this.markDirty(v, restart);
          }
        }
      }
      // one query per coverage block (the events a handler gained together share it), topics OR-ed
      const byCoverage = new Map<number, (typeof LEDGER_EVENTS)[number][]>();
      for (const name of late) byCoverage.set(storedFrom(name), [...(byCoverage.get(storedFrom(name)) ?? []), name]);
      for (const [coveredFrom, names] of byCoverage) {
        const topics = names.map((name) => this.engine.interface.getEvent(name)!.topicHash);
        await this.scanEngineLogs(from, Math.min(upTo, coveredFrom - 1), [topics], restart);
      }
      from = upTo + 1;
    }
    await this.scanEngineLogs(from, this.cursor, undefined, restart);
  }

  /** Marks dirty every account the engine's logs in [from, to] name (optionally only logs with these topics). */
  private async scanEngineLogs(from: number, to: number, topics: string[][] | undefined, t: Trigger): Promise<void> {
    const address = await this.engine.getAddress();
    const span = new LogSpan(LOG_BLOCKS);
    for (let lo = from; lo <= to;) {
      const hi = Math.min(to, lo + span.blocks - 1);
      const logs = await this.rpc(() => this.deps.provider.getLogs({ address, topics, fromBlock: lo, toBlock: hi }));
      span.observe(hi - lo + 1, logs.length);
      lo = hi + 1;
      for (const log of logs) {
        const parsed = this.engine.interface.parseLog(log);
        if (!parsed) continue;
        this.book?.apply(engineEvent(parsed));
        for (const name of ACCOUNT_ARGS) {
          const input = parsed.fragment.inputs.find((i) => i.name === name && i.type === "address");
          if (input) this.markDirty(String(parsed.args[name]), t);
        }
      }
    }
  }

  /**
   * Cold start from events (the first tick, once the logs are read to `head`): reads the market at `head` once,
   * values every account whose position the events replay exactly with the engine's arithmetic and indexes it.
   * Accounts near or past their lines (equity below the warning line plus COLD_BAND of the position value), and
   * those the events cannot value (PositionBook: repayments, liquidations, running calls…), stay in this tick's
   * work, deepest predicted shortfall first: read through the lens at once and acted on, as are accounts holding an
   * option series (their margin may be the portfolio grid's, not the rule's). The others wait in the
   * confirmation queue, read through the lens when the keeper is idle. Nothing is sent on an off-chain valuation.
   */
  private async indexFromPositions(head: number): Promise<void> {
    const book = this.book!;
    this.book = undefined;
    const contracts = {
      engine: this.deps.deployment.contracts.MarginEngine,
      router: this.deps.deployment.contracts.OracleRouter,
    };
    let t = Date.now();
    const market = await readMarket(this.deps.provider, contracts, head, this.retry);
    this.metrics.coldStartMs.market = Date.now() - t;
    t = Date.now();
    const prices = new Map([...market.assets].map(([asset, x]) => [asset, x.price]));
    // an account holding an option series may be portfolio-margined (PortfolioRisk): its requirement is the grid's,
    // which the off-chain valuation (the rule's) does not redo — read it through the lens at once
    const series = await this.optionSeries([...market.assets.keys()], head);
    const urgent: [string, Trigger, bigint][] = [];
    const unknown: [string, Trigger][] = [];
    for (const [a, t] of this.dirty) {
      const position = book.position(a);
      if (!position || [...position.balances.keys()].some((asset) => series.has(asset))) {
        unknown.push([a, t]);
        continue;
      }
      const v = valueOffchain(a, position, market);
      const s = this.snapshot(v, prices);
      this.index.update(s);
      this.metrics.valuedOffchain++;
      if (s.state !== State.Healthy || s.equity < s.warningLine + (s.positionValue * COLD_BAND) / WAD)
        urgent.push([a, t, s.maintenanceReq - s.equity]);
      else this.confirmQueue.add(a);
    }
    urgent.sort((x, y) => (x[2] > y[2] ? -1 : x[2] < y[2] ? 1 : 0));
    this.metrics.coldStartMs.valuation = Date.now() - t;
    this.dirty.clear();
    for (const [a, t] of urgent) this.dirty.set(a, t);
    for (const [a, t] of unknown) this.dirty.set(a, t);
  }

  /** The listed assets that are option series (PortfolioRisk.isOptionSeries at `blockTag`; none without it). */
  private async optionSeries(assets: string[], blockTag: number): Promise<Set<string>> {
    const address = this.deps.deployment.contracts.PortfolioRisk;
    if (!address) return new Set();
    const risk = IPortfolioRisk__factory.connect(address, this.deps.provider);
    const flags = await Promise.all(assets.map((a) => this.rpc(() => risk.isOptionSeries(a, { blockTag }))));
    return new Set(assets.filter((_, i) => flags[i]).map((a) => a.toLowerCase()));
  }

  /** One pass. Returns the number of accounts re-read. */
  async tick(): Promise<number> {
    if (!this.initialised) await this.init();
    await this.settle();
    this.overrides = await this.deps.store.keeper.overrides();
    const head = await this.rpc(() => this.deps.provider.getBlockNumber());
    const moved = new Map<string, number>();
    const logsFrom = Date.now();
    while (this.cursor < head) {
      const from = this.cursor + 1;
      const to = Math.min(head, from + this.logSpan.blocks - 1);
      const address = [await this.engine.getAddress(), await this.router.getAddress(), ...this.feedToAsset.keys()];
      const logs = await this.rpc(() => this.deps.provider.getLogs({ address, fromBlock: from, toBlock: to }));
      this.logSpan.observe(to - from + 1, logs.length);
      for (const log of logs) await this.handleLog(log, moved);
      this.cursor = to;
      await this.deps.store.keeper.setState(CURSOR, String(to));
    }
    this.metrics.lastBlock = head;
    const coldStart = this.book !== undefined;
    if (this.book) {
      this.metrics.coldStartMs.logs = Date.now() - logsFrom;
      await this.indexFromPositions(head);
    }

    const now = Date.now();
    for (const asset of moved.keys()) await this.pokeRouter(asset);
    for (const [asset, seenAt] of moved) {
      const [price] = await this.rpc(() => this.router.getPrice(asset));
      const candidates = new Set([...this.index.affectedBy(asset, price), ...this.index.troubled(asset)]);
      const trigger = { at: seenAt, reason: `round ${asset}` };
      for (const a of candidates) {
        // Batch mode sends at once what the index predicts the round made liquidatable (one-security accounts
        // below their hard line); the engine decides inside the batch, and the settlement re-reads every one.
        const predicted = this.settings.mode === "batch" ? this.index.predict(a, asset, price) : undefined;
        if (predicted && predicted.state >= State.Liquidatable && !this.dirty.has(a) && !this.sentUnread.has(a)) {
          if (!this.liquidatableSince.has(a)) this.liquidatableSince.set(a, trigger);
          this.toLiquidate.set(a, { s: predicted, trigger: this.liquidatableSince.get(a)! });
          this.metrics.predicted++;
        } else this.markDirty(a, trigger);
      }
      this.metrics.rounds++;
      this.metrics.recheckedOnRounds += candidates.size;
      this.metrics.lastRoundRechecked = candidates.size;
    }
    const block = await this.rpc(() => this.deps.provider.getBlock(head));
    const chainTime = block?.timestamp ?? Math.floor(now / 1000);
    this.chainTime = chainTime;
    if (block?.gasLimit) this.blockGasLimit = block.gasLimit;
    for (const a of this.lagging) this.markDirty(a, { at: now, reason: "lagging" });
    this.lagging.clear();
    for (const a of this.index.troubled()) {
      const s = this.index.get(a)!;
      if (s.state >= State.Liquidatable) this.markDirty(a, { at: now, reason: "retry" });
      else if (s.state === State.MarginCall && s.callDeadline > 0 && chainTime >= s.callDeadline)
        this.markDirty(a, { at: now, reason: "deadline" });
      else if (s.state === State.MarginCall && chainTime - (this.callCheckedAt.get(a) ?? 0) >= this.gracePeriod / 8)
        this.markDirty(a, { at: now, reason: "call" });
    }
    if (now - this.lastResync >= this.deps.settings.resyncIntervalMs) {
      this.lastResync = now;
      await this.loadAssets();
      // rounds relayed while no keeper ran (or before the cursor) still need the router to absorb them
      for (const a of this.assets) await this.pokeRouter(a);
      // accounts still waiting for their confirming read keep their place in that queue
      for (const a of this.index.accounts())
        if (!this.confirmQueue.has(a)) this.markDirty(a, { at: now, reason: "resync" });
      await this.refreshFund();
    }
    // background confirmation of a cold start's off-chain valuations: one lens call per tick, from the next tick on,
    // not in a tick with a price round or while sent batches are unread (liquidations first)
    if (!coldStart && moved.size === 0 && this.sentUnread.size === 0)
      for (const a of [...take(this.confirmQueue, this.settings.lensChunk)]) {
        this.confirmQueue.delete(a);
        this.markDirty(a, { at: now, reason: "confirm" });
      }
    this.metrics.awaitingConfirmation = this.confirmQueue.size;
    const work = [...this.dirty].filter(([a]) => !this.toLiquidate.has(a));
    this.dirty.clear();
    if (this.settings.mode === "batch") this.scheduleFlush();
    await this.recheckAll(work);
    this.metrics.accountsByState = this.index.countByState();
    this.metrics.accountsIndexed = this.index.size;
    return work.length;
  }

  /**
   * Runs `tick` every pollIntervalMs under the store lease `keeper` (one active keeper across instances). With
   * `holder` (this process's lease owner and instance claim), a restart of the same instance takes it back at once.
   */
  start(holder?: { owner: string; claim: InstanceClaim }): void {
    if (holder) {
      this.owner = holder.owner;
      this.claim = holder.claim;
    }
    const loop = async (): Promise<void> => {
      try {
        const ttl = Math.max(5_000, this.deps.settings.pollIntervalMs * 20);
        if (await this.deps.store.locks.tryAcquire("keeper", this.owner, ttl, Date.now(), this.claim))
          await this.tick();
      } catch (err) {
        this.deps.log.warn("keeper tick failed; retrying", { err: String((err as Error)?.message ?? err) });
      }
    };
    const schedule = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = loop().finally(schedule);
      }, this.deps.settings.pollIntervalMs);
    };
    this.stopped = false;
    this.running = loop().finally(schedule);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** The outbox job's one pass (see deliverNotifications). */
  deliver(): Promise<{ delivered: number; failed: number }> {
    return deliverNotifications(this.deps.store, this.deps.settings, this.deps.log.child({ component: "outbox" }));
  }

  isPaused(account: string, held: Iterable<string>): Override | undefined {
    const a = account.toLowerCase();
    const assets = new Set([...held].map((h) => h.toLowerCase()));
    return this.overrides.find((o) => (o.scope === "account" ? o.target === a : assets.has(o.target)));
  }

  private markDirty(account: string, t: Trigger): void {
    const a = account.toLowerCase();
    if (a === this.liquidator.address.toLowerCase()) return;
    if (!this.dirty.has(a)) this.dirty.set(a, t);
  }

  private async settle(): Promise<void> {
    for (const s of await this.liquidator.reconcile()) this.recordSettled(s);
  }

  private recordSettled(s: Settled): void {
    if (s.status === "mined") {
      this.metrics.txsMined++;
      this.metrics.gasUsed += s.gasUsed ?? 0n;
      this.metrics.liquidationsMined += s.liquidated.length;
      this.metrics.accountsSkipped += s.accounts.length - s.liquidated.length;
      this.metrics.segmentsLiquidated += s.intent.segments ?? 0;
      const m = this.metrics.latencyMs;
      const latency = s.latencyMs ?? 0;
      for (let k = 0; k < s.liquidated.length; k++) {
        m.count++;
        m.last = latency;
        m.sum += latency;
        m.max = Math.max(m.max, latency);
      }
      // what a liquidated account costs in a batch, for packing the next ones (with a margin for multi-segment)
      if (s.accounts.length > 1 && s.liquidated.length > 0 && s.gasUsed) {
        this.gasPerAccount = ((s.gasUsed / BigInt(s.accounts.length)) * 12n) / 10n;
        this.learnedGasPerAccount = this.gasPerAccount;
      }
    } else if (s.status === "reverted") {
      this.metrics.liquidationsReverted++;
      // out of gas, or a batch-level refusal: simulate the next batches again
      this.learnedGasPerAccount = undefined;
    } else this.metrics.liquidationsDropped++;
    for (const a of s.accounts) this.markDirty(a, { at: Date.now(), reason: "settled" });
  }

  /** A read of the node, retried on transient failures (a busy node resets connections). */
  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, this.retry);
  }

  private async loadAssets(): Promise<void> {
    this.gracePeriod = Number((await this.rpc(() => this.engine.params())).gracePeriod);
    this.assets = (await this.rpc(() => this.engine.listedAssets())).map((a) => a.toLowerCase());
    for (const a of this.assets) {
      const cfg = await this.rpc(() => this.engine.assetConfig(a));
      this.haircuts.set(a, cfg.haircut);
      const primary = (await this.rpc(() => this.router.assetParams(a))).primary.toLowerCase();
      this.feedToAsset.set(primary, a);
      this.assetToFeed.set(a, primary);
    }
  }

  private async refreshFund(): Promise<void> {
    const [, , insurance] = await this.rpc(() => this.engine.contracts());
    const balance = await this.rpc(() => InsuranceFund__factory.connect(insurance, this.deps.provider).balance());
    let shortfall = 0n;
    for (const a of this.index.accounts()) {
      const s = this.index.get(a)!;
      if (s.equity < 0n) shortfall -= s.equity;
    }
    this.metrics.insuranceBalance = balance;
    this.metrics.shortfall = shortfall;
    this.metrics.insuranceCoverage = shortfall === 0n ? 2n ** 256n - 1n : (balance * WAD) / shortfall;
  }

  private async handleLog(log: Log, moved: Map<string, number>): Promise<void> {
    const address = log.address.toLowerCase();
    const seenAt = Date.now();
    if (address === (await this.router.getAddress()).toLowerCase()) {
      const parsed = this.router.interface.parseLog(log);
      if (parsed && ["RoundProcessed", "PriceBecameSafe", "CircuitBreakerReset"].includes(parsed.name))
        if (!moved.has(String(parsed.args.asset).toLowerCase()))
          moved.set(String(parsed.args.asset).toLowerCase(), seenAt);
      return;
    }
    const asset = this.feedToAsset.get(address);
    if (asset) {
      const parsed = MedianPriceFeed__factory.createInterface().parseLog(log);
      if (parsed?.name === "AnswerUpdated" && !moved.has(asset)) moved.set(asset, seenAt);
      return;
    }
    const parsed = this.engine.interface.parseLog(log);
    if (!parsed) return;
    this.book?.apply(engineEvent(parsed));
    const args = parsed.args;
    for (const name of ACCOUNT_ARGS) {
      const v = parsed.fragment.inputs.find((i) => i.name === name && i.type === "address");
      if (v) this.markDirty(String(args[name]), { at: seenAt, reason: parsed.name });
    }
    const store = this.deps.store.keeper;
    const base = { blockNumber: log.blockNumber, txHash: log.transactionHash, createdAt: seenAt };
    if (parsed.name === "MarginCalled") {
      const equity = BigInt(args.equity);
      const maintenanceReq = BigInt(args.maintenanceReq);
      await store.enqueue({
        ...base,
        dedupeKey: `${log.transactionHash}:${log.index}`,
        account: String(args.account),
        kind: "margin_call",
        deadline: Number(args.deadline),
        amountToCure: maintenanceReq - equity,
        equity,
        maintenanceReq,
      });
    } else if (parsed.name === "AccountStateChanged" && Number(args.to) === State.Warning) {
      const v = await this.viewAt(String(args.account), log.blockNumber);
      await store.enqueue({
        ...base,
        dedupeKey: `${log.transactionHash}:${log.index}`,
        account: String(args.account),
        kind: "warning",
        deadline: null,
        amountToCure: v.warningLine > BigInt(v.equity) ? v.warningLine - BigInt(v.equity) : 0n,
        equity: BigInt(args.equity),
        maintenanceReq: BigInt(args.maintenanceReq),
      });
    } else if (parsed.name === "MarginCallCured") {
      await store.enqueue({
        ...base,
        dedupeKey: `${log.transactionHash}:${log.index}`,
        account: String(args.account),
        kind: "cured",
        deadline: null,
        amountToCure: null,
        equity: null,
        maintenanceReq: null,
      });
    } else if (parsed.name === "Liquidated") {
      await store.enqueue({
        ...base,
        dedupeKey: `${log.transactionHash}:liquidated:${String(args.account).toLowerCase()}`,
        account: String(args.account),
        kind: "liquidated",
        deadline: null,
        amountToCure: null,
        equity: null,
        maintenanceReq: null,
      });
    } else if (parsed.name === "DefaultSettled") {
      this.metrics.badDebt.fromInsurance += BigInt(args.fromInsurance);
      this.metrics.badDebt.writtenOff += BigInt(args.writtenOff);
    }
  }

  /**
   * The router learns of a feed's rounds only when poked: that is when it checks each round against the breaker,
   * updates the volatility, and starts the Safe period the engine waits out before liquidating. Poked once the
   * feed has a round the router has not absorbed (or nothing recorded the Safe period yet), at most once a second.
   */
  private async pokeRouter(asset: string): Promise<void> {
    const feed = this.assetToFeed.get(asset);
    if (!feed) return;
    const key = `router:${asset}`;
    if (Date.now() - (this.pokedAt.get(key) ?? 0) < 1_000) return;
    try {
      // any Chainlink-style primary: its latest round id (reverts before the first report: nothing to absorb)
      const [state, latest] = await this.rpc(() =>
        Promise.all([
          this.router.assetState(asset),
          AggregatorV3Interface__factory.connect(feed, this.deps.provider).latestRoundData(),
        ]),
      );
      if (state.tripped || (state.lastRoundId >= latest.roundId && state.safeSince !== 0n)) return;
      this.pokedAt.set(key, Date.now());
      await this.liquidator.sendRouterPoke(await this.router.getAddress(), asset);
      this.metrics.routerPokes++;
    } catch (err) {
      this.deps.log.warn("router poke skipped", { asset, err: String((err as Error)?.message ?? err) });
    }
  }

  /**
   * Re-reads `work` through the batch lens (`lensChunk` accounts per eth_call, a few calls in flight) and applies
   * each answer. In batch mode the liquidatable accounts found so far are flushed after every group of calls, so
   * liquidations go out while the rest of a large work list (a cold start, a resync) is still loading; the flushes
   * are awaited before the tick ends.
   */
  private async recheckAll(work: [string, Trigger][]): Promise<void> {
    const chunk = Math.max(1, Math.min(this.settings.lensChunk, lensCapacity(this.assets.length)));
    const inFlight = Math.max(1, Math.min(this.settings.readConcurrency, 4));
    try {
      for (let start = 0; start < work.length; start += chunk * inFlight) {
        const parts: [string, Trigger][][] = [];
        for (let k = start; k < Math.min(work.length, start + chunk * inFlight); k += chunk)
          parts.push(work.slice(k, k + chunk));
        const answers = await Promise.all(parts.map((part) => this.readMany(part.map(([a]) => a))));
        const pairs = parts.flatMap((part, g) =>
          part.flatMap(([, t], i) => (answers[g][i] ? [[answers[g][i]!, t] as const] : [])),
        );
        await inParallel(pairs, this.settings.readConcurrency, ([s, t]) => this.apply(s, t));
        if (this.settings.mode === "batch") this.scheduleFlush();
      }
    } finally {
      await this.flushing;
    }
  }

  /** Updates the index with a fresh read, then pokes or liquidates (or queues for the batch) as the state demands. */
  private async apply(s: AccountSnapshot, trigger: Trigger): Promise<void> {
    const account = s.account;
    const before = this.index.get(account);
    this.index.update(s);
    this.sentUnread.delete(account);
    if (s.state < State.Liquidatable) this.liquidatableSince.delete(account);
    if (s.state === State.MarginCall) this.callCheckedAt.set(account, this.chainTime);
    else this.callCheckedAt.delete(account);
    // Unsafe prices no longer stop anything: the engine counts those positions conservatively and seizes only
    // the safe ones, so an account holding unsafe dust is liquidated like any other (the simulation decides).
    if (s.state >= State.Liquidatable) {
      if (!this.liquidatableSince.has(account)) this.liquidatableSince.set(account, trigger);
      const since = this.liquidatableSince.get(account)!;
      if (this.settings.mode === "batch") this.toLiquidate.set(account, { s, trigger: since });
      else await this.liquidate(s, since);
      return;
    }
    if (s.state === State.Healthy && (!before || before.state === State.Healthy)) return;
    const [recorded, , seenAt] = await this.rpc(() => this.engine.recordedState(account));
    const lags = Number(recorded) !== s.state;
    if (!lags && !this.callNeedsEvaluation(s, Number(seenAt))) return;
    if (lags) this.lagging.add(account);
    // one poke per account per second: the one in flight will be mined within the next ticks
    const last = this.pokedAt.get(account) ?? 0;
    if (Date.now() - last < 1_000) return;
    this.pokedAt.set(account, Date.now());
    try {
      await this.liquidator.sendPlain(account);
      this.metrics.pokes++;
    } catch (err) {
      this.deps.log.warn("poke failed", { account, err: String((err as Error)?.message ?? err) });
    }
  }

  /** Queues the liquidatable accounts read so far as one flush (batches), behind any flush still running. */
  private scheduleFlush(): void {
    if (this.toLiquidate.size === 0) return;
    const items = [...this.toLiquidate.values()];
    this.toLiquidate.clear();
    this.flushing = this.flushing
      .then(() => this.liquidateBatches(items))
      .catch((err: unknown) => {
        this.deps.log.warn("batch liquidation failed; re-read and retried next tick", {
          err: String((err as Error)?.message ?? err),
        });
        for (const { s } of items) this.markDirty(s.account, { at: Date.now(), reason: "retry" });
      });
  }

  /**
   * Batch mode: drops paused accounts and those below the bonus policy, orders the rest by shortfall (deepest
   * first: maintenance requirement − equity), packs them into liquidateMany calls within the gas budget (by the gas
   * per account seen so far) and submits them all; the liquidator journals and broadcasts each as soon as it is
   * simulated, with consecutive nonces, so several are in flight at once.
   */
  private async liquidateBatches(items: { s: AccountSnapshot; trigger: Trigger }[]): Promise<void> {
    const eligible: { s: AccountSnapshot; trigger: Trigger }[] = [];
    for (const it of items) if (await this.eligible(it.s)) eligible.push(it);
    // The seizure caps decide the pace in a crash: an account holding only assets whose window cap is used up
    // would be skipped on-chain (gas for nothing); it waits for the next window (re-read every tick meanwhile).
    const held = new Set(eligible.flatMap((it) => [...it.s.held.keys()]));
    const seizable = new Map<string, bigint>();
    await Promise.all(
      [...held].map(async (a) => seizable.set(a, await this.rpc(() => this.engine.seizableInWindow(a)))),
    );
    const open = eligible.filter((it) => [...it.s.held.keys()].some((a) => (seizable.get(a) ?? 0n) > 0n));
    this.metrics.heldByCap += eligible.length - open.length;
    eligible.length = 0;
    eligible.push(...open);
    eligible.sort((x, y) => {
      const dx = x.s.maintenanceReq - x.s.equity;
      const dy = y.s.maintenanceReq - y.s.equity;
      return dx > dy ? -1 : dx < dy ? 1 : 0;
    });
    const budget = this.gasBudget();
    const perAccount = this.gasPerAccount;
    const maxAccounts = Math.min(this.deps.settings.batchMaxAccounts ?? MAX_BATCH_ACCOUNTS, MAX_BATCH_ACCOUNTS);
    const groups: BatchItem[][] = [];
    let current: BatchItem[] = [];
    let used = 0n;
    for (const { s, trigger } of eligible) {
      if (current.length > 0 && (used + perAccount > budget || current.length >= maxAccounts)) {
        groups.push(current);
        current = [];
        used = 0n;
      }
      current.push({ account: s.account, trigger });
      used += perAccount;
    }
    if (current.length > 0) groups.push(current);
    // In order (deepest first, consecutive nonces); a broadcast does not wait for its receipt, so on a chain that
    // mines in blocks the batches are all in flight at once.
    const results = [];
    for (const g of groups) {
      const n = results.length;
      results.push(
        ...(await this.liquidator.submitBatch(
          g,
          this.deps.settings.maxSegments,
          budget,
          this.deps.settings.maxFeePerGas,
          this.learnedGasPerAccount,
        )),
      );
      // the first simulated batch of a flush sizes the rest (no simulation each), with the usual margin
      const first = results.slice(n).find((o) => o.kind === "sent");
      if (this.learnedGasPerAccount === undefined && first?.kind === "sent" && first.accounts.length > 1)
        this.learnedGasPerAccount = ((first.gas / BigInt(first.accounts.length)) * 12n) / 10n;
    }
    // every account not in a sent batch is read again next tick (a predicted one was never read after the round)
    const sent = new Set(results.flatMap((out) => (out.kind === "sent" ? out.accounts : [])));
    for (const { s } of items) if (!sent.has(s.account)) this.markDirty(s.account, { at: Date.now(), reason: "retry" });
    for (const out of results) {
      if (out.kind === "sent") {
        for (const a of out.accounts) this.sentUnread.add(a);
        this.metrics.batchesSent++;
        this.metrics.liquidationsSent += out.accounts.length;
        if (out.settled) this.recordSettled(out.settled);
      } else if (out.kind === "refused") {
        this.metrics.refused += out.accounts.length;
        this.deps.log.info("batch refused by simulation", { accounts: out.accounts.length, error: out.error });
      } else if (out.kind === "policy") this.metrics.skippedPolicy += out.accounts.length;
    }
  }

  /** Gas one liquidateMany may use: the configured budget, else 80 % of the latest block's gas limit, within the cap. */
  private gasBudget(): bigint {
    const budget = this.deps.settings.batchGasBudget ?? (this.blockGasLimit * 8n) / 10n;
    // the signed gas limit carries a 30 % margin and may not pass the per-transaction cap (EIP-7825)
    const capped = (TX_GAS_CAP * 10n) / 13n;
    return budget < capped ? budget : capped;
  }

  /** Whether the keeper may liquidate the account now: not paused by a risk officer, bonus above the policy. */
  private async eligible(s: AccountSnapshot): Promise<boolean> {
    const paused = this.isPaused(s.account, s.held.keys());
    if (paused) {
      this.metrics.skippedPaused++;
      this.deps.log.info("liquidation paused by override", {
        account: s.account,
        scope: paused.scope,
        target: paused.target,
      });
      return false;
    }
    if ((await this.estimatedBonus(s)) < this.deps.settings.minBonus) {
      this.metrics.skippedPolicy++;
      return false;
    }
    return true;
  }

  /**
   * A margin call lapses when no evaluation saw the account below maintenance for a whole grace period (the chain
   * cannot know it did not recover meanwhile), and the next evaluation starts a new call with a full grace
   * period. So the keeper evaluates (pokes) an account in a call once a quarter of the grace period has passed
   * since the last evaluation, and at once when the view shows no live call (lapsed, or never recorded), which
   * starts one.
   */
  private callNeedsEvaluation(s: AccountSnapshot, seenAt: number): boolean {
    if (s.state !== State.MarginCall) return false;
    return s.callDeadline === 0 || this.chainTime - seenAt >= this.gracePeriod / 4;
  }

  private async liquidate(s: AccountSnapshot, trigger: Trigger): Promise<void> {
    if (!(await this.eligible(s))) return;
    const out = await this.liquidator.submit(
      s.account,
      this.deps.settings.maxSegments,
      trigger,
      this.deps.settings.maxFeePerGas,
    );
    if (out.kind === "sent") {
      this.metrics.liquidationsSent++;
      if (out.settled) this.recordSettled(out.settled);
    } else if (out.kind === "refused") {
      this.metrics.refused++;
      this.deps.log.info("liquidation refused by simulation", { account: s.account, error: out.error });
    } else if (out.kind === "policy") this.metrics.skippedPolicy++;
  }

  /**
   * Liquidator bonus of the whole shortfall, estimated as if sold from the least liquid held asset:
   * value ≈ min(V, (target − equity) / (1 − penalty)), bonus ≈ value · penalty · liquidatorShare.
   */
  private async estimatedBonus(s: AccountSnapshot): Promise<bigint> {
    if (this.deps.settings.minBonus === 0n) return 0n;
    const params = await this.rpc(() => this.engine.params());
    let penalty = 0n;
    for (const a of s.held.keys()) {
      const cfg = await this.rpc(() => this.engine.assetConfig(a));
      if (cfg.liquidationPenalty > penalty) penalty = cfg.liquidationPenalty;
    }
    const target = s.maintenanceReq + (params.targetBuffer * s.positionValue) / WAD;
    const gap = target > s.equity ? target - s.equity : 0n;
    let value = penalty < WAD ? (gap * WAD) / (WAD - penalty) : s.positionValue;
    if (value > s.positionValue || s.state === State.Defaulted) value = s.positionValue;
    return (((value * penalty) / WAD) * params.liquidatorShare) / WAD;
  }

  /**
   * The account's view at `blockTag`, or at the head when the node no longer keeps that block's state: a pruning node
   * (geth keeps 128 blocks' states, anvil `--prune-history` its own count) would otherwise fail this read for good,
   * and with it every tick's log processing, once the keeper falls that far behind (a long tick, a restart).
   */
  private async viewAt(account: string, blockTag: number): Promise<Awaited<ReturnType<MarginEngine["accountView"]>>> {
    try {
      return await this.rpc(() => this.engine.accountView(account, { blockTag }));
    } catch (err) {
      if (!isStateUnavailable(err)) throw err;
      this.deps.log.warn("the node no longer keeps that block's state: the notice's figures are the head's", {
        account,
        blockTag,
      });
      return this.rpc(() => this.engine.accountView(account));
    }
  }

  /**
   * The engine's view of `accounts` at the head, in one lens call. When the call fails for another reason than the
   * transport (an account whose view reverts), the accounts are read one per call and the failing ones left out
   * (undefined) so that one account cannot stop the others from being watched.
   */
  private async readMany(accounts: string[]): Promise<(AccountSnapshot | undefined)[]> {
    this.metrics.reads += accounts.length;
    const contracts = {
      engine: this.deps.deployment.contracts.MarginEngine,
      router: this.deps.deployment.contracts.OracleRouter,
    };
    try {
      const batch = await valueAccounts(this.deps.provider, contracts, accounts, this.assets, this.retry);
      return batch.accounts.map((v) => this.snapshot(v, batch.prices));
    } catch (err) {
      if (accounts.length === 1) {
        this.deps.log.warn("account read failed", {
          account: accounts[0],
          err: String((err as Error)?.message ?? err),
        });
        return [undefined];
      }
      if (isTransient(err) || isAppError(err, "CHAIN_UNAVAILABLE")) throw err;
      const one: (AccountSnapshot | undefined)[] = [];
      for (const a of accounts) one.push((await this.readMany([a]))[0]);
      return one;
    }
  }

  private snapshot(v: AccountValuation, prices: Map<string, bigint>): AccountSnapshot {
    const held = new Map<string, { price: bigint; haircut: bigint }>();
    for (const a of v.balances.keys())
      if (a !== this.cash) held.set(a, { price: prices.get(a) ?? 0n, haircut: this.haircuts.get(a) ?? 0n });
    return {
      account: v.account,
      state: v.state as State,
      equity: v.equity,
      positionValue: v.positionValue,
      maintenanceReq: v.maintenanceReq,
      warningLine: v.warningLine,
      hardLine: v.hardLine,
      callDeadline: v.callDeadline,
      pricesSafe: v.pricesSafe,
      held,
    };
  }
}

/** The first `n` items of `items` (insertion order). */
function* take<T>(items: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  let k = 0;
  for (const x of items) {
    yield x;
    if (++k >= n) return;
  }
}

/** A parsed engine log as the position book folds it (arguments by name). */
function engineEvent(parsed: {
  name: string;
  fragment: { inputs: readonly { name: string }[] };
  args: unknown[];
}): EngineEvent {
  const args: Record<string, unknown> = {};
  parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]));
  return { name: parsed.name, args };
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
