import { BPS, DAYS_PER_YEAR, divDown, divUp, formatUnits } from "./amounts";
import { canonicalHash } from "./canonicalJson";
import { assertDate, dateOfTimestamp, daysBetween, type IsoDate } from "./days";
import { LegalError } from "./errors";
import type { FinancingTerms } from "./terms";

export interface FinalSettlementInput {
  terms: FinancingTerms;
  settledOn: IsoDate;
  /** Cash in the account after every position was closed (base units); it includes the financed cash. */
  closingCash: bigint;
  /** Financed principal still outstanding. */
  principal: bigint;
  /** Interest charged over the term and not yet paid (from the daily accrual). */
  interestDue: bigint;
  /** Fees charged and not yet paid, itemised (daily fees, fixed fees at settlement, ...). */
  feesDue: { code: string; label: string; amount: bigint }[];
  /** What the client put in: own funds plus later deposits minus withdrawals. Defaults to terms.ownFunds. */
  contributions?: bigint;
  /** What the insurance fund can pay towards a shortfall now. */
  insuranceFundAvailable: bigint;
}

export type Party = "capital-providers" | "platform" | "client" | "insurance-fund" | "capital-pool";

/** One line of the computation, in the order it is applied. */
export interface SettlementLine {
  step: number;
  label: string;
  /** How the amount was obtained, with the numbers. */
  formula: string;
  amount: bigint;
  /** Who receives (positive) or bears (loss lines) the amount. */
  party: Party | "account";
  /** Proceeds not yet applied after this line. */
  remaining: bigint;
}

export interface FinalSettlement {
  schema: "marginbridge/final-settlement@1";
  agreementId: string;
  settledOn: IsoDate;
  currency: { symbol: string; iso4217: string; decimals: number };
  lines: SettlementLine[];
  /** Trading result before interest and unpaid fees: closingCash − principal − contributions. */
  grossResult: bigint;
  /** Result after interest and fees (the profit that is split, or the loss the client bears). */
  netResult: bigint;
  paid: { interest: bigint; principal: bigint; fees: bigint; ownFundsReturned: bigint };
  profitShares: { client: bigint; capitalProviders: bigint; platform: bigint };
  shortfall: {
    interest: bigint;
    principal: bigint;
    fees: bigint;
    coveredByInsuranceFund: bigint;
    lossToCapitalPool: bigint;
  };
  /** Cash each party receives out of the account (sums to closingCash). */
  payouts: { capitalProviders: bigint; platform: bigint; client: bigint };
  /** The client's result on its contributions: payout − contributions. */
  clientResult: bigint;
}

/**
 * Final settlement when a financing ends. Proceeds are applied strictly in this order: (1) interest to the capital
 * providers, (2) the financed principal back to the capital pool, (3) fees to the platform, (4) the client's
 * contributions back to the client, (5) what is left is profit, split as agreed: the capital providers' and the
 * platform's shares rounded down, the client taking the remainder so that nothing is lost to rounding.
 * If the proceeds run out, unpaid interest and principal form the shortfall, absorbed after the client's collateral
 * (already exhausted) by the insurance fund up to what it has, then by the capital pool; unpaid fees are written off
 * by the platform.
 */
export function computeFinalSettlement(input: FinalSettlementInput): FinalSettlement {
  const t = input.terms;
  assertDate(input.settledOn);
  const contributions = input.contributions ?? t.ownFunds;
  for (const [k, v] of Object.entries({
    closingCash: input.closingCash,
    principal: input.principal,
    interestDue: input.interestDue,
    contributions,
    insuranceFundAvailable: input.insuranceFundAvailable,
  })) {
    if (v < 0n) throw new LegalError("LEGAL_INVALID_INPUT", `${k} must not be negative`, { [k]: v.toString() });
  }
  const d = t.currency.decimals;
  const f = (v: bigint): string => formatUnits(v, d);
  const lines: SettlementLine[] = [];
  let remaining = input.closingCash;
  const line = (label: string, formula: string, amount: bigint, party: SettlementLine["party"]): void => {
    lines.push({ step: lines.length + 1, label, formula, amount, party, remaining });
  };
  const take = (due: bigint): bigint => {
    const paid = due < remaining ? due : remaining;
    remaining -= paid;
    return paid;
  };

  line("Proceeds: cash in the account after closing every position", "closing cash", input.closingCash, "account");
  const feesTotal = input.feesDue.reduce((s, x) => s + x.amount, 0n);
  const grossResult = input.closingCash - input.principal - contributions;
  const netResult = grossResult - input.interestDue - feesTotal;

  const interest = take(input.interestDue);
  line("Interest, repaid first", `min(${f(input.interestDue)} due, proceeds)`, interest, "capital-providers");
  const principal = take(input.principal);
  line(
    "Financed principal repaid to the capital pool",
    `min(${f(input.principal)} due, remaining)`,
    principal,
    "capital-providers",
  );
  let fees = 0n;
  for (const fee of input.feesDue) {
    const paid = take(fee.amount);
    fees += paid;
    line(`Fee ${fee.code}: ${fee.label}`, `min(${f(fee.amount)} due, remaining)`, paid, "platform");
  }
  const ownFundsReturned = take(contributions);
  line(
    "Client's contributions returned",
    `min(${f(contributions)} contributed, remaining)`,
    ownFundsReturned,
    "client",
  );

  const profit = remaining;
  const s = t.profitSplit;
  line(
    "Net profit to share",
    `gross ${f(grossResult)} − interest ${f(input.interestDue)} − fees ${f(feesTotal)}`,
    profit,
    "account",
  );
  const perf = t.performanceFee
    ? performanceFee(t, input.settledOn, ownFundsReturned + profit, contributions, f)
    : undefined;
  if (perf) line("Performance fee above the hurdle and high-water mark", perf.formula, perf.fee, "account");
  const toProviders = perf ? perf.providers : divDown(profit * BigInt(s.capitalProvidersBps), BPS);
  const toPlatform = perf ? perf.platform : divDown(profit * BigInt(s.platformBps), BPS);
  const toClient = profit - toProviders - toPlatform;
  remaining -= toProviders;
  line(
    perf ? "Performance fee: capital providers (into the pool)" : "Profit share: capital providers",
    perf ? `${f(perf.fee)} − ${f(perf.platform)}` : `floor(${f(profit)} × ${s.capitalProvidersBps} / 10000)`,
    toProviders,
    "capital-providers",
  );
  remaining -= toPlatform;
  line(
    perf ? "Performance fee: platform" : "Profit share: platform",
    perf
      ? `floor(${f(perf.fee)} × ${t.performanceFee!.platformBps} / 10000)`
      : `floor(${f(profit)} × ${s.platformBps} / 10000)`,
    toPlatform,
    "platform",
  );
  remaining -= toClient;
  line("Profit share: client (remainder)", `${f(profit)} − ${f(toProviders)} − ${f(toPlatform)}`, toClient, "client");

  const shortInterest = input.interestDue - interest;
  const shortPrincipal = input.principal - principal;
  const shortFees = feesTotal - fees;
  const owedToPool = shortInterest + shortPrincipal;
  const fund = owedToPool < input.insuranceFundAvailable ? owedToPool : input.insuranceFundAvailable;
  const poolLoss = owedToPool - fund;
  if (owedToPool > 0n || shortFees > 0n) {
    line(
      "Shortfall after the client's collateral",
      `interest ${f(shortInterest)} + principal ${f(shortPrincipal)}`,
      owedToPool,
      "account",
    );
    line(
      "Covered by the insurance fund",
      `min(${f(owedToPool)}, ${f(input.insuranceFundAvailable)} available)`,
      fund,
      "insurance-fund",
    );
    line("Loss borne by the capital pool (socialised)", `${f(owedToPool)} − ${f(fund)}`, poolLoss, "capital-pool");
    line("Fees written off by the platform", `${f(feesTotal)} due − ${f(fees)} paid`, shortFees, "platform");
  }

  const payouts = {
    capitalProviders: interest + principal + toProviders,
    platform: fees + toPlatform,
    client: ownFundsReturned + toClient,
  };
  return {
    schema: "marginbridge/final-settlement@1",
    agreementId: t.agreementId,
    settledOn: input.settledOn,
    currency: t.currency,
    lines,
    grossResult,
    netResult,
    paid: { interest, principal, fees, ownFundsReturned },
    profitShares: { client: toClient, capitalProviders: toProviders, platform: toPlatform },
    shortfall: {
      interest: shortInterest,
      principal: shortPrincipal,
      fees: shortFees,
      coveredByInsuranceFund: fund,
      lossToCapitalPool: poolLoss,
    },
    payouts,
    clientResult: payouts.client - contributions,
  };
}

/**
 * The performance fee on what the client would take home (`clientValue`): `rateBps` of the part above the higher of
 * the hurdle (contributions grown at the hurdle rate, ACT/365, over the natural days from the agreement's start to
 * the settlement day, rounded up) and the high-water mark; the platform's part rounded down, the providers' the rest.
 */
export function performanceFee(
  t: FinancingTerms,
  settledOn: IsoDate,
  clientValue: bigint,
  contributions: bigint,
  f: (v: bigint) => string = String,
): { fee: bigint; platform: bigint; providers: bigint; hurdle: bigint; base: bigint; formula: string } {
  const p = t.performanceFee!;
  const days = BigInt(Math.max(0, daysBetween(dateOfTimestamp(t.effectiveAt), settledOn)));
  const hurdle = divUp(contributions * BigInt(p.hurdleAnnualBps) * days, BPS * DAYS_PER_YEAR);
  const hurdleLine = contributions + hurdle;
  const base = hurdleLine > p.highWaterMark ? hurdleLine : p.highWaterMark;
  const above = clientValue > base ? clientValue - base : 0n;
  const fee = divDown(above * BigInt(p.rateBps), BPS);
  const platform = divDown(fee * BigInt(p.platformBps), BPS);
  const formula =
    `floor(max(0, ${f(clientValue)} − max(${f(contributions)} + hurdle ${f(hurdle)} (${p.hurdleAnnualBps} bps × ${days} / 365), ` +
    `high-water mark ${f(p.highWaterMark)})) × ${p.rateBps} / 10000)`;
  return { fee, platform, providers: fee - platform, hurdle, base, formula };
}

/** keccak256 of the canonical JSON: what AgreementRegistry.close records. */
export function finalSettlementHash(s: FinalSettlement): string {
  return canonicalHash(s);
}

/** The computation as a readable table, one line per step, amounts with all decimals. */
export function renderFinalSettlementText(s: FinalSettlement): string {
  const d = s.currency.decimals;
  const rows = s.lines.map(
    (l) =>
      `${String(l.step).padStart(2)}. ${l.label.padEnd(52)} ${formatUnits(l.amount, d).padStart(20)}  ` +
      `[${l.party}] ${l.formula}; remaining ${formatUnits(l.remaining, d)}`,
  );
  return [
    `FINAL SETTLEMENT of agreement ${s.agreementId} on ${s.settledOn} (${s.currency.iso4217})`,
    ...rows,
    `Payouts: capital providers ${formatUnits(s.payouts.capitalProviders, d)}, platform ${formatUnits(s.payouts.platform, d)}, client ${formatUnits(s.payouts.client, d)}.`,
    `Client result on contributions: ${formatUnits(s.clientResult, d)}.`,
    ``,
  ].join("\n");
}
