import { WAD, mulDivUp } from "../risk";
import { DAYS_PER_YEAR } from "../settlement/legal";

/**
 * The fee schedule a client's trade is charged by (risk/fees.ts's FeeSchedule, per trade rather than per agreement):
 * A-share rates — commission 0.025% per side with a 5-unit minimum, stamp duty 0.05% on the sell side, exchange
 * transfer fee 0.001% per side — and no platform service fee. Interest is the pool's current rate.
 */
export interface TradeFeeSchedule {
  commissionRate: bigint;
  /** Minimum commission per trade, in whole cash units (5 = 5 CNY). */
  minCommissionWhole: bigint;
  stampDutyRate: bigint;
  transferFeeRate: bigint;
  serviceFeeRate: bigint;
}

export const DEFAULT_TRADE_FEES: TradeFeeSchedule = {
  commissionRate: 25n * 10n ** 13n,
  minCommissionWhole: 5n,
  stampDutyRate: 5n * 10n ** 14n,
  transferFeeRate: 10n ** 13n,
  serviceFeeRate: 0n,
};

export interface TradeCostInput {
  side: "buy" | "sell";
  /** The cash leg at the limit price (cash base units). */
  notional: bigint;
  /** Cash base units per whole security token. */
  limitPrice: bigint;
  /** The part of the notional paid with borrowed money (interest and service fee run on it). */
  financed: bigint;
  holdingDays: number;
  annualRate: bigint;
  schedule: TradeFeeSchedule;
  cashDecimals?: number;
}

export interface TradeCosts {
  items: { name: "commission" | "stampDuty" | "transferFee" | "interest" | "serviceFee"; amount: bigint }[];
  total: bigint;
  financed: bigint;
  holdingDays: number;
  /** A buy: how far the price must rise (WAD, rounded up) before selling at it pays every cost; null for a sale. */
  breakEvenMove: bigint | null;
  /** A buy's limit price raised by the break-even move (rounded up). */
  breakEvenPrice: bigint | null;
}

/**
 * A buy is costed as a round trip (bought now, sold at the same price after `holdingDays`): commission and transfer
 * fee on both legs, stamp duty on the sale, interest and service fee on the financed part for the days held. A sale
 * is costed as itself (commission, stamp duty, transfer fee). Every amount rounds up (the client's cost is never
 * understated).
 */
export function tradeCosts(input: TradeCostInput): TradeCosts {
  const s = input.schedule;
  const minCommission = s.minCommissionWhole * 10n ** BigInt(input.cashDecimals ?? 6);
  const legs = input.side === "buy" ? 2n : 1n;
  const commission = (v: bigint) => {
    const c = mulDivUp(v, s.commissionRate, WAD);
    return c > minCommission ? c : minCommission;
  };
  const days = BigInt(input.holdingDays);
  const perDays = (rate: bigint) =>
    input.side === "buy" ? mulDivUp(input.financed * rate, days, WAD * DAYS_PER_YEAR) : 0n;
  const items: TradeCosts["items"] = [
    { name: "commission", amount: commission(input.notional) * legs },
    { name: "stampDuty", amount: mulDivUp(input.notional, s.stampDutyRate, WAD) },
    { name: "transferFee", amount: mulDivUp(input.notional, s.transferFeeRate, WAD) * legs },
    { name: "interest", amount: perDays(input.annualRate) },
    { name: "serviceFee", amount: perDays(s.serviceFeeRate) },
  ];
  const total = items.reduce((sum, i) => sum + i.amount, 0n);
  const move = input.side === "buy" && input.notional > 0n ? mulDivUp(total, WAD, input.notional) : null;
  return {
    items,
    total,
    financed: input.financed,
    holdingDays: input.holdingDays,
    breakEvenMove: move,
    breakEvenPrice: move === null ? null : mulDivUp(input.limitPrice, WAD + move, WAD),
  };
}
