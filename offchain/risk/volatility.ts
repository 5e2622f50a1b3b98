import { WAD } from "./fixed";

/**
 * The router's daily volatility (contracts/oracle/VolatilityMath.sol), replicated exactly in bigint so that the
 * service, the stress engine and the calibration compute the figure the chain enforces. A return r over Δt seconds
 * is the sample r² · 86400 / Δt; it enters with weight 1 − w, w = 2^(−Δt / halfLife), and the state keeps the
 * daily variance V and the weight W of the history: W' = w·W + (1 − w), V' = (V·w·W + s·(1 − w)) / W'.
 */

const DAY = 86_400n;
const LN2_WAD = 693147180559945309n;

export interface VolatilityState {
  /** Daily variance (WAD). */
  readonly variance: bigint;
  /** Weight of the absorbed history (WAD, ≤ 1e18; 0 before the first return). */
  readonly weight: bigint;
}

export const NO_HISTORY: VolatilityState = { variance: 0n, weight: 0n };

/** 2^(−t/h) in WAD, exactly as VolatilityMath.decayWeight (floored series, shift for whole half-lives). */
export function decayWeight(t: bigint, h: bigint): bigint {
  const whole = t / h;
  if (whole >= 64n) return 0n;
  const y = ((((t % h) * WAD) / h) * LN2_WAD) / WAD;
  let term = WAD;
  let expY = WAD;
  for (let n = 1n; term !== 0n; n++) {
    term = (term * y) / WAD / n;
    expY += term;
  }
  return ((WAD * WAD) / expY) >> whole;
}

/** One step with a log return `r` (WAD) over `dt` seconds (0 taken as 1): VolatilityMath.nextVariance. */
export function nextVolatilityState(state: VolatilityState, r: bigint, dt: bigint, halfLife: bigint): VolatilityState {
  const seconds = dt === 0n ? 1n : dt;
  const abs = r < 0n ? -r : r;
  const sample = (abs * abs * DAY) / (seconds * WAD);
  const w = decayWeight(seconds, halfLife);
  const decayed = (state.weight * w) / WAD;
  const weight = decayed + (WAD - w);
  const variance = (state.variance * decayed) / weight + (sample * (WAD - w)) / weight;
  return { variance, weight };
}

/** √variance in WAD (floored): the daily volatility σ_daily. */
export function dailyVolatility(state: VolatilityState): bigint {
  return sqrt(state.variance * WAD);
}

/** floor(√x) for x ≥ 0 (Newton's method on bigints). */
export function sqrt(x: bigint): bigint {
  if (x < 2n) return x;
  let r = BigInt(Math.floor(Math.sqrt(Number(x))));
  while (r * r > x) r = (r + x / r) / 2n;
  while ((r + 1n) * (r + 1n) <= x) r++;
  return r;
}

/** ln(next / prev) in WAD for positive prices, exactly as VolatilityMath.logReturn (atanh series, floored terms). */
export function logReturn(prev: bigint, next: bigint): bigint {
  let k = 0n;
  let a = prev;
  let b = next;
  while (b > 2n * a) {
    a *= 2n;
    k++;
  }
  while (a > 2n * b) {
    b *= 2n;
    k--;
  }
  const negative = b < a;
  const z = ((negative ? a - b : b - a) * WAD) / (a + b);
  const z2 = (z * z) / WAD;
  let power = z;
  let sum = 0n;
  for (let i = 1n; power !== 0n; i += 2n) {
    sum += power / i;
    power = (power * z2) / WAD;
  }
  const series = 2n * sum;
  return k * LN2_WAD + (negative ? -series : series);
}
