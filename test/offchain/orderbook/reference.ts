/**
 * A deliberately naive order book used as the oracle of the differential test: each side is one array of orders
 * kept sorted by (price, arrival) with Array.sort after every insert, matching walks the array from the front,
 * FOK pre-checks by simulating on a copy. Slow and obviously correct; it shares no code with the engine.
 */
import { CancelReason, RejectCode, Side, StpMode, TimeInForce } from "../../../offchain/orderbook";

interface RefOrder {
  id: number;
  account: string;
  side: Side;
  price: number;
  qty: number;
  tif: TimeInForce;
  expiresAt: number;
  postOnly: boolean;
  stp: StpMode;
  arrival: number;
}

export interface RefResult {
  accepted: boolean;
  reject: RejectCode | null;
  fills: Array<[makerId: number, price: number, qty: number]>;
  restingQty: number;
  cancelledQty: number;
}

export interface RefOrderInput {
  id: number;
  account: string;
  side: Side;
  price: number;
  qty: number;
  tif: TimeInForce | null;
  expiresAt?: number;
  postOnly?: boolean;
  stp?: StpMode;
}

const MAX_PRICE = 2 ** 31 - 1;
const MAX_QTY = 1_000_000_000;

function okInt(x: number, max: number): boolean {
  return Number.isInteger(x) && x >= 1 && x <= max;
}

export class ReferenceBook {
  bids: RefOrder[] = [];
  asks: RefOrder[] = [];
  now = 0;
  private arrivals = 0;

  private sortSides(): void {
    this.bids.sort((a, b) => b.price - a.price || a.arrival - b.arrival);
    this.asks.sort((a, b) => a.price - b.price || a.arrival - b.arrival);
  }

  private find(id: number): RefOrder | undefined {
    return this.bids.find((o) => o.id === id) ?? this.asks.find((o) => o.id === id);
  }

  private removeId(id: number): void {
    this.bids = this.bids.filter((o) => o.id !== id);
    this.asks = this.asks.filter((o) => o.id !== id);
  }

  expire(now: number): void {
    this.now = Math.max(this.now, now);
    const live = (o: RefOrder): boolean => !(o.tif === TimeInForce.GTT && o.expiresAt <= this.now);
    this.bids = this.bids.filter(live);
    this.asks = this.asks.filter(live);
  }

  private result(): RefResult {
    return { accepted: true, reject: null, fills: [], restingQty: 0, cancelledQty: 0 };
  }

  private rejected(code: RejectCode): RefResult {
    return { accepted: false, reject: code, fills: [], restingQty: 0, cancelledQty: 0 };
  }

  private wouldCross(side: Side, price: number): boolean {
    const opp = side === Side.Buy ? this.asks : this.bids;
    if (opp.length === 0) return false;
    return side === Side.Buy ? opp[0].price <= price : opp[0].price >= price;
  }

  submit(o: RefOrderInput): RefResult {
    const market = o.tif === null;
    const stp = o.stp ?? StpMode.None;
    if (o.side !== Side.Buy && o.side !== Side.Sell) return this.rejected(RejectCode.InvalidSide);
    if (!okInt(o.id, Number.MAX_SAFE_INTEGER)) return this.rejected(RejectCode.InvalidOrderId);
    if (!okInt(o.qty, MAX_QTY)) return this.rejected(RejectCode.InvalidQuantity);
    if (!market) {
      if (!okInt(o.price, MAX_PRICE)) return this.rejected(RejectCode.InvalidPrice);
      if (o.postOnly && (o.tif === TimeInForce.IOC || o.tif === TimeInForce.FOK))
        return this.rejected(RejectCode.InvalidTimeInForce);
    }
    if (this.find(o.id)) return this.rejected(RejectCode.DuplicateOrderId);
    if (!market) {
      if (o.tif === TimeInForce.GTT && (o.expiresAt ?? 0) <= this.now) return this.rejected(RejectCode.AlreadyExpired);
      if (o.postOnly && this.wouldCross(o.side, o.price)) return this.rejected(RejectCode.PostOnlyWouldTake);
      if (o.tif === TimeInForce.FOK) {
        // simulate on a throw-away copy and see whether it fills completely
        const copy = new ReferenceBook();
        copy.bids = this.bids.map((x) => ({ ...x }));
        copy.asks = this.asks.map((x) => ({ ...x }));
        const sim = copy.match({ ...o, stp }, o.qty);
        if (sim.filled !== o.qty) return this.rejected(RejectCode.FokNotFillable);
      }
    }
    const res = this.result();
    const m = this.match({ ...o, stp }, o.qty);
    res.fills = m.fills;
    res.cancelledQty = m.decremented;
    const left = o.qty - m.filled - m.decremented;
    if (left === 0) return res;
    if (m.stopped || market || o.tif === TimeInForce.IOC || o.tif === TimeInForce.FOK) {
      res.cancelledQty += left;
      return res;
    }
    this.rest({ ...o, tif: o.tif as TimeInForce, qty: left, stp });
    res.restingQty = left;
    return res;
  }

  private rest(o: RefOrderInput & { tif: TimeInForce; stp: StpMode }): void {
    const order: RefOrder = {
      id: o.id,
      account: o.account,
      side: o.side,
      price: o.price,
      qty: o.qty,
      tif: o.tif,
      expiresAt: o.tif === TimeInForce.GTT ? (o.expiresAt ?? 0) : 0,
      postOnly: o.postOnly === true,
      stp: o.stp,
      arrival: ++this.arrivals,
    };
    (o.side === Side.Buy ? this.bids : this.asks).push(order);
    this.sortSides();
  }

  /** Walks the opposite side from the front; returns what happened. */
  private match(
    o: RefOrderInput & { stp: StpMode },
    qty: number,
  ): { fills: Array<[number, number, number]>; filled: number; decremented: number; stopped: boolean } {
    const fills: Array<[number, number, number]> = [];
    let filled = 0;
    let decremented = 0;
    let stopped = false;
    const market = o.tif === null;
    const oppKey = o.side === Side.Buy ? "asks" : "bids";
    let i = 0;
    while (qty > 0 && i < this[oppKey].length) {
      const m = this[oppKey][i];
      if (!market && (o.side === Side.Buy ? m.price > o.price : m.price < o.price)) break;
      if (o.stp !== StpMode.None && m.account === o.account) {
        if (o.stp === StpMode.CancelNewest) {
          stopped = true;
          break;
        }
        if (o.stp === StpMode.CancelOldest) {
          this[oppKey].splice(i, 1);
          continue;
        }
        const d = Math.min(m.qty, qty);
        m.qty -= d;
        qty -= d;
        decremented += d;
        if (m.qty === 0) this[oppKey].splice(i, 1);
        else i++;
        continue;
      }
      const q = Math.min(m.qty, qty);
      fills.push([m.id, m.price, q]);
      m.qty -= q;
      qty -= q;
      filled += q;
      if (m.qty === 0) this[oppKey].splice(i, 1);
      else i++;
    }
    return { fills, filled, decremented, stopped };
  }

  cancel(id: number, account: string): RefResult {
    const o = this.find(id);
    if (!o) return this.rejected(RejectCode.UnknownOrder);
    if (o.account !== account) return this.rejected(RejectCode.NotOrderOwner);
    this.removeId(id);
    const r = this.result();
    r.cancelledQty = o.qty;
    return r;
  }

  modify(id: number, account: string, price?: number, qty?: number): RefResult {
    const o = this.find(id);
    if (!o) return this.rejected(RejectCode.UnknownOrder);
    if (o.account !== account) return this.rejected(RejectCode.NotOrderOwner);
    const np = price ?? o.price;
    const nq = qty ?? o.qty;
    if (!okInt(nq, MAX_QTY)) return this.rejected(RejectCode.InvalidQuantity);
    if (!okInt(np, MAX_PRICE)) return this.rejected(RejectCode.InvalidPrice);
    if (np === o.price && nq === o.qty) return this.rejected(RejectCode.ModifyNoChange);
    if (np === o.price && nq < o.qty) {
      o.qty = nq;
      const r = this.result();
      r.restingQty = nq;
      return r;
    }
    if (o.postOnly && this.wouldCross(o.side, np)) return this.rejected(RejectCode.PostOnlyWouldTake);
    this.removeId(id);
    return this.submit({ ...o, price: np, qty: nq });
  }

  depth(side: Side): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (const o of side === Side.Buy ? this.bids : this.asks) {
      const last = out[out.length - 1];
      if (last && last[0] === o.price) {
        last[1] += o.qty;
        last[2] += 1;
      } else out.push([o.price, o.qty, 1]);
    }
    return out;
  }

  /** Ids and open quantities in priority order (the whole queue, not just the levels). */
  queue(side: Side): Array<[number, number]> {
    return (side === Side.Buy ? this.bids : this.asks).map((o) => [o.id, o.qty]);
  }

  has(id: number): boolean {
    return this.find(id) !== undefined;
  }

  liveIds(): number[] {
    return [...this.bids, ...this.asks].map((o) => o.id);
  }
}

export { CancelReason };
