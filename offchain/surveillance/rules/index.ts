import { layeringRule, type LayeringThresholds } from "./layering";
import { orderRateRules, type OrderRateThresholds } from "./orderRate";
import { priceBandRule, type PriceBandThresholds } from "./priceBand";
import type { FlowRule, RuleSwitches } from "./types";
import { washRule, type WashThresholds } from "./wash";

export type { FlowEvent, Finding, GroupOf, RuleSwitches } from "./types";

/** Every order-flow rule's thresholds (docs/surveillance.md explains each). Windows are tumbling, per instrument. */
export interface FlowRulesConfig extends OrderRateThresholds {
  /** The window every rule counts in (ms). */
  windowMs: number;
  wash: WashThresholds;
  priceBand: PriceBandThresholds;
  layering: LayeringThresholds;
}

const person: Omit<RuleSwitches, "enabled"> = { tier: "flagged", autoAct: false };

export const DEFAULT_FLOW_RULES: FlowRulesConfig = {
  windowMs: 300_000,
  orderToTrade: { enabled: true, ...person, minOrders: 100, maxRatio: 50 },
  cancelRate: { enabled: true, ...person, minOrders: 100, maxCancelBps: 9_500 },
  burst: { enabled: true, ...person, burstMs: 1_000, maxOrders: 20 },
  wash: { enabled: true, ...person, minTrades: 10, minShareBps: 8_000, linkedMinTrades: 3 },
  priceBand: { enabled: true, ...person, minHits: 5, codes: ["PRICE_BAND"] },
  layering: { enabled: true, ...person, largeLots: 100, awayBps: 100, cancelWithinMs: 5_000, minEvents: 3 },
};

type RuleName = "orderToTrade" | "cancelRate" | "burst" | "wash" | "priceBand" | "layering";
const BY_FINDING: Record<string, RuleName> = {
  "order-to-trade": "orderToTrade",
  "cancel-rate": "cancelRate",
  burst: "burst",
  "wash-like": "wash",
  "price-band": "priceBand",
  layering: "layering",
};

/** A rule's switches (tier, auto-act) by the name its findings carry. */
export function switchesOf(c: FlowRulesConfig, finding: string): RuleSwitches {
  return c[BY_FINDING[finding]];
}

/**
 * The configuration with `overrides` merged rule by rule (a partial rule keeps the defaults it does not name).
 */
export function flowRules(overrides: DeepPartial<FlowRulesConfig> = {}): FlowRulesConfig {
  const out = { ...DEFAULT_FLOW_RULES, windowMs: overrides.windowMs ?? DEFAULT_FLOW_RULES.windowMs };
  for (const k of Object.values(BY_FINDING)) Object.assign(out, { [k]: { ...DEFAULT_FLOW_RULES[k], ...overrides[k] } });
  return out as FlowRulesConfig;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

/** The rule families over the journal (orders, cancels, trades) and over the pre-trade refusals. */
export function journalRules(c: FlowRulesConfig): FlowRule<unknown>[] {
  return [orderRateRules(c), washRule(c.wash), layeringRule(c.layering)] as FlowRule<unknown>[];
}

export function refusalRules(c: FlowRulesConfig): FlowRule<unknown>[] {
  return [priceBandRule(c.priceBand)] as FlowRule<unknown>[];
}
