import { getAddress, isHexString } from "ethers";
import { BPS, divDown } from "./amounts";
import { LegalError } from "./errors";

/** One line of the fee schedule. Every rate is in basis points; amounts are cash-token base units. */
export type FeeRule =
  /** Commission on each trade's notional (price × quantity), rounded up, at least `minimum` per trade. */
  | { code: string; label: string; kind: "per-trade"; bps: number; minimum: bigint }
  /** Charged per natural day on the client's own funds at `annualBps` / 365 (account-management fee). */
  | { code: string; label: string; kind: "daily-on-own-funds"; annualBps: number }
  /** A one-off amount charged when the financing opens or when it is settled. */
  | { code: string; label: string; kind: "fixed"; amount: bigint; when: "opening" | "settlement" };

/**
 * One listed security's margin schedule exactly as the chain holds it (MarginEngine.assetConfig and the tier's
 * tierRisk), 18-decimal ratios as read: the numbers the engine values, margins and liquidates the account with.
 */
export interface AssetSchedule {
  symbol: string;
  address: string;
  /** 1 = most liquid; liquidation sells the highest tier first. */
  liquidityTier: number;
  haircut: bigint;
  liquidationPenalty: bigint;
  /** Most base units of the asset liquidations may seize per window. */
  windowCap: bigint;
  assetDecimals: number;
  /** maintenance = clamp(liquidityAddOn + volatilityMultiplier × σ_daily, floor, cap); initial = maintenance + initialBuffer. */
  tier: {
    liquidityAddOn: bigint;
    volatilityMultiplier: bigint;
    floor: bigint;
    cap: bigint;
    initialBuffer: bigint;
    fixedVolatility: bigint;
  };
}

/**
 * What the chain applies to the account, read at one block when the agreement is generated (termsFromChain): the
 * per-asset schedule, the engine's parameters, the pool's rate, the client's leverage limit and the notice period
 * for parameter changes (the AccessManager's execution delay of the risk officer). Signed with the rest.
 */
export interface ChainSchedule {
  chainId: number;
  block: number;
  engine: string;
  pool: string;
  assets: AssetSchedule[];
  params: {
    warningBuffer: bigint;
    hardFloorFactor: bigint;
    targetBuffer: bigint;
    liquidatorShare: bigint;
    gracePeriod: number;
    oracleGrace: number;
    liquidationWindow: number;
    dustValue: bigint;
  };
  rate: {
    /** The pool's annual borrow rate at the block (18 decimals): it floats with the rate model below. */
    annualRate: bigint;
    model: { base: bigint; slope1: bigint; slope2: bigint; kink: bigint };
    dayCount: "ACT/365";
  };
  /** KycRegistry.maxLeverageOf(client), 18 decimals. */
  maxLeverage: bigint;
  noticePeriodSeconds: number;
}

/**
 * The platform's performance fee: `rateBps` of the client's gain above both the hurdle (own funds grown at
 * `hurdleAnnualBps` a year, ACT/365, over the days of the term) and the high-water mark (the highest value the
 * client's funds were settled at before, own funds at the first agreement); split between the platform and the
 * capital providers. Nothing is taken below either line.
 */
export interface PerformanceFee {
  rateBps: number;
  hurdleAnnualBps: number;
  highWaterMark: bigint;
  platformBps: number;
  capitalProvidersBps: number;
}

/** Who absorbs a loss larger than the client's account, in order. */
export type WaterfallStep = "client-collateral" | "insurance-fund" | "capital-pool";

/**
 * The machine-readable terms of one financing agreement. What both parties sign is the keccak256 of the canonical
 * JSON of these terms plus the hash of the readable document rendered from them (see agreementDocument.ts).
 */
export interface FinancingTerms {
  schema: "marginbridge/financing-terms@1";
  /** 32-byte id, 0x-prefixed hex; the on-chain key in AgreementRegistry. */
  agreementId: string;
  /** Increases with each amendment (an amendment is a new agreement id that names the one it replaces). */
  version: number;
  replaces?: string;
  client: { address: string; name: string; accountRef: string };
  platform: { address: string; name: string };
  currency: { symbol: string; iso4217: string; decimals: number };
  /** E: the client's own funds, base units. */
  ownFunds: bigint;
  /** L in basis points of own funds (20,000 = 2×): the position the client may carry is E × L. */
  leverageBps: number;
  /** E × (L − 1): what the capital providers lend; interest accrues on the outstanding part of it. */
  financedAmount: bigint;
  interest: {
    annualRateBps: number;
    dayCount: "ACT/365";
    /** Daily interest = outstanding principal × rate / 365 per natural day, charged cumulatively rounded up. */
    rounding: "cumulative-ceil";
    payment: "at-settlement";
  };
  margin: {
    /** Equity / position value required to open or add risk. */
    initialMarginBps: number;
    /** Below this the account is in margin call. */
    maintenanceMarginBps: number;
    /** Below this, the account is liquidatable at once, margin call or not. */
    liquidationMarginBps: number;
    /** Time the client has to cure a margin call (deposit or reduce) before liquidation. */
    marginCallWindowSeconds: number;
    /**
     * Fixed or dynamic margins (MarginEngine.setFixedTerm), both shown before the client chooses (issue 23). Dynamic:
     * the margins follow the market's volatility between the stated floor (the margins above) and cap. Fixed: the
     * stated margins hold until `fixedUntil` (YYYY-MM-DD, the first day dynamic again), priced with a volatility
     * premium: they are those of the rule at `fixedVolatilityBps` a day.
     */
    mode?: {
      chosen: "fixed" | "dynamic";
      fixedUntil: string | null;
      dynamicCapMaintenanceBps: number;
      fixedVolatilityBps: number;
      fixedMaintenanceBps: number;
      fixedInitialBps: number;
    };
  };
  liquidation: {
    /** Assets in the order they are sold: least liquid first. */
    assetOrder: string[];
    /** Largest share of the debt repaid per liquidation segment. */
    closeFactorBps: number;
    /** Discount to the oracle price at which collateral is seized. */
    penaltyBps: number;
    /** How the penalty is shared (sums to 10,000). */
    penaltyToLiquidatorBps: number;
    penaltyToInsuranceFundBps: number;
  };
  fees: FeeRule[];
  /** With it, the profit split gives the client everything and the performance fee is what the others take. */
  performanceFee?: PerformanceFee;
  /** Present when the terms were generated from the chain (termsFromChain): what the engine and the pool apply. */
  schedule?: ChainSchedule;
  /** How net profit (after interest and fees) is shared; sums to 10,000. Losses are the client's alone. */
  profitSplit: { clientBps: number; capitalProvidersBps: number; platformBps: number };
  defaultWaterfall: WaterfallStep[];
  /** Unix seconds. */
  effectiveAt: number;
  expiresAt: number;
  governingLaw: string;
  disputeResolution: string;
}

const HEX32 = /^0x[0-9a-f]{64}$/;

/**
 * Checks the terms are internally consistent and returns them with addresses checksummed. Throws
 * LEGAL_INVALID_TERMS naming the first failing field.
 */
export function validateTerms(t: FinancingTerms): FinancingTerms {
  const bad = (field: string, why: string, value?: unknown): never => {
    throw new LegalError("LEGAL_INVALID_TERMS", `${field}: ${why}`, { field, value: String(value) });
  };
  if (t.schema !== "marginbridge/financing-terms@1") bad("schema", "unknown schema", t.schema);
  if (!HEX32.test(t.agreementId) || /^0x0+$/.test(t.agreementId)) bad("agreementId", "not a non-zero bytes32");
  if (t.replaces !== undefined && !HEX32.test(t.replaces)) bad("replaces", "not a bytes32", t.replaces);
  if (!Number.isInteger(t.version) || t.version < 1 || t.version > 0xffffffff) bad("version", "1..2^32-1", t.version);
  const addr = (field: string, a: string): string => {
    if (!isHexString(a, 20)) bad(field, "not an address", a);
    return getAddress(a);
  };
  const client = addr("client.address", t.client.address);
  const platform = addr("platform.address", t.platform.address);
  if (client === platform) bad("platform.address", "client and platform must differ", platform);
  if (!/^[A-Z]{3}$/.test(t.currency.iso4217)) bad("currency.iso4217", "three capital letters", t.currency.iso4217);
  if (!Number.isInteger(t.currency.decimals) || t.currency.decimals < 0 || t.currency.decimals > 18)
    bad("currency.decimals", "0..18", t.currency.decimals);
  if (t.ownFunds <= 0n) bad("ownFunds", "must be positive", t.ownFunds);
  const bps = (field: string, v: number, max = 10_000, min = 0): void => {
    if (!Number.isInteger(v) || v < min || v > max) bad(field, `integer ${min}..${max} bps`, v);
  };
  bps("leverageBps", t.leverageBps, 100_000, 10_000);
  const expected = divDown(t.ownFunds * BigInt(t.leverageBps - 10_000), BPS);
  if (t.financedAmount !== expected)
    bad("financedAmount", `must be ownFunds × (L − 1) = ${expected}`, t.financedAmount);
  bps("interest.annualRateBps", t.interest.annualRateBps, 10_000);
  if (t.interest.dayCount !== "ACT/365") bad("interest.dayCount", "only ACT/365", t.interest.dayCount);
  const m = t.margin;
  bps("margin.initialMarginBps", m.initialMarginBps, 10_000, 1);
  bps("margin.maintenanceMarginBps", m.maintenanceMarginBps, 10_000, 1);
  bps("margin.liquidationMarginBps", m.liquidationMarginBps, 10_000, 0);
  if (!(m.initialMarginBps > m.maintenanceMarginBps && m.maintenanceMarginBps >= m.liquidationMarginBps))
    bad("margin", "need initial > maintenance >= liquidation line");
  // At opening, equity / position = 1 / L: the full position must meet the initial margin.
  if (BigInt(m.initialMarginBps) * BigInt(t.leverageBps) > BPS * BPS)
    bad("margin.initialMarginBps", "the full position at leverage L must meet the initial margin (IM × L <= 1)");
  if (!Number.isInteger(m.marginCallWindowSeconds) || m.marginCallWindowSeconds <= 0)
    bad("margin.marginCallWindowSeconds", "positive seconds", m.marginCallWindowSeconds);
  if (m.mode !== undefined) {
    bps("margin.mode.dynamicCapMaintenanceBps", m.mode.dynamicCapMaintenanceBps, 10_000, m.maintenanceMarginBps);
    bps("margin.mode.fixedVolatilityBps", m.mode.fixedVolatilityBps, 65_535);
    bps("margin.mode.fixedMaintenanceBps", m.mode.fixedMaintenanceBps, 10_000, 1);
    bps("margin.mode.fixedInitialBps", m.mode.fixedInitialBps, 10_000, m.mode.fixedMaintenanceBps + 1);
    const fixedUntil = m.mode.fixedUntil;
    if ((m.mode.chosen === "fixed") !== (fixedUntil !== null))
      bad("margin.mode.fixedUntil", "a date exactly when the fixed mode is chosen", fixedUntil);
    if (fixedUntil !== null && !/^\d{4}-\d{2}-\d{2}$/.test(fixedUntil))
      bad("margin.mode.fixedUntil", "YYYY-MM-DD", fixedUntil);
    if (m.mode.chosen === "fixed" && BigInt(m.mode.fixedInitialBps) * BigInt(t.leverageBps) > BPS * BPS)
      bad("margin.mode.fixedInitialBps", "the full position at leverage L must meet the fixed initial margin");
  }
  const l = t.liquidation;
  if (l.assetOrder.length === 0 || new Set(l.assetOrder).size !== l.assetOrder.length)
    bad("liquidation.assetOrder", "non-empty, no repeats");
  bps("liquidation.closeFactorBps", l.closeFactorBps, 10_000, 1);
  bps("liquidation.penaltyBps", l.penaltyBps, 5_000);
  if (l.penaltyToLiquidatorBps + l.penaltyToInsuranceFundBps !== 10_000) bad("liquidation.penalty*", "split != 100%");
  const codes = new Set<string>();
  for (const [i, f] of t.fees.entries()) {
    if (!/^[A-Z0-9_]{1,16}$/.test(f.code) || codes.has(f.code)) bad(`fees[${i}].code`, "unique A-Z0-9_", f.code);
    codes.add(f.code);
    if (f.kind === "per-trade") {
      bps(`fees[${i}].bps`, f.bps, 1_000);
      if (f.minimum < 0n) bad(`fees[${i}].minimum`, "non-negative", f.minimum);
    } else if (f.kind === "daily-on-own-funds") bps(`fees[${i}].annualBps`, f.annualBps, 10_000);
    else if (f.amount < 0n) bad(`fees[${i}].amount`, "non-negative", f.amount);
  }
  const s = t.profitSplit;
  for (const k of ["clientBps", "capitalProvidersBps", "platformBps"] as const) bps(`profitSplit.${k}`, s[k]);
  if (s.clientBps + s.capitalProvidersBps + s.platformBps !== 10_000) bad("profitSplit", "must sum to 10,000 bps");
  if (t.performanceFee !== undefined) validatePerformanceFee(t, bad, bps);
  if (t.schedule !== undefined) validateSchedule(t.schedule, t.leverageBps, bad);
  const w = t.defaultWaterfall;
  if (w[0] !== "client-collateral" || new Set(w).size !== w.length || w.length !== 3)
    bad("defaultWaterfall", "client collateral first, each step once", w.join(","));
  if (!Number.isSafeInteger(t.effectiveAt) || !Number.isSafeInteger(t.expiresAt) || t.expiresAt <= t.effectiveAt)
    bad("expiresAt", "must be after effectiveAt", t.expiresAt);
  if (!t.governingLaw || !t.disputeResolution) bad("governingLaw", "governing law and forum are required");
  return { ...t, client: { ...t.client, address: client }, platform: { ...t.platform, address: platform } };
}

type Bad = (field: string, why: string, value?: unknown) => never;

function validatePerformanceFee(t: FinancingTerms, bad: Bad, bps: (f: string, v: number, max?: number) => void): void {
  const p = t.performanceFee!;
  bps("performanceFee.rateBps", p.rateBps);
  bps("performanceFee.hurdleAnnualBps", p.hurdleAnnualBps);
  bps("performanceFee.platformBps", p.platformBps);
  bps("performanceFee.capitalProvidersBps", p.capitalProvidersBps);
  if (p.platformBps + p.capitalProvidersBps !== 10_000) bad("performanceFee", "platform + providers must be 10,000");
  if (p.highWaterMark < 0n) bad("performanceFee.highWaterMark", "non-negative", p.highWaterMark);
  if (t.profitSplit.clientBps !== 10_000)
    bad("profitSplit", "with a performance fee the client keeps the profit split (10,000 bps)");
}

const WAD_ONE = 10n ** 18n;

function validateSchedule(s: ChainSchedule, leverageBps: number, bad: Bad): void {
  if (s.assets.length === 0) bad("schedule.assets", "no listed asset");
  const ratio = (field: string, v: bigint): void => {
    if (v < 0n || v > WAD_ONE) bad(field, "an 18-decimal ratio in [0, 1]", v);
  };
  for (const [i, a] of s.assets.entries()) {
    if (!isHexString(a.address, 20)) bad(`schedule.assets[${i}].address`, "not an address", a.address);
    ratio(`schedule.assets[${i}].haircut`, a.haircut);
    ratio(`schedule.assets[${i}].liquidationPenalty`, a.liquidationPenalty);
    const r = a.tier;
    for (const k of ["liquidityAddOn", "floor", "cap", "initialBuffer"] as const)
      ratio(`schedule.assets[${i}].tier.${k}`, r[k]);
    if (r.floor > r.cap) bad(`schedule.assets[${i}].tier`, "floor above cap");
  }
  if (s.maxLeverage < WAD_ONE) bad("schedule.maxLeverage", "at least 1", s.maxLeverage);
  if (BigInt(leverageBps) * 10n ** 14n > s.maxLeverage)
    bad("leverageBps", "above the client's verified leverage limit (schedule.maxLeverage)", leverageBps);
  if (!Number.isSafeInteger(s.noticePeriodSeconds) || s.noticePeriodSeconds < 0)
    bad("schedule.noticePeriodSeconds", "non-negative seconds", s.noticePeriodSeconds);
}

/** L as a decimal multiple ("2", "2.5"). */
export function leverageText(leverageBps: number): string {
  const whole = Math.floor(leverageBps / 10_000);
  const frac = leverageBps % 10_000;
  return frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(4, "0").replace(/0+$/, "")}`;
}

/** "8.00%" from 800 bps. */
export function percentText(bps: number): string {
  return `${(bps / 100).toFixed(2)}%`;
}

/**
 * The return r on the positions at which equity falls to the maintenance margin, ignoring interest and fees:
 * E·(1 + L·r) < m·L·E·(1 + r)  ⇔  r < (m·L − 1) / (L·(1 − m)). In hundredths of a basis point, rounded towards
 * zero (E = 100,000, L = 2, m = 25 %: −33.33 %; L = 3: −11.11 %).
 */
export function maintenanceBreachReturn(leverageBps: number, maintenanceBps: number): bigint {
  const L = BigInt(leverageBps);
  const m = BigInt(maintenanceBps);
  return ((m * L - BPS * BPS) * BPS * 100n) / (L * (BPS - m));
}

/** Hundredths of a basis point as a percentage with two decimals ("-33.33%"). */
export function returnText(centiBps: bigint): string {
  const sign = centiBps < 0n ? "-" : "";
  const abs = centiBps < 0n ? -centiBps : centiBps;
  const hundredthsOfPercent = abs / 100n;
  return `${sign}${hundredthsOfPercent / 100n}.${(hundredthsOfPercent % 100n).toString().padStart(2, "0")}%`;
}
