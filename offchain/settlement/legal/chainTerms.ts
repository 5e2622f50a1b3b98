import { tierMargins } from "../../risk";
import { LegalError } from "./errors";
import type { AssetSchedule, ChainSchedule, FeeRule, FinancingTerms, PerformanceFee, WaterfallStep } from "./terms";

/** One basis point as an 18-decimal ratio. */
const WAD_PER_BPS = 10n ** 14n;

/** What the platform decides for one agreement; every number the chain applies comes from `ChainSchedule`. */
export interface ChainTermsRequest {
  agreementId: string;
  version?: number;
  replaces?: string;
  client: { address: string; name: string; accountRef: string };
  platform: { address: string; name: string };
  currency: { symbol: string; iso4217: string; decimals: number };
  ownFunds: bigint;
  leverageBps: number;
  fees: FeeRule[];
  /** Defaults to the client keeping the whole profit when a performance fee is agreed, else 100 % to the client. */
  profitSplit?: FinancingTerms["profitSplit"];
  /** Without a high-water mark given, the own funds are the mark. */
  performanceFee?: Omit<PerformanceFee, "highWaterMark"> & { highWaterMark?: bigint };
  /** The margin mode the client chose (MarginEngine.setFixedTerm); absent: the terms do not state the modes. */
  marginMode?: { chosen: "fixed" | "dynamic"; fixedUntil: string | null };
  defaultWaterfall?: WaterfallStep[];
  effectiveAt: number;
  expiresAt: number;
  governingLaw: string;
  disputeResolution: string;
}

/** An 18-decimal ratio in basis points, rounded up (a requirement or a penalty never reads lower than applied). */
export function wadToBpsUp(v: bigint): number {
  return Number((v + WAD_PER_BPS - 1n) / WAD_PER_BPS);
}

/** The margins of an asset's tier in calm markets (σ = 0): the clamp of the add-on between floor and cap. */
function calmMargins(a: AssetSchedule): { maintenance: bigint; initial: bigint } {
  return tierMargins(a.tier, 0n);
}

/**
 * The financing terms generated from the chain at signing: the per-asset schedule as read, and the headline numbers
 * derived from it so that the readable clauses match what the engine does — the lowest margins of any listed asset
 * (the per-asset schedule, clause 4b, governs each position), the engine's grace period as the margin-call window,
 * the hard floor as the liquidation line, the largest per-asset penalty and the engine's liquidator share, the
 * pool's current rate, no close factor (a liquidation stops at the target instead). Throws LEGAL_INVALID_TERMS when
 * the leverage is above the client's verified limit.
 */
export function termsFromChain(schedule: ChainSchedule, req: ChainTermsRequest): FinancingTerms {
  if (schedule.assets.length === 0)
    throw new LegalError("LEGAL_INVALID_TERMS", "schedule.assets: no listed asset", { field: "schedule.assets" });
  if (BigInt(req.leverageBps) * WAD_PER_BPS > schedule.maxLeverage) {
    throw new LegalError("LEGAL_INVALID_TERMS", "leverageBps: above the client's verified leverage limit", {
      field: "leverageBps",
      value: String(req.leverageBps),
      maxLeverage: schedule.maxLeverage.toString(),
    });
  }
  const calm = schedule.assets.map(calmMargins);
  const lowest = calm.reduce((m, c) => (c.initial < m.initial ? c : m));
  const maintenanceBps = wadToBpsUp(lowest.maintenance);
  const p = schedule.params;
  const liquidatorBps = Number((p.liquidatorShare * 10_000n) / 10n ** 18n);
  const order = [...schedule.assets].sort((a, b) => b.liquidityTier - a.liquidityTier || cmp(a.symbol, b.symbol));
  const performanceFee = req.performanceFee && {
    ...req.performanceFee,
    highWaterMark: req.performanceFee.highWaterMark ?? req.ownFunds,
  };
  return {
    schema: "marginbridge/financing-terms@1",
    agreementId: req.agreementId,
    version: req.version ?? 1,
    ...(req.replaces !== undefined ? { replaces: req.replaces } : {}),
    client: req.client,
    platform: req.platform,
    currency: req.currency,
    ownFunds: req.ownFunds,
    leverageBps: req.leverageBps,
    financedAmount: (req.ownFunds * BigInt(req.leverageBps - 10_000)) / 10_000n,
    interest: {
      annualRateBps: wadToBpsUp(schedule.rate.annualRate),
      dayCount: "ACT/365",
      rounding: "cumulative-ceil",
      payment: "at-settlement",
    },
    margin: {
      initialMarginBps: wadToBpsUp(lowest.initial),
      maintenanceMarginBps: maintenanceBps,
      liquidationMarginBps: wadToBpsUp((lowest.maintenance * p.hardFloorFactor) / 10n ** 18n),
      marginCallWindowSeconds: p.gracePeriod,
      ...(req.marginMode ? { mode: modeTerms(schedule, req.marginMode) } : {}),
    },
    liquidation: {
      assetOrder: order.map((a) => a.symbol),
      closeFactorBps: 10_000,
      penaltyBps: Math.max(...schedule.assets.map((a) => wadToBpsUp(a.liquidationPenalty))),
      penaltyToLiquidatorBps: liquidatorBps,
      penaltyToInsuranceFundBps: 10_000 - liquidatorBps,
    },
    fees: req.fees,
    ...(performanceFee ? { performanceFee } : {}),
    schedule,
    profitSplit: req.profitSplit ?? { clientBps: 10_000, capitalProvidersBps: 0, platformBps: 0 },
    defaultWaterfall: req.defaultWaterfall ?? ["client-collateral", "insurance-fund", "capital-pool"],
    effectiveAt: req.effectiveAt,
    expiresAt: req.expiresAt,
    governingLaw: req.governingLaw,
    disputeResolution: req.disputeResolution,
  };
}

/** The mode clause's numbers for the most liquid tier (the per-asset fixed volatilities are in clause 4b). */
function modeTerms(
  schedule: ChainSchedule,
  chosen: NonNullable<ChainTermsRequest["marginMode"]>,
): NonNullable<FinancingTerms["margin"]["mode"]> {
  const best = schedule.assets.reduce((m, a) => (a.liquidityTier < m.liquidityTier ? a : m));
  const fixed = tierMargins(best.tier, best.tier.fixedVolatility);
  return {
    chosen: chosen.chosen,
    fixedUntil: chosen.fixedUntil,
    dynamicCapMaintenanceBps: wadToBpsUp(best.tier.cap),
    fixedVolatilityBps: wadToBpsUp(best.tier.fixedVolatility),
    fixedMaintenanceBps: wadToBpsUp(fixed.maintenance),
    fixedInitialBps: wadToBpsUp(fixed.initial),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
