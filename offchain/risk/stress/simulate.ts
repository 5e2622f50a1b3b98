import { WAD, divFloor, maxBig, minBig, mulDivDown, mulDivUp, numberFromWad, ratioDown, wadFromNumber } from "../fixed";
import { assetOf, valueAccount } from "../valuation";
import { tierMargins, type TierRule } from "../tierMargins";
import { NO_HISTORY, dailyVolatility, nextVolatilityState, type VolatilityState } from "../volatility";
import type { Account, AssetRisk, Book, LiquidityTier, Market } from "../types";
import { liquidateAccount } from "./liquidate";
import type { Scenario } from "./scenario";

/** The book at the close of one scenario day (cash base units; ratios WAD). */
export interface DayRecord {
  readonly day: string;
  readonly collateralValue: bigint;
  readonly debt: bigint;
  /** Σ equity E over all accounts (may be negative for defaulted ones before they are liquidated). */
  readonly equity: bigint;
  /** Σ E / Σ V over the book, before the day's liquidations (undefined for an empty book). */
  readonly marginRatio: bigint | undefined;
  readonly accountsLiquidated: number;
  readonly liquidationVolume: bigint;
  readonly insuranceFund: bigint;
  readonly capitalPoolLoss: bigint;
  /** Maintenance margin per asset that day (WAD): the static one, or the dynamic one the engine would apply. */
  readonly maintenance: ReadonlyMap<string, bigint>;
  /** Price impact of the day's forced sales per asset (WAD, ≥ 0), applied to the next day's prices. */
  readonly impact: ReadonlyMap<string, bigint>;
}

export interface AccountOutcome {
  readonly accountId: string;
  /** Label of the first day it was liquidated. */
  readonly firstLiquidated: string;
  readonly liquidations: number;
  readonly seizedValue: bigint;
  readonly badDebt: bigint;
}

/** Per scenario, what the brief asks for. Money in cash base units, ratios WAD. */
export interface ScenarioResult {
  readonly scenarioId: string;
  readonly name: string;
  readonly source: string;
  readonly accountsLiquidated: number;
  readonly liquidationVolume: bigint;
  readonly badDebt: bigint;
  /** Bad debt the insurance fund covered. */
  readonly insuranceFundUsed: bigint;
  /**
   * Σ max(0, debt − collateral value) at the end over accounts still holding unsold collateral: bad debt the
   * scenario has not yet recognised because liquidation limits kept it from finishing. Not in badDebt.
   */
  readonly shortfallOutstanding: bigint;
  /** Penalty share paid into the insurance fund during the scenario. */
  readonly insuranceFundIncome: bigint;
  readonly insuranceFundAfter: bigint;
  /** Bad debt the insurance fund could not cover: socialised to capital providers. */
  readonly capitalPoolLoss: bigint;
  readonly liquidatorRewards: bigint;
  /** Pool assets / provider claims before and after (WAD). */
  readonly reserveRatioBefore: bigint | undefined;
  readonly reserveRatioAfter: bigint | undefined;
  /**
   * Worst single-day market move of the book's collateral value (WAD, ≤ 0): the holdings after yesterday's
   * liquidations at today's prices against the same holdings at yesterday's, so seizures do not count as a fall.
   */
  readonly worstDay: bigint;
  readonly accounts: readonly AccountOutcome[];
  readonly daily: readonly DayRecord[];
}

export interface SimulationOptions {
  /**
   * Fraction (WAD) of each position of a tier that can be liquidated per day, rounded up to whole base units;
   * a tier not listed has no limit. Models limit-down days and thin small caps (2015: trading in over half of
   * listed shares was suspended in early July). Without limits every liquidation completes the day it starts.
   */
  readonly dailyLiquidationLimit?: Partial<Readonly<Record<LiquidityTier, bigint>>>;
  /**
   * Margins that follow the market, as the engine's: each asset's daily σ is re-estimated every day from the
   * scenario's returns with the router's estimator (volatility.ts, one return per day), and its maintenance and
   * initial margin come from its tier's rule (tierMargins). Without it, each asset keeps its static margins.
   */
  readonly dynamicMargin?: {
    readonly tiers: Readonly<Record<LiquidityTier, TierRule>>;
    /** The router's half-life, seconds. */
    readonly halfLifeSeconds: bigint;
    /** σ history before the scenario, per asset (default: none, the first day's return starts it). */
    readonly history?: ReadonlyMap<string, VolatilityState>;
  };
  /**
   * Price impact of forced sales (square-root law): the value an asset's liquidations sell in a day moves its price
   * by −coefficient · σ_daily · √(sold / ADV) more on the next day, so that a cascade can appear. σ is the dynamic
   * estimate when there is one, else `sigma`.
   */
  readonly impact?: {
    readonly coefficient: number;
    /** Average daily traded value per asset, cash base units. */
    readonly adv: Readonly<Record<string, bigint>>;
    /** σ_daily per asset for the impact when margins are static (default 2%). */
    readonly sigma?: Readonly<Record<string, number>>;
  };
  /** No liquidator acts on the first n days (a keeper outage; no third party steps in). */
  readonly liquidatorOutageDays?: number;
}

/**
 * Runs one scenario over the book. Each day: prices move by the day's returns (price · (1 + r), rounded down, never
 * below 1 wei), then every account below maintenance is liquidated (liquidateAccount), in the book's order; bad
 * debt goes down the waterfall — account collateral (already used by the liquidation) → insurance fund (including
 * penalty income received earlier in the scenario) → capital pool. No client cures a margin call and no interest
 * accrues within the scenario: the conservative reading of a short crash.
 *
 * Pool assets = pool cash + repayments + outstanding debt + insurance payouts; provider claims default to pool cash
 * + Σ debt at the start, so the reserve ratio after = 1 − capital pool loss / claims.
 */
export function runScenario(book: Book, scenario: Scenario, options: SimulationOptions = {}): ScenarioResult {
  const { market, funding } = book;
  let prices = new Map(market.prices);
  let accounts: Account[] = [...book.accounts];
  const initialDebt = accounts.reduce((sum, a) => sum + a.debt, 0n);
  const claims = funding.providerClaims ?? funding.poolCash + initialDebt;
  let insurance = funding.insuranceFund;
  let insuranceUsed = 0n;
  let insuranceIncome = 0n;
  let poolLoss = 0n;
  let badDebtTotal = 0n;
  let volume = 0n;
  let rewards = 0n;
  let worstDay = 0n;
  let previousValue = accounts.reduce((sum, a) => sum + valueAccount(a, market, prices).collateralValue, 0n);
  const outcomes = new Map<string, { firstLiquidated: string; liquidations: number; seized: bigint; bad: bigint }>();
  const daily: DayRecord[] = [];
  const limits = options.dailyLiquidationLimit ?? {};
  const vol = new Map<string, VolatilityState>(options.dynamicMargin?.history ?? []);
  let pendingImpact = new Map<string, bigint>();
  const saleLimits = (account: Account): Map<string, bigint> | undefined => {
    const capped = account.positions.flatMap((p) => {
      const fraction = limits[assetOf(market, p.asset).liquidityTier];
      return fraction === undefined ? [] : [[p.asset, mulDivUp(p.quantity, fraction, WAD)] as const];
    });
    return capped.length ? new Map(capped) : undefined;
  };

  scenario.returns.forEach((scenarioReturns, dayIndex) => {
    const day = scenario.days[dayIndex] ?? `day ${dayIndex + 1}`;
    const returns = withImpact(scenarioReturns, pendingImpact);
    const before = prices;
    prices = movePrices(prices, returns);
    const dayMarket = options.dynamicMargin
      ? dynamicMarket(market, options.dynamicMargin, vol, before, prices)
      : market;
    const liquidating = dayIndex >= (options.liquidatorOutageDays ?? 0);

    const valuations = accounts.map((account) => valueAccount(account, dayMarket, prices));
    let collateralValue = 0n;
    let equity = 0n;
    let debt = 0n;
    for (const v of valuations) {
      collateralValue += v.collateralValue;
      equity += v.equity;
      debt += v.debt;
    }
    if (previousValue > 0n) {
      const move = divFloor((collateralValue - previousValue) * WAD, previousValue);
      if (move < worstDay) worstDay = move;
    }

    let liquidatedToday = 0;
    let volumeToday = 0n;
    let closingValue = 0n;
    const soldToday = new Map<string, bigint>();
    accounts = accounts.map((account, i) => {
      const v = valuations[i];
      const result =
        liquidating && v.equity < v.maintenanceRequirement
          ? liquidateAccount(account, dayMarket, prices, funding.insuranceShareOfPenalty, saleLimits(account))
          : undefined;
      if (!result) {
        closingValue += v.collateralValue;
        return account;
      }
      closingValue += valueAccount(result.account, dayMarket, prices).collateralValue;
      for (const seizure of result.seizures) {
        soldToday.set(seizure.asset, (soldToday.get(seizure.asset) ?? 0n) + seizure.value);
      }
      liquidatedToday += 1;
      volumeToday += result.seizedValue;
      rewards += result.liquidatorReward;
      insurance += result.insuranceIncome;
      insuranceIncome += result.insuranceIncome;
      const covered = minBig(insurance, result.badDebt);
      insurance -= covered;
      insuranceUsed += covered;
      poolLoss += result.badDebt - covered;
      badDebtTotal += result.badDebt;
      const o = outcomes.get(account.id) ?? { firstLiquidated: day, liquidations: 0, seized: 0n, bad: 0n };
      outcomes.set(account.id, {
        ...o,
        liquidations: o.liquidations + 1,
        seized: o.seized + result.seizedValue,
        bad: o.bad + result.badDebt,
      });
      return result.account;
    });
    volume += volumeToday;
    previousValue = closingValue;
    pendingImpact = options.impact ? impactOf(options.impact, soldToday, vol) : new Map();
    daily.push({
      day,
      collateralValue,
      debt,
      equity,
      marginRatio: ratioDown(equity, collateralValue),
      accountsLiquidated: liquidatedToday,
      liquidationVolume: volumeToday,
      insuranceFund: insurance,
      capitalPoolLoss: poolLoss,
      maintenance: new Map([...dayMarket.assets].map(([id, a]) => [id, a.maintenanceMargin])),
      impact: pendingImpact,
    });
  });

  return {
    scenarioId: scenario.id,
    name: scenario.name,
    source: scenario.source,
    accountsLiquidated: outcomes.size,
    liquidationVolume: volume,
    badDebt: badDebtTotal,
    insuranceFundUsed: insuranceUsed,
    insuranceFundIncome: insuranceIncome,
    insuranceFundAfter: insurance,
    capitalPoolLoss: poolLoss,
    liquidatorRewards: rewards,
    shortfallOutstanding: accounts.reduce((sum, account) => {
      const v = valueAccount(account, market, prices);
      return sum + maxBig(0n, v.debt - v.collateralValue);
    }, 0n),
    reserveRatioBefore: ratioDown(funding.poolCash + initialDebt, claims),
    reserveRatioAfter: ratioDown(funding.poolCash + initialDebt - poolLoss, claims),
    worstDay,
    accounts: [...outcomes].map(([accountId, o]) => ({
      accountId,
      firstLiquidated: o.firstLiquidated,
      liquidations: o.liquidations,
      seizedValue: o.seized,
      badDebt: o.bad,
    })),
    daily,
  };
}

function movePrices(prices: ReadonlyMap<string, bigint>, returns: ReadonlyMap<string, bigint>): Map<string, bigint> {
  const next = new Map(prices);
  for (const [asset, r] of returns) {
    const price = prices.get(asset);
    if (price === undefined) continue;
    const moved = mulDivDown(price, r <= -WAD ? 0n : WAD + r, WAD);
    next.set(asset, moved > 0n ? moved : 1n);
  }
  return next;
}

/** The day's returns with yesterday's price impact added (−impact on top of the market's move). */
function withImpact(returns: ReadonlyMap<string, bigint>, impact: ReadonlyMap<string, bigint>): Map<string, bigint> {
  const out = new Map(returns);
  for (const [asset, i] of impact) {
    const r = out.get(asset) ?? 0n;
    // (1 + r)(1 − i) − 1
    out.set(asset, ((WAD + r) * (WAD - i)) / WAD - WAD);
  }
  return out;
}

/** The market with each asset's margins as the engine would set them after the day's return. */
function dynamicMarket(
  market: Market,
  dynamic: NonNullable<SimulationOptions["dynamicMargin"]>,
  vol: Map<string, VolatilityState>,
  before: ReadonlyMap<string, bigint>,
  after: ReadonlyMap<string, bigint>,
): Market {
  const assets = new Map<string, AssetRisk>();
  for (const [id, a] of market.assets) {
    const p0 = before.get(id);
    const p1 = after.get(id);
    if (p0 !== undefined && p1 !== undefined && p0 > 0n && p1 > 0n) {
      const r = wadFromNumber(Math.log(Number(p1) / Number(p0)));
      vol.set(id, nextVolatilityState(vol.get(id) ?? NO_HISTORY, r, 86_400n, dynamic.halfLifeSeconds));
    }
    const m = tierMargins(dynamic.tiers[a.liquidityTier], dailyVolatility(vol.get(id) ?? NO_HISTORY));
    assets.set(id, { ...a, maintenanceMargin: m.maintenance, initialMargin: m.initial });
  }
  return { ...market, assets };
}

/** Square-root impact of the day's forced sales: coefficient · σ · √(sold / ADV), at most 90%. */
function impactOf(
  impact: NonNullable<SimulationOptions["impact"]>,
  sold: ReadonlyMap<string, bigint>,
  vol: ReadonlyMap<string, VolatilityState>,
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [asset, value] of sold) {
    const adv = impact.adv[asset];
    if (adv === undefined || adv <= 0n || value <= 0n) continue;
    const state = vol.get(asset);
    const sigma = state ? numberFromWad(dailyVolatility(state)) : (impact.sigma?.[asset] ?? 0.02);
    const fraction = Math.min(0.9, impact.coefficient * sigma * Math.sqrt(Number(value) / Number(adv)));
    out.set(asset, wadFromNumber(fraction));
  }
  return out;
}
