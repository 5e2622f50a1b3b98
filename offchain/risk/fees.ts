import { RiskError } from "./errors";
import { WAD, divFloor, maxBig, mulDivDown, mulDivUp } from "./fixed";

/** Days in the interest year: the rate is quoted annually and charged per natural day (DESIGN.md). */
export const DAYS_PER_YEAR = 365n;

/** What a financing agreement charges. Rates are WAD; amounts in cash base units. */
export interface FeeSchedule {
  /** Annual interest rate on the debt, charged per natural day as rate / 365. */
  readonly annualRate: bigint;
  /** Highest rate the agreement allows the platform to move to (worst case); defaults to annualRate. */
  readonly maxAnnualRate?: bigint;
  /** Platform service (management) fee per year on the financed amount, charged per natural day. */
  readonly serviceFeeRate: bigint;
  /** Broker commission per side on the traded value, with a minimum per trade. */
  readonly commissionRate: bigint;
  readonly minCommission: bigint;
  /** Stamp duty on the sell side (A-shares: 0.05% since 28 Aug 2023). */
  readonly stampDutyRate: bigint;
  /** Exchange transfer fee per side on the traded value. */
  readonly transferFeeRate: bigint;
  /** Liquidation penalty on seized collateral value (paid only if the position is liquidated). */
  readonly liquidationPenalty: bigint;
}

export interface FeeQuoteInput {
  /** The client's own funds E. */
  readonly ownFunds: bigint;
  /** Position value bought, L·E; the financed amount (debt) is positionValue − ownFunds. */
  readonly positionValue: bigint;
  readonly holdingDays: number;
  /** Value at which the position is sold at the end; defaults to positionValue (flat market). */
  readonly exitValue?: bigint;
  readonly schedule: FeeSchedule;
}

export type FeeName = "interest" | "serviceFee" | "commission" | "stampDuty" | "transferFee" | "liquidationPenalty";

export interface FeeItem {
  readonly name: FeeName;
  /** How it is computed, for display. */
  readonly basis: string;
  /** Expected amount if the agreement runs its course at the quoted rate (cash base units, rounded up). */
  readonly expected: bigint;
  /** Worst case: the maximum rate, and the whole position liquidated (penalty on its full value). */
  readonly worstCase: bigint;
}

export interface FeeQuote {
  readonly ownFunds: bigint;
  readonly positionValue: bigint;
  readonly debt: bigint;
  readonly holdingDays: number;
  /** Interest for one natural day at the quoted rate, rounded up (8% on 200,000 → 43.835617). */
  readonly dailyInterest: bigint;
  readonly items: readonly FeeItem[];
  readonly expectedTotal: bigint;
  readonly worstCaseTotal: bigint;
}

/** Every fee of a position held for `holdingDays` natural days, itemised, with a worst-case estimate. */
export function quoteFees(input: FeeQuoteInput): FeeQuote {
  const { ownFunds, positionValue, holdingDays, schedule: s } = input;
  const debt = positionValue - ownFunds;
  if (ownFunds <= 0n || debt < 0n || holdingDays < 0 || !Number.isInteger(holdingDays)) {
    throw new RiskError("RISK_INVALID_INPUT", "own funds must be positive, position ≥ own funds, whole days", {
      ownFunds,
      positionValue,
      holdingDays,
    });
  }
  const exitValue = input.exitValue ?? positionValue;
  const days = BigInt(holdingDays);
  const maxRate = maxBig(s.maxAnnualRate ?? s.annualRate, s.annualRate);
  const perDays = (rate: bigint) => mulDivUp(debt * rate, days, WAD * DAYS_PER_YEAR);
  const commission = (value: bigint) => maxBig(s.minCommission, mulDivUp(value, s.commissionRate, WAD));

  const interest = perDays(s.annualRate);
  const serviceFee = perDays(s.serviceFeeRate);
  const commissions = commission(positionValue) + commission(exitValue);
  const stampDuty = mulDivUp(exitValue, s.stampDutyRate, WAD);
  const transferFee = mulDivUp(positionValue, s.transferFeeRate, WAD) + mulDivUp(exitValue, s.transferFeeRate, WAD);
  const items: FeeItem[] = [
    { name: "interest", basis: "debt × annual rate / 365 × days", expected: interest, worstCase: perDays(maxRate) },
    { name: "serviceFee", basis: "debt × service rate / 365 × days", expected: serviceFee, worstCase: serviceFee },
    {
      name: "commission",
      basis: "max(min, value × rate), buy and sell",
      expected: commissions,
      worstCase: commissions,
    },
    { name: "stampDuty", basis: "exit value × stamp duty", expected: stampDuty, worstCase: stampDuty },
    { name: "transferFee", basis: "(entry + exit value) × rate", expected: transferFee, worstCase: transferFee },
    {
      name: "liquidationPenalty",
      basis: "position value × penalty, if liquidated in full",
      expected: 0n,
      worstCase: mulDivUp(positionValue, s.liquidationPenalty, WAD),
    },
  ];
  return {
    ownFunds,
    positionValue,
    debt,
    holdingDays,
    dailyInterest: mulDivUp(debt, s.annualRate, WAD * DAYS_PER_YEAR),
    items,
    expectedTotal: items.reduce((sum, item) => sum + item.expected, 0n),
    worstCaseTotal: items.reduce((sum, item) => sum + item.worstCase, 0n),
  };
}

export interface HoldingOutcome {
  /** Position value × r (rounded toward −∞ for a loss, down for a gain). */
  readonly grossPnl: bigint;
  readonly fees: bigint;
  readonly netPnl: bigint;
  /** netPnl / ownFunds (WAD). */
  readonly returnOnOwnFunds: bigint;
}

/**
 * The client's result if the position returns `assetReturn` (WAD) over the holding period, fees charged at the
 * quoted rate and the exit side at the exit value. DESIGN.md's worked example: E = 100,000, L = 3, 8%, a 10% year
 * gives 30,000 gross, 16,000 interest, 2,000 costs, 12,000 net; a 5% year loses money.
 */
export function holdingOutcome(
  input: Omit<FeeQuoteInput, "exitValue">,
  assetReturn: bigint,
): HoldingOutcome & { quote: FeeQuote } {
  const grossPnl = floorMul(input.positionValue, assetReturn);
  const quote = quoteFees({ ...input, exitValue: input.positionValue + grossPnl });
  const netPnl = grossPnl - quote.expectedTotal;
  return {
    grossPnl,
    fees: quote.expectedTotal,
    netPnl,
    returnOnOwnFunds: divFloor(netPnl * WAD, input.ownFunds),
    quote,
  };
}

function floorMul(value: bigint, wadFactor: bigint): bigint {
  return wadFactor >= 0n ? mulDivDown(value, wadFactor, WAD) : -mulDivUp(value, -wadFactor, WAD);
}
