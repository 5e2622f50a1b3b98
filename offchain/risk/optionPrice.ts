import { RiskError } from "./errors";
import { WAD, mulDivUp } from "./fixed";
import { decayWeight, logReturn, sqrt } from "./volatility";

/**
 * Black-Scholes prices of European options, replicated exactly in bigint from contracts/options/OptionMath.sol so
 * that pre-trade risk computes the value the chain would (same approximations, same roundings, same bounds). The
 * contract's NatSpec states the model, the normal-CDF approximation (Hart 5666 / West 2005) and the measured error.
 */

const YEAR = 365n * 86_400n;
const LN2_WAD = 693147180559945309n;
export const OPTION_MAX_PRICE = 10n ** 36n;
export const OPTION_MAX_VOLATILITY = 100n * WAD;
const MAX_RATE = WAD;
const MAX_SECONDS = 100n * YEAR;
const CDF_CUTOFF = 10n * WAD;
const CDF_RATIONAL_LIMIT = 7071067811865470000n;
const SQRT_2PI = 2506628274631000500n;
const HART_P = [
  35262496599891100n,
  700383064443688000n,
  6373962203531650000n,
  33912866078383000000n,
  112079291497871000000n,
  221213596169931000000n,
  220206867912376000000n,
];
const HART_Q = [
  88388347648318400n,
  1755667163182640000n,
  16064177579207000000n,
  86780732202946100000n,
  296564248779674000000n,
  637333633378831000000n,
  793826512519948000000n,
  440413735824752000000n,
];

/** The inputs of one option price (all WAD except the seconds). */
export interface OptionPriceInput {
  readonly isCall: boolean;
  readonly spot: bigint;
  readonly strike: bigint;
  readonly secondsToExpiry: bigint;
  readonly volatility: bigint;
  readonly rate: bigint;
}

/** e^(−y) in WAD for y ≥ 0 (WAD): OptionMath.expNeg. */
export function expNeg(y: bigint): bigint {
  return decayWeight(y, LN2_WAD);
}

/** N(x) in WAD: OptionMath.normalCdf (N(x) + N(−x) = 1e18 exactly). */
export function normalCdf(x: bigint): bigint {
  return cdf(x, gaussOf(x < 0n ? -x : x));
}

/** e^(−a²/2), 0 beyond the cutoff. */
function gaussOf(a: bigint): bigint {
  return a >= CDF_CUTOFF ? 0n : expNeg((a * a) / (2n * WAD));
}

/** OptionMath._gaussians: one exponential for both d's (d1² − d2² = 2·ln(S / K·e^(−rT))). */
function gaussians(d1: bigint, d2: bigint, spot: bigint, discounted: bigint): [bigint, bigint] {
  const a1 = d1 < 0n ? -d1 : d1;
  const a2 = d2 < 0n ? -d2 : d2;
  if (discounted === 0n) return [gaussOf(a1), gaussOf(a2)];
  if (a1 <= a2) {
    const g1 = gaussOf(a1);
    return [g1, (g1 * spot) / discounted];
  }
  const g2 = gaussOf(a2);
  return [(g2 * discounted) / spot, g2];
}

function cdf(x: bigint, gauss: bigint): bigint {
  const a = x < 0n ? -x : x;
  const tail = a >= CDF_CUTOFF ? 0n : upperTail(a, gauss);
  return x > 0n ? WAD - tail : tail;
}

function upperTail(a: bigint, gauss: bigint): bigint {
  if (a < CDF_RATIONAL_LIMIT) {
    const horner = (coefficients: bigint[]): bigint =>
      coefficients.slice(1).reduce((acc, c) => (acc * a) / WAD + c, coefficients[0]);
    return (gauss * horner(HART_P)) / horner(HART_Q);
  }
  let b = a + 650000000000000000n;
  for (const n of [4n, 3n, 2n, 1n]) b = a + (n * WAD * WAD) / b;
  return (gauss * WAD * WAD) / (b * SQRT_2PI);
}

/** OptionMath.price: the Black-Scholes price in WAD price units per underlying unit (rounded down). */
export function optionPrice(input: OptionPriceInput): bigint {
  const { isCall, spot, strike, secondsToExpiry: t, volatility, rate } = input;
  if (spot <= 0n || strike <= 0n || spot > OPTION_MAX_PRICE || strike > OPTION_MAX_PRICE) {
    throw new RiskError("RISK_INVALID_INPUT", "option spot and strike must be in (0, 1e36]", { spot, strike });
  }
  if (
    t < 0n ||
    t > MAX_SECONDS ||
    volatility < 0n ||
    volatility > OPTION_MAX_VOLATILITY ||
    rate < 0n ||
    rate > MAX_RATE
  ) {
    throw new RiskError("RISK_INVALID_INPUT", "option time, volatility or rate out of range", { t, volatility, rate });
  }
  const rt = (rate * t) / YEAR;
  const discounted = rt === 0n ? strike : (strike * expNeg(rt)) / WAD;
  const sigmaRootT = (volatility * sqrt((t * WAD * WAD) / YEAR)) / WAD;
  if (sigmaRootT === 0n) {
    if (isCall) return spot > discounted ? spot - discounted : 0n;
    return discounted > spot ? discounted - spot : 0n;
  }
  const numerator = logReturn(strike, spot) + rt + (sigmaRootT * sigmaRootT) / (2n * WAD);
  const d1 = (numerator * WAD) / sigmaRootT;
  const d2 = d1 - sigmaRootT;
  const [g1, g2] = gaussians(d1, d2, spot, discounted);
  const positive = isCall ? (spot * cdf(d1, g1)) / WAD : (discounted * cdf(-d2, g2)) / WAD;
  const negative = isCall ? mulDivUp(discounted, cdf(d2, g2), WAD) : mulDivUp(spot, cdf(-d1, g1), WAD);
  return positive > negative ? positive - negative : 0n;
}
