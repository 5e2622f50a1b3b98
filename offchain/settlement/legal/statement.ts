import { accrueDaily, type AccrualDay, type AccrualState } from "./accrual";
import { BPS, divDown, divUp, formatMoney } from "./amounts";
import { canonicalHash } from "./canonicalJson";
import { addDays, assertDate, dateOfTimestamp, eachDay, type IsoDate } from "./days";
import { LegalError } from "./errors";
import { tradeFee, worstCaseCosts, type WorstCaseEstimate } from "./fees";
import type { FinancingTerms } from "./terms";

/** A held asset: quantity in the asset's own units and its total cost basis in cash base units. */
export interface PositionInput {
  asset: string;
  quantity: bigint;
  costBasis: bigint;
}

export interface TradeInput {
  tradeId: string;
  /** Unix seconds. */
  at: number;
  asset: string;
  side: "buy" | "sell";
  quantity: bigint;
  /** Cash base units per whole unit of the asset. */
  price: bigint;
  batchId?: string;
  txHash?: string;
}

export interface CashMovementInput {
  date: IsoDate;
  /** deposit, borrow: cash in; withdrawal, repay: cash out (a repayment retires principal). */
  kind: "deposit" | "withdrawal" | "borrow" | "repay";
  amount: bigint;
  reference: string;
}

/**
 * A security entering or leaving the account other than by a trade: a deposit (cost basis = quantity × price, the
 * oracle price when it arrived), a withdrawal (leaves at average cost, nothing realised) or a liquidation segment
 * (leaves at average cost; `proceeds` — value less the penalty — are credited to cash and realised against that
 * cost; what of them repaid debt is a separate `repay` cash movement).
 */
export interface PositionMovementInput {
  /** Unix seconds. */
  at: number;
  asset: string;
  kind: "deposit" | "withdrawal" | "liquidation";
  quantity: bigint;
  /** Cash base units per whole unit of the asset at the time. */
  price: bigint;
  /** Liquidation only: what the account was credited for the units (cash base units). */
  proceeds?: bigint;
  reference: string;
}

/** Where the closing figures come from: the chain, the block and each price's oracle round. */
export interface StatementSources {
  chainId: number;
  block: number;
  blockHash: string;
  blockTime: number;
  prices: Record<string, { feed: string; roundId: string; answer: string; updatedAt: number }>;
}

/** Everything a statement is computed from; the store and the chain indexer supply it. */
export interface StatementInput {
  terms: FinancingTerms;
  period: { from: IsoDate; to: IsoDate };
  /** Token decimals of every asset traded or held (securities are 0). */
  assetDecimals: Record<string, number>;
  openingCash: bigint;
  openingPositions: PositionInput[];
  trades: TradeInput[];
  cashMovements?: CashMovementInput[];
  positionMovements?: PositionMovementInput[];
  /** Optional provenance of the closing figures (carried into the statement as `sources`). */
  sources?: StatementSources;
  /** Financed principal outstanding on each natural day of the period (one entry per day). */
  dailyPrincipal: { date: IsoDate; principal: bigint }[];
  /** Accrual states carried from the previous statement (interest, and each daily fee by code). */
  openingAccruals: { interest: AccrualState; fees: Record<string, AccrualState> };
  /** Closing prices at the end of the period, cash base units per whole unit (e.g. from the oracle router). */
  closingPrices: Record<string, bigint>;
  /** UTC offset of the platform's business day, minutes (480 for Beijing time). */
  utcOffsetMinutes?: number;
  /** Unix seconds; when the statement was produced. */
  generatedAt: number;
}

export interface StatementTrade extends TradeInput {
  date: IsoDate;
  notional: bigint;
  fee: bigint;
  /** Realised P&L of a sell against the average cost (0 for buys), before fees. */
  realisedPnl: bigint;
}

export interface FeeItem {
  date: IsoDate;
  code: string;
  label: string;
  basis: string;
  amount: bigint;
  reference: string;
}

export type MarginStatus = "no-position" | "healthy" | "warning" | "margin-call" | "liquidatable";

export interface Statement {
  schema: "marginbridge/statement@1";
  agreementId: string;
  account: { address: string; accountRef: string; name: string };
  period: { from: IsoDate; to: IsoDate };
  currency: { symbol: string; iso4217: string; decimals: number };
  positions: {
    asset: string;
    quantity: bigint;
    costBasis: bigint;
    averageCost: bigint;
    price: bigint;
    marketValue: bigint;
    unrealisedPnl: bigint;
  }[];
  trades: StatementTrade[];
  cashMovements: CashMovementInput[];
  /** Deposits, withdrawals and liquidation segments of securities; `realisedPnl` is 0 except for liquidations. */
  positionMovements?: (PositionMovementInput & { date: IsoDate; realisedPnl: bigint })[];
  sources?: StatementSources;
  interestByDay: AccrualDay[];
  fees: FeeItem[];
  totals: { interest: bigint; fees: bigint; realisedPnl: bigint; unrealisedPnl: bigint; netPnl: bigint };
  balances: {
    openingCash: bigint;
    closingCash: bigint;
    marketValue: bigint;
    principal: bigint;
    accruedInterest: bigint;
    accruedFees: bigint;
    equity: bigint;
  };
  margin: {
    /** equity / market value in bps (rounded down); null without positions. */
    ratioBps: bigint | null;
    initialMarginBps: number;
    maintenanceMarginBps: number;
    liquidationMarginBps: number;
    status: MarginStatus;
  };
  feeSchedule: { rules: FinancingTerms["fees"]; worstCaseToExpiry: WorstCaseEstimate };
  closingAccruals: { interest: AccrualState; fees: Record<string, AccrualState> };
  generatedAt: number;
}

/**
 * A statement for one account over a period of natural days (a daily statement is from = to).
 *
 * - Trades are applied in time order at average cost: a buy adds its notional to the cost basis; a sell removes
 *   cost basis × sold / held (rounded down) and realises notional − removed cost. Commissions are charged in cash
 *   when the trade settles and itemised separately (P&L is shown before fees; net P&L after).
 * - Interest accrues per natural day on that day's outstanding principal, daily fees on the own funds, both with
 *   cumulative rounding up (see accrual.ts) and payable at final settlement, so they are liabilities in equity.
 * - equity = closing cash + market value − principal − accrued interest − accrued daily fees;
 *   margin ratio = equity / market value. Status: below the liquidation line "liquidatable", below maintenance
 *   "margin-call", below initial "warning", else "healthy".
 */
export function buildStatement(input: StatementInput): Statement {
  const t = input.terms;
  const days = eachDay(input.period.from, input.period.to);
  const offset = input.utcOffsetMinutes ?? 0;
  const bad = (message: string, details: Record<string, unknown>): never => {
    throw new LegalError("LEGAL_INVALID_INPUT", message, details);
  };
  if (input.dailyPrincipal.length !== days.length || input.dailyPrincipal.some((p, i) => p.date !== days[i]))
    bad("dailyPrincipal must have one entry per natural day of the period, in order", { days: days.length });

  const book = new Map<string, { quantity: bigint; costBasis: bigint }>();
  for (const p of input.openingPositions) book.set(p.asset, { quantity: p.quantity, costBasis: p.costBasis });
  const unitOf = (asset: string): bigint => {
    const dec = input.assetDecimals[asset];
    if (dec === undefined) bad("unknown asset decimals", { asset });
    return 10n ** BigInt(dec);
  };

  const money = (v: bigint): string => formatMoney(v, t.currency.decimals);
  let cash = input.openingCash;
  const fees: FeeItem[] = [];
  const commission = t.fees.find((f) => f.kind === "per-trade");
  const trades: StatementTrade[] = [];
  const moved: NonNullable<Statement["positionMovements"]> = [];
  const moves = [...(input.positionMovements ?? [])].sort((a, b) => a.at - b.at);
  let nextMove = 0;
  const applyMovesUntil = (at: number): void => {
    while (nextMove < moves.length && moves[nextMove].at <= at) {
      const mv = moves[nextMove++];
      const date = dateOfTimestamp(mv.at, offset);
      if (date < input.period.from || date > input.period.to)
        bad("position movement outside the period", { reference: mv.reference, date });
      if (mv.quantity <= 0n) bad("position movement must be positive", { reference: mv.reference });
      const pos = book.get(mv.asset) ?? { quantity: 0n, costBasis: 0n };
      let realisedPnl = 0n;
      if (mv.kind === "deposit") {
        pos.quantity += mv.quantity;
        pos.costBasis += divDown(mv.quantity * mv.price, unitOf(mv.asset));
      } else {
        if (mv.quantity > pos.quantity)
          bad("movement exceeds the position", { reference: mv.reference, held: pos.quantity.toString() });
        const removed = divDown(pos.costBasis * mv.quantity, pos.quantity);
        pos.quantity -= mv.quantity;
        pos.costBasis -= removed;
        if (mv.kind === "liquidation") {
          if (mv.proceeds === undefined) bad("a liquidation needs its proceeds", { reference: mv.reference });
          realisedPnl = mv.proceeds! - removed;
          cash += mv.proceeds!;
        }
      }
      book.set(mv.asset, pos);
      moved.push({ ...mv, date, realisedPnl });
    }
  };
  for (const tr of [...input.trades].sort((a, b) => a.at - b.at || a.tradeId.localeCompare(b.tradeId))) {
    applyMovesUntil(tr.at);
    const date = dateOfTimestamp(tr.at, offset);
    if (date < input.period.from || date > input.period.to)
      bad("trade outside the period", { tradeId: tr.tradeId, date });
    if (tr.quantity <= 0n || tr.price <= 0n) bad("trade quantity and price must be positive", { tradeId: tr.tradeId });
    // The hub's cash leg: rounded up, so that a seller is never paid below its limit (ISettlementHub).
    const notional = divUp(tr.quantity * tr.price, unitOf(tr.asset));
    const pos = book.get(tr.asset) ?? { quantity: 0n, costBasis: 0n };
    let realisedPnl = 0n;
    if (tr.side === "buy") {
      pos.quantity += tr.quantity;
      pos.costBasis += notional;
      cash -= notional;
    } else {
      if (tr.quantity > pos.quantity)
        bad("sell exceeds the position", { tradeId: tr.tradeId, held: pos.quantity.toString() });
      const removed = divDown(pos.costBasis * tr.quantity, pos.quantity);
      realisedPnl = notional - removed;
      pos.quantity -= tr.quantity;
      pos.costBasis -= removed;
      cash += notional;
    }
    book.set(tr.asset, pos);
    const fee = commission && commission.kind === "per-trade" ? tradeFee(commission, notional) : 0n;
    if (commission && fee > 0n) {
      cash -= fee;
      fees.push({
        date,
        code: commission.code,
        label: commission.label,
        basis: `max(${money(notional)} × ${commission.bps} bps, ${money(commission.minimum)})`,
        amount: fee,
        reference: tr.tradeId,
      });
    }
    trades.push({ ...tr, date, notional, fee, realisedPnl });
  }

  applyMovesUntil(Number.POSITIVE_INFINITY);
  const movements = input.cashMovements ?? [];
  for (const m of movements) {
    assertDate(m.date);
    if (m.date < input.period.from || m.date > input.period.to)
      bad("cash movement outside the period", { reference: m.reference });
    if (m.amount <= 0n) bad("cash movement must be positive", { reference: m.reference });
    cash += m.kind === "deposit" || m.kind === "borrow" ? m.amount : -m.amount;
  }

  const interest = accrueDaily(
    input.openingAccruals.interest,
    input.dailyPrincipal.map((p) => ({ date: p.date, balance: p.principal })),
    t.interest.annualRateBps,
  );
  const closingFees: Record<string, AccrualState> = { ...input.openingAccruals.fees };
  for (const rule of t.fees) {
    if (rule.kind === "daily-on-own-funds") {
      const opening = input.openingAccruals.fees[rule.code] ?? { scaled: 0n, charged: 0n };
      const acc = accrueDaily(
        opening,
        days.map((date) => ({ date, balance: t.ownFunds })),
        rule.annualBps,
      );
      closingFees[rule.code] = acc.closing;
      for (const day of acc.days)
        fees.push({
          date: day.date,
          code: rule.code,
          label: rule.label,
          basis: `${money(t.ownFunds)} × ${rule.annualBps} bps / 365`,
          amount: day.amount,
          reference: `accrual:${day.date}`,
        });
    } else if (rule.kind === "fixed" && rule.when === "opening") {
      const openingDay = dateOfTimestamp(t.effectiveAt, offset);
      if (openingDay >= input.period.from && openingDay <= input.period.to) {
        cash -= rule.amount;
        fees.push({
          date: openingDay,
          code: rule.code,
          label: rule.label,
          basis: "fixed, at opening",
          amount: rule.amount,
          reference: "opening",
        });
      }
    }
  }
  fees.sort(
    (a, b) => a.date.localeCompare(b.date) || a.code.localeCompare(b.code) || a.reference.localeCompare(b.reference),
  );

  const positions = [...book.entries()]
    .filter(([, p]) => p.quantity > 0n)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([asset, p]) => {
      const price = input.closingPrices[asset];
      if (price === undefined) bad("no closing price", { asset });
      const marketValue = divDown(p.quantity * price, unitOf(asset));
      return {
        asset,
        quantity: p.quantity,
        costBasis: p.costBasis,
        averageCost: divDown(p.costBasis * unitOf(asset), p.quantity),
        price,
        marketValue,
        unrealisedPnl: marketValue - p.costBasis,
      };
    });

  const marketValue = positions.reduce((s, p) => s + p.marketValue, 0n);
  const principal = input.dailyPrincipal[input.dailyPrincipal.length - 1].principal;
  const accruedInterest = interest.closing.charged;
  const accruedFees = Object.values(closingFees).reduce((s, a) => s + a.charged, 0n);
  const equity = cash + marketValue - principal - accruedInterest - accruedFees;
  const ratioBps = marketValue === 0n ? null : divDown(equity * BPS, marketValue);
  const m = t.margin;
  const status: MarginStatus =
    ratioBps === null
      ? "no-position"
      : ratioBps < BigInt(m.liquidationMarginBps)
        ? "liquidatable"
        : ratioBps < BigInt(m.maintenanceMarginBps)
          ? "margin-call"
          : ratioBps < BigInt(m.initialMarginBps)
            ? "warning"
            : "healthy";

  const interestTotal = interest.days.reduce((s, d) => s + d.amount, 0n);
  const feeTotal = fees.reduce((s, f) => s + f.amount, 0n);
  const realisedPnl = trades.reduce((s, x) => s + x.realisedPnl, 0n) + moved.reduce((s, x) => s + x.realisedPnl, 0n);
  const unrealisedPnl = positions.reduce((s, p) => s + p.unrealisedPnl, 0n);
  const expiry = dateOfTimestamp(t.expiresAt, offset);
  return {
    schema: "marginbridge/statement@1",
    agreementId: t.agreementId,
    account: { address: t.client.address, accountRef: t.client.accountRef, name: t.client.name },
    period: { ...input.period },
    currency: t.currency,
    positions,
    trades,
    cashMovements: movements,
    ...(input.positionMovements !== undefined ? { positionMovements: moved } : {}),
    ...(input.sources !== undefined ? { sources: input.sources } : {}),
    interestByDay: interest.days,
    fees,
    totals: {
      interest: interestTotal,
      fees: feeTotal,
      realisedPnl,
      unrealisedPnl,
      netPnl: realisedPnl - interestTotal - feeTotal,
    },
    balances: {
      openingCash: input.openingCash,
      closingCash: cash,
      marketValue,
      principal,
      accruedInterest,
      accruedFees,
      equity,
    },
    margin: {
      ratioBps,
      initialMarginBps: m.initialMarginBps,
      maintenanceMarginBps: m.maintenanceMarginBps,
      liquidationMarginBps: m.liquidationMarginBps,
      status,
    },
    feeSchedule: {
      rules: t.fees,
      worstCaseToExpiry: worstCaseCosts(t, { from: addDays(input.period.to, 1), to: addDays(expiry, -1) }),
    },
    closingAccruals: { interest: interest.closing, fees: closingFees },
    generatedAt: input.generatedAt,
  };
}

/** keccak256 of the statement's canonical JSON (quoted in disputes and evidence bundles). */
export function statementHash(s: Statement): string {
  return canonicalHash(s);
}
