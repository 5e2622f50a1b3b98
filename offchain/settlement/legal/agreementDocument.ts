import { formatUnits } from "./amounts";
import { canonicalHash, canonicalize, textHash } from "./canonicalJson";
import { dailyRateText } from "./accrual";
import { AGREEMENT_TEMPLATE, agreementFigures } from "./agreementFigures";
import {
  leverageText,
  maintenanceBreachReturn,
  percentText,
  returnText,
  validateTerms,
  type FinancingTerms,
} from "./terms";
import { dateOfTimestamp } from "./days";
import { renderAgreementTextZh } from "./agreementTextZh";
import { performanceFeeClause, scheduleClauses } from "./scheduleText";

export { AGREEMENT_TEMPLATE };

/** Between the governing Chinese text and its English translation; part of the hashed text. */
export const TRANSLATION_HEADING =
  "—— English translation (the Chinese text above governs) / 英文译本（以上中文文本为准）——";

/**
 * An agreement as both parties see it: the validated terms, the readable document rendered from them, and the
 * hashes. `termsHash` (what is signed and anchored) = keccak256(canonical JSON of {template, terms, textHash}), so
 * the signature covers the machine terms and the exact words of the document.
 */
export interface AgreementDocument {
  terms: FinancingTerms;
  template: string;
  text: string;
  textHash: string;
  canonical: string;
  termsHash: string;
}

export function buildAgreement(input: FinancingTerms): AgreementDocument {
  const terms = validateTerms(input);
  const text = renderAgreementText(terms);
  const th = textHash(text);
  const payload = { template: AGREEMENT_TEMPLATE, terms, textHash: th };
  return {
    terms,
    template: AGREEMENT_TEMPLATE,
    text,
    textHash: th,
    canonical: canonicalize(payload),
    termsHash: canonicalHash(payload),
  };
}

/** Recomputes the hashes from the terms; true when the stored document is exactly what they produce. */
export function agreementIsIntact(doc: AgreementDocument): boolean {
  const again = buildAgreement(doc.terms);
  return again.text === doc.text && again.termsHash === doc.termsHash && again.canonical === doc.canonical;
}

/**
 * Clause 4a when the terms carry the margin modes: both are stated side by side whichever the client chose, so the
 * signed text shows what the other would have been.
 */
function marginModeClause(t: FinancingTerms): string[] {
  const m = t.margin.mode;
  if (m === undefined) return [];
  const chosen =
    m.chosen === "fixed"
      ? `The Client chose the fixed mode until ${m.fixedUntil} (the first day the dynamic mode applies again).`
      : "The Client chose the dynamic mode.";
  return [
    `4a. Margin mode. ${chosen} Dynamic mode: the margins above are the floor; they rise with the market's volatility (the MarginBridge oracle's daily volatility) up to a maintenance margin of ${percentText(m.dynamicCapMaintenanceBps)}, at once and without notice, and fall back as it calms. Fixed mode: initial margin ${percentText(m.fixedInitialBps)} and maintenance margin ${percentText(m.fixedMaintenanceBps)} for the whole term whatever the market does — the margins of the dynamic rule at a volatility of ${percentText(m.fixedVolatilityBps)} a day, which is the price of that certainty. The mode may be changed only when nothing is owed. The Platform may raise any margin at once in an emergency (a public, reasoned change by its risk guardian); it may lower one only after the notice period.`,
  ];
}

/**
 * The readable agreement (plain text, numbered clauses): the governing Chinese text, then its English translation;
 * the text hash, and so the signature, covers both. Deterministic: same terms, same bytes.
 */
export function renderAgreementText(t: FinancingTerms): string {
  return `${renderAgreementTextZh(t)}\n${TRANSLATION_HEADING}\n\n${renderAgreementTextEn(t)}`;
}

/** The English translation. */
export function renderAgreementTextEn(t: FinancingTerms): string {
  const d = t.currency.decimals;
  const { money, position, day, year } = agreementFigures(t);
  const feeLines = t.fees.map((f) => {
    if (f.kind === "per-trade")
      return `${f.code} ${f.label}: ${percentText(f.bps)} of each trade's value, at least ${money(f.minimum)} per trade.`;
    if (f.kind === "daily-on-own-funds")
      return `${f.code} ${f.label}: ${percentText(f.annualBps)} a year of the Own Funds, charged per natural day (1/365).`;
    return `${f.code} ${f.label}: ${money(f.amount)} once, at ${f.when === "opening" ? "opening" : "final settlement"}.`;
  });
  const s = t.profitSplit;
  const lines = [
    `FINANCING AGREEMENT ${t.agreementId}`,
    `Version ${t.version}${t.replaces ? `, replacing agreement ${t.replaces}` : ""}. Template ${AGREEMENT_TEMPLATE}.`,
    ``,
    `Between ${t.client.name} (account ${t.client.accountRef}, address ${t.client.address}), the Client,`,
    `and ${t.platform.name} (address ${t.platform.address}), the Platform, acting for the capital providers of the`,
    `MarginBridge capital pool.`,
    ``,
    `1. Term. From ${dateOfTimestamp(t.effectiveAt)} (unix ${t.effectiveAt}) to ${dateOfTimestamp(t.expiresAt)} (unix ${t.expiresAt}).`,
    `2. Own funds and leverage. The Client provides ${money(t.ownFunds)} (the Own Funds). Leverage is ${leverageText(t.leverageBps)}x: the Client may carry positions up to ${money(position)}, of which ${money(t.financedAmount)} is financed (the Financed Amount). Amounts are in ${t.currency.symbol} (${d} decimals), 1:1 with ${t.currency.iso4217}.`,
    `3. Interest. ${percentText(t.interest.annualRateBps)} a year on the outstanding financed principal, ACT/365: charged for every natural day the principal is outstanding at the annual rate divided by 365 (${dailyRateText(t.financedAmount, t.interest.annualRateBps, d)} a day on the full Financed Amount, charged as ${formatUnits(day, d)}). Daily charges are rounded up to the smallest unit on a cumulative basis, so the total never exceeds the exact amount by more than one unit. Interest is paid at final settlement, before anything else.`,
    `4. Margin. Initial margin ${percentText(t.margin.initialMarginBps)} and maintenance margin ${percentText(t.margin.maintenanceMarginBps)} of the market value of the positions (margin ratio = equity / market value). Below maintenance the account is in margin call: new risk is blocked and the Client has ${t.margin.marginCallWindowSeconds} seconds to deposit or reduce. Below ${percentText(t.margin.liquidationMarginBps)}, or when the window ends uncured, the account may be liquidated at once. Prices are the MarginBridge oracle prices. Ignoring interest and fees, the account reaches maintenance margin when the positions have lost ${returnText(-maintenanceBreachReturn(t.leverageBps, t.margin.maintenanceMarginBps))} of their value (r < (m·L − 1) / (L·(1 − m))).`,
    ...(t.schedule
      ? [
          `   These are the lowest margins of any listed asset; each position carries its own asset's margins (clause 4b), which follow the market's volatility.`,
        ]
      : []),
    ...marginModeClause(t),
    ...scheduleClauses(t, "en"),
    t.schedule
      ? `5. Liquidation. Positions are sold least liquid first, in this order: ${t.liquidation.assetOrder.join(", ")}, only until the liquidation target (clause 4c) is reached. Each is taken at the oracle price less its own asset's penalty (clause 4b), at most ${percentText(t.liquidation.penaltyBps)}; the penalty goes ${percentText(t.liquidation.penaltyToLiquidatorBps)} to the liquidator and ${percentText(t.liquidation.penaltyToInsuranceFundBps)} to the insurance fund.`
      : `5. Liquidation. Positions are sold in segments of at most ${percentText(t.liquidation.closeFactorBps)} of the debt, least liquid first, in this order: ${t.liquidation.assetOrder.join(", ")}. Collateral is taken at the oracle price less ${percentText(t.liquidation.penaltyBps)}; the penalty goes ${percentText(t.liquidation.penaltyToLiquidatorBps)} to the liquidator and ${percentText(t.liquidation.penaltyToInsuranceFundBps)} to the insurance fund.`,
    `6. Fees.`,
    ...feeLines.map((l) => `   - ${l}`),
    `   Worst case over one year with the full Financed Amount outstanding, before any liquidation: ${money(year.total)}; the positions must return at least ${percentText(Number(year.breakEvenReturnBps))} a year before the Client makes a profit.`,
    `7. Final settlement. When the financing ends all positions are closed and the proceeds are applied in this order: (a) interest, (b) the Financed Amount, (c) fees, (d) the Client's Own Funds, (e) any remaining profit, shared ${percentText(s.clientBps)} to the Client, ${percentText(s.capitalProvidersBps)} to the capital providers and ${percentText(s.platformBps)} to the Platform (the capital providers' and Platform's shares rounded down, the Client receiving the remainder). Losses are borne by the Client up to the whole account.`,
    ...performanceFeeClause(t, "en"),
    `8. Default. A loss larger than the account is absorbed in this order: ${t.defaultWaterfall.join(", then ")}. The Client remains liable for the shortfall to the extent the law allows.`,
    `9. Records. Statements are issued for every natural day with positions, trades, interest, fees, profit and loss and margin ratio. Trades settle on the MarginBridge chain; batch roots, transactions, oracle rounds and the audit log are evidence in any dispute.`,
    `10. Law and disputes. ${t.governingLaw}. ${t.disputeResolution}`,
    ``,
    `Both parties sign the EIP-712 FinancingAgreement whose termsHash commits to these terms and this text, Chinese and English.`,
  ];
  return lines.join("\n") + "\n";
}
