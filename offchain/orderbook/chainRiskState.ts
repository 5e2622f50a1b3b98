import type { ChainAccountFacts } from "../chain/orderbookChain";
import { type EngineAssetRisk, PriceStatus } from "./engineMargin";
import { type InstrumentSpec, lotsToUnits, notional } from "./instrument";
import type { AccountRiskView, InstrumentRiskView, PlatformRiskView, RiskStateSource } from "./risk";
import { MarginState } from "./risk";
import type { AccountId } from "./types";

/** What the chain risk state reads (offchain/chain/orderbookChain.ts implements it over the gateway). */
export interface RiskChainReader {
  readAccount(account: string, securities: readonly string[]): Promise<ChainAccountFacts>;
  readPrice(asset: string): Promise<{ price: bigint; safe: boolean; haircut?: bigint }>;
  /** The engine's figures per asset at a block (pre-trade risk then applies the engine's own rule). */
  readAssets?(assets: readonly string[], blockTag: number): Promise<EngineAssetRisk[]>;
  /** Accounts the engine lent to after a block (the platform-wide sums follow every borrower). */
  borrowersAfter?(afterBlock: number): Promise<{ accounts: string[]; toBlock: number }>;
}

export interface ChainInstrument {
  spec: InstrumentSpec;
  sector: string;
  /** Initial margin ratio, 18 decimals. */
  initialMargin: bigint;
}

const WAD = 10n ** 18n;
/** Accounts the platform-wide refresh reads at once: each read is about ten calls in parallel, and a node answers
 * one call at a time (more at once only queue there, and time out under load). */
const PLATFORM_READS_AT_ONCE = 2;

/** 18-decimal cash per whole token → ticks (rounded down); 0 when unsafe or off scale. */
export function oracleTicks(spec: InstrumentSpec, price18: bigint, safe: boolean): number {
  if (!safe || price18 <= 0n) return 0;
  const ticks = (price18 * 10n ** BigInt(spec.quoteDecimals)) / WAD / spec.tickSize;
  return ticks > 0n && ticks <= 2n ** 31n - 1n ? Number(ticks) : 0;
}

/**
 * A `RiskStateSource` over the chain: KYC (KycRegistry), margin state, cash, debt and positions (MarginEngine),
 * oracle prices (OracleRouter), each account read at one block and cached for `ttlMs`; plus the book's own
 * fills not yet settled (recorded by `recordTrade`, released by `settled`). The risk check is synchronous, so the
 * gateway calls `ensure(account)` before submitting; an account never read is UNKNOWN_ACCOUNT.
 */
export class ChainRiskState implements RiskStateSource {
  private readonly accounts = new Map<AccountId, { view: AccountRiskView; readAt: number }>();
  private readonly instruments = new Map<string, InstrumentRiskView>();
  /** The block the instruments' engine figures were read at (they change only with a block). */
  private assetsBlock = -1;
  /** Average daily volume per instrument (units), kept by the order gateway from the books' fills. */
  private readonly adv = new Map<string, bigint>();
  /** Accounts the platform-wide limits follow beyond those read for an order (every account that traded). */
  private readonly tracked = new Set<AccountId>();

  /**
   * The platform-wide view (concentration limits): what every account this state follows holds while it has debt —
   * each account read for an order, and every account that traded on the books (`track`), re-read by
   * `refreshPlatform` — and the books' average daily volumes.
   */
  readonly platform: PlatformRiskView = {
    financedUnits: (instrument, except) => {
      const skip = except.toLowerCase();
      let units = 0n;
      for (const [key, { view }] of this.accounts) {
        if (key === skip || view.chain.debt === 0n) continue;
        const q = (view.chain.positions.get(instrument) ?? 0n) + (view.unsettled.positions.get(instrument) ?? 0n);
        if (q > 0n) units += q;
      }
      return units;
    },
    averageDailyVolume: (instrument) => this.adv.get(instrument),
    instrumentsIn: (sector) => [...this.instruments.values()].filter((v) => v.sector === sector).map((v) => v.spec.id),
  };

  /** Sets the books' average daily volumes (units per day, by instrument). */
  setAverageDailyVolumes(volumes: ReadonlyMap<string, bigint>): void {
    for (const [id, units] of volumes) this.adv.set(id, units);
  }

  /** Follows these accounts for the platform-wide limits (read at the next `refreshPlatform`). */
  track(accounts: readonly string[]): void {
    for (const a of accounts) this.tracked.add(a.toLowerCase());
  }

  /** The last block whose borrowers are followed. */
  private borrowersBlock = -1;

  /**
   * Follows every account the engine has lent to (new `Borrowed` events since the last call), then re-reads every
   * followed account whose read is older than `maxAgeMs` (the platform-wide sums).
   */
  async refreshPlatform(maxAgeMs = 30_000): Promise<void> {
    if (this.reader.borrowersAfter !== undefined) {
      const { accounts, toBlock } = await this.reader.borrowersAfter(this.borrowersBlock);
      this.track(accounts);
      this.borrowersBlock = toBlock;
    }
    const now = (this.opts.now ?? Date.now)();
    const stale = [...new Set<AccountId>([...this.tracked, ...this.accounts.keys()])].filter((key) => {
      const cached = this.accounts.get(key);
      return cached === undefined || now - cached.readAt >= maxAgeMs;
    });
    // a few reads at a time: a new order-book leader reads every borrower before it takes orders, and one read
    // after another made that wait grow with the number of borrowers
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < stale.length) await this.readShared(stale[next++], now);
    };
    await Promise.all([...Array(Math.min(PLATFORM_READS_AT_ONCE, stale.length))].map(worker));
  }
  private readonly unsettled = new Map<
    string,
    { buyer: AccountId; seller: AccountId; instrument: string; units: bigint; cash: bigint }
  >();

  constructor(
    private readonly reader: RiskChainReader,
    instruments: ChainInstrument[],
    private readonly opts: {
      ttlMs?: number;
      tier?: (account: AccountId) => string;
      now?: () => number;
      /**
       * Which of these book trades the chain had settled by `block`. An account read at a block after its trade
       * settled already holds the trade, so the trade leaves the unsettled view with that read (not when the
       * store later learns of it: counted in both, a quickly settled buy would be paid for twice).
       */
      settledBy?: (tradeIds: string[], block: number) => Promise<string[]>;
      /** The account's behaviour tier now (surveillance's store), read on every order: a change applies to the next. */
      tierOf?: (account: AccountId) => Promise<string>;
    } = {},
  ) {
    for (const i of instruments)
      this.instruments.set(i.spec.id, {
        spec: i.spec,
        sector: i.sector,
        initialMargin: i.initialMargin,
        oraclePrice: 0,
      });
  }

  account(id: AccountId): AccountRiskView | undefined {
    return this.accounts.get(id.toLowerCase())?.view;
  }

  instrument(id: string): InstrumentRiskView | undefined {
    return this.instruments.get(id);
  }

  /** Reads in flight, by account: orders arriving together share one read (a burst is not a burst of reads). */
  private readonly reading = new Map<AccountId, Promise<void>>();

  /**
   * Reads the account from the chain unless the cached read is younger than ttlMs. A read already in flight for
   * the account is joined: it started less than a read ago, within the same freshness as the cache.
   */
  async ensure(account: AccountId): Promise<void> {
    const key = account.toLowerCase();
    const now = (this.opts.now ?? Date.now)();
    const cached = this.accounts.get(key);
    const tier = this.opts.tierOf?.(key);
    if (cached === undefined || now - cached.readAt >= (this.opts.ttlMs ?? 1_000)) await this.readShared(key, now);
    if (tier !== undefined) {
      // kept apart from the chain read: a later re-read of the account (the platform's refresh) keeps it
      this.tiers.set(key, await tier);
      const view = this.accounts.get(key)?.view;
      if (view !== undefined) view.tier = this.tiers.get(key)!;
    }
  }

  /** Behaviour tiers read by `ensure` (surveillance), by account. */
  private readonly tiers = new Map<AccountId, string>();

  /** Reads the account, or joins the read of it already in flight. */
  private readShared(key: AccountId, now: number): Promise<void> {
    const inFlight = this.reading.get(key);
    if (inFlight !== undefined) return inFlight;
    const read = this.read(key, now).finally(() => this.reading.delete(key));
    this.reading.set(key, read);
    return read;
  }

  private async read(key: AccountId, now: number): Promise<void> {
    const account = key;
    const specs = [...this.instruments.values()].map((i) => i.spec);
    const f = await this.reader.readAccount(
      account,
      specs.map((s) => s.base),
    );
    const view: AccountRiskView = {
      kycVerified: f.verified,
      kycExpiresAt: f.kycExpiresAt * 1000,
      maxLeverage: f.maxLeverage,
      marginState: f.state as MarginState,
      tier: this.tiers.get(key) ?? this.opts.tier?.(key) ?? "standard",
      chain: {
        cash: f.cash,
        debt: f.debt,
        positions: new Map(specs.map((s, i) => [s.id, f.positions[i]])),
        cashFrozen: f.cashFrozen,
        frozen: new Set(specs.filter((_, i) => f.frozen?.[i] === true).map((s) => s.id)),
        fixedTerm: f.fixedTerm === true,
        portfolio: f.portfolio,
      },
      unsettled: { cash: 0n, positions: new Map() },
    };
    if (f.block !== undefined && this.opts.settledBy !== undefined) {
      const mine = [...this.unsettled].filter(([, t]) => t.buyer === key || t.seller === key).map(([id]) => id);
      if (mine.length > 0) for (const id of await this.opts.settledBy(mine, f.block)) this.release(id);
    }
    this.accounts.set(key, { view, readAt: now });
    this.rebuildUnsettled(key);
    if (f.block !== undefined) await this.readEngineAssets(f.block);
  }

  /**
   * Reads every instrument's engine figures at `block` unless they were read at a later one: margins follow the
   * router's volatility at every round and the risk officer's or guardian's settings, so they are read again with
   * every new block an account is read at, and both come from the same block.
   */
  private async readEngineAssets(block: number): Promise<void> {
    const readAssets = this.reader.readAssets;
    if (readAssets === undefined || block <= this.assetsBlock) return;
    // accounts read at the same block share one read of the instruments
    const inFlight = this.assetsReading;
    if (inFlight !== undefined && inFlight.block >= block) return inFlight.read;
    const read = this.readAssetsAt(readAssets, block).finally(() => {
      if (this.assetsReading?.read === read) this.assetsReading = undefined;
    });
    this.assetsReading = { block, read };
    return read;
  }

  /** The instruments' read in flight and its block. */
  private assetsReading: { block: number; read: Promise<void> } | undefined;

  private async readAssetsAt(readAssets: NonNullable<RiskChainReader["readAssets"]>, block: number): Promise<void> {
    const views = [...this.instruments.values()];
    const figures = await readAssets(
      views.map((v) => v.spec.base),
      block,
    );
    if (block <= this.assetsBlock) return; // a later read landed meanwhile
    this.assetsBlock = block;
    views.forEach((v, i) => {
      const e = figures[i];
      v.engine = e;
      v.haircut = e.haircut;
      v.initialMargin = e.initialMargin;
      v.oraclePrice = oracleTicks(v.spec, e.price, e.status === PriceStatus.Safe);
    });
  }

  /** Reads every instrument's oracle price; returns the ticks per instrument (0 = unavailable). */
  async refreshOracles(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const views = [...this.instruments.entries()];
    const read = await Promise.all(views.map(([, v]) => this.reader.readPrice(v.spec.base)));
    views.forEach(([id, v], i) => {
      const { price, safe, haircut } = read[i];
      v.oraclePrice = oracleTicks(v.spec, price, safe);
      if (haircut !== undefined) v.haircut = haircut;
      out.set(id, v.oraclePrice);
    });
    return out;
  }

  /** A fill of the book, unsettled until `settled(tradeId)`: the buyer gets units and owes cash, the seller the reverse. */
  recordTrade(
    tradeId: string,
    spec: InstrumentSpec,
    buyer: AccountId,
    seller: AccountId,
    ticks: number,
    lots: number,
  ): void {
    if (this.unsettled.has(tradeId)) return;
    const [b, s] = [buyer.toLowerCase(), seller.toLowerCase()];
    this.unsettled.set(tradeId, {
      buyer: b,
      seller: s,
      instrument: spec.id,
      units: lotsToUnits(spec, lots),
      cash: notional(spec, ticks, lots),
    });
    this.rebuildUnsettled(b);
    this.rebuildUnsettled(s);
  }

  /** Trade ids the book filled that have not been reported settled yet. */
  unsettledTradeIds(): string[] {
    return [...this.unsettled.keys()];
  }

  /** The trade settled on-chain: the next chain read holds it, so it leaves the unsettled view. */
  settled(tradeId: string): void {
    const t = this.release(tradeId);
    if (t === undefined) return;
    // read again before the next order (kept meanwhile: the platform-wide sums still count them)
    for (const a of [t.buyer, t.seller]) {
      const cached = this.accounts.get(a);
      if (cached !== undefined) cached.readAt = Number.NEGATIVE_INFINITY;
    }
  }

  /** Takes the trade out of the unsettled view of both sides. */
  private release(tradeId: string): { buyer: AccountId; seller: AccountId } | undefined {
    const t = this.unsettled.get(tradeId);
    if (t === undefined) return undefined;
    this.unsettled.delete(tradeId);
    this.rebuildUnsettled(t.buyer);
    this.rebuildUnsettled(t.seller);
    return t;
  }

  private rebuildUnsettled(account: AccountId): void {
    const a = this.accounts.get(account);
    if (a === undefined) return;
    let cash = 0n;
    const positions = new Map<string, bigint>();
    for (const t of this.unsettled.values()) {
      const sign = t.buyer === account ? 1n : t.seller === account ? -1n : 0n;
      if (sign === 0n) continue;
      cash -= sign * t.cash;
      positions.set(t.instrument, (positions.get(t.instrument) ?? 0n) + sign * t.units);
    }
    a.view.unsettled = { cash, positions };
  }
}
