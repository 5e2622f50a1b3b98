import { keep, type FlowEvent, type FlowRule, type Finding, type RuleSwitches } from "./types";

/** Order-to-trade ratio, cancel rate and bursts per account and window (order stuffing). */
export interface OrderRateThresholds {
  /** Orders (limit, market, protective, modify) over trades, once the account sent at least minOrders. */
  orderToTrade: RuleSwitches & { minOrders: number; maxRatio: number };
  /** Client cancels over orders, in basis points, once the account sent at least minOrders. */
  cancelRate: RuleSwitches & { minOrders: number; maxCancelBps: number };
  /** More than maxOrders orders within any burstMs (a sliding span inside the window). */
  burst: RuleSwitches & { burstMs: number; maxOrders: number };
}

interface State {
  orders: number;
  orderIds: number[];
  cancels: number;
  cancelIds: number[];
  trades: number;
  tradeIds: string[];
  /** The orders within the last burstMs, oldest first (`head` is the first still inside). */
  recent: Array<{ ts: number; id: number }>;
  head: number;
  maxBurst: number;
  burstIds: number[];
  burstFrom: number;
}

const ratio = (a: number, b: number): number => Math.round((a / Math.max(b, 1)) * 100) / 100;

function burst(s: State, ts: number, id: number, burstMs: number): void {
  s.recent.push({ ts, id });
  while (s.recent[s.head].ts <= ts - burstMs) s.head++;
  const size = s.recent.length - s.head;
  if (size > s.maxBurst) {
    s.maxBurst = size;
    s.burstFrom = s.recent[s.head].ts;
    s.burstIds = s.recent.slice(s.head, s.head + 50).map((r) => r.id);
  }
  // the queue's consumed head is dropped now and then, not on every order
  if (s.head > 1_024) {
    s.recent = s.recent.slice(s.head);
    s.head = 0;
  }
}

export function orderRateRules(t: OrderRateThresholds): FlowRule<State> {
  return {
    name: "order-rate",
    init: () => ({
      orders: 0,
      orderIds: [],
      cancels: 0,
      cancelIds: [],
      trades: 0,
      tradeIds: [],
      recent: [],
      head: 0,
      maxBurst: 0,
      burstIds: [],
      burstFrom: 0,
    }),
    observe(s: State, _account: string, e: FlowEvent): void {
      if (e.kind === "order") {
        s.orders++;
        keep(s.orderIds, e.orderId);
        if (t.burst.enabled) burst(s, e.ts, e.orderId, t.burst.burstMs);
      } else if (e.kind === "cancel") {
        s.cancels++;
        keep(s.cancelIds, e.orderId);
      } else if (e.kind === "trade") {
        s.trades++;
        keep(s.tradeIds, e.tradeId);
      }
    },
    findings(s: State, account: string, w): Finding[] {
      const out: Finding[] = [];
      const base = { account, instrument: w.instrument, windowStart: w.start, windowEnd: w.end };
      const otr = t.orderToTrade;
      if (otr.enabled && s.orders >= otr.minOrders && s.orders > otr.maxRatio * Math.max(s.trades, 1))
        out.push({
          ...base,
          rule: "order-to-trade",
          reasonCode: "ORDER_STUFFING",
          summary: `${s.orders} orders for ${s.trades} trades (ratio ${ratio(s.orders, s.trades)} > ${otr.maxRatio})`,
          evidence: {
            orderIds: s.orderIds,
            tradeIds: s.tradeIds,
            figures: { orders: s.orders, trades: s.trades, ratio: ratio(s.orders, s.trades) },
            thresholds: { minOrders: otr.minOrders, maxRatio: otr.maxRatio },
          },
        });
      const cr = t.cancelRate;
      const cancelBps = Math.floor((s.cancels * 10_000) / Math.max(s.orders, 1));
      if (cr.enabled && s.orders >= cr.minOrders && cancelBps >= cr.maxCancelBps)
        out.push({
          ...base,
          rule: "cancel-rate",
          reasonCode: "HIGH_CANCEL_RATE",
          summary: `${s.cancels} of ${s.orders} orders cancelled (${cancelBps / 100} % ≥ ${cr.maxCancelBps / 100} %)`,
          evidence: {
            orderIds: s.cancelIds,
            tradeIds: s.tradeIds,
            figures: { orders: s.orders, cancels: s.cancels, cancelBps },
            thresholds: { minOrders: cr.minOrders, maxCancelBps: cr.maxCancelBps },
          },
        });
      const b = t.burst;
      if (b.enabled && s.maxBurst > b.maxOrders)
        out.push({
          ...base,
          rule: "burst",
          reasonCode: "ORDER_STUFFING",
          summary: `${s.maxBurst} orders within ${b.burstMs} ms (more than ${b.maxOrders})`,
          evidence: {
            orderIds: s.burstIds,
            tradeIds: [],
            figures: { ordersInBurst: s.maxBurst, burstStartedAt: s.burstFrom },
            thresholds: { burstMs: b.burstMs, maxOrders: b.maxOrders },
          },
        });
      return out;
    },
  };
}
