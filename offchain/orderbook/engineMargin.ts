import {
  PriceStatus,
  type ChainPortfolioFacts,
  type EngineAssetRisk,
  type EngineTierRule,
} from "../chain/orderbookChain";
import { portfolioAccountMargins, portfolioRequirements, tierMargins, type PortfolioHolding } from "../risk";

/**
 * The MarginEngine's initial-margin rule, replicated bit for bit for pre-trade risk (issue 23, "one risk model"):
 * what `MarginEngine.checkInitialMargin` answers after a trade settles, and which party of a trade the engine checks
 * at all (`settleTrade`'s answer). Pure integer arithmetic with the engine's roundings (MarginMath: values down,
 * requirements up); nothing here does I/O. The inputs are read from the chain at one block (ChainRiskState).
 *
 * Engine rule (contracts/margin/MarginValuation.sol, MarginSettlement.sol), for an account holding positions q_i:
 *   value_i      = ⌊q_i · price_i / scale_i⌋                   (0 when frozen or the price is neither Safe nor Closed)
 *   collateral_i = ⌊value_i · (1 − haircut_i)⌋
 *   initialReq   = Σ ⌈value_i · initial_i⌉                     (initial_i: the engine's current initial margin;
 *                                                               in the account's fixed term, the tier's margin at
 *                                                               its fixedVolatility)
 *   equity       = cash − debt + Σ collateral_i               (cash: the account's unfrozen cash)
 *   meets        ⇔ no held unfrozen asset paused for new risk, every held unfrozen price Safe,
 *                  equity ≥ initialReq, equity > 0 and (cash + Σ value_i) · 1e18 ≤ maxLeverage · equity
 * Portfolio margin (issue 26, MarginValuation._applyPortfolio): for an account enrolled in it that holds an option
 * series, the positions after the trade — every one held, in the engine's order (asset id), a frozen or unpriced
 * one at price 0 — go through the mirror of PortfolioRisk.margins (offchain/risk/portfolioAccount.ts) with the
 * series' terms, volatilities, underlyings and grid read at the account's block, and initial_i is the satellite's:
 * one rate per underlying group, ⌈(R + Σ rule initial − Σ rule maintenance) / group value⌉ (≤ 1), R the grid's
 * requirement; positions outside a group (and groups the grid cannot value) keep the rule. The sums are the same.
 * So a put bought by an account holding the shares is margined against them, as the engine will.
 * An account without debt always meets it. The buyer of a trade is checked when it has debt; the seller when it has
 * debt and is paid less than the units counted for: cash < ⌈⌈units · price / scale⌉ · (1 − haircut)⌉ (or the price
 * is not Safe), and always when it is enrolled in portfolio margin (MarginSettlement: under the grid, selling a hedge
 * at a fair price raises the requirement).
 */

// The asset inputs are read from the chain (offchain/chain/orderbookChain.ts owns their shape).
export { PriceStatus, type EngineAssetRisk, type EngineTierRule };
/** What the portfolio-margin mirror needs beside the positions, for an account enrolled in it. */
export type EnginePortfolio = ChainPortfolioFacts;

const WAD = 10n ** 18n;

/** An account's balances as the engine will hold them after the trade (base units). */
export interface EngineAccountState {
  /** Unfrozen cash. Negative: the engine could not debit it (the trade cannot settle). */
  readonly cash: bigint;
  readonly debt: bigint;
  /** From KycRegistry.maxLeverageOf (WAD). */
  readonly maxLeverage: bigint;
  /** Positions by asset key; a negative one cannot settle. */
  readonly positions: ReadonlyMap<string, bigint>;
  readonly frozen: ReadonlySet<string>;
  /** In its fixed margin term (MarginEngine.setFixedTerm): margined at each tier's fixed volatility. */
  readonly fixedTerm?: boolean;
  /** Enrolled in portfolio margin (PortfolioRisk.portfolioMargined): the grid's inputs read at the account's block. */
  readonly portfolio?: EnginePortfolio;
}

export type InitialMarginFailure = "price-unsafe" | "borrowing-paused" | "initial-margin" | "leverage";

export interface EngineInitialMargin {
  readonly equity: bigint;
  readonly initialRequirement: bigint;
  /** cash + Σ value: what the leverage cap applies to. */
  readonly gross: bigint;
  /** The satellite's margins replaced the rule's (an enrolled account holding an option series). */
  readonly portfolio: boolean;
  /** null when the account meets initial margin (as checkInitialMargin answers true). */
  readonly failure: InitialMarginFailure | null;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return a === 0n ? 0n : (a - 1n) / b + 1n;
}

/** The initial margin the engine applies to a position in `asset` for an account in or out of its fixed term. */
export function initialMarginFor(asset: EngineAssetRisk, fixedTerm: boolean): bigint {
  return fixedTerm ? tierMargins(asset.tierRule, asset.tierRule.fixedVolatility).initial : asset.initialMargin;
}

/** MarginMath.valueOf: ⌊amount · price / scale⌋. */
export function valueOf(amount: bigint, price: bigint, scale: bigint): bigint {
  return (amount * price) / scale;
}

/**
 * MarginValuation.meetsInitialMargin on the given state (`assets` must hold every asset in `positions` with a
 * positive balance; an asset missing there counts as unpriced, which fails like an unsafe price).
 */
export function engineInitialMargin(
  account: EngineAccountState,
  assets: ReadonlyMap<string, EngineAssetRisk>,
): EngineInitialMargin {
  let collateral = 0n;
  let positionValue = 0n;
  let initialRequirement = 0n;
  let failure: InitialMarginFailure | null = null;
  // every held position as the engine hands it to the portfolio satellite, with its asset id (the engine's order)
  const holdings: (PortfolioHolding & { id: number })[] = [];
  const unpriced = (a: EngineAssetRisk | undefined, q: bigint): void => {
    if (a !== undefined) holdings.push(holding(a, q, 0n, 0n, 0n, 0n));
  };
  for (const [id, q] of account.positions) {
    if (q <= 0n) continue;
    const a = assets.get(id);
    if (account.frozen.has(id)) {
      unpriced(a, q); // counts for nothing, blocks nothing
      continue;
    }
    if (a === undefined || a.status !== PriceStatus.Safe) {
      failure ??= "price-unsafe";
      if (a === undefined || a.status !== PriceStatus.Closed) {
        unpriced(a, q);
        continue;
      }
    }
    if (a.borrowPaused) failure ??= "borrowing-paused";
    const value = valueOf(q, a.price, a.scale);
    positionValue += value;
    collateral += (value * (WAD - a.haircut)) / WAD;
    // the engine re-margins a fixed-term account's positions of non-zero value only
    const fixed = account.fixedTerm === true && value !== 0n;
    const initial = initialMarginFor(a, fixed);
    const maintenance = fixed ? tierMargins(a.tierRule, a.tierRule.fixedVolatility).maintenance : a.maintenanceMargin;
    initialRequirement += ceilDiv(value * initial, WAD);
    holdings.push(holding(a, q, a.price, value, maintenance, initial));
  }
  // the engine asks the satellite for an account holding an option series; it answers for an enrolled one
  const portfolio = account.portfolio !== undefined && holdings.some((h) => h.option);
  if (portfolio && account.portfolio !== undefined) {
    initialRequirement = portfolioInitialRequirement(holdings, account.portfolio);
  }
  const equity = account.cash + collateral - account.debt;
  const gross = account.cash + positionValue;
  if (account.debt === 0n) return { equity, initialRequirement, gross, portfolio, failure: null };
  if (failure === null && equity < initialRequirement) failure = "initial-margin";
  if (failure === null && (equity <= 0n || gross * WAD > account.maxLeverage * equity)) failure = "leverage";
  return { equity, initialRequirement, gross, portfolio, failure };
}

function holding(
  a: EngineAssetRisk,
  balance: bigint,
  price: bigint,
  value: bigint,
  maintenance: bigint,
  initial: bigint,
): PortfolioHolding & { id: number } {
  return { id: a.id, asset: a.asset, balance, price, value, maintenance, initial, option: a.option };
}

/** MarginValuation._applyPortfolio: the satellite's margins (the mirror) over the positions in the engine's order. */
function portfolioInitialRequirement(
  positions: readonly (PortfolioHolding & { id: number })[],
  portfolio: EnginePortfolio,
): bigint {
  const holdings = [...positions].sort((x, y) => x.id - y.id);
  const margins = portfolioAccountMargins({ holdings, ...portfolio });
  return portfolioRequirements(holdings, margins).initial;
}

/**
 * MarginSettlement._saleKeepsEquity: the seller is paid at least what the units counted for in its equity, at a Safe
 * price — then the engine does not check the (indebted) seller's initial margin.
 */
export function saleKeepsEquity(units: bigint, cashAmount: bigint, asset: EngineAssetRisk): boolean {
  if (asset.status !== PriceStatus.Safe) return false;
  const value = ceilDiv(units * asset.price, asset.scale);
  return cashAmount >= ceilDiv(value * (WAD - asset.haircut), WAD);
}
