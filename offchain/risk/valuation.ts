import { RiskError } from "./errors";
import { WAD, mulDivDown, mulDivUp, ratioDown } from "./fixed";
import type { Account, AssetRisk, Market } from "./types";

/**
 * Margin definitions (docs/risk.md). For an account with cash C, debt D and positions of value V_i:
 *   collateral value      V = C + Σ V_i                         (V_i = quantity · price, rounded down)
 *   adjusted collateral   A = C + Σ (1 − h_i) · V_i              (haircut h_i, rounded down)
 *   equity                E = A − D
 *   maintenance req.      M = Σ m_i · V_i                        (rounded up)
 *   initial req.          I = Σ im_i · V_i                       (rounded up)
 *   margin ratio          ρ = E / V;  maintenance line M / V
 * Liquidatable iff E < M. With one asset, no cash and no haircut this is DESIGN.md's E·(1 + L·r) < m·L·E·(1 + r).
 */
export interface Valuation {
  readonly collateralValue: bigint;
  readonly adjustedCollateral: bigint;
  readonly debt: bigint;
  readonly equity: bigint;
  readonly maintenanceRequirement: bigint;
  readonly initialRequirement: bigint;
  /** E / V (WAD, rounded down); undefined when the account holds nothing. */
  readonly marginRatio: bigint | undefined;
  readonly state: AccountState;
}

/**
 * Healthy: E ≥ I. Warning: M ≤ E < I (no new risk). Liquidatable: E < M. Defaulted: D > V, the debt exceeds all
 * collateral at market value. (The on-chain MarginCall state adds a cure deadline; the risk model, which looks at
 * a snapshot or a stress path, treats every account below maintenance as liquidatable.)
 */
export type AccountState = "Healthy" | "Warning" | "Liquidatable" | "Defaulted";

export function assetOf(market: Market, asset: string): AssetRisk {
  const risk = market.assets.get(asset);
  if (!risk) throw new RiskError("RISK_UNKNOWN_ASSET", `unknown asset ${asset}`, { asset });
  return risk;
}

export function priceOf(prices: ReadonlyMap<string, bigint>, asset: string): bigint {
  const price = prices.get(asset);
  if (price === undefined || price <= 0n) throw new RiskError("RISK_NO_PRICE", `no price for ${asset}`, { asset });
  return price;
}

/** Value of `quantity` base units at `price` (18-dec per whole token) in cash base units, rounded down. */
export function positionValue(quantity: bigint, price: bigint, decimals: number, cashDecimals: number): bigint {
  return mulDivDown(quantity * price, 10n ** BigInt(cashDecimals), 10n ** BigInt(decimals) * WAD);
}

/** Base units of the asset worth at least `value` cash base units at `price`, rounded up. */
export function quantityForValue(value: bigint, price: bigint, decimals: number, cashDecimals: number): bigint {
  return mulDivUp(value * 10n ** BigInt(decimals), WAD, price * 10n ** BigInt(cashDecimals));
}

export function valueAccount(
  account: Account,
  market: Market,
  prices: ReadonlyMap<string, bigint> = market.prices,
): Valuation {
  let collateralValue = account.cash;
  let adjustedCollateral = account.cash;
  let maintenanceRequirement = 0n;
  let initialRequirement = 0n;
  for (const position of account.positions) {
    const risk = assetOf(market, position.asset);
    const value = positionValue(position.quantity, priceOf(prices, position.asset), risk.decimals, market.cashDecimals);
    collateralValue += value;
    adjustedCollateral += mulDivDown(value, WAD - risk.haircut, WAD);
    maintenanceRequirement += mulDivUp(value, risk.maintenanceMargin, WAD);
    initialRequirement += mulDivUp(value, risk.initialMargin, WAD);
  }
  const equity = adjustedCollateral - account.debt;
  return {
    collateralValue,
    adjustedCollateral,
    debt: account.debt,
    equity,
    maintenanceRequirement,
    initialRequirement,
    marginRatio: ratioDown(equity, collateralValue),
    state: classify(collateralValue, account.debt, equity, maintenanceRequirement, initialRequirement),
  };
}

function classify(value: bigint, debt: bigint, equity: bigint, maintenance: bigint, initial: bigint): AccountState {
  if (debt > value) return "Defaulted";
  if (equity < maintenance) return "Liquidatable";
  if (equity < initial) return "Warning";
  return "Healthy";
}
