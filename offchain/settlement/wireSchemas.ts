import { z } from "zod";

/**
 * The legal inputs as they travel over HTTP: closed schemas (every object strict, every string bounded, integers
 * as decimal strings), so a malformed input is a 400 naming the field before any legal function runs. `fromWire`
 * then turns the integer strings into bigints; the legal functions check the values' meaning (sums, orderings).
 */
const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "unsigned integer as a decimal string");
const int = z.string().regex(/^-?(0|[1-9][0-9]{0,77})$/, "integer as a decimal string");
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD");
const text = z.string().min(1).max(200);
const longText = z.string().min(1).max(2000);
const smallInt = z.number().int().min(0).max(1_000_000);
const unixSeconds = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Asset symbols and fee codes as map keys: never "__proto__" and friends. */
const symbol = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, "1-32 characters [A-Za-z0-9_.-]");
const feeCode = z.string().regex(/^[A-Z0-9_]{1,16}$/, "1-16 characters A-Z 0-9 _");

const feeRule = z.discriminatedUnion("kind", [
  z.object({ code: feeCode, label: text, kind: z.literal("per-trade"), bps: smallInt, minimum: uint }).strict(),
  z.object({ code: feeCode, label: text, kind: z.literal("daily-on-own-funds"), annualBps: smallInt }).strict(),
  z
    .object({
      code: feeCode,
      label: text,
      kind: z.literal("fixed"),
      amount: uint,
      when: z.enum(["opening", "settlement"]),
    })
    .strict(),
]);

/** ChainSchedule (legal/terms.ts): only ever generated from the chain; carried back in terms for statements. */
const scheduleWire = z
  .object({
    chainId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    block: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    engine: address,
    pool: address,
    assets: z
      .array(
        z
          .object({
            symbol,
            address,
            liquidityTier: z.number().int().min(0).max(255),
            haircut: uint,
            liquidationPenalty: uint,
            windowCap: uint,
            assetDecimals: z.number().int().min(0).max(36),
            tier: z
              .object({
                liquidityAddOn: uint,
                volatilityMultiplier: uint,
                floor: uint,
                cap: uint,
                initialBuffer: uint,
                fixedVolatility: uint,
              })
              .strict(),
          })
          .strict(),
      )
      .min(1)
      .max(64),
    params: z
      .object({
        warningBuffer: uint,
        hardFloorFactor: uint,
        targetBuffer: uint,
        liquidatorShare: uint,
        gracePeriod: unixSeconds,
        oracleGrace: unixSeconds,
        liquidationWindow: unixSeconds,
        dustValue: uint,
      })
      .strict(),
    rate: z
      .object({
        annualRate: uint,
        model: z.object({ base: uint, slope1: uint, slope2: uint, kink: uint }).strict(),
        dayCount: z.literal("ACT/365"),
      })
      .strict(),
    maxLeverage: uint,
    noticePeriodSeconds: unixSeconds,
  })
  .strict();

const performanceFeeWire = z
  .object({
    rateBps: smallInt,
    hurdleAnnualBps: smallInt,
    highWaterMark: uint,
    platformBps: smallInt,
    capitalProvidersBps: smallInt,
  })
  .strict();

/** The agreement's parties and its currency: the same in the terms and in a request to generate them. */
const partiesAndCurrency = {
  client: z.object({ address, name: text, accountRef: text }).strict(),
  platform: z.object({ address, name: text }).strict(),
  currency: z
    .object({ symbol, iso4217: z.string().regex(/^[A-Z]{3}$/), decimals: z.number().int().min(0).max(18) })
    .strict(),
};

export const termsWire = z
  .object({
    schema: z.literal("marginbridge/financing-terms@1"),
    agreementId: hex32,
    version: z.number().int().min(1).max(0xffffffff),
    replaces: hex32.optional(),
    ...partiesAndCurrency,
    ownFunds: uint,
    leverageBps: smallInt,
    financedAmount: uint,
    interest: z
      .object({
        annualRateBps: smallInt,
        dayCount: z.literal("ACT/365"),
        rounding: z.literal("cumulative-ceil"),
        payment: z.literal("at-settlement"),
      })
      .strict(),
    margin: z
      .object({
        initialMarginBps: smallInt,
        maintenanceMarginBps: smallInt,
        liquidationMarginBps: smallInt,
        marginCallWindowSeconds: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
        mode: z
          .object({
            chosen: z.enum(["fixed", "dynamic"]),
            fixedUntil: z
              .string()
              .regex(/^\d{4}-\d{2}-\d{2}$/)
              .nullable(),
            dynamicCapMaintenanceBps: smallInt,
            fixedVolatilityBps: smallInt,
            fixedMaintenanceBps: smallInt,
            fixedInitialBps: smallInt,
          })
          .strict()
          .optional(),
      })
      .strict(),
    liquidation: z
      .object({
        assetOrder: z.array(symbol).min(1).max(64),
        closeFactorBps: smallInt,
        penaltyBps: smallInt,
        penaltyToLiquidatorBps: smallInt,
        penaltyToInsuranceFundBps: smallInt,
      })
      .strict(),
    fees: z.array(feeRule).max(32),
    performanceFee: performanceFeeWire.optional(),
    schedule: scheduleWire.optional(),
    profitSplit: z.object({ clientBps: smallInt, capitalProvidersBps: smallInt, platformBps: smallInt }).strict(),
    defaultWaterfall: z
      .array(z.enum(["client-collateral", "insurance-fund", "capital-pool"]))
      .min(1)
      .max(3),
    effectiveAt: unixSeconds,
    expiresAt: unixSeconds,
    governingLaw: longText,
    disputeResolution: longText,
  })
  .strict()
  .openapi({ description: "FinancingTerms (offchain/settlement/legal/terms.ts); integers as decimal strings" });

/**
 * What the platform decides for an agreement generated from the chain (POST /v1/agreements/generate): parties, own
 * funds, leverage, fees, the performance fee, the margin mode and the term. Every margin, penalty, rate and delay
 * comes from the chain (legal/chainTerms.ts).
 */
export const chainTermsRequestWire = z
  .object({
    agreementId: hex32,
    version: z.number().int().min(1).max(0xffffffff).optional(),
    replaces: hex32.optional(),
    ...partiesAndCurrency,
    ownFunds: uint,
    leverageBps: smallInt,
    fees: z.array(feeRule).max(32),
    profitSplit: z
      .object({ clientBps: smallInt, capitalProvidersBps: smallInt, platformBps: smallInt })
      .strict()
      .optional(),
    performanceFee: z
      .object({
        rateBps: smallInt,
        hurdleAnnualBps: smallInt,
        highWaterMark: uint.optional(),
        platformBps: smallInt,
        capitalProvidersBps: smallInt,
      })
      .strict()
      .optional(),
    marginMode: z
      .object({
        chosen: z.enum(["fixed", "dynamic"]),
        fixedUntil: isoDate.nullable(),
      })
      .strict()
      .optional(),
    effectiveAt: unixSeconds,
    expiresAt: unixSeconds,
    governingLaw: longText,
    disputeResolution: longText,
  })
  .strict()
  .openapi({ description: "ChainTermsRequest (offchain/settlement/legal/chainTerms.ts); integers as decimal strings" });

const accrual = z.object({ scaled: uint, charged: uint }).strict();
const trade = z
  .object({
    tradeId: text,
    at: unixSeconds,
    asset: symbol,
    side: z.enum(["buy", "sell"]),
    quantity: uint,
    price: uint,
    batchId: text.optional(),
    txHash: hex32.optional(),
  })
  .strict();

export const statementInputWire = z
  .object({
    terms: termsWire,
    period: z.object({ from: isoDate, to: isoDate }).strict(),
    assetDecimals: z.record(symbol, z.number().int().min(0).max(36)),
    openingCash: int,
    openingPositions: z.array(z.object({ asset: symbol, quantity: uint, costBasis: int }).strict()).max(256),
    trades: z.array(trade).max(10_000),
    cashMovements: z
      .array(
        z
          .object({
            date: isoDate,
            kind: z.enum(["deposit", "withdrawal", "borrow", "repay"]),
            amount: uint,
            reference: text,
          })
          .strict(),
      )
      .max(10_000)
      .optional(),
    positionMovements: z
      .array(
        z
          .object({
            at: unixSeconds,
            asset: symbol,
            kind: z.enum(["deposit", "withdrawal", "liquidation"]),
            quantity: uint,
            price: uint,
            proceeds: uint.optional(),
            reference: text,
          })
          .strict(),
      )
      .max(10_000)
      .optional(),
    sources: z
      .object({
        chainId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
        block: unixSeconds,
        blockHash: hex32,
        blockTime: unixSeconds,
        prices: z.record(
          symbol,
          z.object({ feed: address, roundId: uint, answer: int, updatedAt: unixSeconds }).strict(),
        ),
      })
      .strict()
      .optional(),
    dailyPrincipal: z.array(z.object({ date: isoDate, principal: uint }).strict()).max(3_660),
    openingAccruals: z.object({ interest: accrual, fees: z.record(feeCode, accrual) }).strict(),
    closingPrices: z.record(symbol, uint),
    utcOffsetMinutes: z.number().int().min(-720).max(840).optional(),
    generatedAt: unixSeconds,
  })
  .strict()
  .openapi({ description: "StatementInput (offchain/settlement/legal/statement.ts); integers as decimal strings" });

export const finalSettlementInputWire = z
  .object({
    terms: termsWire,
    settledOn: isoDate,
    closingCash: int,
    principal: uint,
    interestDue: uint,
    feesDue: z.array(z.object({ code: feeCode, label: text, amount: uint }).strict()).max(64),
    contributions: uint.optional(),
    insuranceFundAvailable: uint,
  })
  .strict()
  .openapi({
    description: "FinalSettlementInput (offchain/settlement/legal/finalSettlement.ts); integers as decimal strings",
  });

export const bankAccountWire = z.union([
  z.object({ iban: z.string().regex(/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/, "an IBAN without spaces") }).strict(),
  z.object({ other: z.string().min(1).max(34), scheme: z.string().min(1).max(35).optional() }).strict(),
]);

export const bankAgentWire = z.union([
  z.object({ bic: z.string().regex(/^[A-Z0-9]{8}([A-Z0-9]{3})?$/, "an 8- or 11-character BIC") }).strict(),
  z
    .object({ clearingMemberId: z.string().min(1).max(35), clearingSystem: z.string().min(1).max(35).optional() })
    .strict(),
]);

const payee = z.object({ name: z.string().min(1).max(140), account: bankAccountWire, agent: bankAgentWire.optional() });

export const payeesWire = z
  .object({ client: payee.strict(), capitalProviders: payee.strict(), platform: payee.strict() })
  .strict();
