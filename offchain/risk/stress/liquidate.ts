import { WAD, minBig, mulDivDown, mulDivUp } from "../fixed";
import { assetOf, positionValue, priceOf, quantityForValue, valueAccount } from "../valuation";
import type { Account, Market, Position } from "../types";

export interface Seizure {
  readonly asset: string;
  /** Base units taken from the account. */
  readonly quantity: bigint;
  /** Their value at the oracle price (cash base units, rounded down). */
  readonly value: bigint;
}

export interface LiquidationResult {
  /** The account after liquidation; a written-off remainder of debt is no longer in it. */
  readonly account: Account;
  readonly seizures: readonly Seizure[];
  /** Σ seized value at oracle prices: the liquidation volume. */
  readonly seizedValue: bigint;
  /** Debt repaid from the proceeds (seized value less penalty) and, once no position is left, from cash. */
  readonly debtRepaid: bigint;
  readonly liquidatorReward: bigint;
  readonly insuranceIncome: bigint;
  /** Debt left once every position is sold and the cash is used: it enters the loss waterfall. */
  readonly badDebt: bigint;
}

/**
 * Liquidates an account that is below maintenance (E < M); returns undefined for one that is not.
 *
 * Partial and in segments, least liquid tier first (tier 3, then 2, then 1; ties by asset id). Each segment sells
 * just enough of one asset to restore the initial-margin requirement (E ≥ Σ im_i·V_i, the target above
 * maintenance): selling value ΔV of asset j changes E by ΔV·(h_j − π_j) and the requirement by −im_j·ΔV, so
 * ΔV = (I − E) / (im_j + h_j − π_j), rounded up to whole base units. An asset whose denominator is not positive
 * (selling it cannot help) is sold in full. Collateral is seized at price · (1 − π_j): the proceeds repay debt,
 * the penalty value is split between the insurance fund (its share, rounded down) and the liquidator. When every
 * position is gone, cash repays what debt remains; anything still owed is bad debt.
 *
 * `saleLimit` caps the base units of an asset that can be sold now (a market that is limit-down or thin); what
 * cannot be sold stays in the account for the next attempt, and no bad debt is recognised while anything is left.
 */
export function liquidateAccount(
  account: Account,
  market: Market,
  prices: ReadonlyMap<string, bigint>,
  insuranceShareOfPenalty: bigint,
  saleLimit?: ReadonlyMap<string, bigint>,
): LiquidationResult | undefined {
  const before = valueAccount(account, market, prices);
  if (before.equity >= before.maintenanceRequirement) return undefined;

  const quantities = new Map(account.positions.map((p) => [p.asset, p.quantity]));
  const order = [...account.positions]
    .map((p) => assetOf(market, p.asset))
    .sort((a, b) => b.liquidityTier - a.liquidityTier || (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  let cash = account.cash;
  let debt = account.debt;
  const seizures: Seizure[] = [];
  let seizedValue = 0n;
  let debtRepaid = 0n;
  let liquidatorReward = 0n;
  let insuranceIncome = 0n;
  const current = (): Account => ({ ...account, cash, debt, positions: positionsOf(account.positions, quantities) });

  for (const risk of order) {
    const held = quantities.get(risk.asset) ?? 0n;
    if (held === 0n) continue;
    const now = valueAccount(current(), market, prices);
    if (now.equity >= now.initialRequirement) break;

    const price = priceOf(prices, risk.asset);
    const denominator = risk.initialMargin + risk.haircut - risk.liquidationPenalty;
    const wanted =
      denominator > 0n
        ? quantityForValue(
            mulDivUp(now.initialRequirement - now.equity, WAD, denominator),
            price,
            risk.decimals,
            market.cashDecimals,
          )
        : held;
    const quantity = minBig(minBig(held, wanted), saleLimit?.get(risk.asset) ?? held);
    if (quantity === 0n) continue;
    const value = positionValue(quantity, price, risk.decimals, market.cashDecimals);
    const proceeds = mulDivDown(value, WAD - risk.liquidationPenalty, WAD);
    const penalty = value - proceeds;
    const toInsurance = mulDivDown(penalty, insuranceShareOfPenalty, WAD);
    const repaid = minBig(proceeds, debt);

    quantities.set(risk.asset, held - quantity);
    debt -= repaid;
    cash += proceeds - repaid;
    seizures.push({ asset: risk.asset, quantity, value });
    seizedValue += value;
    debtRepaid += repaid;
    insuranceIncome += toInsurance;
    liquidatorReward += penalty - toInsurance;
  }

  let badDebt = 0n;
  if ([...quantities.values()].every((q) => q === 0n) && debt > 0n) {
    const fromCash = minBig(cash, debt);
    cash -= fromCash;
    debt -= fromCash;
    debtRepaid += fromCash;
    badDebt = debt;
    debt = 0n;
  }
  return {
    account: current(),
    seizures,
    seizedValue,
    debtRepaid,
    liquidatorReward,
    insuranceIncome,
    badDebt,
  };
}

function positionsOf(original: readonly Position[], quantities: ReadonlyMap<string, bigint>): Position[] {
  return original.map((p) => ({ asset: p.asset, quantity: quantities.get(p.asset) ?? 0n }));
}
