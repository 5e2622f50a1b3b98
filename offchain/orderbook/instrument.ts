import { MAX_PRICE_TICKS, MAX_QTY_LOTS, RejectCode } from "./types";

/**
 * An instrument: a security token traded against the cash token. The book works in ticks and lots; this maps them
 * to token units, always exactly (bigint):
 *   price per whole security token (cash minor units) = ticks × tickSize
 *   security token units                             = lots × lotSize
 *   notional (cash minor units)                      = ticks × tickSize × lots × lotSize / 10^baseDecimals
 * e.g. mbBANK (0 decimals) against mbCNY (6 decimals), tick 0.01 CNY = 10,000, lot 100 shares: 1,234 ticks × 3 lots
 * = 12.34 CNY × 300 shares = 3,702.00 CNY = 3,702,000,000 minor units.
 */
export interface InstrumentSpec {
  id: string;
  /** Security token (base) address or symbol, and its decimals (0 for share tokens). */
  base: string;
  baseDecimals: number;
  /** Cash token (quote) address or symbol, and its decimals (6 for mbCNY). */
  quote: string;
  quoteDecimals: number;
  /** Cash minor units per whole base token per tick. */
  tickSize: bigint;
  /** Base token units per lot. */
  lotSize: bigint;
}

export function notional(spec: InstrumentSpec, ticks: number, lots: number | bigint): bigint {
  return (BigInt(ticks) * spec.tickSize * BigInt(lots) * spec.lotSize) / 10n ** BigInt(spec.baseDecimals);
}

/** Price per whole base token, in cash minor units. */
export function ticksToPrice(spec: InstrumentSpec, ticks: number): bigint {
  return BigInt(ticks) * spec.tickSize;
}

export function lotsToUnits(spec: InstrumentSpec, lots: number): bigint {
  return BigInt(lots) * spec.lotSize;
}

/** Parses a decimal string ("12.34") in quote currency into cash minor units; null when malformed or too precise. */
export function parseDecimal(s: string, decimals: number): bigint | null {
  const m = /^(\d{1,30})(?:\.(\d+))?$/.exec(s);
  if (m === null) return null;
  const frac = m[2] ?? "";
  if (frac.length > decimals) return null;
  return BigInt(m[1] + frac.padEnd(decimals, "0"));
}

/** Decimal string price (per whole token, quote currency) → ticks, refusing anything off the tick grid. */
export function priceToTicks(spec: InstrumentSpec, price: string): number | RejectCode {
  const minor = parseDecimal(price, spec.quoteDecimals);
  if (minor === null || minor === 0n) return RejectCode.InvalidPrice;
  if (minor % spec.tickSize !== 0n) return RejectCode.OffTickGrid;
  const ticks = minor / spec.tickSize;
  if (ticks > BigInt(MAX_PRICE_TICKS)) return RejectCode.InvalidPrice;
  return Number(ticks);
}

/** Decimal string quantity in base tokens → lots, refusing anything off the lot grid. */
export function quantityToLots(spec: InstrumentSpec, qty: string): number | RejectCode {
  const units = parseDecimal(qty, spec.baseDecimals);
  if (units === null || units === 0n) return RejectCode.InvalidQuantity;
  if (units % spec.lotSize !== 0n) return RejectCode.OffLotGrid;
  const lots = units / spec.lotSize;
  if (lots > BigInt(MAX_QTY_LOTS)) return RejectCode.InvalidQuantity;
  return Number(lots);
}

/** Ticks → decimal string in quote currency (for market data and the API). */
export function formatPrice(spec: InstrumentSpec, ticks: number): string {
  return formatUnits(BigInt(ticks) * spec.tickSize, spec.quoteDecimals);
}

export function formatUnits(v: bigint, decimals: number): string {
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(decimals + 1, "0");
  const int = s.slice(0, s.length - decimals);
  const frac = decimals > 0 ? s.slice(s.length - decimals).replace(/0+$/, "") : "";
  return `${neg ? "-" : ""}${int}${frac.length > 0 ? `.${frac}` : ""}`;
}
