import { RiskError } from "../errors";
import { wadFromNumber } from "../fixed";
import type { Book } from "../types";
import { Rng, cholesky } from "./random";
import type { Scenario } from "./scenario";
import { runScenario, type ScenarioResult, type SimulationOptions } from "./simulate";

/** Trading days per year: annual volatilities scale to daily by 1/√252. */
export const TRADING_DAYS_PER_YEAR = 252;

/**
 * Joint daily log returns: multivariate Student-t with ν degrees of freedom (fat tails and tail dependence: one
 * shared chi-square draw per day scales every asset), correlated through the Cholesky factor of `correlation`, and
 * scaled to unit variance so `annualVolatility` is the true volatility.
 */
export interface MarketModel {
  readonly assets: readonly string[];
  readonly annualVolatility: readonly number[];
  readonly correlation: readonly (readonly number[])[];
  /** Integer ν ≥ 3 (ν = 4 gives a daily excess kurtosis of ∞ in theory, heavy tails in practice). */
  readonly degreesOfFreedom: number;
  /** Annual drift of the log return per asset; 0 if absent (stress tests should not count on growth). */
  readonly annualDrift?: readonly number[];
}

/** Draws correlated fat-tailed daily log returns from a model; one generator per seed. */
export class ReturnGenerator {
  private readonly chol: number[][];
  private readonly dailyVol: number[];
  private readonly dailyDrift: number[];
  private readonly tScale: number;

  constructor(
    readonly model: MarketModel,
    private readonly rng: Rng,
  ) {
    const n = model.assets.length;
    if (model.annualVolatility.length !== n || model.correlation.length !== n || n === 0) {
      throw new RiskError("RISK_INVALID_INPUT", "one volatility and one correlation row per asset", { n });
    }
    if (!Number.isInteger(model.degreesOfFreedom) || model.degreesOfFreedom < 3) {
      throw new RiskError("RISK_INVALID_INPUT", "degrees of freedom must be an integer ≥ 3", {
        degreesOfFreedom: model.degreesOfFreedom,
      });
    }
    this.chol = cholesky(model.correlation);
    this.dailyVol = model.annualVolatility.map((v) => v / Math.sqrt(TRADING_DAYS_PER_YEAR));
    this.dailyDrift = model.assets.map((_, i) => (model.annualDrift?.[i] ?? 0) / TRADING_DAYS_PER_YEAR);
    this.tScale = Math.sqrt((model.degreesOfFreedom - 2) / model.degreesOfFreedom);
  }

  /** One day's log returns, one per asset in model order. */
  nextDay(): number[] {
    const n = this.chol.length;
    const z = Array.from({ length: n }, () => this.rng.normal());
    const nu = this.model.degreesOfFreedom;
    const mix = this.tScale / Math.sqrt(this.rng.chiSquare(nu) / nu);
    return this.chol.map((row, i) => {
      let correlated = 0;
      for (let k = 0; k <= i; k++) correlated += row[k] * z[k];
      return this.dailyDrift[i] + this.dailyVol[i] * correlated * mix;
    });
  }
}

export interface MonteCarloOptions {
  readonly paths: number;
  readonly days: number;
  readonly seed: number;
}

/** `paths` simulated scenarios of `days` days; each asset moves by exp(log return) − 1 per day. */
export function monteCarloScenarios(model: MarketModel, options: MonteCarloOptions): Scenario[] {
  const generator = new ReturnGenerator(model, new Rng(options.seed));
  const dayLabels = Array.from({ length: options.days }, (_, d) => `day ${d + 1}`);
  return Array.from({ length: options.paths }, (_, p) => ({
    id: `monte-carlo-${options.seed}-${p + 1}`,
    name: `Monte Carlo path ${p + 1}`,
    source: `Student-t (ν = ${model.degreesOfFreedom}) correlated simulation, seed ${options.seed}, path ${p + 1}`,
    days: dayLabels,
    returns: dayLabels.map(() => {
      const x = generator.nextDay();
      return new Map(model.assets.map((asset, i) => [asset, wadFromNumber(Math.expm1(x[i]))]));
    }),
  }));
}

/** Distribution of one money metric over the paths (cash base units). */
export interface MetricDistribution {
  readonly mean: bigint;
  readonly p95: bigint;
  readonly p99: bigint;
  readonly max: bigint;
}

export interface MonteCarloResult {
  readonly paths: number;
  readonly days: number;
  readonly seed: number;
  readonly model: MarketModel;
  /** Fraction of paths with any bad debt (WAD-free: a plain count). */
  readonly pathsWithBadDebt: number;
  readonly accountsLiquidated: MetricDistribution;
  readonly liquidationVolume: MetricDistribution;
  readonly badDebt: MetricDistribution;
  readonly insuranceFundUsed: MetricDistribution;
  readonly capitalPoolLoss: MetricDistribution;
  /** Each path's bad debt, in path order (what the reserve-adequacy target takes a percentile of). */
  readonly badDebtByPath: readonly bigint[];
  /** The path with the largest capital pool loss (then bad debt, then liquidation volume), in full. */
  readonly worstPath: ScenarioResult;
}

/**
 * Runs the book through `paths` simulated scenarios. Percentiles use the tail convention of var.ts: of N sorted
 * outcomes the q-quantile is the ⌈N·(1 − q)⌉-th largest. The mean is rounded up.
 */
export function runMonteCarlo(
  book: Book,
  model: MarketModel,
  options: MonteCarloOptions,
  simulation: SimulationOptions = {},
): MonteCarloResult {
  if (!Number.isInteger(options.paths) || options.paths < 1 || !Number.isInteger(options.days) || options.days < 1) {
    throw new RiskError("RISK_INVALID_INPUT", "paths and days must be positive integers", { ...options });
  }
  const results = monteCarloScenarios(model, options).map((scenario) => runScenario(book, scenario, simulation));
  const worstPath = results.reduce((worst, r) =>
    r.capitalPoolLoss > worst.capitalPoolLoss ||
    (r.capitalPoolLoss === worst.capitalPoolLoss &&
      (r.badDebt > worst.badDebt || (r.badDebt === worst.badDebt && r.liquidationVolume > worst.liquidationVolume)))
      ? r
      : worst,
  );
  const metric = (pick: (r: ScenarioResult) => bigint) => distribution(results.map(pick));
  return {
    paths: options.paths,
    days: options.days,
    seed: options.seed,
    model,
    pathsWithBadDebt: results.filter((r) => r.badDebt > 0n).length,
    accountsLiquidated: metric((r) => BigInt(r.accountsLiquidated)),
    liquidationVolume: metric((r) => r.liquidationVolume),
    badDebt: metric((r) => r.badDebt),
    insuranceFundUsed: metric((r) => r.insuranceFundUsed),
    capitalPoolLoss: metric((r) => r.capitalPoolLoss),
    badDebtByPath: results.map((r) => r.badDebt),
    worstPath,
  };
}

export function distribution(values: readonly bigint[]): MetricDistribution {
  if (values.length === 0) throw new RiskError("RISK_EMPTY_SAMPLE", "no values");
  const sorted = [...values].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  const n = BigInt(sorted.length);
  const sum = sorted.reduce((s, v) => s + v, 0n);
  const at = (q: number) => sorted[Math.max(1, Math.ceil(sorted.length * (1 - q) - 1e-9)) - 1];
  return { mean: sum === 0n ? 0n : (sum - 1n) / n + 1n, p95: at(0.95), p99: at(0.99), max: sorted[0] };
}
