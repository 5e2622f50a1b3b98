import { z } from "zod";

/** Integers travel as decimal strings of base units (amounts) or 18-decimal fixed point (ratios, "WAD"). */
const int = z.string().regex(/^-?[0-9]+$/);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const className = z.enum(["senior", "junior"]);

export const classSummarySchema = z
  .object({
    class: className,
    vault: address,
    symbol: z.string(),
    shareDecimals: z.number().int(),
    totalAssets: int,
    totalShares: int,
    /** Cash base units per 10^shareDecimals shares (ERC-4626 convertToAssets, rounded down). */
    sharePrice: int,
    /** Share of the class's assets never lent (WAD). */
    buffer: int,
    /** Seconds between a request and the time it may be served. */
    noticeSeconds: z.number().int(),
    /** Requests still waiting in the class's queue, and the earliest time one of them may be served. */
    queuedRequests: z.number().int(),
    nextDueAt: z.number().int().nullable(),
    terms: z.object({ hash: hex32, version: z.number().int() }).strict(),
  })
  .strict();

export const classesSummarySchema = z
  .object({
    block: z.number().int(),
    /** Chain time of `block` (unix seconds). */
    chainTime: z.number().int(),
    classes: z.array(classSummarySchema),
    book: z
      .object({
        totalAssets: int,
        totalDebt: int,
        utilisation: int,
        lendableCash: int,
        claimableCash: int,
        earmarked: int,
        juniorRequired: int,
        seniorTargetRate: int,
        minJuniorRatio: int,
        gate: z.object({ utilisation: int, fraction: int, windowSeconds: z.number().int() }).strict(),
        /** Cash that may still go to redemptions before utilisation crosses the gate threshold. */
        ungatedRoom: int,
        /** True when no ungated room is left: requests are served at most the gate fraction per window. */
        gated: z.boolean(),
      })
      .strict(),
  })
  .strict();

export const providerRequestSchema = z
  .object({
    class: className,
    ticket: z.number().int(),
    sharesRequested: int,
    remaining: int,
    dueAt: z.number().int(),
    /** Requests ahead of this one in its class's queue (0: it is next). */
    ahead: z.number().int(),
    queuedTxHash: hex32,
  })
  .strict();

export const providerClassSchema = z
  .object({
    class: className,
    shares: int,
    /** What the shares are worth now (convertToAssets). */
    value: int,
    deposited: int,
    /** Assets claimed from served redemptions (and immediate withdrawals). */
    withdrawn: int,
    /** value + withdrawn + claimable − deposited: interest earned net of losses absorbed (negative: a loss). */
    earned: int,
    pendingShares: int,
    claimableShares: int,
    claimableAssets: int,
    agreement: z
      .object({
        signedVersion: z.number().int(),
        currentVersion: z.number().int(),
        signedAt: z.number().int().nullable(),
        anchoredAt: z.number().int().nullable(),
        current: z.boolean(),
      })
      .strict(),
  })
  .strict();

export const providerSummarySchema = z
  .object({
    provider: address,
    block: z.number().int(),
    classes: z.array(providerClassSchema),
    requests: z.array(providerRequestSchema),
  })
  .strict();

export const scheduledChangeSchema = z
  .object({
    operationId: hex32,
    target: address,
    /** The deployment's name for the target contract, or null when it is not one of ours. */
    contract: z.string().nullable(),
    /** The function and its arguments decoded with our ABIs (null when the call data is not ours). */
    call: z
      .object({ function: z.string(), args: z.record(z.string(), z.string()) })
      .strict()
      .nullable(),
    data: z.string(),
    caller: address,
    /** Unix seconds from which the change may be executed. */
    executableAt: z.number().int(),
    scheduledBlock: z.number().int(),
    scheduledTxHash: hex32,
  })
  .strict();

export const scheduledChangesSchema = z
  .object({ block: z.number().int(), changes: z.array(scheduledChangeSchema) })
  .strict();

export const forecastSchema = z
  .object({
    block: z.number().int(),
    startTime: z.number().int(),
    days: z.array(
      z
        .object({
          day: z.number().int(),
          date: z.string(),
          closed: z.boolean(),
          inflow: int,
          outflow: int,
          cash: int,
          stressedInflow: int,
          stressedCash: int,
        })
        .strict(),
    ),
    minCash: int,
    minStressedCash: int,
    firstStressedShortfall: z.string().nullable(),
    closedDays: z.array(z.string()),
    chartSvg: z.string(),
  })
  .strict();

export type ClassesSummary = z.infer<typeof classesSummarySchema>;
export type ProviderSummary = z.infer<typeof providerSummarySchema>;
export type ScheduledChanges = z.infer<typeof scheduledChangesSchema>;
export type ForecastSummary = z.infer<typeof forecastSchema>;
