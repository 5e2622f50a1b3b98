import { accrueDaily, ZERO_ACCRUAL } from "./accrual";
import { BPS, divDown, formatMoney } from "./amounts";
import { worstCaseCosts, type WorstCaseEstimate } from "./fees";
import type { FinancingTerms } from "./terms";

/** The template the readable text is rendered with; part of the signed payload. */
export const AGREEMENT_TEMPLATE = "marginbridge/financing-agreement-zh-en@2";

/** The derived figures both language versions of the agreement state, computed once from the terms. */
export interface AgreementFigures {
  money: (v: bigint) => string;
  /** E × L. */
  position: bigint;
  /** One day's interest on the full financed amount, as charged (rounded up). */
  day: bigint;
  /** Every cost over one year with the full financed amount outstanding, before any liquidation. */
  year: WorstCaseEstimate;
}

export function agreementFigures(t: FinancingTerms): AgreementFigures {
  return {
    money: (v) => `${formatMoney(v, t.currency.decimals)} ${t.currency.iso4217}`,
    position: divDown(t.ownFunds * BigInt(t.leverageBps), BPS),
    day: accrueDaily(ZERO_ACCRUAL, [{ date: "1970-01-01", balance: t.financedAmount }], t.interest.annualRateBps)
      .days[0].amount,
    year: worstCaseCosts(t, { from: "2001-01-01", to: "2001-12-31" }, { liquidatedInFull: false }),
  };
}
