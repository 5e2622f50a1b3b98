import { AppError } from "../shared/errors";
import { LegalError } from "./legal/errors";

/**
 * Amounts on the wire are decimal strings. These are the field names that hold integers in the legal inputs
 * (terms, statement input, final-settlement input); `fromWire` turns their string values into bigints, every
 * value of `closingPrices` too. Anything else is left as sent, and the legal functions validate the result.
 */
const BIGINT_FIELDS = new Set([
  "ownFunds",
  "financedAmount",
  "minimum",
  "amount",
  "openingCash",
  "quantity",
  "costBasis",
  "price",
  "principal",
  "scaled",
  "charged",
  "closingCash",
  "interestDue",
  "contributions",
  "insuranceFundAvailable",
  "adjustment",
  "proceeds",
  "highWaterMark",
  // ChainSchedule (18-decimal ratios and amounts as read from the chain)
  "haircut",
  "liquidationPenalty",
  "windowCap",
  "liquidityAddOn",
  "volatilityMultiplier",
  "floor",
  "cap",
  "initialBuffer",
  "fixedVolatility",
  "warningBuffer",
  "hardFloorFactor",
  "targetBuffer",
  "liquidatorShare",
  "dustValue",
  "annualRate",
  "base",
  "slope1",
  "slope2",
  "kink",
  "maxLeverage",
]);
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

export function fromWire<T>(value: unknown, key = ""): T {
  if (Array.isArray(value)) return value.map((v) => fromWire(v, key)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = key === "closingPrices" && typeof v === "string" && INTEGER.test(v) ? BigInt(v) : fromWire(v, k);
    }
    return out as T;
  }
  if (BIGINT_FIELDS.has(key) && typeof value === "string" && INTEGER.test(value)) return BigInt(value) as T;
  return value as T;
}

/** bigints → decimal strings, recursively (JSON cannot carry them). */
export function toWire(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString(10);
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

const STATUS: Record<string, "NOT_FOUND" | "FORBIDDEN" | "CONFLICT" | "VALIDATION_FAILED"> = {
  LEGAL_NOT_FOUND: "NOT_FOUND",
  LEGAL_FORBIDDEN: "FORBIDDEN",
  LEGAL_CONFLICT: "CONFLICT",
};

/** LegalError → AppError: not found 404, forbidden 403, conflict 409, every other legal error 400. */
export async function legalCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LegalError) {
      throw new AppError(STATUS[err.code] ?? "VALIDATION_FAILED", err.message, {
        details: { legalCode: err.code, ...(toWire(err.details) as Record<string, unknown>) },
        cause: err,
      });
    }
    throw err;
  }
}
