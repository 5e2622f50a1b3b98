import { accrueDaily, ZERO_ACCRUAL } from "./accrual";
import { bpsUp, divDown, formatMoney, BPS } from "./amounts";
import { eachDay, type IsoDate } from "./days";
import type { FeeRule, FinancingTerms } from "./terms";

/** Commission of a per-trade rule on a trade's notional: rounded up, never below the minimum. */
export function tradeFee(rule: Extract<FeeRule, { kind: "per-trade" }>, notional: bigint): bigint {
  const fee = bpsUp(notional, rule.bps);
  return fee > rule.minimum ? fee : rule.minimum;
}

export interface CostLine {
  code: string;
  label: string;
  basis: string;
  amount: bigint;
}

export interface WorstCaseEstimate {
  assumptions: {
    days: number;
    /** Principal outstanding every day: the full financed amount. */
    principal: bigint;
    /** Total notional the client is assumed to trade over the period. */
    turnover: bigint;
    trades: number;
    liquidatedInFull: boolean;
  };
  lines: CostLine[];
  total: bigint;
  /** Return on the position needed just to pay the costs excluding liquidation (bps of E × L, rounded up). */
  breakEvenReturnBps: bigint;
}

/**
 * The fee schedule's worst case over a period, as the source material asks the platform to disclose: the full
 * financed amount outstanding every natural day, every daily fee for every day, every fixed fee, commissions on the
 * assumed turnover (at least the minimum on each of `trades` trades), and — when `liquidatedInFull` — the
 * liquidation penalty on the whole position E × L.
 */
export function worstCaseCosts(
  terms: FinancingTerms,
  period: { from: IsoDate; to: IsoDate },
  opts: { turnover?: bigint; trades?: number; liquidatedInFull?: boolean } = {},
): WorstCaseEstimate {
  // An empty period (to before from) estimates nothing but the fixed fees and the liquidation penalty.
  const days = period.to < period.from ? [] : eachDay(period.from, period.to);
  const position = divDown(terms.ownFunds * BigInt(terms.leverageBps), BPS);
  const turnover = opts.turnover ?? 2n * position;
  const trades = opts.trades ?? 2;
  const liquidatedInFull = opts.liquidatedInFull ?? true;
  const lines: CostLine[] = [];
  const m = (v: bigint): string => formatMoney(v, terms.currency.decimals);
  const interest = accrueDaily(
    ZERO_ACCRUAL,
    days.map((date) => ({ date, balance: terms.financedAmount })),
    terms.interest.annualRateBps,
  ).closing.charged;
  lines.push({
    code: "INTEREST",
    label: "Interest on the full financed amount",
    basis: `${m(terms.financedAmount)} × ${terms.interest.annualRateBps} bps / 365 × ${days.length} days`,
    amount: interest,
  });
  for (const rule of terms.fees) {
    if (rule.kind === "per-trade") {
      const byRate = bpsUp(turnover, rule.bps);
      const byMinimum = rule.minimum * BigInt(trades);
      lines.push({
        code: rule.code,
        label: rule.label,
        basis: `max(${m(turnover)} × ${rule.bps} bps, ${trades} × minimum ${m(rule.minimum)})`,
        amount: byRate > byMinimum ? byRate : byMinimum,
      });
    } else if (rule.kind === "daily-on-own-funds") {
      const amount = accrueDaily(
        ZERO_ACCRUAL,
        days.map((date) => ({ date, balance: terms.ownFunds })),
        rule.annualBps,
      ).closing.charged;
      lines.push({
        code: rule.code,
        label: rule.label,
        basis: `${m(terms.ownFunds)} × ${rule.annualBps} bps / 365 × ${days.length} days`,
        amount,
      });
    } else {
      lines.push({ code: rule.code, label: rule.label, basis: `fixed, at ${rule.when}`, amount: rule.amount });
    }
  }
  const running = lines.reduce((s, l) => s + l.amount, 0n);
  if (liquidatedInFull) {
    lines.push({
      code: "LIQ_PENALTY",
      label: "Liquidation penalty if the whole position is liquidated",
      basis: `${m(position)} × ${terms.liquidation.penaltyBps} bps`,
      amount: bpsUp(position, terms.liquidation.penaltyBps),
    });
  }
  return {
    assumptions: { days: days.length, principal: terms.financedAmount, turnover, trades, liquidatedInFull },
    lines,
    total: lines.reduce((s, l) => s + l.amount, 0n),
    breakEvenReturnBps: position === 0n ? 0n : -divDown(-running * BPS, position),
  };
}
