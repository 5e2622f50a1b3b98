/**
 * The two engines the benchmark drives with the same stream: ours (the matching engine alone, no I/O) and
 * `nodejs-order-book` (the most-used npm order-book package). Self-trade prevention is off in both (one account).
 */
import { type LimitOrderOptions, OrderBook as NobBook, Side as NobSide } from "nodejs-order-book";
import {
  type ExecutionReport,
  type IncomingOrder,
  OrderBook,
  Side,
  StpMode,
  TimeInForce,
} from "../../offchain/orderbook";
import { Op, type Stream } from "./stream";

export interface BenchEngine {
  name: "marginbridge" | "nodejs-order-book";
  /** Applies operation i of the stream. */
  run(i: number): void;
  /** Fills of the last operation, as [makerId, price, qty] in match order, and whether it was accepted. */
  lastFills(): Array<[number, number, number]>;
  lastAccepted(): boolean;
  bestBid(): number;
  bestAsk(): number;
  /** [price, qty] per level, best first. */
  depth(): { bids: Array<[number, number]>; asks: Array<[number, number]> };
}

export function marginbridge(s: Stream): BenchEngine {
  const book = new OrderBook();
  const o: IncomingOrder = {
    id: 0,
    account: "b",
    side: Side.Buy,
    price: 0,
    qty: 0,
    tif: TimeInForce.GTC,
    expiresAt: 0,
    postOnly: false,
    stp: StpMode.None,
    linked: [],
  };
  const { kind, side, price, qty, id } = s;
  let last: ExecutionReport = book.report;
  return {
    name: "marginbridge",
    run(i: number): void {
      const k = kind[i];
      if (k === Op.Cancel) {
        last = book.cancel(id[i], "b");
        return;
      }
      if (k === Op.Modify) {
        last = book.modify(id[i], "b", price[i], undefined);
        return;
      }
      o.id = id[i];
      o.side = side[i];
      o.price = price[i];
      o.qty = qty[i];
      o.postOnly = k === Op.PostOnly;
      if (k === Op.Market) {
        o.tif = null;
        last = book.market(o);
        return;
      }
      o.tif = k === Op.Fok ? TimeInForce.FOK : k === Op.Ioc ? TimeInForce.IOC : TimeInForce.GTC;
      last = book.limit(o);
    },
    lastFills() {
      const out: Array<[number, number, number]> = [];
      for (let j = 0; j < last.fillCount; j++) out.push([last.fillMakerIds[j], last.fillPrices[j], last.fillQtys[j]]);
      return out;
    },
    lastAccepted: () => last.accepted,
    bestBid: () => book.bestBid(),
    bestAsk: () => book.bestAsk(),
    depth: () => ({
      bids: book.depth(Side.Buy).map((l) => [l[0], l[1]]),
      asks: book.depth(Side.Sell).map((l) => [l[0], l[1]]),
    }),
  };
}

/** The package's TimeInForce enum is not exported from its entry point; its values are these strings. */
type NobTif = NonNullable<LimitOrderOptions["timeInForce"]>;
const GTC = "GTC" as NobTif;
const IOC = "IOC" as NobTif;
const FOK = "FOK" as NobTif;

/** Its sides are private; the verification pass (never the timed one) reads the touch through them. */
interface NobSideView {
  maxPriceQueue(): { price(): number } | undefined;
  minPriceQueue(): { price(): number } | undefined;
}

interface NobOrder {
  id: string;
  size: number;
  price: number;
}
interface NobResponse {
  done: NobOrder[];
  partial: NobOrder | null;
  partialQuantityProcessed: number;
  err: unknown;
}

export function nodejsOrderBook(s: Stream): BenchEngine {
  const ob = new NobBook();
  const { kind, side, price, qty, id } = s;
  // string ids prepared outside the timed loop (the package keys orders by string)
  const sid: string[] = new Array<string>(s.n + 2);
  for (let i = 0; i < s.n; i++) if (sid[id[i]] === undefined) sid[id[i]] = String(id[i]);
  let last: NobResponse | undefined;
  let lastTaker = "";
  let lastKind = 0;
  let cancelled = false;
  const sides = ob as unknown as { bids: NobSideView; asks: NobSideView };
  const nobSide = (x: number): NobSide => (x === Side.Buy ? NobSide.BUY : NobSide.SELL);
  return {
    name: "nodejs-order-book",
    run(i: number): void {
      const k = kind[i];
      lastKind = k;
      lastTaker = sid[id[i]];
      if (k === Op.Cancel) {
        cancelled = ob.cancel(lastTaker) !== undefined;
        last = undefined;
        return;
      }
      if (k === Op.Modify) {
        last = ob.modify(lastTaker, { price: price[i] }) as unknown as NobResponse;
        return;
      }
      if (k === Op.Market) {
        last = ob.market({ side: nobSide(side[i]), size: qty[i] }) as unknown as NobResponse;
        return;
      }
      last = ob.limit({
        id: lastTaker,
        side: nobSide(side[i]),
        size: qty[i],
        price: price[i],
        postOnly: k === Op.PostOnly,
        timeInForce: k === Op.Fok ? FOK : k === Op.Ioc ? IOC : GTC,
      }) as unknown as NobResponse;
    },
    lastFills() {
      const out: Array<[number, number, number]> = [];
      if (last === undefined) return out;
      for (const d of last.done)
        if (d.id !== lastTaker || lastKind === Op.Market) out.push([Number(d.id), d.price, d.size]);
      const p = last.partial;
      if (p !== null && p.id !== lastTaker && last.partialQuantityProcessed > 0)
        out.push([Number(p.id), p.price, last.partialQuantityProcessed]);
      return out;
    },
    lastAccepted: () => (last === undefined ? cancelled : last.err === null || last.err === undefined),
    bestBid: () => sides.bids.maxPriceQueue()?.price() ?? 0,
    bestAsk: () => sides.asks.minPriceQueue()?.price() ?? 0,
    depth: () => {
      const [asks, bids] = ob.depth();
      return { bids: bids.map((l) => [l[0], l[1]]), asks: asks.map((l) => [l[0], l[1]]) };
    },
  };
}
