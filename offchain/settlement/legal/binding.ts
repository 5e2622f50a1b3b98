import { LegalError } from "./errors";
import type { FinancingTerms } from "./terms";

/** One basis point as an 18-decimal ratio. */
const WAD_PER_BPS = 10n ** 14n;
/** AgreementBinding's bounds on the agreed penalty (contracts/settlement/AgreementBinding.sol: 1 % .. 50 %). */
const MIN_PENALTY = 10n ** 16n;
const MAX_PENALTY = 5n * 10n ** 17n;

/** What AgreementBinding.propose and accept take for an agreement: 18-decimal ratios. */
export interface BindingNumbers {
  /** The agreed leverage L (2× = 2e18): the engine lends no more while the agreement binds the account. */
  maxLeverage: bigint;
  /** The agreed liquidation penalty (5 % = 5e16): the engine seizes no more from the account. */
  maxPenalty: bigint;
}

/**
 * The binding the terms agree: their leverage and their liquidation penalty as the contract's 18-decimal ratios
 * (exact: one basis point is 1e14). Throws LEGAL_INVALID_TERMS for terms the contract would refuse (a penalty
 * below 1 %, which would leave liquidating a bound account to the platform's keeper alone, or above 50 %).
 */
export function bindingNumbersOf(terms: FinancingTerms): BindingNumbers {
  const maxLeverage = BigInt(terms.leverageBps) * WAD_PER_BPS;
  const maxPenalty = BigInt(terms.liquidation.penaltyBps) * WAD_PER_BPS;
  if (maxPenalty < MIN_PENALTY || maxPenalty > MAX_PENALTY)
    throw new LegalError("LEGAL_INVALID_TERMS", "liquidation.penaltyBps: a binding needs a penalty of 1 % to 50 %", {
      field: "liquidation.penaltyBps",
      value: String(terms.liquidation.penaltyBps),
    });
  return { maxLeverage, maxPenalty };
}
