import { DEFAULT_VOLATILITY_BY_TIER, WAD, reserveAdequacy, type LiquidityTier, type StressReport } from "../risk";
import type { PortfolioChain } from "./chainReader";
import type { ChainBook } from "./readBook";
import type { ReserveAdequacySummary } from "./schemas";

/**
 * The reserve-adequacy job's stated rule (docs/risk.md, "Reserve adequacy"): the insurance fund's target is the
 * Monte Carlo stress run's bad debt at the 99th percentile of its paths (nearest rank); until the fund holds it,
 * each financed loan contributes 5 bp of its amount, times the market's volatility multiplier — the largest
 * σ_daily / σ_calm over the listed securities (the router's σ against the stress model's calm volatility of the
 * asset's tier, per calendar day), never below 1.
 */
export const RESERVE_RULE = { percentile: 0.99, baseRate: 5n * 10n ** 14n } as const;

const DAY_SECONDS = 86_400;

/** Calm daily σ of a tier (WAD): the stress model's annual volatility over √365 (the router's σ is per calendar day). */
function calmDailySigma(tier: LiquidityTier): bigint {
  return BigInt(Math.round((DEFAULT_VOLATILITY_BY_TIER[tier] / Math.sqrt(365)) * 1e18));
}

/**
 * Financed turnover per day: every loan the engine booked (`Borrowed`) since the deployment, over the days since
 * the first one (at least one day), read at the book's block.
 */
async function financedTurnover(
  chain: PortfolioChain,
  block: number,
): Promise<{ total: bigint; perDay: bigint; days: number }> {
  const { engine, deployment, gateway } = chain;
  const logs = await engine.queryFilter(engine.filters.Borrowed(), deployment.deployBlock, block);
  let total = 0n;
  for (const l of logs) total += l.args.amount;
  if (logs.length === 0) return { total, perDay: 0n, days: 0 };
  const [first, now] = await Promise.all([
    gateway.provider.getBlock(logs[0].blockNumber),
    gateway.provider.getBlock(block),
  ]);
  const seconds = (now?.timestamp ?? 0) - (first?.timestamp ?? 0);
  const days = Math.max(1, Math.ceil(seconds / DAY_SECONDS));
  return { total, perDay: total / BigInt(days), days };
}

/** The reserve-adequacy summary of the book's stress run (what the risk officer and the capital providers read). */
export async function reserveOf(
  chainBook: ChainBook,
  report: StressReport,
  chain: PortfolioChain,
): Promise<ReserveAdequacySummary> {
  const { book, block } = chainBook;
  const at = { blockTag: block };
  // the volatility multiplier: the roughest listed security against its calm level
  let sigma = 0n;
  let calmSigma = 1n;
  let driver: string | null = null;
  for (const a of book.market.assets.values()) {
    const s = await chain.router.volatility(a.asset, at);
    const calm = calmDailySigma(a.liquidityTier);
    if (driver === null || s * calmSigma > sigma * calm) [sigma, calmSigma, driver] = [s, calm, a.asset];
  }
  const turnover = await financedTurnover(chain, block);
  const insuranceFund = book.funding.insuranceFund;
  const r = reserveAdequacy({
    losses: report.monteCarlo.badDebtByPath,
    percentile: RESERVE_RULE.percentile,
    insuranceFund,
    turnoverPerDay: turnover.perDay,
    baseRate: RESERVE_RULE.baseRate,
    sigma,
    calmSigma,
  });
  const multiplier = calmSigma > 0n && sigma > calmSigma ? (sigma * WAD) / calmSigma : WAD;
  return {
    block,
    rule: {
      percentile: RESERVE_RULE.percentile,
      paths: report.monteCarlo.paths,
      days: report.monteCarlo.days,
      baseRate: RESERVE_RULE.baseRate.toString(),
    },
    insuranceFund: insuranceFund.toString(),
    target: r.target.toString(),
    gap: r.gap.toString(),
    covered: r.gap === 0n,
    volatility: {
      asset: driver,
      sigmaDaily: sigma.toString(),
      calmSigmaDaily: calmSigma.toString(),
      multiplier: multiplier.toString(),
    },
    turnover: { total: turnover.total.toString(), perDay: turnover.perDay.toString(), days: turnover.days },
    proposal: {
      rate: r.rate.toString(),
      perDay: r.perDay.toString(),
      daysToTarget: r.daysToTarget ?? null,
      text: proposalText(r.gap === 0n, r.rate, r.daysToTarget),
    },
  };
}

function bp(rate: bigint): string {
  // WAD → basis points with two decimals
  const hundredths = (rate * 1_000_000n + WAD / 2n) / WAD;
  return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, "0")}`;
}

function proposalText(covered: boolean, rate: bigint, days: number | undefined): { en: string; "zh-CN": string } {
  if (covered)
    return {
      en: "The insurance fund covers the 99th-percentile stress loss: no contribution is needed.",
      "zh-CN": "保险基金已覆盖99百分位压力损失：无需额外缴款。",
    };
  const when =
    days === undefined
      ? { en: "no loans are being financed, so the gap stays open", zh: "目前没有新增融资，缺口将保持" }
      : { en: `the gap closes in about ${days} days`, zh: `缺口约 ${days} 天后补足` };
  return {
    en: `Charge ${bp(rate)} bp of every financed loan to the insurance fund until it holds the target: ${when.en}.`,
    "zh-CN": `对每笔融资按 ${bp(rate)} 个基点计提保险基金，直至达到目标：${when.zh}。`,
  };
}
