import { WAD, maxBig, minBig, mulDivDown, mulDivUp } from "../fixed";
import type { Scenario } from "./scenario";

/**
 * Counterparty scenarios (docs/risk.md): what the market paths do not contain. All money in cash base units.
 */

/**
 * Custodian failure: from `dayIndex` on, `asset` is worth nothing (the custodian cannot deliver it; the engine would
 * see its price at zero or its balance frozen). The path's other moves stay.
 */
export function custodianFailure(scenario: Scenario, asset: string, dayIndex: number): Scenario {
  return {
    ...scenario,
    id: `${scenario.id}+custodian-failure-${asset}`,
    name: `${scenario.name}, with ${asset} lost at its custodian on ${scenario.days[dayIndex] ?? `day ${dayIndex + 1}`}`,
    returns: scenario.returns.map((returns, i) => {
      if (i < dayIndex) return returns;
      const next = new Map(returns);
      next.set(asset, i === dayIndex ? -WAD : 0n);
      return next;
    }),
  };
}

export interface ProviderRunInput {
  /** What the providers' shares are worth at the start. */
  readonly claims: bigint;
  /** Cash the pool holds (not lent). */
  readonly poolCash: bigint;
  /** The liquidity buffer: the share of claims the pool keeps unlent (WAD); redemptions may use it. */
  readonly buffer: bigint;
  /** Share of the remaining claims asking to redeem each day (WAD). */
  readonly redeemPerDay: bigint;
  /** Cash the book returns to the pool each day (repayments, liquidations). */
  readonly inflowPerDay: bigint;
  /** Largest share of the claims the pool pays out in one day (the pro-rata gate, WAD; 1e18: no gate). */
  readonly gatePerDay: bigint;
  readonly days: number;
}

export interface ProviderRunDay {
  readonly day: number;
  readonly requested: bigint;
  readonly paid: bigint;
  /** Requests waiting at the end of the day, first in first out. */
  readonly queued: bigint;
  readonly poolCash: bigint;
}

export interface ProviderRunResult {
  readonly days: readonly ProviderRunDay[];
  readonly paid: bigint;
  readonly maxQueued: bigint;
  /** First day the queue is empty again after it formed (undefined: it never cleared, or never formed). */
  readonly queueClearedOn: number | undefined;
}

/**
 * A run of capital providers: each day `redeemPerDay` of the remaining claims asks to redeem; the pool pays from its
 * cash, at most `gatePerDay` of the claims, and the rest waits in the queue (ERC-7540) until repayments and
 * liquidations bring cash back. Rounding: requests up, payments down (the pool's favour).
 */
export function providerRun(input: ProviderRunInput): ProviderRunResult {
  let claims = input.claims;
  let cash = input.poolCash;
  let queued = 0n;
  let paidTotal = 0n;
  let maxQueued = 0n;
  let queueClearedOn: number | undefined;
  let formed = false;
  const days: ProviderRunDay[] = [];
  for (let day = 1; day <= input.days; day++) {
    cash += input.inflowPerDay;
    const requested = mulDivUp(maxBig(0n, claims - queued), input.redeemPerDay, WAD);
    queued += requested;
    const gate = mulDivDown(input.claims, input.gatePerDay, WAD);
    const paid = minBig(minBig(queued, cash), gate);
    cash -= paid;
    queued -= paid;
    claims -= paid;
    paidTotal += paid;
    if (queued > maxQueued) maxQueued = queued;
    if (queued > 0n) formed = true;
    else if (formed && queueClearedOn === undefined) queueClearedOn = day;
    days.push({ day, requested, paid, queued, poolCash: cash });
  }
  return { days, paid: paidTotal, maxQueued, queueClearedOn };
}

export interface ReserveAdequacyInput {
  /** Stress losses the insurance fund would have to cover, one per scenario (cash base units). */
  readonly losses: readonly bigint[];
  /** The percentile the fund must cover (e.g. 0.99). */
  readonly percentile: number;
  readonly insuranceFund: bigint;
  /** Financed turnover per day (new loans), cash base units. */
  readonly turnoverPerDay: bigint;
  /** Contribution per financed turnover at calm volatility (WAD, e.g. 0.0005e18 = 5 bp). */
  readonly baseRate: bigint;
  /** Daily σ now and in calm markets (WAD): contributions scale with their ratio, never below 1. */
  readonly sigma: bigint;
  readonly calmSigma: bigint;
}

export interface ReserveAdequacy {
  /** The fund's target: the stress loss at the percentile. */
  readonly target: bigint;
  readonly gap: bigint;
  /** Contribution per financed turnover now (WAD). */
  readonly rate: bigint;
  readonly perDay: bigint;
  /** Days to close the gap at that rate (undefined with no turnover; 0 when there is no gap). */
  readonly daysToTarget: number | undefined;
}

/**
 * The insurance fund's target is the stress loss at a stated percentile of the scenarios (nearest rank, rounded up);
 * until the fund holds it, each financed loan contributes `baseRate` of its amount, times the volatility multiplier
 * σ / σ_calm (at least 1), so that the fund fills faster when the market is rougher.
 */
export function reserveAdequacy(input: ReserveAdequacyInput): ReserveAdequacy {
  const sorted = [...input.losses].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(input.percentile * sorted.length) - 1));
  const target = sorted.length ? sorted[rank] : 0n;
  const gap = maxBig(0n, target - input.insuranceFund);
  const multiplier = input.calmSigma > 0n ? maxBig(WAD, mulDivUp(input.sigma, WAD, input.calmSigma)) : WAD;
  const rate = mulDivUp(input.baseRate, multiplier, WAD);
  const perDay = mulDivDown(input.turnoverPerDay, rate, WAD);
  const daysToTarget = gap === 0n ? 0 : perDay === 0n ? undefined : Number((gap + perDay - 1n) / perDay);
  return { target, gap, rate, perDay, daysToTarget };
}
