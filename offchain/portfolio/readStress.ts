import {
  DEFAULT_BETA_BY_TIER,
  DEFAULT_CORRELATION,
  DEFAULT_DAILY_LIQUIDATION_LIMIT,
  DEFAULT_DEGREES_OF_FREEDOM,
  DEFAULT_VOLATILITY_BY_TIER,
  WAD,
  divCeil,
  buildStressReport,
  loadShockPaths,
  parseDecimal,
  stressCharts,
  type LiquidityTier,
  type ShockPath,
  type StressReport,
} from "../risk";
import { AppError } from "../shared/errors";
import type { PortfolioChain } from "./chainReader";
import { readBook, type ChainBook } from "./readBook";
import type { StressSummary } from "./schemas";

/** Sizes of the API's stress run: small enough to answer in well under a second for a handful of accounts. */
export const STRESS_RUN = { monteCarloPaths: 100, monteCarloDays: 20, varPaths: 2000, seed: 1 } as const;

let shockPaths: ShockPath[] | undefined;

/**
 * Use case: the stress page — the real book read from the chain (readBook) through the shipped historical shock
 * paths (2015 A-share, March 2020) and a Monte Carlo run, plus VaR / expected shortfall of the whole book, with
 * the default assumptions of docs/risk.md (betas and volatility by tier, correlation 0.6, ν = 4, daily liquidation
 * limits tier 2: 50%, tier 3: 25%). Monte Carlo rows give the 99th percentile over the paths.
 */
export async function readStress(chain: PortfolioChain): Promise<StressSummary> {
  return stressOf(await readBook(chain), chain);
}

export function stressOf(chainBook: ChainBook, chain: PortfolioChain): StressSummary {
  return stressRun(chainBook, chain).summary;
}

/** The stress run of the book: the API's summary and the report it was made from (per-path figures included). */
export function stressRun(
  chainBook: ChainBook,
  chain: PortfolioChain,
  opts: { charts?: boolean } = {},
): { summary: StressSummary; report: StressReport } {
  const started = performance.now();
  const { book, block } = chainBook;
  const cashToken = chain.deployment.tokens.find((t) => t.kind === "cash");
  if (!cashToken) throw new AppError("CONFIG_INVALID", "the deployment has no cash token");
  shockPaths ??= loadShockPaths();
  const assets = [...book.market.assets.values()];
  const ids = assets.map((a) => a.asset);
  const dailyLiquidationLimit: Partial<Record<LiquidityTier, bigint>> = {};
  for (const [tier, fraction] of Object.entries(DEFAULT_DAILY_LIQUIDATION_LIMIT))
    dailyLiquidationLimit[Number(tier) as LiquidityTier] = parseDecimal(fraction, 18);
  const report = buildStressReport(book, {
    shockPaths,
    betas: Object.fromEntries(assets.map((a) => [a.asset, DEFAULT_BETA_BY_TIER[a.liquidityTier]])),
    model: {
      assets: ids,
      annualVolatility: assets.map((a) => DEFAULT_VOLATILITY_BY_TIER[a.liquidityTier]),
      correlation: ids.map((_, i) => ids.map((__, j) => (i === j ? 1 : DEFAULT_CORRELATION))),
      degreesOfFreedom: DEFAULT_DEGREES_OF_FREEDOM,
    },
    monteCarlo: { paths: STRESS_RUN.monteCarloPaths, days: STRESS_RUN.monteCarloDays, seed: STRESS_RUN.seed },
    simulation: { dailyLiquidationLimit },
    valueAtRisk: { confidence: 0.99, horizons: [1, 10], paths: STRESS_RUN.varPaths },
  });
  const str = (v: bigint | undefined): string | null => (v === undefined ? null : v.toString());
  const mc = report.monteCarlo;
  // The p99 pool loss taken off the same reserve ratio the scenarios start from: (assets − loss) / claims.
  const claims = book.funding.providerClaims ?? 0n;
  const before = mc.worstPath.reserveRatioBefore;
  const ratioAfterP99 =
    before !== undefined && claims > 0n ? before - divCeil(mc.capitalPoolLoss.p99 * WAD, claims) : undefined;
  const summary: StressSummary = {
    block,
    cashToken: { symbol: cashToken.symbol, address: cashToken.address, decimals: cashToken.decimals },
    accounts: book.accounts.length,
    book: {
      collateralValue: report.book.collateralValue.toString(),
      debt: report.book.debt.toString(),
      equity: report.book.equity.toString(),
      insuranceFund: book.funding.insuranceFund.toString(),
      poolCash: book.funding.poolCash.toString(),
      providerClaims: (book.funding.providerClaims ?? 0n).toString(),
    },
    scenarios: [
      ...report.historical.map((s) => ({
        id: s.scenarioId,
        name: s.name,
        kind: "historical" as const,
        accountsLiquidated: s.accountsLiquidated,
        liquidationVolume: s.liquidationVolume.toString(),
        badDebt: s.badDebt.toString(),
        insuranceFundUsed: s.insuranceFundUsed.toString(),
        capitalPoolLoss: s.capitalPoolLoss.toString(),
        reserveRatioBefore: str(s.reserveRatioBefore),
        reserveRatioAfter: str(s.reserveRatioAfter),
      })),
      {
        id: "monte-carlo-p99",
        name: `Monte Carlo 99th percentile (${mc.paths} paths × ${mc.days} days)`,
        kind: "monte-carlo" as const,
        accountsLiquidated: Number(mc.accountsLiquidated.p99),
        liquidationVolume: mc.liquidationVolume.p99.toString(),
        badDebt: mc.badDebt.p99.toString(),
        insuranceFundUsed: mc.insuranceFundUsed.p99.toString(),
        capitalPoolLoss: mc.capitalPoolLoss.p99.toString(),
        reserveRatioBefore: str(mc.worstPath.reserveRatioBefore),
        reserveRatioAfter: str(ratioAfterP99),
      },
    ],
    monteCarlo: { paths: mc.paths, days: mc.days, pathsWithBadDebt: mc.pathsWithBadDebt },
    valueAtRisk: report.valueAtRisk.map((v) => ({
      method: v.method,
      confidence: v.confidence,
      horizonDays: v.horizonDays,
      samples: v.samples,
      valueAtRisk: v.valueAtRisk.toString(),
      expectedShortfall: v.expectedShortfall.toString(),
    })),
    charts: (opts.charts === false ? [] : stressCharts(report, book.market.cashDecimals)).map((c) => ({
      name: c.file.replace(/\.svg$/, ""),
      title: c.title,
      svg: c.svg,
    })),
    elapsedMs: Math.round(performance.now() - started),
  };
  return { summary, report };
}
