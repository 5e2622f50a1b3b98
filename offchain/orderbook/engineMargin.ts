import { PriceStatus, type EngineAssetRisk, type EngineTierRule } from "../chain/orderbookChain";
import { tierMargins } from "../risk";

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
 * An account without debt always meets it. The buyer of a trade is checked when it has debt; the seller when it has
 * debt and is paid less than the units counted for: cash < ⌈⌈units · price / scale⌉ · (1 − haircut)⌉ (or the price
 * is not Safe).
 */

// The asset inputs are read from the chain (offchain/chain/orderbookChain.ts owns their shape).
export { PriceStatus, type EngineAssetRisk, type EngineTierRule };

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
}

export type InitialMarginFailure = "price-unsafe" | "borrowing-paused" | "initial-margin" | "leverage";

export interface EngineInitialMargin {
  readonly equity: bigint;
  readonly initialRequirement: bigint;
  /** cash + Σ value: what the leverage cap applies to. */
  readonly gross: bigint;
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
  for (const [id, q] of account.positions) {
    if (q <= 0n) continue;
    if (account.frozen.has(id)) continue; // counts for nothing, blocks nothing
    const a = assets.get(id);
    if (a === undefined || a.status !== PriceStatus.Safe) {
      failure ??= "price-unsafe";
      if (a === undefined || a.status !== PriceStatus.Closed) continue;
    }
    if (a.borrowPaused) failure ??= "borrowing-paused";
    const value = valueOf(q, a.price, a.scale);
    positionValue += value;
    collateral += (value * (WAD - a.haircut)) / WAD;
    initialRequirement += ceilDiv(value * initialMarginFor(a, account.fixedTerm === true), WAD);
  }
  const equity = account.cash + collateral - account.debt;
  const gross = account.cash + positionValue;
  if (account.debt === 0n) return { equity, initialRequirement, gross, failure: null };
  if (failure === null && equity < initialRequirement) failure = "initial-margin";
  if (failure === null && (equity <= 0n || gross * WAD > account.maxLeverage * equity)) failure = "leverage";
  return { equity, initialRequirement, gross, failure };
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
