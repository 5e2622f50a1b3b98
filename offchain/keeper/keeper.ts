import { randomBytes } from "node:crypto";
import type { Log } from "ethers";
import {
  AggregatorV3Interface__factory,
  InsuranceFund__factory,
  MarginEngine__factory,
  MedianPriceFeed__factory,
  OracleRouter__factory,
  type MarginEngine,
  type OracleRouter,
} from "../../typechain-types";
import type { InstanceClaim } from "../shared/instance";
import type { Override } from "../store";
import { AccountIndex, State, STATE_NAMES, type AccountSnapshot } from "./accountIndex";
import { deliverNotifications } from "./deliverNotifications";
import { Liquidator, type Settled, type Trigger } from "./liquidator";
import type { KeeperDeps } from "./ports";

const CURSOR = "cursor";
const WAD = 10n ** 18n;
/** Engine events that name accounts whose margin may have changed (argument names). */
const ACCOUNT_ARGS = ["account", "buyer", "seller", "from", "to"];

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
  liquidationsMined: number;
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
  /** Accounts whose recorded state still lags (poke in flight or failed): re-read next tick. */
  private readonly lagging = new Set<string>();
  private readonly cash: string;
  private initialised = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: KeeperDeps) {
    const c = deps.deployment.contracts;
    this.engine = MarginEngine__factory.connect(c.MarginEngine, deps.provider);
    this.router = OracleRouter__factory.connect(c.OracleRouter, deps.provider);
    this.liquidator = new Liquidator(
      deps.store,
      deps.provider,
      c.MarginEngine,
      deps.settings.signerKey,
      deps.log.child({ component: "liquidator" }),
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
    await this.rediscoverAccounts();
    this.initialised = true;
  }

  /**
   * After a restart the index is empty while the cursor is not: the engine's logs up to the cursor name every
   * account to watch again (each is then read fresh at the head; no notice is re-sent).
   */
  private async rediscoverAccounts(): Promise<void> {
    const engine = await this.engine.getAddress();
    const now = Date.now();
    for (let from = this.deps.deployment.deployBlock; from <= this.cursor; from += 2_000) {
      const logs = await this.deps.provider.getLogs({
        address: engine,
        fromBlock: from,
        toBlock: Math.min(this.cursor, from + 1_999),
      });
      for (const log of logs) {
        const parsed = this.engine.interface.parseLog(log);
        if (!parsed) continue;
        for (const name of ACCOUNT_ARGS) {
          const input = parsed.fragment.inputs.find((i) => i.name === name && i.type === "address");
          if (input) this.markDirty(String(parsed.args[name]), { at: now, reason: "restart" });
        }
      }
    }
  }

  /** One pass. Returns the number of accounts re-read. */
  async tick(): Promise<number> {
    if (!this.initialised) await this.init();
    await this.settle();
    this.overrides = await this.deps.store.keeper.overrides();
    const head = await this.deps.provider.getBlockNumber();
    const moved = new Map<string, number>();
    while (this.cursor < head) {
      const from = this.cursor + 1;
      const to = Math.min(head, from + 1999);
      const logs = await this.deps.provider.getLogs({
        address: [await this.engine.getAddress(), await this.router.getAddress(), ...this.feedToAsset.keys()],
        fromBlock: from,
        toBlock: to,
      });
      for (const log of logs) await this.handleLog(log, moved);
      this.cursor = to;
      await this.deps.store.keeper.setState(CURSOR, String(to));
    }
    this.metrics.lastBlock = head;

    const now = Date.now();
    for (const asset of moved.keys()) await this.pokeRouter(asset);
    for (const [asset, seenAt] of moved) {
      const [price] = await this.router.getPrice(asset);
      const candidates = new Set([...this.index.affectedBy(asset, price), ...this.index.troubled(asset)]);
      for (const a of candidates) this.markDirty(a, { at: seenAt, reason: `round ${asset}` });
      this.metrics.rounds++;
      this.metrics.recheckedOnRounds += candidates.size;
      this.metrics.lastRoundRechecked = candidates.size;
    }
    const block = await this.deps.provider.getBlock(head);
    const chainTime = block?.timestamp ?? Math.floor(now / 1000);
    this.chainTime = chainTime;
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
      for (const a of this.index.accounts()) this.markDirty(a, { at: now, reason: "resync" });
      await this.refreshFund();
    }
    const work = [...this.dirty];
    this.dirty.clear();
    await inParallel(work, this.deps.settings.readConcurrency, ([a, t]) => this.recheck(a, t));
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
      this.metrics.liquidationsMined++;
      this.metrics.segmentsLiquidated += s.intent.segments ?? 0;
      const m = this.metrics.latencyMs;
      const latency = s.latencyMs ?? 0;
      m.count++;
      m.last = latency;
      m.sum += latency;
      m.max = Math.max(m.max, latency);
    } else if (s.status === "reverted") this.metrics.liquidationsReverted++;
    else this.metrics.liquidationsDropped++;
    this.markDirty(s.intent.account, { at: Date.now(), reason: "settled" });
  }

  private async loadAssets(): Promise<void> {
    this.gracePeriod = Number((await this.engine.params()).gracePeriod);
    this.assets = (await this.engine.listedAssets()).map((a) => a.toLowerCase());
    for (const a of this.assets) {
      const cfg = await this.engine.assetConfig(a);
      this.haircuts.set(a, cfg.haircut);
      const primary = (await this.router.assetParams(a)).primary.toLowerCase();
      this.feedToAsset.set(primary, a);
      this.assetToFeed.set(a, primary);
    }
  }

  private async refreshFund(): Promise<void> {
    const [, , insurance] = await this.engine.contracts();
    const balance = await InsuranceFund__factory.connect(insurance, this.deps.provider).balance();
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
      const v = await this.engine.accountView(String(args.account), { blockTag: log.blockNumber });
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
      const [state, latest] = await Promise.all([
        this.router.assetState(asset),
        AggregatorV3Interface__factory.connect(feed, this.deps.provider).latestRoundData(),
      ]);
      if (state.tripped || (state.lastRoundId >= latest.roundId && state.safeSince !== 0n)) return;
      this.pokedAt.set(key, Date.now());
      await this.liquidator.sendRouterPoke(await this.router.getAddress(), asset);
      this.metrics.routerPokes++;
    } catch (err) {
      this.deps.log.warn("router poke skipped", { asset, err: String((err as Error)?.message ?? err) });
    }
  }

  /** Reads the account at the head, updates the index, then pokes or liquidates as the state demands. */
  private async recheck(account: string, trigger: Trigger): Promise<void> {
    const before = this.index.get(account);
    const s = await this.read(account);
    this.index.update(s);
    if (s.state < State.Liquidatable) this.liquidatableSince.delete(account);
    if (s.state === State.MarginCall) this.callCheckedAt.set(account, this.chainTime);
    else this.callCheckedAt.delete(account);
    // Unsafe prices no longer stop anything: the engine counts those positions conservatively and seizes only
    // the safe ones, so an account holding unsafe dust is liquidated like any other (the simulation decides).
    if (s.state >= State.Liquidatable) {
      if (!this.liquidatableSince.has(account)) this.liquidatableSince.set(account, trigger);
      await this.liquidate(s, this.liquidatableSince.get(account)!);
      return;
    }
    if (s.state === State.Healthy && (!before || before.state === State.Healthy)) return;
    const [recorded, , seenAt] = await this.engine.recordedState(account);
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
    const paused = this.isPaused(s.account, s.held.keys());
    if (paused) {
      this.metrics.skippedPaused++;
      this.deps.log.info("liquidation paused by override", {
        account: s.account,
        scope: paused.scope,
        target: paused.target,
      });
      return;
    }
    const bonus = await this.estimatedBonus(s);
    if (bonus < this.deps.settings.minBonus) {
      this.metrics.skippedPolicy++;
      return;
    }
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
    const params = await this.engine.params();
    let penalty = 0n;
    for (const a of s.held.keys()) {
      const cfg = await this.engine.assetConfig(a);
      if (cfg.liquidationPenalty > penalty) penalty = cfg.liquidationPenalty;
    }
    const target = s.maintenanceReq + (params.targetBuffer * s.positionValue) / WAD;
    const gap = target > s.equity ? target - s.equity : 0n;
    let value = penalty < WAD ? (gap * WAD) / (WAD - penalty) : s.positionValue;
    if (value > s.positionValue || s.state === State.Defaulted) value = s.positionValue;
    return (((value * penalty) / WAD) * params.liquidatorShare) / WAD;
  }

  private async read(account: string): Promise<AccountSnapshot> {
    this.metrics.reads++;
    const v = await this.engine.accountView(account);
    const held = new Map<string, { price: bigint; haircut: bigint }>();
    if (v.positionValue > 0n) {
      const balances = await Promise.all(this.assets.map((a) => this.engine.balanceOf(account, a)));
      const priced = await Promise.all(
        this.assets.map((a, i) => (balances[i] > 0n ? this.router.getPrice(a) : Promise.resolve(undefined))),
      );
      this.assets.forEach((a, i) => {
        const p = priced[i];
        if (p && a !== this.cash) held.set(a, { price: p[0], haircut: this.haircuts.get(a) ?? 0n });
      });
    }
    return {
      account: account.toLowerCase(),
      state: Number(v.state) as State,
      equity: BigInt(v.equity),
      positionValue: v.positionValue,
      maintenanceReq: v.maintenanceReq,
      warningLine: v.warningLine,
      hardLine: v.hardLine,
      callDeadline: Number(v.callDeadline),
      pricesSafe: v.pricesSafe,
      held,
    };
  }
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
