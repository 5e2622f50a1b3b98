import { AppError } from "../shared/errors";

/**
 * Position sizing to a risk budget: the quantity whose loss at the stop is at most `riskBps` of the account's equity
 *   budget   = ⌊equity · riskBps / 10,000⌋                       (cash base units)
 *   distance = entry − stop (a buy's stop sits below its entry), or ⌈ATR · atrMultipleBps / 10,000⌉
 *   quantity = ⌊⌊budget · 10^decimals / distance⌋ / lot⌋ · lot     (security base units, rounded down to lots)
 * Prices are cash base units per whole security token (the order's limitPrice unit). Rounding always sizes smaller.
 */
export interface SizingInput {
  equity: bigint;
  /** Risk budget in basis points of equity (100 = 1%). */
  riskBps: number;
  entryPrice: bigint;
  side: "buy" | "sell";
  /** Either a stop price … */
  stopPrice?: bigint;
  /** … or an ATR (price units) and a multiple of it in basis points (30,000 = 3 × ATR). */
  atr?: bigint;
  atrMultipleBps?: number;
  decimals: number;
  lotSize: bigint;
}

export interface Sizing {
  budget: bigint;
  stopDistance: bigint;
  stopPrice: bigint;
  quantity: bigint;
  /** What the quantity loses if the stop fills at its price: ⌈quantity · distance / 10^decimals⌉ ≤ budget. */
  lossAtStop: bigint;
  notional: bigint;
}

function invalid(field: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", `sizing.${field}: ${message}`, {
    details: { issues: [{ field: `body.sizing.${field}`, message }] },
  });
}

function distanceOf(s: SizingInput): bigint {
  if (s.stopPrice !== undefined) {
    const d = s.side === "buy" ? s.entryPrice - s.stopPrice : s.stopPrice - s.entryPrice;
    if (d <= 0n) throw invalid("stopPrice", `a ${s.side}'s stop must be on the losing side of its entry`);
    return d;
  }
  if (s.atr === undefined || s.atrMultipleBps === undefined)
    throw invalid("stopPrice", "give a stop price, or an atr and an atrMultipleBps");
  const d = (s.atr * BigInt(s.atrMultipleBps) + 9_999n) / 10_000n;
  if (d <= 0n) throw invalid("atr", "the stop distance must be positive");
  if (s.side === "buy" && d >= s.entryPrice) throw invalid("atr", "the stop would be at or below zero");
  return d;
}

export function sizePosition(s: SizingInput): Sizing {
  if (s.lotSize <= 0n) throw invalid("lotSize", "must be positive");
  const stopDistance = distanceOf(s);
  const budget = s.equity > 0n ? (s.equity * BigInt(s.riskBps)) / 10_000n : 0n;
  const scale = 10n ** BigInt(s.decimals);
  const quantity = ((budget * scale) / stopDistance / s.lotSize) * s.lotSize;
  const ceil = (a: bigint, b: bigint) => (a === 0n ? 0n : (a - 1n) / b + 1n);
  return {
    budget,
    stopDistance,
    stopPrice: s.side === "buy" ? s.entryPrice - stopDistance : s.entryPrice + stopDistance,
    quantity,
    lossAtStop: ceil(quantity * stopDistance, scale),
    notional: ceil(quantity * s.entryPrice, scale),
  };
}
