import { LegalError } from "./errors";

/** Basis points in one whole (100% = 10,000 bps). */
export const BPS = 10_000n;
/** Natural days in the ACT/365 year the interest and daily fees are quoted in. */
export const DAYS_PER_YEAR = 365n;

/** floor(a / b) for non-negative a and positive b. */
export function divDown(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new LegalError("LEGAL_INVALID_INPUT", "division by a non-positive number", { b: b.toString() });
  const q = a / b;
  return a < 0n && q * b !== a ? q - 1n : q;
}

/** ceil(a / b) for positive b (rounds towards +infinity, also for negative a). */
export function divUp(a: bigint, b: bigint): bigint {
  return -divDown(-a, b);
}

/** `amount * bps / 10,000`, rounded down (in the payer's favour). */
export function bpsDown(amount: bigint, bps: number | bigint): bigint {
  return divDown(amount * BigInt(bps), BPS);
}

/** `amount * bps / 10,000`, rounded up (in the receiver's favour: the platform or the lender). */
export function bpsUp(amount: bigint, bps: number | bigint): bigint {
  return divUp(amount * BigInt(bps), BPS);
}

/** Base units → a fixed-point decimal string with exactly `decimals` fraction digits ("-1234.500000"). */
export function formatUnits(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  const frac = abs % scale;
  const text = decimals === 0 ? whole.toString() : `${whole}.${frac.toString().padStart(decimals, "0")}`;
  return negative ? `-${text}` : text;
}

/** Base units → a decimal string with thousands separators and `shown` fraction digits, rounded half up. */
export function formatMoney(amount: bigint, decimals: number, shown = 2): string {
  const drop = decimals - shown;
  let v = amount;
  if (drop > 0) {
    const unit = 10n ** BigInt(drop);
    const half = unit / 2n;
    v = amount < 0n ? -divDown(-amount + half, unit) : divDown(amount + half, unit);
  }
  const text = formatUnits(v, Math.min(shown, decimals));
  const [int, frac] = text.split(".");
  const sign = int.startsWith("-") ? "-" : "";
  const digits = sign ? int.slice(1) : int;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${grouped}${frac !== undefined ? `.${frac}` : ""}`;
}

/** A decimal string ("100000", "43.84", "-0.5") → base units; refuses more fraction digits than `decimals`. */
export function parseUnits(text: string, decimals: number): bigint {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new LegalError("LEGAL_INVALID_INPUT", "not a decimal amount", { text });
  const frac = m[3] ?? "";
  if (frac.length > decimals) {
    throw new LegalError("LEGAL_INVALID_INPUT", "too many fraction digits", { text, decimals });
  }
  const v = BigInt(m[2]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
  return m[1] ? -v : v;
}

/** Converts between two decimal precisions; refuses to lose precision unless a rounding is named. */
export function rescale(amount: bigint, from: number, to: number, rounding: "exact" | "down" | "up" = "exact"): bigint {
  if (to >= from) return amount * 10n ** BigInt(to - from);
  const unit = 10n ** BigInt(from - to);
  if (rounding === "down") return divDown(amount, unit);
  if (rounding === "up") return divUp(amount, unit);
  if (amount % unit !== 0n) {
    throw new LegalError("LEGAL_INVALID_INPUT", "amount does not fit the target precision", {
      amount: amount.toString(),
      from,
      to,
    });
  }
  return amount / unit;
}
