import { OracleReporterError } from "./types";

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** "10.25" → 1_025_000_000n at 8 decimals. Exact: no floating point; more fractional digits than `decimals` fail. */
export function parseDecimal(text: string, decimals: number): bigint {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new OracleReporterError("SOURCE_INVALID", `not a non-negative decimal: ${JSON.stringify(text)}`);
  const frac = m[2] ?? "";
  if (frac.length > decimals) {
    throw new OracleReporterError("SOURCE_INVALID", `more than ${decimals} decimals: ${text}`);
  }
  return BigInt(m[1] + frac.padEnd(decimals, "0"));
}

/** 1_025_000_000n at 8 decimals → "10.25". */
export function formatDecimal(value: bigint, decimals: number): string {
  const neg = value < 0n;
  const digits = (neg ? -value : value).toString().padStart(decimals + 1, "0");
  const int = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return (neg ? "-" : "") + int + (frac ? "." + frac : "");
}

/** Median of bigints: the middle value, or the mean of the two middle values rounded toward zero (as the feed). */
export function medianOf(values: bigint[]): bigint {
  if (values.length === 0) throw new RangeError("median of nothing");
  const v = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2n;
}
