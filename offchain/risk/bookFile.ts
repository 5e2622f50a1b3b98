import { z } from "zod";
import { RiskError } from "./errors";
import { WAD } from "./fixed";
import type { MarketModel } from "./stress/monteCarlo";
import type { SimulationOptions } from "./stress/simulate";
import type { AssetRisk, Book, LiquidityTier } from "./types";

/**
 * The accounts file the CLI reads (and what the keeper or the API can write from the chain). Every amount is a
 * decimal string in human units, converted exactly (no floating point): prices and money in the quote currency,
 * quantities in whole tokens, ratios as fractions ("0.15" = 15%). Unknown fields are rejected.
 */
const decimal = z.string().regex(/^\d+(\.\d+)?$/, "a non-negative decimal string such as 12.5");
const ratio = decimal;

const assetSchema = z
  .object({
    asset: z.string().min(1),
    symbol: z.string().min(1).optional(),
    decimals: z.number().int().min(0).max(36),
    haircut: ratio,
    initialMargin: ratio,
    maintenanceMargin: ratio,
    liquidationPenalty: ratio,
    liquidityTier: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    price: decimal,
  })
  .strict();

const modelSchema = z
  .object({
    annualVolatility: z.record(z.string(), z.number().positive()),
    correlation: z.array(z.array(z.number().min(-1).max(1))),
    degreesOfFreedom: z.number().int().min(3),
  })
  .strict();

export const bookFileSchema = z
  .object({
    cashDecimals: z.number().int().min(0).max(36),
    assets: z.array(assetSchema).min(1),
    accounts: z.array(
      z
        .object({
          id: z.string().min(1),
          cash: decimal.default("0"),
          debt: decimal,
          annualRate: ratio,
          positions: z.array(z.object({ asset: z.string().min(1), quantity: decimal }).strict()),
        })
        .strict(),
    ),
    funding: z
      .object({
        insuranceFund: decimal,
        poolCash: decimal,
        providerClaims: decimal.optional(),
        insuranceShareOfPenalty: ratio,
      })
      .strict(),
    stress: z
      .object({
        /** Multiplier of the index return per asset in historical scenarios. */
        betas: z.record(z.string(), z.number()).optional(),
        /** Fraction of a position that can be liquidated per day, per liquidity tier ("1", "2", "3"). */
        dailyLiquidationLimit: z.record(z.enum(["1", "2", "3"]), ratio).optional(),
        /** Monte Carlo model; `correlation` rows follow the order of `assets` above. */
        model: modelSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type BookFile = z.input<typeof bookFileSchema>;

/** "12.345" with `decimals` places → 12345 (decimals 3) exactly; more places than `decimals` is an error. */
export function parseDecimal(text: string, decimals: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new RiskError("RISK_INVALID_INPUT", `not a decimal: ${text}`, { text });
  const [, sign, whole, frac = ""] = match;
  if (frac.length > decimals) {
    throw new RiskError("RISK_INVALID_INPUT", `${text} has more than ${decimals} decimal places`, { text, decimals });
  }
  const value = BigInt(whole + frac.padEnd(decimals, "0"));
  return sign === "-" ? -value : value;
}

/**
 * Default Monte Carlo model when the file gives none: annual volatility by liquidity tier (25%, 35%, 50%),
 * pairwise correlation 0.6, Student-t with ν = 4. A conservative A-share-like assumption, stated in docs/risk.md.
 */
export const DEFAULT_VOLATILITY_BY_TIER: Readonly<Record<LiquidityTier, number>> = { 1: 0.25, 2: 0.35, 3: 0.5 };
export const DEFAULT_CORRELATION = 0.6;
export const DEFAULT_DEGREES_OF_FREEDOM = 4;
/** Default historical betas by liquidity tier: smaller, less liquid names fell harder than the index in 2015. */
export const DEFAULT_BETA_BY_TIER: Readonly<Record<LiquidityTier, number>> = { 1: 0.9, 2: 1.1, 3: 1.3 };

/**
 * Default daily liquidation limits by tier: large caps sell in full, mid caps half a position a day, small caps a
 * quarter (a limit-down small cap may not trade at all; a quarter is the optimistic end).
 */
export const DEFAULT_DAILY_LIQUIDATION_LIMIT: Readonly<Record<"2" | "3", string>> = { "2": "0.5", "3": "0.25" };

export interface ParsedBookFile {
  readonly book: Book;
  readonly betas: Readonly<Record<string, number>>;
  readonly model: MarketModel;
  readonly simulation: SimulationOptions;
}

export function parseBookFile(json: unknown): ParsedBookFile {
  const parsed = bookFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new RiskError("RISK_INVALID_INPUT", "invalid accounts file", { issues: parsed.error.issues });
  }
  const file = parsed.data;
  const wad = (text: string) => parseDecimal(text, 18);
  const money = (text: string) => parseDecimal(text, file.cashDecimals);
  const assets = new Map<string, AssetRisk>();
  const prices = new Map<string, bigint>();
  for (const a of file.assets) {
    if (assets.has(a.asset)) throw new RiskError("RISK_INVALID_INPUT", `asset ${a.asset} listed twice`);
    const risk: AssetRisk = {
      asset: a.asset,
      symbol: a.symbol ?? a.asset,
      decimals: a.decimals,
      haircut: wad(a.haircut),
      initialMargin: wad(a.initialMargin),
      maintenanceMargin: wad(a.maintenanceMargin),
      liquidationPenalty: wad(a.liquidationPenalty),
      liquidityTier: a.liquidityTier,
    };
    for (const [name, value] of Object.entries(risk)) {
      if (typeof value === "bigint" && (value < 0n || value >= WAD)) {
        throw new RiskError("RISK_INVALID_INPUT", `${a.asset}: ${name} must be in [0, 1)`, { asset: a.asset });
      }
    }
    assets.set(a.asset, risk);
    prices.set(a.asset, wad(a.price));
  }
  const accounts = file.accounts.map((account) => ({
    id: account.id,
    cash: money(account.cash),
    debt: money(account.debt),
    annualRate: wad(account.annualRate),
    positions: account.positions.map((p) => {
      const risk = assets.get(p.asset);
      if (!risk) throw new RiskError("RISK_UNKNOWN_ASSET", `account ${account.id}: unknown asset ${p.asset}`);
      return { asset: p.asset, quantity: parseDecimal(p.quantity, risk.decimals) };
    }),
  }));
  const ids = file.assets.map((a) => a.asset);
  const model: MarketModel = file.stress?.model
    ? {
        assets: ids,
        annualVolatility: ids.map((id) => {
          const v = file.stress?.model?.annualVolatility[id];
          if (v === undefined) throw new RiskError("RISK_INVALID_INPUT", `no volatility for ${id}`);
          return v;
        }),
        correlation: file.stress.model.correlation,
        degreesOfFreedom: file.stress.model.degreesOfFreedom,
      }
    : {
        assets: ids,
        annualVolatility: file.assets.map((a) => DEFAULT_VOLATILITY_BY_TIER[a.liquidityTier]),
        correlation: ids.map((_, i) => ids.map((__, j) => (i === j ? 1 : DEFAULT_CORRELATION))),
        degreesOfFreedom: DEFAULT_DEGREES_OF_FREEDOM,
      };
  const betas = Object.fromEntries(
    file.assets.map((a) => [a.asset, file.stress?.betas?.[a.asset] ?? DEFAULT_BETA_BY_TIER[a.liquidityTier]]),
  );
  const limits = file.stress?.dailyLiquidationLimit ?? DEFAULT_DAILY_LIQUIDATION_LIMIT;
  const dailyLiquidationLimit: Partial<Record<LiquidityTier, bigint>> = {};
  for (const [tier, fraction] of Object.entries(limits)) {
    const value = wad(fraction);
    if (value === 0n || value > WAD) throw new RiskError("RISK_INVALID_INPUT", `tier ${tier}: limit must be in (0, 1]`);
    dailyLiquidationLimit[Number(tier) as LiquidityTier] = value;
  }
  return {
    simulation: { dailyLiquidationLimit },
    book: {
      market: { cashDecimals: file.cashDecimals, assets, prices },
      accounts,
      funding: {
        insuranceFund: money(file.funding.insuranceFund),
        poolCash: money(file.funding.poolCash),
        ...(file.funding.providerClaims === undefined ? {} : { providerClaims: money(file.funding.providerClaims) }),
        insuranceShareOfPenalty: wad(file.funding.insuranceShareOfPenalty),
      },
    },
    betas,
    model,
  };
}
