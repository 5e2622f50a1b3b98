/**
 * Fixed-point arithmetic for risk figures. Ratios and rates are 18-decimal bigints (WAD: 1e18 = 100%); money is in
 * the cash token's base units (bigint). Every division names its rounding direction.
 */

export const WAD = 10n ** 18n;

/** floor(a · b / d) for non-negative a, b and positive d. */
export function mulDivDown(a: bigint, b: bigint, d: bigint): bigint {
  return (a * b) / d;
}

/** ceil(a · b / d) for non-negative a, b and positive d. */
export function mulDivUp(a: bigint, b: bigint, d: bigint): bigint {
  const p = a * b;
  return p === 0n ? 0n : (p - 1n) / d + 1n;
}

/** floor(a / d), also for negative a (BigInt division truncates toward zero). */
export function divFloor(a: bigint, d: bigint): bigint {
  const q = a / d;
  return a % d !== 0n && a < 0n !== d < 0n ? q - 1n : q;
}

/** ceil(a / d), also for negative a. */
export function divCeil(a: bigint, d: bigint): bigint {
  return -divFloor(-a, d);
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/**
 * A floating-point statistic (a return, a multiplier, a volatility) as an 18-decimal bigint. Only 12 decimals are
 * kept, rounded half away from zero: doubles carry ~16 significant digits and returns are O(1), so the last six
 * decimals would be noise.
 */
export function wadFromNumber(x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  const scaled = Math.round(Math.abs(x) * 1e12) * Math.sign(x);
  return BigInt(scaled) * 10n ** 6n;
}

/** An 18-decimal bigint as a double, for statistics and charts only. */
export function numberFromWad(x: bigint): number {
  return Number(x) / 1e18;
}

/**
 * A money amount computed in floating point (inside statistics) back to base units, rounded up so a loss is never
 * understated. It is first rounded to 15 significant digits, below which a double holds only arithmetic noise:
 * 1e6 · (1 − 0.9 · 1.05) is 54999.999999999935 in doubles and must come out as 55000, not 55001 or 54999.
 */
export function moneyUp(x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite amount: ${x}`);
  return BigInt(Math.ceil(Number(x.toPrecision(15))));
}

/** The ratio a / b as WAD, rounded down; undefined when b is zero. */
export function ratioDown(a: bigint, b: bigint): bigint | undefined {
  return b === 0n ? undefined : divFloor(a * WAD, b);
}

/** A base-unit amount as a decimal string with `decimals` places ("43.835617"). */
export function formatUnits(amount: bigint, decimals: number): string {
  const neg = amount < 0n;
  const abs = neg ? -amount : amount;
  const unit = 10n ** BigInt(decimals);
  const whole = abs / unit;
  const frac = decimals === 0 ? "" : "." + (abs % unit).toString().padStart(decimals, "0");
  return (neg ? "-" : "") + whole.toString() + frac;
}
