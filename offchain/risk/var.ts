import { RiskError } from "./errors";
import { moneyUp } from "./fixed";
import { ReturnGenerator, type MarketModel } from "./stress/monteCarlo";
import { Rng } from "./stress/random";
import { assetOf, positionValue, priceOf } from "./valuation";
import type { Book } from "./types";

/**
 * Tail of a loss sample (losses positive). Of N outcomes the tail is the k = ⌈N·(1 − c)⌉ largest losses:
 * VaR is the smallest of them (the k-th largest), expected shortfall their mean. So ES ≥ VaR, and with
 * N = 250, c = 99%, VaR is the 3rd worst loss and ES the mean of the 3 worst. Floats in, base units out,
 * rounded up (a risk figure is never understated).
 */
export function tailRisk(
  losses: readonly number[],
  confidence: number,
): { valueAtRisk: bigint; expectedShortfall: bigint } {
  if (losses.length === 0) throw new RiskError("RISK_EMPTY_SAMPLE", "no losses to take a quantile of");
  if (!(confidence > 0 && confidence < 1)) {
    throw new RiskError("RISK_INVALID_INPUT", "confidence must be in (0, 1)", { confidence });
  }
  const sorted = [...losses].sort((a, b) => b - a);
  const k = Math.max(1, Math.ceil(sorted.length * (1 - confidence) - 1e-9));
  const tail = sorted.slice(0, k);
  return {
    valueAtRisk: moneyUp(Math.max(0, tail[k - 1])),
    expectedShortfall: moneyUp(Math.max(0, tail.reduce((s, x) => s + x, 0) / k)),
  };
}

/** The book's market exposure: Σ over accounts of each asset's value at current prices (cash base units). */
export function bookExposures(book: Book): Map<string, bigint> {
  const exposures = new Map<string, bigint>();
  for (const account of book.accounts) {
    for (const position of account.positions) {
      const risk = assetOf(book.market, position.asset);
      const value = positionValue(
        position.quantity,
        priceOf(book.market.prices, position.asset),
        risk.decimals,
        book.market.cashDecimals,
      );
      exposures.set(position.asset, (exposures.get(position.asset) ?? 0n) + value);
    }
  }
  return exposures;
}

export interface VarFigure {
  readonly method: "historical" | "monte-carlo";
  readonly confidence: number;
  readonly horizonDays: number;
  /** Number of P&L outcomes the figure is taken from. */
  readonly samples: number;
  /** Loss of the book's market value not exceeded with the given confidence (cash base units). */
  readonly valueAtRisk: bigint;
  readonly expectedShortfall: bigint;
}

/**
 * Historical simulation: the book's P&L over every overlapping window of `horizonDays` days inside each series of
 * daily returns (windows never span two series: the 2015 and 2020 paths are not one history), each asset
 * compounding its own returns: P&L = Σ_i exposure_i · (Π(1 + r_i,t) − 1). An asset without a return does not move.
 */
export function historicalVar(
  exposures: ReadonlyMap<string, bigint>,
  series: readonly (readonly ReadonlyMap<string, number>[])[],
  confidence: number,
  horizonDays: number,
): VarFigure {
  const losses: number[] = [];
  for (const dailyReturns of series) {
    for (let start = 0; start + horizonDays <= dailyReturns.length; start++) {
      let pnl = 0;
      for (const [asset, exposure] of exposures) {
        let growth = 1;
        for (let t = start; t < start + horizonDays; t++) growth *= 1 + (dailyReturns[t].get(asset) ?? 0);
        pnl += Number(exposure) * (growth - 1);
      }
      losses.push(-pnl);
    }
  }
  if (losses.length === 0) {
    throw new RiskError("RISK_EMPTY_SAMPLE", "no series has as many days of returns as the horizon", { horizonDays });
  }
  return { method: "historical", confidence, horizonDays, samples: losses.length, ...tailRisk(losses, confidence) };
}

/**
 * Monte Carlo: `paths` draws of the model's `horizonDays`-day log return per asset (sum of daily draws);
 * P&L = Σ_i exposure_i · (exp(x_i) − 1). Assets the model does not cover do not move.
 */
export function monteCarloVar(
  exposures: ReadonlyMap<string, bigint>,
  model: MarketModel,
  options: { confidence: number; horizonDays: number; paths: number; seed: number },
): VarFigure {
  const generator = new ReturnGenerator(model, new Rng(options.seed));
  const weights = model.assets.map((asset) => Number(exposures.get(asset) ?? 0n));
  const losses: number[] = [];
  for (let p = 0; p < options.paths; p++) {
    const cumulative = new Array<number>(model.assets.length).fill(0);
    for (let d = 0; d < options.horizonDays; d++) {
      generator.nextDay().forEach((x, i) => (cumulative[i] += x));
    }
    losses.push(-cumulative.reduce((pnl, x, i) => pnl + weights[i] * Math.expm1(x), 0));
  }
  return {
    method: "monte-carlo",
    confidence: options.confidence,
    horizonDays: options.horizonDays,
    samples: options.paths,
    ...tailRisk(losses, options.confidence),
  };
}
