import type { FlowFill } from "../store";
import type { FlowEvent, FlowTrade } from "./rules/types";

/** A journaled command as surveillance reads it (offchain/orderbook/types.ts StampedCommand; sides 0 buy, 1 sell). */
export interface Stamped {
  seq: number;
  ts: number;
  cmd: {
    kind: string;
    id?: number;
    account?: string;
    side?: number;
    price?: number;
    qty?: number;
    limitPrice?: number;
  };
}

const ORDER_KINDS = new Set(["limit", "market", "protective", "modify"]);

function sideOf(side: number | undefined): "buy" | "sell" | null {
  return side === 0 ? "buy" : side === 1 ? "sell" : null;
}

/**
 * The flow events of journal rows, in order: each command's order or client cancel, then the trades it made (both
 * sides joined from the fills). Oracle prices and ticks are not order flow; the engine's own cancels (IOC
 * remainders, expiries, self-trade prevention) are not the client's and are not counted as cancels.
 */
export function flowEvents(instrument: string, rows: readonly Stamped[], fills: readonly FlowFill[]): FlowEvent[] {
  const trades = tradesBySeq(instrument, fills);
  const out: FlowEvent[] = [];
  for (const s of rows) {
    const c = s.cmd;
    // object literals written out whole (no spreads): this runs once per journal entry at the book's rate
    if (ORDER_KINDS.has(c.kind) && c.id !== undefined && c.account !== undefined)
      out.push({
        kind: "order",
        pos: s.seq,
        ts: s.ts,
        instrument,
        type: c.kind as "limit" | "market" | "protective" | "modify",
        account: c.account.toLowerCase(),
        orderId: c.id,
        side: sideOf(c.side),
        price: c.kind === "limit" || c.kind === "modify" ? (c.price ?? null) : null,
        qty: c.qty ?? null,
      });
    else if (c.kind === "cancel" && c.id !== undefined && c.account !== undefined)
      out.push({ kind: "cancel", pos: s.seq, ts: s.ts, instrument, account: c.account.toLowerCase(), orderId: c.id });
    const made = trades.get(s.seq);
    if (made === undefined) continue;
    for (const t of made) {
      t.ts = s.ts;
      out.push(t);
    }
  }
  return out;
}

function tradesBySeq(instrument: string, fills: readonly FlowFill[]): Map<number, FlowTrade[]> {
  const byTrade = new Map<string, FlowFill[]>();
  for (const f of fills) {
    const list = byTrade.get(f.tradeId);
    if (list === undefined) byTrade.set(f.tradeId, [f]);
    else list.push(f);
  }
  const out = new Map<number, FlowTrade[]>();
  for (const [tradeId, sides] of byTrade) {
    const buy = sides.find((f) => f.side === "buy");
    const sell = sides.find((f) => f.side === "sell");
    const maker = sides.find((f) => f.role === "maker");
    if (buy === undefined || sell === undefined || maker === undefined) continue;
    const t: FlowTrade = {
      kind: "trade",
      pos: buy.seq,
      ts: 0,
      instrument,
      tradeId,
      buyer: buy.account,
      seller: sell.account,
      buyOrderId: buy.orderId,
      sellOrderId: sell.orderId,
      makerOrderId: maker.orderId,
    };
    const list = out.get(buy.seq);
    if (list === undefined) out.set(buy.seq, [t]);
    else list.push(t);
  }
  return out;
}
