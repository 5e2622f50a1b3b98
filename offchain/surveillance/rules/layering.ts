import { keep, type BookView, type FlowEvent, type FlowRule, type Finding, type RuleSwitches } from "./types";

/**
 * Layering: a large order away from the touch on one side, the account trading on the other side, then the large
 * order cancelled soon after (it was there to move the others' prices, not to trade). "Away" is measured from the
 * last trade price the reader saw (the maker's price of the last trade), in basis points, on the passive side.
 */
export type LayeringThresholds = RuleSwitches & {
  /** An order of at least this many lots is large. */
  largeLots: number;
  /** ...and away from the touch when at least this far from the last trade price, on its passive side (bps). */
  awayBps: number;
  /** The large order is cancelled within this long after the account's trade on the other side. */
  cancelWithinMs: number;
  /** Such cancels in the window that raise an alert. */
  minEvents: number;
};

interface Pending {
  side: "buy" | "sell";
  ts: number;
  price: number;
  qty: number;
  awayBps: number;
}

interface State {
  pending: Map<number, Pending>;
  lastTrade: { side: "buy" | "sell"; ts: number; tradeId: string } | null;
  events: number;
  orderIds: number[];
  tradeIds: string[];
  largest: number;
}

/** Resting orders a state remembers at most (the oldest are forgotten first). */
const MAX_PENDING = 1_000;

function away(side: "buy" | "sell", price: number, last: number): number {
  const d = side === "buy" ? last - price : price - last;
  return Math.floor((d * 10_000) / last);
}

function placed(t: LayeringThresholds, s: State, e: FlowEvent, book: BookView): void {
  if (e.kind !== "order" || e.type !== "limit" || e.side === null || e.price === null || e.qty === null) return;
  const last = book.lastTradePrice;
  if (e.qty < t.largeLots || last === null) return;
  const bps = away(e.side, e.price, last);
  if (bps < t.awayBps) return;
  s.pending.set(e.orderId, { side: e.side, ts: e.ts, price: e.price, qty: e.qty, awayBps: bps });
  if (s.pending.size > MAX_PENDING) s.pending.delete(s.pending.keys().next().value as number);
}

export function layeringRule(t: LayeringThresholds): FlowRule<State> {
  return {
    name: "layering",
    init: () => ({ pending: new Map(), lastTrade: null, events: 0, orderIds: [], tradeIds: [], largest: 0 }),
    observe(s: State, account: string, e: FlowEvent, book: BookView): void {
      if (e.kind === "order") placed(t, s, e, book);
      else if (e.kind === "trade" && e.buyer !== e.seller)
        s.lastTrade = { side: e.buyer === account ? "buy" : "sell", ts: e.ts, tradeId: e.tradeId };
      else if (e.kind === "cancel") {
        const p = s.pending.get(e.orderId);
        if (p === undefined) return;
        s.pending.delete(e.orderId);
        const tr = s.lastTrade;
        if (tr === null || tr.side === p.side || tr.ts < p.ts || e.ts - tr.ts > t.cancelWithinMs) return;
        s.events++;
        s.largest = Math.max(s.largest, p.qty);
        keep(s.orderIds, e.orderId);
        keep(s.tradeIds, tr.tradeId);
      }
    },
    findings(s: State, account: string, w): Finding[] {
      if (!t.enabled || s.events < t.minEvents) return [];
      return [
        {
          rule: "layering",
          account,
          instrument: w.instrument,
          windowStart: w.start,
          windowEnd: w.end,
          reasonCode: "LAYERING",
          summary: `${s.events} large orders away from the touch cancelled after trading on the other side`,
          evidence: {
            orderIds: s.orderIds,
            tradeIds: s.tradeIds,
            figures: { events: s.events, largestLots: s.largest },
            thresholds: {
              largeLots: t.largeLots,
              awayBps: t.awayBps,
              cancelWithinMs: t.cancelWithinMs,
              minEvents: t.minEvents,
            },
          },
        },
      ];
    },
  };
}
