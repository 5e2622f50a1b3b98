import { SeededRandom } from "../random";
import { FEED_DECIMALS, type PriceQuote, type PriceSource } from "../types";

/** Merton jump-diffusion parameters of one simulated asset (annualised). */
export interface SimulatedAsset {
  symbol: string;
  /** Starting price in quote currency units, e.g. 10.5. */
  initialPrice: number;
  /** Annual drift μ. */
  drift: number;
  /** Annual diffusion volatility σ. */
  volatility: number;
  /** Expected jumps per year λ. */
  jumpIntensity: number;
  /** Mean log jump size μ_J (negative: crashes). */
  jumpMean: number;
  /** Standard deviation of the log jump size σ_J. */
  jumpStdDev: number;
}

export interface MarketSimulatorOptions {
  seed: number;
  assets: SimulatedAsset[];
  /** Simulated seconds per step (the market can run faster than the wall clock in a demo). */
  stepSeconds: number;
  /** Seconds in a simulated year (365 days by default). */
  secondsPerYear?: number;
}

/** Default demo market: a bank, a tech name and a volatile small cap. */
export const DEMO_ASSETS: SimulatedAsset[] = [
  {
    symbol: "mbBANK",
    initialPrice: 10,
    drift: 0.04,
    volatility: 0.2,
    jumpIntensity: 2,
    jumpMean: -0.02,
    jumpStdDev: 0.03,
  },
  {
    symbol: "mbTECH",
    initialPrice: 50,
    drift: 0.08,
    volatility: 0.35,
    jumpIntensity: 4,
    jumpMean: -0.03,
    jumpStdDev: 0.05,
  },
  {
    symbol: "mbSMALL",
    initialPrice: 4,
    drift: 0.05,
    volatility: 0.55,
    jumpIntensity: 6,
    jumpMean: -0.04,
    jumpStdDev: 0.06,
  },
];

/**
 * Geometric Brownian motion with Merton jumps, seeded and deterministic: the n-th step gives the same prices
 * for the same seed and assets. Per step of Δt years and each asset:
 *   ln S ← ln S + (μ − σ²/2 − λk)·Δt + σ·√Δt·Z + Σ_{i ≤ N} J_i,
 *   Z ~ N(0,1), N ~ Poisson(λΔt), J_i ~ N(μ_J, σ_J²), k = e^{μ_J + σ_J²/2} − 1 (so that E[S] grows at μ).
 */
export class MarketSimulator {
  private readonly rng: SeededRandom;
  private readonly assets: SimulatedAsset[];
  private readonly dt: number;
  private readonly logPrices: Map<string, number>;
  /** Scheduled moves (development market control): the log change still to apply and the most one step may apply. */
  private readonly shocks = new Map<string, { remaining: number; maxDown: number; maxUp: number }>();
  private steps = 0;

  constructor(opts: MarketSimulatorOptions) {
    this.rng = new SeededRandom(opts.seed);
    this.assets = opts.assets;
    this.dt = opts.stepSeconds / (opts.secondsPerYear ?? 365 * 24 * 3600);
    this.logPrices = new Map(opts.assets.map((a) => [a.symbol, Math.log(a.initialPrice)]));
  }

  /** Number of steps taken. */
  get stepCount(): number {
    return this.steps;
  }

  /** Advances every asset by one step, in the order given (so draws are consumed deterministically). */
  step(): void {
    const dt = this.dt;
    for (const a of this.assets) {
      const k = Math.exp(a.jumpMean + (a.jumpStdDev * a.jumpStdDev) / 2) - 1;
      let x = this.logPrices.get(a.symbol)!;
      x += (a.drift - (a.volatility * a.volatility) / 2 - a.jumpIntensity * k) * dt;
      x += a.volatility * Math.sqrt(dt) * this.rng.normal();
      const jumps = this.rng.poisson(a.jumpIntensity * dt);
      for (let i = 0; i < jumps; i++) x += a.jumpMean + a.jumpStdDev * this.rng.normal();
      x += this.takeShock(a.symbol);
      this.logPrices.set(a.symbol, x);
    }
    this.steps++;
  }

  /**
   * Schedules a move of `moveBps` (−2,500 = a 25% fall) on top of the model, spread over the next steps so that
   * no step moves the price by more than `maxStepBps` (default 15%, inside the router's 20% breaker). A new
   * shock on the same symbol replaces what is left of the previous one. Development only: the demo's market.
   */
  shock(symbol: string, moveBps: number, maxStepBps = 1_500): void {
    if (!this.logPrices.has(symbol)) throw new RangeError(`unknown symbol ${symbol}`);
    if (!Number.isInteger(moveBps) || moveBps <= -10_000 || moveBps > 100_000) {
      throw new RangeError("moveBps must be an integer above -10000 and at most 100000");
    }
    if (!Number.isInteger(maxStepBps) || maxStepBps < 1 || maxStepBps >= 10_000) {
      throw new RangeError("maxStepBps must be an integer from 1 to 9999");
    }
    if (moveBps === 0) {
      this.shocks.delete(symbol);
      return;
    }
    // In log terms a fall of maxStep is a larger step than a rise of maxStep: one bound each way.
    const step = maxStepBps / 10_000;
    this.shocks.set(symbol, {
      remaining: Math.log1p(moveBps / 10_000),
      maxDown: -Math.log1p(-step),
      maxUp: Math.log1p(step),
    });
  }

  /** The part of a scheduled move not applied yet, in bps of the current price (0 when none). */
  pendingMoveBps(symbol: string): number {
    const s = this.shocks.get(symbol);
    return s ? Math.round(Math.expm1(s.remaining) * 10_000) : 0;
  }

  private takeShock(symbol: string): number {
    const s = this.shocks.get(symbol);
    if (!s) return 0;
    const take = Math.max(-s.maxDown, Math.min(s.maxUp, s.remaining));
    s.remaining -= take;
    if (Math.abs(s.remaining) < 1e-12) this.shocks.delete(symbol);
    return take;
  }

  /**
   * The implied volatility the simulated market quotes (annual, a fraction): the model's total volatility,
   * √(σ² + λ·(μ_J² + σ_J²)), plus half of a scheduled move still to come (a market pricing a fall it sees coming:
   * a 25% shock not yet applied lifts it by 12.5 points). Undefined for an unknown symbol.
   */
  impliedVolatility(symbol: string): number | undefined {
    const a = this.assets.find((x) => x.symbol === symbol);
    if (!a) return undefined;
    const total = Math.sqrt(a.volatility ** 2 + a.jumpIntensity * (a.jumpMean ** 2 + a.jumpStdDev ** 2));
    return total + Math.abs(this.pendingMoveBps(symbol)) / 20_000;
  }

  /** Current price as a float (model units). */
  price(symbol: string): number | undefined {
    const x = this.logPrices.get(symbol);
    return x === undefined ? undefined : Math.exp(x);
  }

  /** Current price in feed decimals, rounded to the nearest unit (the only float → bigint crossing). */
  feedPrice(symbol: string): bigint | undefined {
    const p = this.price(symbol);
    return p === undefined ? undefined : BigInt(Math.round(p * 10 ** FEED_DECIMALS));
  }
}

/** A volatility feed's symbol: the security's with this suffix (`mbBANK.IV`), quoted as an annual fraction. */
export const VOLATILITY_SUFFIX = ".IV";

/**
 * A PriceSource over a MarketSimulator: every read takes one step, then quotes the requested symbols — prices, and
 * for `<symbol>.IV` the implied volatility (feed decimals: 0.3 → 30,000,000).
 */
export class SimulatedSource implements PriceSource {
  readonly name = "simulator";
  constructor(private readonly simulator: MarketSimulator) {}

  async read(symbols: string[], now: number): Promise<PriceQuote[]> {
    this.simulator.step();
    const quotes: PriceQuote[] = [];
    for (const symbol of symbols) {
      if (symbol.endsWith(VOLATILITY_SUFFIX)) {
        const iv = this.simulator.impliedVolatility(symbol.slice(0, -VOLATILITY_SUFFIX.length));
        if (iv !== undefined && iv > 0)
          quotes.push({ symbol, price: BigInt(Math.round(iv * 10 ** FEED_DECIMALS)), observedAt: now });
        continue;
      }
      const price = this.simulator.feedPrice(symbol);
      if (price !== undefined && price > 0n) quotes.push({ symbol, price, observedAt: now });
    }
    return quotes;
  }
}
