/**
 * The risk model's view of the book: a mirror of the on-chain margin engine's state, read from the chain by the
 * caller (keeper, API, console, CLI) and handed in through these types. All amounts are bigint:
 * - token quantities in the token's base units,
 * - prices 18-decimal per WHOLE token in the quote (cash) currency, as IOracleRouter returns them,
 * - money (debt, values, fees, losses) in the cash token's base units (mbCNY: 6 decimals),
 * - ratios and rates 18-decimal (WAD: 1e18 = 100%).
 */

/** Liquidity tier of an asset: 1 = most liquid (large caps) … 3 = least liquid (small caps). */
export type LiquidityTier = 1 | 2 | 3;

/** Per-asset risk parameters, as configured in the margin engine. */
export interface AssetRisk {
  /** Asset id (the token address, or its symbol off-chain). */
  readonly asset: string;
  readonly symbol: string;
  /** Token decimals (mbBANK/mbTECH/mbSMALL: 0). */
  readonly decimals: number;
  /** Fraction of the position value that does not count as collateral (WAD). */
  readonly haircut: bigint;
  /** Initial margin (WAD): equity needed per unit of position value to add risk; the liquidation target. */
  readonly initialMargin: bigint;
  /** Maintenance margin m (WAD): below equity < Σ m·value the account is liquidatable. */
  readonly maintenanceMargin: bigint;
  /** Liquidation penalty (WAD): collateral is seized at price · (1 − penalty). */
  readonly liquidationPenalty: bigint;
  readonly liquidityTier: LiquidityTier;
}

export interface Position {
  readonly asset: string;
  /** Quantity in the token's base units. */
  readonly quantity: bigint;
}

/** One margin account. */
export interface Account {
  readonly id: string;
  /** Cash collateral held in the account (cash base units). */
  readonly cash: bigint;
  readonly positions: readonly Position[];
  /** Outstanding debt to the capital pool, interest included (cash base units). */
  readonly debt: bigint;
  /** Annual interest rate on the debt (WAD, 0.08e18 = 8%). */
  readonly annualRate: bigint;
}

/** Asset parameters and current prices. */
export interface Market {
  /** Decimals of the cash (quote) token: 6 for mbCNY. */
  readonly cashDecimals: number;
  readonly assets: ReadonlyMap<string, AssetRisk>;
  /** Price per whole token, 18 decimals, in the quote currency. */
  readonly prices: ReadonlyMap<string, bigint>;
}

/** The platform's funding side, in cash base units. */
export interface Funding {
  /** Insurance fund balance. */
  readonly insuranceFund: bigint;
  /** Capital pool cash not lent out. */
  readonly poolCash: bigint;
  /** What the pool owes its capital providers (their share value). Defaults to poolCash + Σ account debt. */
  readonly providerClaims?: bigint;
  /** Share of each liquidation penalty paid to the insurance fund (WAD); the liquidator keeps the rest. */
  readonly insuranceShareOfPenalty: bigint;
}

/** Everything the stress tests and VaR need: the whole book. */
export interface Book {
  readonly market: Market;
  readonly accounts: readonly Account[];
  readonly funding: Funding;
}
