import { WAD, divFloor, maxBig, minBig, mulDivDown, mulDivUp, ratioDown } from "../fixed";
import { assetOf, valueAccount } from "../valuation";
import type { Account, Book, LiquidityTier } from "../types";
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
  const saleLimits = (account: Account): Map<string, bigint> | undefined => {
    const capped = account.positions.flatMap((p) => {
      const fraction = limits[assetOf(market, p.asset).liquidityTier];
      return fraction === undefined ? [] : [[p.asset, mulDivUp(p.quantity, fraction, WAD)] as const];
    });
    return capped.length ? new Map(capped) : undefined;
  };

  scenario.returns.forEach((returns, dayIndex) => {
    const day = scenario.days[dayIndex] ?? `day ${dayIndex + 1}`;
    prices = movePrices(prices, returns);

    const valuations = accounts.map((account) => valueAccount(account, market, prices));
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
    accounts = accounts.map((account, i) => {
      const v = valuations[i];
      const result =
        v.equity < v.maintenanceRequirement
          ? liquidateAccount(account, market, prices, funding.insuranceShareOfPenalty, saleLimits(account))
          : undefined;
      if (!result) {
        closingValue += v.collateralValue;
        return account;
      }
      closingValue += valueAccount(result.account, market, prices).collateralValue;
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
