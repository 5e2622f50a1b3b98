import { keep, type FlowEvent, type FlowRule, type Finding, type RuleSwitches } from "./types";

/**
 * Orders that repeatedly hit the price band: pre-trade refusals with the band's code (probing how far from the
 * oracle price the book lets an order go). The book never journals them: the order gateway records them.
 */
export type PriceBandThresholds = RuleSwitches & {
  /** Refusals in the window that raise an alert. */
  minHits: number;
  /** The refusal codes that count (default PRICE_BAND). */
  codes: string[];
};

interface State {
  hits: number;
  orderIds: number[];
}

export function priceBandRule(t: PriceBandThresholds): FlowRule<State> {
  return {
    name: "price-band",
    init: () => ({ hits: 0, orderIds: [] }),
    observe(s: State, _account: string, e: FlowEvent): void {
      if (e.kind !== "refusal" || !t.codes.includes(e.code)) return;
      s.hits++;
      keep(s.orderIds, e.orderId);
    },
    findings(s: State, account: string, w): Finding[] {
      if (!t.enabled || s.hits < t.minHits) return [];
      return [
        {
          rule: "price-band",
          account,
          instrument: w.instrument,
          windowStart: w.start,
          windowEnd: w.end,
          reasonCode: "PRICE_BAND_PROBING",
          summary: `${s.hits} orders refused at the price band (at least ${t.minHits})`,
          evidence: {
            orderIds: s.orderIds,
            tradeIds: [],
            figures: { refusals: s.hits },
            thresholds: { minHits: t.minHits },
            codes: t.codes,
          },
        },
      ];
    },
  };
}
