import { AppError } from "./errors";

/**
 * Money is always an integer number of base units (bigint). Decimal strings appear only at the edges
 * (HTTP, CSV, logs); floating point never touches an amount.
 */
const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** "1234.5" with 6 decimals → 1234500000n. Refuses signs, exponents, extra precision and empty strings. */
export function parseUnits(text: string, decimals: number): bigint {
  if (!DECIMAL.test(text))
    throw new AppError("VALIDATION_FAILED", "not a non-negative decimal amount", { details: { value: text } });
  const [whole, frac = ""] = text.split(".");
  const fraction = frac.replace(/^\./, "");
  if (fraction.length > decimals) {
    throw new AppError("VALIDATION_FAILED", `more than ${decimals} decimal places`, { details: { value: text } });
  }
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/** 1234500000n with 6 decimals → "1234.5" (trailing zeros trimmed; negative amounts keep their sign). */
export function formatUnits(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const frac = (abs % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/** a·b/d rounded down (towards zero for non-negative inputs). */
export function mulDivDown(a: bigint, b: bigint, d: bigint): bigint {
  if (d === 0n) throw new AppError("INTERNAL", "division by zero");
  return (a * b) / d;
}

/** a·b/d rounded up (non-negative inputs). */
export function mulDivUp(a: bigint, b: bigint, d: bigint): bigint {
  if (d === 0n) throw new AppError("INTERNAL", "division by zero");
  const p = a * b;
  return p === 0n ? 0n : (p - 1n) / d + 1n;
}

/** How amounts are written to the store: a canonical base-10 integer string (fits NUMERIC(78,0) and TEXT). */
export function toDbAmount(amount: bigint): string {
  return amount.toString(10);
}

/** Reads an amount back from either engine (pg returns NUMERIC as string, SQLite may return number). */
export function fromDbAmount(value: string | number | bigint | null): bigint {
  if (value === null) return 0n;
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new AppError("STORE_FAILED", "stored amount is not a safe integer");
    return BigInt(value);
  }
  return BigInt(value);
}
