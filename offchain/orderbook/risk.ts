import {
  type EngineAssetRisk,
  type EnginePortfolio,
  type InitialMarginFailure,
  engineInitialMargin,
  saleKeepsEquity,
  valueOf,
} from "./engineMargin";
import { NullObserver } from "./events";
import { type InstrumentSpec, notional } from "./instrument";
import { type AccountId, type BookCommand, RejectCode, Side } from "./types";

/**
 * Pre-trade risk: the checks an order passes before the book accepts it. Pure logic over an injected view of the
 * account (indexed chain state + unsettled trades, from chain/ and store/) plus the open orders this module tracks
 * from the book's own events. Nothing here does I/O.
 *
 * Cancels and pure size decreases are never refused. Order of checks (the first failure is the reject code):
 *   1. KYC verified and not expired                              KYC_NOT_VERIFIED
 *      no frozen balance moved (the cash, or a sold security)    BALANCE_FROZEN
 *   2. order rate (per second) and daily order count, by tier    ORDER_RATE_LIMIT, DAILY_ORDER_LIMIT
 *   3. price band around the oracle price (fat-finger)           PRICE_BAND / ORACLE_UNAVAILABLE
 *   4. daily notional, by tier                                   DAILY_NOTIONAL_LIMIT
 *      and of the linked-account group, every member together    GROUP_DAILY_NOTIONAL_LIMIT
 *   5. margin state: MarginCall or worse may only reduce risk    MARGIN_STATE_BLOCKS_RISK
 *      An order reduces risk when it closes part of the position and, for an account with debt, sells at no less
 *      than what the units count for in its equity: price ≥ oracle · (1 − haircut). That is the chain's rule
 *      (MarginEngine.settleTrade): below it, the seller must meet initial margin after the trade, so the order
 *      goes through the worst-case checks like new risk, and a market sell is valued at the band's far edge.
 *   6. worst-case exposure limits (instrument, sector, account)  *_EXPOSURE_LIMIT
 *      and the account's linked-account group (its members' gross + this account's worst case)   GROUP_EXPOSURE_LIMIT
 *   7. worst-case initial margin and leverage                    INSUFFICIENT_INITIAL_MARGIN, LEVERAGE_LIMIT
 *
 * Worst case (per instrument j, prices marked at the oracle P_j, positions q_j = chain + unsettled, in base units):
 *   scenario "all buys fill":  q' = q + B_j,   equity change  = B_j·P_j − (cost of the buys at their limits)
 *   scenario "all sells fill": q' = q − S_j,   equity change  = (proceeds at the sell limits) − S_j·P_j
 *   per instrument the scenario with the larger (requirement − equity change) is taken, where
 *   requirement = |q'|·P_j·IM_j (rounded up) and gross = |q'|·P_j.
 *   E  = chain cash + unsettled cash − debt + Σ q_j·P_j
 *   E* = E + Σ equity change*          must satisfy  E* ≥ Σ requirement*
 *   and Σ gross* ≤ E* · min(KYC max leverage, tier max leverage).
 * Market orders are valued at the far edge of the price band (the worst price they may trade at).
 *
 * With the chain (ChainRiskState: every instrument carries `engine`, the MarginEngine's own figures read at the
 * account's block), steps 5–7 are the engine's rule instead (issue 23, one risk model; engineMargin.ts): the order
 * is taken as filled at its limit (a market order at the band's far edge), on top of the chain balances, the unsettled
 * fills and, per instrument, the worse of the account's other open buys or sells filling;
 *   - the trade must settle: the cash of this and every open buy, the units of this and every open sell, are in the
 *     margin account                                                               INSUFFICIENT_BALANCE
 *   - a buy, or a sale paid less than the units count for, by an account with debt must leave it meeting the
 *     engine's initial margin exactly as `checkInitialMargin` will after settlement (per-asset margins at the
 *     router's volatility, haircuts, prices, the same roundings; every held price Safe, no held asset paused, the
 *     KYC leverage cap)   ORACLE_UNAVAILABLE, BORROWING_PAUSED, INSUFFICIENT_INITIAL_MARGIN, LEVERAGE_LIMIT
 *   - an account enrolled in portfolio margin (issue 26) that holds an option series after the trade is margined by
 *     the scenario grid, as the engine's PortfolioRisk satellite margins it (the positions after the trade through
 *     the satellite's mirror, engineMargin.ts); any sale of such an account with debt is checked, fair or not (the
 *     engine checks every portfolio-margined seller: selling a hedge raises the requirement)
 *   - an account without debt, and a sale that keeps the seller's equity (rule-margined), are never checked by the
 *     engine: nor here.
 * The margin state blocks buys only (MarginCall or worse) of rule-margined accounts: with a price band narrower than
 * haircut + initial margin no buy can bring such an account to initial margin, so the engine would refuse them as
 * well; under the grid a buy can lower the requirement (a put against shares held), so an enrolled account's buys go
 * to the engine's rule like its sales (a large enough sale can cure the account on chain). The behaviour tier's
 * leverage (stricter than the KYC cap for flagged accounts) and the exposure caps apply on top, to buys. The choice,
 * per instrument, between the account's other open buys or open sells filling is made with the rule's margins, the
 * grid applying to the positions it picks.
 */

export enum MarginState {
  Healthy = 0,
  Warning = 1,
  MarginCall = 2,
  Liquidatable = 3,
  Defaulted = 4,
}

const WAD = 10n ** 18n;

/** One account as the chain indexer and the store see it. Amounts are token units (bigint). */
export interface AccountRiskView {
  kycVerified: boolean;
  /** ms since epoch; 0 when it does not expire. */
  kycExpiresAt: number;
  /** From KycRegistry.maxLeverageOf, 18 decimals (2× = 2e18). */
  maxLeverage: bigint;
  marginState: MarginState;
  /** Behaviour tier name (see RiskLimits.tiers); flagged accounts get stricter tiers. */
  tier: string;
  chain: {
    cash: bigint;
    debt: bigint;
    positions: ReadonlyMap<string, bigint>;
    /** The engine froze the account's cash (no order may move it). */
    cashFrozen?: boolean;
    /** Instruments whose balance the engine froze (they may not be sold). */
    frozen?: ReadonlySet<string>;
    /** In its fixed margin term: the engine margins it at each tier's fixed volatility. */
    fixedTerm?: boolean;
    /** Enrolled in portfolio margin: the grid's inputs at the account's block (the engine's rule uses its mirror). */
    portfolio?: EnginePortfolio;
  };
  unsettled: { cash: bigint; positions: ReadonlyMap<string, bigint> };
}

export interface InstrumentRiskView {
  spec: InstrumentSpec;
  sector: string;
  /** Initial margin ratio, 18 decimals (20% = 0.2e18). */
  initialMargin: bigint;
  /** Oracle price in ticks; 0 when the oracle is unavailable or unsafe. */
  oraclePrice: number;
  /** The engine's haircut of the asset, 18 decimals (what a unit counts for in equity: price · (1 − haircut)). */
  haircut?: bigint;
  /** The MarginEngine's figures for the asset (price, status, haircut, scale, current initial margin, pause), read
   *  from the chain: pre-trade risk then applies the engine's rule exactly (see the module's notes). */
  engine?: EngineAssetRisk;
}

/**
 * The platform as a whole, for the concentration limits: what all accounts with debt hold (the collateral a
 * liquidation would have to sell into the market) and each security's average daily volume on the books.
 */
export interface PlatformRiskView {
  /** Units of the instrument held (chain + unsettled) by every account with debt but `except`. */
  financedUnits(instrument: string, except: AccountId): bigint;
  /** Average daily volume on the book (units per day); undefined before it is known. */
  averageDailyVolume(instrument: string): bigint | undefined;
  /** The instruments of a sector (the deployment's token list). */
  instrumentsIn(sector: string): readonly string[];
}

/** The injected state: implemented over the chain indexer and the store, or in memory. */
export interface RiskStateSource {
  account(id: AccountId): AccountRiskView | undefined;
  instrument(id: string): InstrumentRiskView | undefined;
  /** Absent: no platform-wide limits apply. */
  platform?: PlatformRiskView;
}

/**
 * Platform-wide concentration limits (issue 23). Financed holdings — what accounts with debt hold, the collateral a
 * liquidation would have to sell — are capped per security at `maxAdvShare` of its average daily volume on the books
 * over `advDays` (never below `minAdvUnits`, so a young book is not closed), and per sector (the deployment's token
 * list) at a value. Only buys by accounts with debt can raise them; the order counts with the account's open buys.
 */
export interface PlatformLimits {
  /** Share of the average daily volume, 18 decimals (0.25e18: a quarter of a day's volume). */
  maxAdvShare: bigint;
  advDays: number;
  /** The volume assumed per day while the book's own is lower (units; per instrument, or the default). */
  minAdvUnits: bigint;
  minAdvUnitsOf?: Readonly<Record<string, bigint>>;
  /** Value caps per sector (cash base units), at the oracle price; a sector without one has no cap. */
  sectorCaps: Readonly<Record<string, bigint>>;
}

export interface BehaviourTier {
  /** 18 decimals; the lower of this and the KYC leverage applies. */
  maxLeverage: bigint;
  maxOrdersPerSecond: number;
  maxOrdersPerDay: number;
  /** Cash minor units per UTC day, summed over order notionals at their limit (or band) price. */
  maxNotionalPerDay: bigint;
  /** Restricted accounts (surveillance): no new risk, they may only sell what they hold. */
  sellOnly?: boolean;
}

/**
 * Limits on a linked-account group (surveillance: accounts sharing a KYC identity or a declared beneficial owner),
 * on top of each member's own: one client splitting an exposure over several accounts meets the same cap.
 */
export interface GroupLimits {
  /** Gross exposure of every member together (cash base units): the ordering account's worst case with the order,
   *  plus each other member's holdings and open buys filling, at the same prices. */
  maxExposure: bigint;
  /** Notional ordered per UTC day by every member together (cash base units), as DAILY_NOTIONAL_LIMIT counts it. */
  maxNotionalPerDay: bigint;
}

/** A linked-account group as the gateway read it: its id (its lowest member) and every member. */
export interface AccountGroup {
  id: string;
  members: readonly AccountId[];
}

export interface RiskLimits {
  /** Price band half-width around the oracle, basis points. */
  priceBandBps: number;
  /** Gross worst-case exposure caps, cash minor units: per instrument, per sector, per account. */
  maxInstrumentExposure: bigint;
  maxSectorExposure: bigint;
  maxAccountExposure: bigint;
  /** Optional per-instrument and per-sector overrides. */
  instrumentExposure?: Readonly<Record<string, bigint>>;
  sectorExposure?: Readonly<Record<string, bigint>>;
  tiers: Readonly<Record<string, BehaviourTier>>;
  /** Platform-wide concentration limits (with a RiskStateSource that has `platform`). */
  platform?: PlatformLimits;
  /** Linked-account group limits (none: groups are not limited as such). */
  group?: GroupLimits;
  /** The protective template for high leverage tiers (none: no buy needs a stop). */
  protectiveTemplate?: ProtectiveTemplate;
}

/**
 * The platform's protective template: an account whose leverage tier (KycRegistry.maxLeverageOf) is above
 * `aboveLeverage` must carry a stop with every buy (an attached `protect` stop posted with it), and that stop's
 * price at placement must be within `maxStopDistanceBps` below the buy's entry (its signed limit price).
 */
export interface ProtectiveTemplate {
  /** 18 decimals (3× = 3e18): tiers strictly above it need the stop. */
  aboveLeverage: bigint;
  /** How far below the entry the stop may be, basis points (1000 = 10%). */
  maxStopDistanceBps: number;
}

interface OpenOrder {
  account: AccountId;
  side: Side;
  /** 0 for a protective market order (valued at the band edge). */
  price: number;
  priceBig: bigint;
  lots: number;
  /** The account's totals in this order's instrument (kept by reference: no lookup on every fill). */
  totals: OpenTotals;
}

interface OpenTotals {
  buyLots: number;
  sellLots: number;
  /** Σ price × lots of open buys / sells, in ticks·lots (exact: ≤ 2^31 · 4·10^15 needs bigint). */
  buyTickLots: bigint;
  sellTickLots: bigint;
}

interface Usage {
  day: number;
  orders: number;
  notional: bigint;
  second: number;
  inSecond: number;
}

function absBig(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** A sale at `price` (ticks) keeps the seller's equity: price ≥ oracle · (1 − haircut), all in ticks. */
function keepsEquity(price: number, oracle: number, haircut: bigint): boolean {
  return BigInt(price) * WAD >= BigInt(oracle) * (WAD - haircut);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return a <= 0n ? a / b : (a + b - 1n) / b;
}

/** The engine's initial-margin failures as reject codes. */
const ENGINE_REJECT: Record<InitialMarginFailure, RejectCode> = {
  "price-unsafe": RejectCode.OracleUnavailable,
  "borrowing-paused": RejectCode.BorrowingPaused,
  "initial-margin": RejectCode.InsufficientInitialMargin,
  leverage: RejectCode.LeverageLimit,
};

export type RiskCheckable = Extract<BookCommand, { kind: "limit" | "market" | "modify" | "protective" }>;

/**
 * Tracks open orders per account and instrument from the book's events (plug it in as a BookObserver of each
 * instrument's engine) and answers `check`.
 */
export class PreTradeRisk {
  /** Open orders per instrument, by order id (ids are unique within a book, not across books). */
  private readonly open = new Map<string, Map<number, OpenOrder>>();
  /** Open-order totals per account, then per instrument. */
  private readonly totals = new Map<AccountId, Map<string, OpenTotals>>();
  private readonly usage = new Map<AccountId, Usage>();
  /** Each account's linked-account group, as the gateway last read it (absent: none). */
  private readonly groups = new Map<AccountId, AccountGroup>();

  constructor(
    private readonly state: RiskStateSource,
    private readonly limits: RiskLimits,
  ) {}

  private openIn(instrument: string): Map<number, OpenOrder> {
    let m = this.open.get(instrument);
    if (m === undefined) {
      m = new Map();
      this.open.set(instrument, m);
    }
    return m;
  }

  /** An observer to attach to the engine of `instrument`: keeps this module's open-order view exact. */
  observerFor(instrument: string): NullObserver {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const risk = this;
    const open = this.openIn(instrument);
    return new (class extends NullObserver {
      override onRested(id: number, account: AccountId, side: Side, price: number, qty: number): void {
        risk.setLots(open, id, 0);
        const o: OpenOrder = {
          account,
          side,
          price,
          priceBig: BigInt(price),
          lots: 0,
          totals: risk.totalsOf(account, instrument),
        };
        open.set(id, o);
        risk.adjust(o, qty);
      }
      override onTrade(
        _t: number,
        _ta: AccountId,
        makerId: number,
        _ma: AccountId,
        _s: Side,
        _p: number,
        _q: number,
        makerRemaining: number,
      ): void {
        risk.setLots(open, makerId, makerRemaining);
      }
      override onReduced(id: number, _a: AccountId, _s: Side, _p: number, qty: number): void {
        risk.setLots(open, id, qty);
      }
      override onCancelled(id: number): void {
        risk.setLots(open, id, 0);
      }
    })();
  }

  private totalsOf(account: AccountId, instrument: string): OpenTotals {
    let byInstrument = this.totals.get(account);
    if (byInstrument === undefined) {
      byInstrument = new Map();
      this.totals.set(account, byInstrument);
    }
    let t = byInstrument.get(instrument);
    if (t === undefined) {
      t = { buyLots: 0, sellLots: 0, buyTickLots: 0n, sellTickLots: 0n };
      byInstrument.set(instrument, t);
    }
    return t;
  }

  /** Moves an order to `lots` open, updating its account's totals by the difference. */
  private adjust(o: OpenOrder, lots: number): void {
    const d = lots - o.lots;
    if (d === 0) return;
    const t = o.totals;
    const tl = o.priceBig * BigInt(d);
    if (o.side === Side.Buy) {
      t.buyLots += d;
      t.buyTickLots += tl;
    } else {
      t.sellLots += d;
      t.sellTickLots += tl;
    }
    o.lots = lots;
  }

  private setLots(open: Map<number, OpenOrder>, id: number, lots: number): void {
    const o = open.get(id);
    if (o === undefined) return;
    this.adjust(o, lots);
    if (lots === 0) open.delete(id);
  }

  /** Records the account's linked-account group (undefined: it has none) for its next orders. */
  setGroup(account: AccountId, group: AccountGroup | undefined): void {
    if (group === undefined) this.groups.delete(account);
    else this.groups.set(account, group);
  }

  groupOf(account: AccountId): AccountGroup | undefined {
    return this.groups.get(account);
  }

  /** Open orders of an account in an instrument (lots), as the worst case uses them. */
  openOrders(account: AccountId, instrument: string): Readonly<OpenTotals> {
    return this.totalsOf(account, instrument);
  }

  /**
   * Would the book accept `cmd` from a risk point of view at time `ts`? Returns a reject code or null.
   * Cancels are never checked: they only reduce risk.
   */
  check(instrument: string, cmd: RiskCheckable, ts: number): RejectCode | null {
    let replaces: OpenOrder | undefined;
    if (cmd.kind === "modify") {
      replaces = this.open.get(instrument)?.get(cmd.id);
      if (replaces === undefined || replaces.account !== cmd.account) return null; // the book refuses it itself
      // a pure size decrease only reduces risk: allowed like a cancel, whatever the account's state
      if ((cmd.price ?? replaces.price) === replaces.price && (cmd.qty ?? replaces.lots) <= replaces.lots) return null;
    }
    const inst = this.state.instrument(instrument);
    if (inst === undefined) return RejectCode.UnknownInstrument;
    const acct = this.state.account(cmd.account);
    if (acct === undefined) return RejectCode.UnknownAccount;
    if (!acct.kycVerified || (acct.kycExpiresAt !== 0 && acct.kycExpiresAt <= ts)) return RejectCode.KycNotVerified;
    if (acct.chain.cashFrozen === true) return RejectCode.BalanceFrozen;
    const tier = this.limits.tiers[acct.tier] ?? this.limits.tiers["standard"];
    if (tier === undefined) return RejectCode.UnknownAccount;
    if (tier.sellOnly === true && (cmd.kind === "modify" ? replaces!.side : cmd.side) === Side.Buy)
      return RejectCode.BehaviourRestricted;

    const u = this.usageOf(cmd.account, ts);
    if (u.inSecond >= tier.maxOrdersPerSecond) return RejectCode.OrderRateLimit;
    if (u.orders >= tier.maxOrdersPerDay) return RejectCode.DailyOrderLimit;

    // the order's side, size and the price it is valued at
    const oracle = inst.oraclePrice;
    if (oracle === 0) return RejectCode.OracleUnavailable;
    const band = Math.floor((oracle * this.limits.priceBandBps) / 10_000);
    let side: Side;
    let lots: number;
    let price: number;
    if (cmd.kind === "modify") {
      const old = replaces as OpenOrder;
      side = old.side;
      lots = cmd.qty ?? old.lots;
      price = cmd.price ?? old.price;
    } else if (cmd.kind === "limit") {
      side = cmd.side;
      lots = cmd.qty;
      price = cmd.price;
    } else if (cmd.kind === "protective") {
      side = cmd.side;
      lots = cmd.qty;
      price = cmd.limitPrice ?? 0;
    } else {
      side = cmd.side;
      lots = cmd.qty;
      price = 0;
    }
    const bandEdge = side === Side.Buy ? oracle + band : Math.max(1, oracle - band);
    if (price === 0) price = bandEdge;
    // protective orders rest away from the market by design; their limit is checked when they fire
    else if (cmd.kind !== "protective" && Math.abs(price - oracle) > band) return RejectCode.PriceBand;

    if (side === Side.Sell && acct.chain.frozen?.has(instrument) === true) return RejectCode.BalanceFrozen;

    const orderNotional = notional(inst.spec, price, lots);
    if (u.notional + orderNotional > tier.maxNotionalPerDay) return RejectCode.DailyNotionalLimit;
    const groupDaily = this.limits.group?.maxNotionalPerDay;
    if (groupDaily !== undefined && this.groupNotional(cmd.account, ts) + orderNotional > groupDaily)
      return RejectCode.GroupDailyNotionalLimit;

    // worst case across the account's instruments, with this order added (and a modified order's old self removed)
    const extra = { instrument, side, lots, price, replaces };
    if (side === Side.Buy && cmd.kind !== "protective" && acct.chain.debt > 0n) {
      const platform = this.checkPlatform(acct, cmd.account, inst, instrument, extra);
      if (platform !== null) return platform;
    }
    if (inst.engine !== undefined) {
      // protective orders rest away from the market by design: judged when they fire
      if (cmd.kind === "protective") return null;
      // A buy cannot lift an account below maintenance to initial margin while the band is narrower than haircut +
      // initial margin (it adds ⌈value · initial⌉ to the requirement and at most value · (band − haircut) to equity):
      // the engine refuses it too, so the margin state answers first. Sales go to the engine's rule.
      // Under portfolio margin a buy can lower the requirement (a put bought against shares): the engine's rule decides.
      if (side === Side.Buy && acct.marginState >= MarginState.MarginCall && acct.chain.portfolio === undefined) {
        return RejectCode.MarginStateBlocksRisk;
      }
      return this.checkEngine(acct, cmd.account, inst, instrument, tier, extra);
    }
    const reducing =
      this.isRiskReducing(acct, cmd.account, instrument, extra) &&
      // a protective order's limit is away from the market by design: it is judged when it fires
      (side === Side.Buy ||
        cmd.kind === "protective" ||
        acct.chain.debt === 0n ||
        keepsEquity(price, oracle, inst.haircut ?? 0n));
    if (acct.marginState >= MarginState.MarginCall && !reducing) return RejectCode.MarginStateBlocksRisk;
    // protective orders close positions: they pass on KYC, rate and band alone
    if (cmd.kind === "protective" || reducing) return null;
    return this.checkWorstCase(acct, cmd.account, inst, instrument, tier, extra);
  }

  /**
   * The protective template (RiskLimits.protectiveTemplate) for a buy at `entry` ticks carrying a stop whose price at
   * placement is `stop` ticks (undefined: no stop). Returns PROTECTIVE_STOP_REQUIRED or null.
   */
  checkTemplate(account: AccountId, side: Side, entry: number, stop: number | undefined): RejectCode | null {
    const t = this.limits.protectiveTemplate;
    if (t === undefined || side !== Side.Buy) return null;
    const acct = this.state.account(account);
    if (acct === undefined || acct.maxLeverage <= t.aboveLeverage) return null;
    if (stop === undefined || stop >= entry) return RejectCode.ProtectiveStopRequired;
    return (entry - stop) * 10_000 > entry * t.maxStopDistanceBps ? RejectCode.ProtectiveStopRequired : null;
  }

  /**
   * Lots of `instrument` a reduce-only order on `side` may still close: the position (chain + unsettled) in the
   * direction it closes, less the account's open book orders on that side; 0 when there is none.
   */
  closableLots(account: AccountId, instrument: string, side: Side): number {
    const acct = this.state.account(account);
    const spec = this.state.instrument(instrument)?.spec;
    if (acct === undefined || spec === undefined) return 0;
    const pos = (acct.chain.positions.get(instrument) ?? 0n) + (acct.unsettled.positions.get(instrument) ?? 0n);
    const held = side === Side.Sell ? pos : -pos;
    const open = this.totals.get(account)?.get(instrument);
    const lots = held / spec.lotSize - BigInt(side === Side.Sell ? (open?.sellLots ?? 0) : (open?.buyLots ?? 0));
    return lots > 0n ? Number(lots) : 0;
  }

  /** Counts an accepted (journaled) order against the daily and per-second limits. Call for every accepted order. */
  recordAccepted(instrument: string, cmd: RiskCheckable, ts: number): void {
    const inst = this.state.instrument(instrument);
    const u = this.usageOf(cmd.account, ts);
    u.orders++;
    u.inSecond++;
    if (inst === undefined || cmd.kind === "modify") return;
    const band = Math.floor((inst.oraclePrice * this.limits.priceBandBps) / 10_000);
    const price =
      cmd.kind === "limit"
        ? cmd.price
        : cmd.kind === "protective" && cmd.limitPrice !== undefined
          ? cmd.limitPrice
          : cmd.side === Side.Buy
            ? inst.oraclePrice + band
            : Math.max(1, inst.oraclePrice - band);
    u.notional += notional(inst.spec, price, cmd.qty);
  }

  private usageOf(account: AccountId, ts: number): Usage {
    const day = Math.floor(ts / 86_400_000);
    const second = Math.floor(ts / 1000);
    let u = this.usage.get(account);
    if (u === undefined) {
      u = { day, orders: 0, notional: 0n, second, inSecond: 0 };
      this.usage.set(account, u);
    }
    if (u.day !== day) {
      u.day = day;
      u.orders = 0;
      u.notional = 0n;
    }
    if (u.second !== second) {
      u.second = second;
      u.inSecond = 0;
    }
    return u;
  }

  /**
   * What a group uses of its limits now, as pre-trade risk counts it on this instance: the notional its members
   * ordered today and their gross exposure if their open buys fill.
   */
  groupUsage(
    members: readonly AccountId[],
    ts: number,
  ): { notionalToday: bigint; exposure: bigint; limits: GroupLimits | undefined } {
    let notionalToday = 0n;
    let exposure = 0n;
    for (const m of members) {
      notionalToday += this.usage.get(m)?.day === Math.floor(ts / 86_400_000) ? this.usage.get(m)!.notional : 0n;
      exposure += this.grossIfBuysFill(m);
    }
    return { notionalToday, exposure, limits: this.limits.group };
  }

  /** Notional ordered today by every member of the account's group (0 when it has none). */
  private groupNotional(account: AccountId, ts: number): bigint {
    const group = this.groups.get(account);
    if (group === undefined || this.limits.group === undefined) return 0n;
    let sum = 0n;
    for (const m of group.members) sum += this.usageOf(m, ts).notional;
    return sum;
  }

  /** The group's gross exposure — `gross` (this account's worst case) plus every other member's — over its cap. */
  private overGroupExposure(account: AccountId, gross: bigint): boolean {
    const group = this.groups.get(account);
    const cap = this.limits.group?.maxExposure;
    if (group === undefined || cap === undefined) return false;
    let total = gross;
    for (const m of group.members) if (m !== account) total += this.grossIfBuysFill(m);
    return total > cap;
  }

  /** An account's gross exposure if its open buys fill: |chain + unsettled + open buys| at the prices, summed. */
  private grossIfBuysFill(account: AccountId): bigint {
    const acct = this.state.account(account);
    if (acct === undefined) return 0n;
    const open = this.totals.get(account);
    const instruments = new Set([...acct.chain.positions.keys(), ...acct.unsettled.positions.keys()]);
    if (open !== undefined) for (const k of open.keys()) instruments.add(k);
    let gross = 0n;
    for (const j of instruments) {
      const v = this.state.instrument(j);
      if (v === undefined) continue;
      const q =
        (acct.chain.positions.get(j) ?? 0n) +
        (acct.unsettled.positions.get(j) ?? 0n) +
        BigInt(open?.get(j)?.buyLots ?? 0) * v.spec.lotSize;
      gross += this.valueAt(v, absBig(q));
    }
    return gross;
  }

  /** True when the order can only shrink the position: it closes part of it, counting the open closing orders. */
  private isRiskReducing(
    acct: AccountRiskView,
    account: AccountId,
    instrument: string,
    o: { side: Side; lots: number; replaces: OpenOrder | undefined },
  ): boolean {
    const spec = this.state.instrument(instrument)?.spec;
    if (spec === undefined) return false;
    const pos = (acct.chain.positions.get(instrument) ?? 0n) + (acct.unsettled.positions.get(instrument) ?? 0n);
    const open = this.totals.get(account)?.get(instrument);
    let closing = BigInt(o.side === Side.Sell ? (open?.sellLots ?? 0) : (open?.buyLots ?? 0));
    if (o.replaces !== undefined) closing -= BigInt(o.replaces.lots);
    const units = (closing + BigInt(o.lots)) * spec.lotSize;
    return o.side === Side.Sell ? pos > 0n && units <= pos : pos < 0n && units <= -pos;
  }

  /** The account's units of an instrument if its open buys and this buy fill (chain + unsettled + buys). */
  private unitsIfBuysFill(
    acct: AccountRiskView,
    account: AccountId,
    instrument: string,
    o: { instrument: string; lots: number; replaces: OpenOrder | undefined },
  ): bigint {
    const spec = this.state.instrument(instrument)?.spec;
    if (spec === undefined) return 0n;
    let lots = BigInt(this.totals.get(account)?.get(instrument)?.buyLots ?? 0);
    if (instrument === o.instrument) {
      lots += BigInt(o.lots);
      if (o.replaces !== undefined && o.replaces.side === Side.Buy) lots -= BigInt(o.replaces.lots);
    }
    const q =
      (acct.chain.positions.get(instrument) ?? 0n) +
      (acct.unsettled.positions.get(instrument) ?? 0n) +
      lots * spec.lotSize;
    return q > 0n ? q : 0n;
  }

  /** Value of `units` at the engine's price (else the oracle's ticks), cash base units. */
  private valueAt(v: InstrumentRiskView, units: bigint): bigint {
    if (v.engine !== undefined) return valueOf(units, v.engine.price, v.engine.scale);
    return (units * BigInt(v.oraclePrice) * v.spec.tickSize) / 10n ** BigInt(v.spec.baseDecimals);
  }

  /** The platform-wide limits for a buy by an indebted account (PlatformLimits). */
  private checkPlatform(
    acct: AccountRiskView,
    account: AccountId,
    inst: InstrumentRiskView,
    instrument: string,
    o: { instrument: string; lots: number; replaces: OpenOrder | undefined },
  ): RejectCode | null {
    const limits = this.limits.platform;
    const platform = this.state.platform;
    if (limits === undefined || platform === undefined) return null;
    const held = (j: string): bigint => platform.financedUnits(j, account) + this.unitsIfBuysFill(acct, account, j, o);
    const units = held(instrument);
    const floor = limits.minAdvUnitsOf?.[instrument] ?? limits.minAdvUnits;
    const adv = platform.averageDailyVolume(instrument) ?? 0n;
    const cap = ((adv > floor ? adv : floor) * limits.maxAdvShare) / WAD;
    if (units > cap) return RejectCode.PlatformVolumeLimit;
    const sectorCap = limits.sectorCaps[inst.sector];
    if (sectorCap === undefined) return null;
    let sectorValue = this.valueAt(inst, units);
    for (const j of platform.instrumentsIn(inst.sector)) {
      const v = this.state.instrument(j);
      if (j !== instrument && v !== undefined) sectorValue += this.valueAt(v, held(j));
    }
    return sectorValue > sectorCap ? RejectCode.PlatformSectorLimit : null;
  }

  /** The platform limits, for the job that keeps the average daily volumes (undefined: none configured). */
  get platformLimits(): PlatformLimits | undefined {
    return this.limits.platform;
  }

  /** The instruments an account's risk spans: this one, its chain and unsettled positions, its open orders. */
  private instrumentsOf(acct: AccountRiskView, account: AccountId, instrument: string): string[] {
    // few per account, so a list with includes() beats a Set here
    const instruments: string[] = [instrument];
    for (const k of acct.chain.positions.keys()) if (!instruments.includes(k)) instruments.push(k);
    for (const k of acct.unsettled.positions.keys()) if (!instruments.includes(k)) instruments.push(k);
    const openTotals = this.totals.get(account);
    if (openTotals !== undefined) for (const k of openTotals.keys()) if (!instruments.includes(k)) instruments.push(k);
    return instruments;
  }

  /** Steps 5–7 with the chain: the MarginEngine's rule on the state after the order fills (module notes). */
  private checkEngine(
    acct: AccountRiskView,
    account: AccountId,
    inst: InstrumentRiskView,
    instrument: string,
    tier: BehaviourTier,
    o: { side: Side; lots: number; price: number; replaces: OpenOrder | undefined },
  ): RejectCode | null {
    const units = BigInt(o.lots) * inst.spec.lotSize;
    const cashAmount = notional(inst.spec, o.price, o.lots);
    const openTotals = this.totals.get(account);
    const frozen = acct.chain.frozen ?? new Set<string>();
    let cash = acct.chain.cash + acct.unsettled.cash;
    // the cash every open buy may take, whatever the sells bring in
    let cashIfAllBuysFill = cash;
    const positions = new Map<string, bigint>();
    const assets = new Map<string, EngineAssetRisk>();
    const values = new Map<string, bigint>();
    for (const j of this.instrumentsOf(acct, account, instrument)) {
      const v = j === instrument ? inst : this.state.instrument(j);
      if (v === undefined) continue;
      const spec = v.spec;
      const e = v.engine;
      if (e !== undefined) assets.set(j, e);
      let q = (acct.chain.positions.get(j) ?? 0n) + (acct.unsettled.positions.get(j) ?? 0n);
      const t = openTotals?.get(j);
      let buyLots = t === undefined ? 0n : BigInt(t.buyLots);
      let sellLots = t === undefined ? 0n : BigInt(t.sellLots);
      let buyTL = t === undefined ? 0n : t.buyTickLots;
      let sellTL = t === undefined ? 0n : t.sellTickLots;
      if (j === instrument) {
        if (o.replaces !== undefined) {
          const r = BigInt(o.replaces.lots);
          if (o.replaces.side === Side.Buy) {
            buyLots -= r;
            buyTL -= r * o.replaces.priceBig;
          } else {
            sellLots -= r;
            sellTL -= r * o.replaces.priceBig;
          }
        }
        q += o.side === Side.Buy ? units : -units;
        cash += o.side === Side.Buy ? -cashAmount : cashAmount;
        if (o.side === Side.Buy) cashIfAllBuysFill -= cashAmount;
      }
      const scale = 10n ** BigInt(spec.baseDecimals);
      const buyUnits = buyLots * spec.lotSize;
      const sellUnits = sellLots * spec.lotSize;
      const buyCash = (buyTL * spec.tickSize * spec.lotSize) / scale;
      const sellCash = (sellTL * spec.tickSize * spec.lotSize) / scale;
      cashIfAllBuysFill -= buyCash;
      // the units of this and every open sell must be there
      if (q - sellUnits < 0n) return RejectCode.InsufficientBalance;
      // per instrument, the worse for initial margin of "the open buys fill" and "the open sells fill"
      const shortfall = (qq: bigint, cashIn: bigint): bigint => {
        if (e === undefined || frozen.has(j)) return -cashIn;
        const value = valueOf(qq, e.price, e.scale);
        const req = (value * e.initialMargin + WAD - 1n) / WAD;
        return req - (value * (WAD - e.haircut)) / WAD - cashIn;
      };
      const buysWorse =
        buyLots + sellLots === 0n || shortfall(q + buyUnits, -buyCash) >= shortfall(q - sellUnits, sellCash);
      const qAfter = buysWorse ? q + buyUnits : q - sellUnits;
      cash += buysWorse ? -buyCash : sellCash;
      positions.set(j, qAfter);
      if (e !== undefined) values.set(j, valueOf(qAfter, e.price, e.scale));
    }
    if (cashIfAllBuysFill < 0n) return RejectCode.InsufficientBalance;

    // exposure caps, on what the account would hold (buys only: a sale shrinks every exposure)
    if (o.side === Side.Buy) {
      let sectorGross = 0n;
      let gross = 0n;
      for (const [j, value] of values) {
        gross += value;
        if ((j === instrument ? inst : this.state.instrument(j))?.sector === inst.sector) sectorGross += value;
      }
      const instrumentCap = this.limits.instrumentExposure?.[instrument] ?? this.limits.maxInstrumentExposure;
      if ((values.get(instrument) ?? 0n) > instrumentCap) return RejectCode.InstrumentExposureLimit;
      const sectorCap = this.limits.sectorExposure?.[inst.sector] ?? this.limits.maxSectorExposure;
      if (sectorGross > sectorCap) return RejectCode.SectorExposureLimit;
      if (gross > this.limits.maxAccountExposure) return RejectCode.AccountExposureLimit;
      if (this.overGroupExposure(account, gross)) return RejectCode.GroupExposureLimit;
    }

    // which party the engine checks: an indebted buyer; an indebted seller paid less than the units counted for, or
    // any indebted seller enrolled in portfolio margin (selling a hedge raises its requirement)
    const engineAsset = inst.engine as EngineAssetRisk;
    const debt = acct.chain.debt;
    if (debt === 0n) return null;
    const portfolio = acct.chain.portfolio;
    if (o.side === Side.Sell && portfolio === undefined && saleKeepsEquity(units, cashAmount, engineAsset)) return null;
    const fixedTerm = acct.chain.fixedTerm === true;
    const im = engineInitialMargin(
      { cash, debt, maxLeverage: acct.maxLeverage, positions, frozen, fixedTerm, portfolio },
      assets,
    );
    if (im.failure !== null) return ENGINE_REJECT[im.failure];
    // the behaviour tier may cap leverage below the KYC cap (flagged accounts): off-chain, on top of the engine
    if (tier.maxLeverage < acct.maxLeverage && im.gross * WAD > tier.maxLeverage * im.equity) {
      return RejectCode.LeverageLimit;
    }
    return null;
  }

  private checkWorstCase(
    acct: AccountRiskView,
    account: AccountId,
    inst: InstrumentRiskView,
    instrument: string,
    tier: BehaviourTier,
    o: { side: Side; lots: number; price: number; replaces: OpenOrder | undefined },
  ): RejectCode | null {
    const instruments = this.instrumentsOf(acct, account, instrument);
    const openTotals = this.totals.get(account);

    let equity = acct.chain.cash + acct.unsettled.cash - acct.chain.debt;
    let equityChange = 0n;
    let requirement = 0n;
    let gross = 0n;
    let sectorGross = 0n;
    let instrumentGross = 0n;
    for (const j of instruments) {
      const v = j === instrument ? inst : this.state.instrument(j);
      if (v === undefined) continue;
      const spec = v.spec;
      const scale = 10n ** BigInt(spec.baseDecimals);
      const P = BigInt(v.oraclePrice) * spec.tickSize; // cash minor units per whole token
      const pos = (acct.chain.positions.get(j) ?? 0n) + (acct.unsettled.positions.get(j) ?? 0n);
      equity += (pos * P) / scale;
      const t = openTotals?.get(j);
      let buyLots = t === undefined ? 0n : BigInt(t.buyLots);
      let sellLots = t === undefined ? 0n : BigInt(t.sellLots);
      let buyTL = t === undefined ? 0n : t.buyTickLots;
      let sellTL = t === undefined ? 0n : t.sellTickLots;
      if (j === instrument) {
        if (o.replaces !== undefined) {
          const r = BigInt(o.replaces.lots);
          const rtl = r * o.replaces.priceBig;
          if (o.replaces.side === Side.Buy) {
            buyLots -= r;
            buyTL -= rtl;
          } else {
            sellLots -= r;
            sellTL -= rtl;
          }
        }
        const l = BigInt(o.lots);
        if (o.side === Side.Buy) {
          buyLots += l;
          buyTL += l * BigInt(o.price);
        } else {
          sellLots += l;
          sellTL += l * BigInt(o.price);
        }
      }
      const buyUnits = buyLots * spec.lotSize;
      const sellUnits = sellLots * spec.lotSize;
      // scenario "all buys fill" (b) and "all sells fill" (s)
      const bChange = (buyUnits * P) / scale - (buyTL * spec.tickSize * spec.lotSize) / scale;
      const sChange = (sellTL * spec.tickSize * spec.lotSize) / scale - (sellUnits * P) / scale;
      const bGross = (absBig(pos + buyUnits) * P) / scale;
      const sGross = (absBig(pos - sellUnits) * P) / scale;
      const bReq = ceilDiv(bGross * v.initialMargin, WAD);
      const sReq = ceilDiv(sGross * v.initialMargin, WAD);
      const buysWorse = bReq - bChange >= sReq - sChange;
      const worstGross = buysWorse ? bGross : sGross;
      equityChange += buysWorse ? bChange : sChange;
      requirement += buysWorse ? bReq : sReq;
      gross += worstGross;
      if (v.sector === inst.sector) sectorGross += worstGross;
      if (j === instrument) instrumentGross = worstGross;
    }
    const instrumentCap = this.limits.instrumentExposure?.[instrument] ?? this.limits.maxInstrumentExposure;
    if (instrumentGross > instrumentCap) return RejectCode.InstrumentExposureLimit;
    const sectorCap = this.limits.sectorExposure?.[inst.sector] ?? this.limits.maxSectorExposure;
    if (sectorGross > sectorCap) return RejectCode.SectorExposureLimit;
    if (gross > this.limits.maxAccountExposure) return RejectCode.AccountExposureLimit;
    if (this.overGroupExposure(account, gross)) return RejectCode.GroupExposureLimit;
    const worstEquity = equity + equityChange;
    if (worstEquity < requirement) return RejectCode.InsufficientInitialMargin;
    const leverage = acct.maxLeverage < tier.maxLeverage ? acct.maxLeverage : tier.maxLeverage;
    if (gross * WAD > worstEquity * leverage) return RejectCode.LeverageLimit;
    return null;
  }
}
