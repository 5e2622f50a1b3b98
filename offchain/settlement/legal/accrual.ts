import { BPS, DAYS_PER_YEAR, divUp } from "./amounts";
import type { IsoDate } from "./days";
import { LegalError } from "./errors";

/**
 * Per-natural-day accrual at an annual rate (interest, and fees quoted per year), ACT/365.
 *
 * The exact accrued amount is a rational: Σ balance_d × annualBps / (10,000 × 365). Rounding each day separately
 * would drift (8% on 200,000: 43.835617 × 365 = 16,000.000205). Instead the state keeps the exact numerator and
 * the amount charged so far; each day charges ceil(exact cumulative) − charged so far. So every day's charge is
 * rounded up (in the lender's / platform's favour), the cumulative charge is never below the exact amount and never
 * more than one base unit above it, and a full year at a constant balance charges exactly balance × rate.
 */
export interface AccrualState {
  /** Σ balance × annualBps over the days accrued so far (base units × bps). */
  scaled: bigint;
  /** What has been charged so far = ceil(scaled / 3,650,000), base units. */
  charged: bigint;
}

export const ACCRUAL_DENOMINATOR = BPS * DAYS_PER_YEAR;

export const ZERO_ACCRUAL: AccrualState = { scaled: 0n, charged: 0n };

export interface AccrualDay {
  date: IsoDate;
  /** Balance the rate applies to on this natural day, base units. */
  balance: bigint;
  /** Charged for this day, base units. */
  amount: bigint;
  /** Charged since the accrual began, after this day. */
  cumulative: bigint;
}

export function accrueDaily(
  opening: AccrualState,
  days: { date: IsoDate; balance: bigint }[],
  annualBps: number,
): { days: AccrualDay[]; closing: AccrualState } {
  let { scaled, charged } = opening;
  const out: AccrualDay[] = [];
  for (const d of days) {
    if (d.balance < 0n) throw new LegalError("LEGAL_INVALID_INPUT", "negative balance", { date: d.date });
    scaled += d.balance * BigInt(annualBps);
    const total = divUp(scaled, ACCRUAL_DENOMINATOR);
    out.push({ date: d.date, balance: d.balance, amount: total - charged, cumulative: total });
    charged = total;
  }
  return { days: out, closing: { scaled, charged } };
}

/** Exact accrual for one day as a decimal string with `extra` more digits than base units (for display). */
export function dailyRateText(balance: bigint, annualBps: number, decimals: number, extra = 2): string {
  const scaled = (balance * BigInt(annualBps) * 10n ** BigInt(extra)) / ACCRUAL_DENOMINATOR;
  const s = scaled.toString().padStart(decimals + extra + 1, "0");
  const cut = s.length - (decimals + extra);
  return `${s.slice(0, cut)}.${s.slice(cut)}`;
}
