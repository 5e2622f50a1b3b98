import { z } from "zod";

/** Integers travel as decimal strings of base units (amounts) or 18-decimal fixed point (ratios, "WAD"). */
const int = z.string().regex(/^-?[0-9]+$/);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);

export const tokenSchema = z.object({ symbol: z.string(), address, decimals: z.number().int() }).strict();

export const ACCOUNT_STATES = ["Healthy", "Warning", "MarginCall", "Liquidatable", "Defaulted"] as const;
export const PRICE_STATUSES = ["Safe", "Stale", "Deviating", "CircuitBroken", "Closed", "Unset"] as const;

export const positionSchema = z
  .object({
    token: tokenSchema,
    liquidityTier: z.number().int(),
    quantity: int,
    /** 18 decimals per whole token in the cash currency; null when the router has no price. */
    price: int.nullable(),
    priceStatus: z.string(),
    value: int,
    haircut: int,
    maintenanceMargin: int,
    initialMargin: int,
    /** This position's price at which the account reaches maintenance, other prices fixed (offchain/risk). */
    liquidationPrice: int.nullable(),
    /** liquidationPrice / price − 1 (WAD). */
    moveToLiquidation: int.nullable(),
  })
  .strict();

export const accountSummarySchema = z
  .object({
    account: address,
    block: z.number().int(),
    cashToken: tokenSchema,
    state: z.enum(ACCOUNT_STATES),
    pricesSafe: z.boolean(),
    /** Unix seconds; null when no margin call is recorded. */
    callDeadline: z.number().int().nullable(),
    cash: int,
    debt: int,
    positionValue: int,
    collateralValue: int,
    equity: int,
    /** equity / positionValue (WAD); null with no position. */
    marginRatio: int.nullable(),
    maintenanceReq: int,
    initialReq: int,
    warningLine: int,
    hardLine: int,
    /** Uniform return of all positions that brings the account to maintenance (WAD, the engine's). */
    liquidationReturn: int,
    /** One-security accounts: the engine's liquidation price (18 decimals); null otherwise. */
    liquidationPrice: int.nullable(),
    /** The margin mode: "fixed" until `fixedUntil` (the first UTC day it is dynamic again), or "dynamic". */
    marginMode: z.object({ mode: z.enum(["fixed", "dynamic"]), fixedUntil: z.string().nullable() }).strict(),
    positions: z.array(positionSchema),
    wallet: z.array(z.object({ token: tokenSchema, balance: int }).strict()),
    interest: z.object({ annualRate: int, ratePerDay: int, dailyInterest: int }).strict(),
    risk: z
      .object({
        /** Equity above the maintenance requirement (cash base units). */
        cushion: int,
        /** Common return of every price at which maintenance is reached (WAD); null when none does. */
        uniformShock: int.nullable(),
      })
      .strict(),
  })
  .strict();

const modeMargins = z.object({ maintenance: int, initial: int, maxLeverage: int }).strict();

/** GET /v1/risk/margin-modes: the dynamic and the fixed margins side by side (WAD ratios as strings). */
export const marginModesSchema = z
  .object({
    block: z.number().int(),
    chainTime: z.number().int(),
    /** The longest fixed term an account may choose (MarginEngine.setFixedTerm). */
    maxTermDays: z.number().int(),
    assets: z.array(
      z
        .object({
          symbol: z.string(),
          address,
          liquidityTier: z.number().int(),
          /** The router's daily σ now (WAD). */
          volatility: int,
          dynamic: modeMargins,
          /** At the tier's fixed volatility (WAD), for the whole term. */
          fixed: modeMargins.extend({ volatility: int }).strict(),
        })
        .strict(),
    ),
    /** The caller's own mode (clients); null for anyone else. */
    account: z
      .object({
        address,
        mode: z.enum(["fixed", "dynamic"]),
        /** The first UTC day (YYYY-MM-DD) the account is dynamic again; null when dynamic. */
        fixedUntil: z.string().nullable(),
      })
      .strict()
      .nullable(),
  })
  .strict();
export type MarginModesSummary = z.infer<typeof marginModesSchema>;

export const badDebtEventSchema = z
  .object({
    kind: z.enum(["default_settled", "written_off", "insurance_covered", "deficit_covered", "deficit_acknowledged"]),
    block: z.number().int(),
    txHash: hex32,
    account: address.nullable(),
    /** Cash base units: the loss (written off / settled), the payment (covered) or the deficit. */
    amount: int,
    details: z.record(z.string(), z.string()),
  })
  .strict();

export const epochSchema = z
  .object({
    epoch: z.number().int(),
    snapshotBlock: z.number().int(),
    publishedAt: z.number().int(),
    root: hex32,
    leafCount: z.number().int(),
    perAsset: z.array(
      z
        .object({
          token: tokenSchema,
          liabilities: int,
          debt: int,
          reserves: int,
          /** ReserveLedger.reserveRatio (WAD); null when nothing is owed (the contract's max). */
          ratio: int.nullable(),
        })
        .strict(),
    ),
  })
  .strict();

export const poolSummarySchema = z
  .object({
    block: z.number().int(),
    cashToken: tokenSchema,
    pool: z
      .object({
        totalAssets: int,
        availableCash: int,
        totalDebt: int,
        utilisation: int,
        annualRate: int,
        ratePerDay: int,
        reserveFactor: int,
        reservesOwed: int,
        deficit: int,
        totalWrittenOff: int,
        /** The senior class's shares (SeniorTranche). */
        totalShares: int,
        shareDecimals: z.number().int(),
        /** The senior class: cash base units per 10^shareDecimals shares. */
        sharePrice: int,
      })
      .strict(),
    insuranceFund: z.object({ balance: int, totalCovered: int, claims: z.number().int() }).strict(),
    badDebtEvents: z.array(badDebtEventSchema),
    reserves: z
      .object({
        latestEpoch: z.number().int(),
        epochs: z.array(epochSchema),
        /** SVG line chart of the reserve ratio per asset over the epochs (offchain/risk charts). */
        chartSvg: z.string().nullable(),
      })
      .strict(),
  })
  .strict();

export const publicConfigSchema = z
  .object({
    network: z.string().nullable(),
    chainId: z.number().int().nullable(),
    /** JSON-RPC URL the console's auditor page calls (the operator may publish another one). */
    rpcUrl: z.string().nullable(),
    contracts: z.record(z.string(), address),
    tokens: z.array(tokenSchema.extend({ kind: z.string() })),
  })
  .strict();

export type AccountSummary = z.infer<typeof accountSummarySchema>;
export type PoolSummary = z.infer<typeof poolSummarySchema>;
export type BadDebtEvent = z.infer<typeof badDebtEventSchema>;
export type PublicConfig = z.infer<typeof publicConfigSchema>;

const nullableInt = int.nullable();
export const stressScenarioSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** "historical" figures are the path's; "monte-carlo" figures are the 99th percentile over the paths. */
    kind: z.enum(["historical", "monte-carlo"]),
    accountsLiquidated: z.number().int(),
    liquidationVolume: int,
    badDebt: int,
    insuranceFundUsed: int,
    capitalPoolLoss: int,
    reserveRatioBefore: nullableInt,
    reserveRatioAfter: nullableInt,
  })
  .strict();

export const stressSummarySchema = z
  .object({
    block: z.number().int(),
    cashToken: tokenSchema,
    accounts: z.number().int(),
    book: z
      .object({ collateralValue: int, debt: int, equity: int, insuranceFund: int, poolCash: int, providerClaims: int })
      .strict(),
    scenarios: z.array(stressScenarioSchema),
    monteCarlo: z.object({ paths: z.number().int(), days: z.number().int(), pathsWithBadDebt: z.number().int() }),
    valueAtRisk: z.array(
      z
        .object({
          method: z.enum(["historical", "monte-carlo"]),
          confidence: z.number(),
          horizonDays: z.number().int(),
          samples: z.number().int(),
          valueAtRisk: int,
          expectedShortfall: int,
        })
        .strict(),
    ),
    charts: z.array(z.object({ name: z.string(), title: z.string(), svg: z.string() }).strict()),
    elapsedMs: z.number(),
  })
  .strict();
export type StressSummary = z.infer<typeof stressSummarySchema>;

export const disclosureSchema = z
  .object({
    block: z.number().int(),
    cashToken: tokenSchema,
    reserves: poolSummarySchema.shape.reserves,
    insuranceFund: z
      .object({
        balance: int,
        history: z.array(
          z
            .object({
              kind: z.enum(["income", "payout"]),
              block: z.number().int(),
              time: z.number().int(),
              txHash: hex32,
              amount: int,
              balanceAfter: int,
              account: address.nullable(),
            })
            .strict(),
        ),
      })
      .strict(),
    lossesByMonth: z.array(
      z
        .object({
          month: z.string(),
          defaults: z.number().int(),
          fromAccount: int,
          fromInsurance: int,
          writtenOff: int,
        })
        .strict(),
    ),
    liquidations: z.array(
      z
        .object({
          account: address,
          block: z.number().int(),
          time: z.number().int(),
          txHash: hex32,
          segments: z.number().int(),
          value: int,
          debtRepaid: int,
          /** When the engine last recorded the account Liquidatable before this liquidation (unix s), or null. */
          liquidatableAt: z.number().int().nullable(),
          secondsToLiquidation: z.number().int().nullable(),
        })
        .strict(),
    ),
    leverage: z
      .object({
        openAccounts: z.number().int(),
        underwater: z.number().int(),
        buckets: z.array(z.object({ label: z.string(), accounts: z.number().int() }).strict()),
      })
      .strict(),
    classes: z.array(
      z
        .object({
          class: z.enum(["senior", "junior"]),
          totalAssets: int,
          totalShares: int,
          shareDecimals: z.number().int(),
          sharePrice: int,
        })
        .strict(),
    ),
    fees: z
      .object({
        rateModel: z.object({ base: int, slope1: int, slope2: int, kink: int }).strict(),
        annualRate: int,
        reserveFactor: int,
        seniorTargetRate: int,
        liquidatorShareOfPenalty: int,
        assets: z.array(
          z
            .object({
              asset: address,
              symbol: z.string(),
              liquidityTier: z.number().int(),
              haircut: int,
              liquidationPenalty: int,
            })
            .strict(),
        ),
      })
      .strict(),
  })
  .strict();
export type DisclosureSummary = z.infer<typeof disclosureSchema>;

/** GET /v1/risk/reserve-adequacy (offchain/portfolio/readReserve.ts). Amounts are base-unit strings, rates WAD. */
export const reserveAdequacySchema = z
  .object({
    block: z.number().int(),
    rule: z.object({ percentile: z.number(), paths: z.number().int(), days: z.number().int(), baseRate: int }).strict(),
    insuranceFund: int,
    target: int,
    gap: int,
    covered: z.boolean(),
    volatility: z.object({ asset: address.nullable(), sigmaDaily: int, calmSigmaDaily: int, multiplier: int }).strict(),
    turnover: z.object({ total: int, perDay: int, days: z.number().int() }).strict(),
    proposal: z
      .object({
        rate: int,
        perDay: int,
        daysToTarget: z.number().int().nullable(),
        text: z.object({ en: z.string(), "zh-CN": z.string() }).strict(),
      })
      .strict(),
  })
  .strict();
export type ReserveAdequacySummary = z.infer<typeof reserveAdequacySchema>;
