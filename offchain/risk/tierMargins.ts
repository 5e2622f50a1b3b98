import { WAD } from "./fixed";

/** A liquidity tier's margin rule as the engine stores it (IMarginEngine.TierRisk), all WAD. */
export interface TierRule {
  /** Added to the volatility margin (illiquidity). */
  readonly liquidityAddOn: bigint;
  /** k = z · √(liquidation horizon in days): the volatility margin is k · σ_daily. */
  readonly volatilityMultiplier: bigint;
  /** The tier's base maintenance: the minimum. */
  readonly floor: bigint;
  readonly cap: bigint;
  /** Initial margin above maintenance. */
  readonly initialBuffer: bigint;
}

export interface TierMargins {
  readonly maintenance: bigint;
  readonly initial: bigint;
  /** The highest leverage a position in the tier can carry: 1 / initial (WAD); what the console offers. */
  readonly maxLeverage: bigint;
}

/**
 * The engine's margins at a daily volatility (MarginMath.margins): maintenance = clamp(addOn + ⌈k · σ⌉, floor, cap),
 * initial = maintenance + buffer, max leverage = 1 / initial (rounded down).
 */
export function tierMargins(rule: TierRule, sigmaDaily: bigint): TierMargins {
  const product = rule.volatilityMultiplier * sigmaDaily;
  let maintenance = rule.liquidityAddOn + (product === 0n ? 0n : (product - 1n) / WAD + 1n);
  if (maintenance < rule.floor) maintenance = rule.floor;
  if (maintenance > rule.cap) maintenance = rule.cap;
  const initial = maintenance + rule.initialBuffer;
  return { maintenance, initial, maxLeverage: initial === 0n ? 0n : (WAD * WAD) / initial };
}
