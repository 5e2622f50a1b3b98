import type { BookObserver } from "./events";
import {
  type AccountId,
  CancelReason,
  MAX_OPEN_ORDERS,
  MAX_PRICE_TICKS,
  MAX_QTY_LOTS,
  RejectCode,
  Side,
  StpMode,
  TimeInForce,
} from "./types";

/**
 * The matching engine for one instrument: price-time priority over integer ticks and lots.
 *
 * Data structures (chosen for speed, see docs/orderbook.md):
 * - each order is a pooled node of an intrusive doubly linked list per price level (FIFO = time priority), so
 *   cancel by id is a Map lookup plus an unlink: O(1);
 * - each side keeps its levels in an array sorted so that the best level is the LAST element: the touch is O(1),
 *   a level is found by binary search (O(log n)), and adding/removing a level shifts only the levels better than
 *   it (near the touch, where almost all activity is, that is a handful);
 * - order and level nodes are recycled through free lists, fills are written into a reused report: the hot path
 *   allocates nothing once the pools are warm.
 */

/** A resting order: a node of its level's FIFO list. Recycled; never keep a reference after it leaves the book. */
export class RestingOrder {
  id = 0;
  account: AccountId = "";
  side: Side = Side.Buy;
  price = 0;
  /** Open (unfilled) quantity. */
  qty = 0;
  /** Quantity filled so far (across modifies). */
  filled = 0;
  tif: TimeInForce = TimeInForce.GTC;
  expiresAt = 0;
  postOnly = false;
  stp: StpMode = StpMode.None;
  /** The other accounts of its linked-account group when placed (see LimitOrderCommand.linked): a modify re-matches
   *  with them. */
  linked: readonly AccountId[] = NONE;
  prev: RestingOrder | null = null;
  next: RestingOrder | null = null;
  level: PriceLevel | null = null;
}

export class PriceLevel {
  price = 0;
  qty = 0;
  count = 0;
  head: RestingOrder | null = null;
  tail: RestingOrder | null = null;
}

/** One side of the book. `levels` is sorted so that the best price is last (bids ascending, asks descending). */
export class BookSide {
  readonly levels: PriceLevel[] = [];
  qty = 0;
  constructor(readonly side: Side) {}

  best(): PriceLevel | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** True when `a` is a better price than `b` for this side. */
  better(a: number, b: number): boolean {
    return this.side === Side.Buy ? a > b : a < b;
  }

  /** Index of the level at `price`, or −(insertion point) − 1. */
  find(price: number): number {
    const levels = this.levels;
    let lo = 0;
    let hi = levels.length - 1;
    const bid = this.side === Side.Buy;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = levels[mid].price;
      if (p === price) return mid;
      // ascending for bids, descending for asks
      if (bid ? p < price : p > price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }
}

/** Result of one command, written into a reused object: copy what you keep. Fills are in match order. */
export class ExecutionReport {
  accepted = false;
  reject: RejectCode | null = null;
  orderId = 0;
  /** Lots filled by this command (as taker). */
  filledQty = 0;
  /** Lots left resting in the book after the command. */
  restingQty = 0;
  /** Lots of the incoming order that were cancelled (IOC/market remainder, self-trade prevention). */
  cancelledQty = 0;
  cancelReason: CancelReason | null = null;
  fillCount = 0;
  readonly fillMakerIds: number[] = [];
  readonly fillPrices: number[] = [];
  readonly fillQtys: number[] = [];

  reset(orderId: number): void {
    this.accepted = false;
    this.reject = null;
    this.orderId = orderId;
    this.filledQty = 0;
    this.restingQty = 0;
    this.cancelledQty = 0;
    this.cancelReason = null;
    this.fillCount = 0;
  }

  addFill(makerId: number, price: number, qty: number): void {
    const i = this.fillCount++;
    this.fillMakerIds[i] = makerId;
    this.fillPrices[i] = price;
    this.fillQtys[i] = qty;
    this.filledQty += qty;
  }
}

/** The parameters of an incoming order once decoded (also used for triggered protective orders). */
export interface IncomingOrder {
  id: number;
  account: AccountId;
  side: Side;
  /** Limit price in ticks; ignored for market orders. */
  price: number;
  qty: number;
  /** null for market orders. */
  tif: TimeInForce | null;
  expiresAt: number;
  postOnly: boolean;
  stp: StpMode;
  /** Other accounts it may not trade with (LimitOrderCommand.linked); empty when none. */
  linked: readonly AccountId[];
}

/** The shared empty `linked` list (most orders). */
export const NONE: readonly AccountId[] = [];

/**
 * Whether the incoming order `o` may not trade with the resting `m`, and how it is prevented: the account's own
 * order under its stp mode (none: it trades), another member of its group under its stp mode (none: cancel newest).
 */
function selfTradeMode(o: IncomingOrder, m: RestingOrder): StpMode {
  if (m.account === o.account) return o.stp;
  if (o.linked.length === 0 || !o.linked.includes(m.account)) return StpMode.None;
  return o.stp === StpMode.None ? StpMode.CancelNewest : o.stp;
}

function isPositiveInt(x: unknown, max: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= max;
}

export class OrderBook {
  readonly bids = new BookSide(Side.Buy);
  readonly asks = new BookSide(Side.Sell);
  readonly report = new ExecutionReport();
  /** Live resting orders by id. */
  private readonly orders = new Map<number, RestingOrder>();
  private readonly freeOrders: RestingOrder[] = [];
  private readonly freeLevels: PriceLevel[] = [];
  /** Good-till-time expiries: a binary min-heap of (expiresAt, id) with lazy deletion. */
  private readonly expTimes: number[] = [];
  private readonly expIds: number[] = [];
  /** Scratch for the re-submitted half of a modify that loses priority. */
  private readonly replacement: IncomingOrder = {
    id: 0,
    account: "",
    side: Side.Buy,
    price: 0,
    qty: 0,
    tif: TimeInForce.GTC,
    expiresAt: 0,
    postOnly: false,
    stp: StpMode.None,
    linked: NONE,
  };
  /** The time of the command being applied (ms); GTT orders expire against it. */
  now = 0;
  observer: BookObserver | null = null;

  constructor(private readonly maxOpenOrders = MAX_OPEN_ORDERS) {}

  get openOrders(): number {
    return this.orders.size;
  }

  has(id: number): boolean {
    return this.orders.has(id);
  }

  get(id: number): Readonly<RestingOrder> | undefined {
    return this.orders.get(id);
  }

  bestBid(): number {
    const l = this.bids.best();
    return l === undefined ? 0 : l.price;
  }

  bestAsk(): number {
    const l = this.asks.best();
    return l === undefined ? 0 : l.price;
  }

  // ---------------------------------------------------------------- commands

  /** Submits a limit order (GTC, GTT, IOC, FOK; optionally post-only). */
  limit(o: IncomingOrder): ExecutionReport {
    const r = this.report;
    r.reset(o.id);
    const code = this.validate(o, false);
    if (code !== null) return this.reject(o, code);
    return this.execute(o);
  }

  /** Submits a market order: takes what the book offers, the rest is cancelled. */
  market(o: IncomingOrder): ExecutionReport {
    const r = this.report;
    r.reset(o.id);
    const code = this.validate(o, true);
    if (code !== null) return this.reject(o, code);
    return this.execute(o);
  }

  cancel(id: number, account: AccountId): ExecutionReport {
    const r = this.report;
    r.reset(id);
    const o = this.orders.get(id);
    if (o === undefined) return this.rejectId(id, account, RejectCode.UnknownOrder);
    if (o.account !== account) return this.rejectId(id, account, RejectCode.NotOrderOwner);
    r.accepted = true;
    r.cancelledQty = o.qty;
    r.cancelReason = CancelReason.User;
    this.removeResting(o, CancelReason.User);
    return r;
  }

  /**
   * Changes price and/or open quantity. A pure size decrease keeps time priority; a price change or a size
   * increase re-queues the order at the back (and it may trade if the new price crosses). The order keeps its
   * account, self-trade mode, time in force and post-only flag; a post-only order whose new price would take is
   * refused and left as it was.
   */
  modify(id: number, account: AccountId, price: number | undefined, qty: number | undefined): ExecutionReport {
    const r = this.report;
    r.reset(id);
    const o = this.orders.get(id);
    if (o === undefined) return this.rejectId(id, account, RejectCode.UnknownOrder);
    if (o.account !== account) return this.rejectId(id, account, RejectCode.NotOrderOwner);
    const newPrice = price ?? o.price;
    const newQty = qty ?? o.qty;
    if (!isPositiveInt(newQty, MAX_QTY_LOTS)) return this.rejectId(id, account, RejectCode.InvalidQuantity);
    if (!isPositiveInt(newPrice, MAX_PRICE_TICKS)) return this.rejectId(id, account, RejectCode.InvalidPrice);
    if (newPrice === o.price && newQty === o.qty) return this.rejectId(id, account, RejectCode.ModifyNoChange);
    if (newPrice === o.price && newQty < o.qty) {
      r.accepted = true;
      this.reduceResting(o, o.qty - newQty);
      r.restingQty = newQty;
      return r;
    }
    const side = o.side;
    if (o.postOnly && this.crosses(side, newPrice)) return this.rejectId(id, account, RejectCode.PostOnlyWouldTake);
    const incoming = this.replacement;
    incoming.id = id;
    incoming.account = account;
    incoming.side = side;
    incoming.price = newPrice;
    incoming.qty = newQty;
    incoming.tif = o.tif;
    incoming.expiresAt = o.expiresAt;
    incoming.postOnly = o.postOnly;
    incoming.stp = o.stp;
    incoming.linked = o.linked;
    const filledBefore = o.filled;
    this.removeResting(o, CancelReason.Replaced);
    return this.execute(incoming, filledBefore);
  }

  /** Removes every good-till-time order whose expiry is ≤ `now`. */
  expire(now: number): void {
    this.now = now;
    const times = this.expTimes;
    while (times.length > 0 && times[0] <= now) {
      const t = times[0];
      const id = this.expIds[0];
      this.heapPop();
      const o = this.orders.get(id);
      if (o !== undefined && o.tif === TimeInForce.GTT && o.expiresAt === t)
        this.removeResting(o, CancelReason.Expired);
    }
  }

  // ---------------------------------------------------------------- matching

  private validate(o: IncomingOrder, market: boolean): RejectCode | null {
    if (o.side !== Side.Buy && o.side !== Side.Sell) return RejectCode.InvalidSide;
    if (!isPositiveInt(o.id, Number.MAX_SAFE_INTEGER)) return RejectCode.InvalidOrderId;
    if (!isPositiveInt(o.qty, MAX_QTY_LOTS)) return RejectCode.InvalidQuantity;
    if (!market) {
      if (!isPositiveInt(o.price, MAX_PRICE_TICKS)) return RejectCode.InvalidPrice;
      const tif = o.tif;
      if (tif !== TimeInForce.GTC && tif !== TimeInForce.GTT && tif !== TimeInForce.IOC && tif !== TimeInForce.FOK)
        return RejectCode.InvalidTimeInForce;
      if (o.postOnly && (tif === TimeInForce.IOC || tif === TimeInForce.FOK)) return RejectCode.InvalidTimeInForce;
    }
    const stp = o.stp;
    if (
      stp !== StpMode.None &&
      stp !== StpMode.CancelNewest &&
      stp !== StpMode.CancelOldest &&
      stp !== StpMode.DecrementBoth
    )
      return RejectCode.InvalidStpMode;
    if (this.orders.has(o.id)) return RejectCode.DuplicateOrderId;
    if (market) return null;
    if (o.tif === TimeInForce.GTT) {
      if (!Number.isSafeInteger(o.expiresAt)) return RejectCode.InvalidTimeInForce;
      if (o.expiresAt <= this.now) return RejectCode.AlreadyExpired;
    }
    if (o.postOnly && this.crosses(o.side, o.price)) return RejectCode.PostOnlyWouldTake;
    if (o.tif === TimeInForce.FOK && !this.fillable(o)) return RejectCode.FokNotFillable;
    if ((o.tif === TimeInForce.GTC || o.tif === TimeInForce.GTT) && this.orders.size >= this.maxOpenOrders)
      return RejectCode.BookFull;
    return null;
  }

  /** True when an order at `price` on `side` would meet the best opposite level. */
  private crosses(side: Side, price: number): boolean {
    if (side === Side.Buy) {
      const a = this.asks.best();
      return a !== undefined && a.price <= price;
    }
    const b = this.bids.best();
    return b !== undefined && b.price >= price;
  }

  /** FOK pre-check: would the order fill completely, given its self-trade mode? Never touches the book. */
  private fillable(o: IncomingOrder): boolean {
    const opp = o.side === Side.Buy ? this.asks : this.bids;
    const levels = opp.levels;
    let need = o.qty;
    for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i];
      if (o.side === Side.Buy ? level.price > o.price : level.price < o.price) return false;
      if (o.stp === StpMode.None && o.linked.length === 0) {
        if (level.qty >= need) return true;
        need -= level.qty;
        continue;
      }
      for (let m = level.head; m !== null; m = m.next) {
        const mode = selfTradeMode(o, m);
        if (mode !== StpMode.None) {
          // cancel-oldest removes the resting order and goes on; the other modes end the fill short
          if (mode === StpMode.CancelOldest) continue;
          return false;
        }
        if (m.qty >= need) return true;
        need -= m.qty;
      }
    }
    return false;
  }

  /** Matches an accepted incoming order, then rests, cancels or finishes it according to its type. */
  private execute(o: IncomingOrder, filledBefore = 0): ExecutionReport {
    const r = this.report;
    r.accepted = true;
    const obs = this.observer;
    const market = o.tif === null;
    if (obs !== null) obs.onAccepted(o.id, o.account, o.side, market ? 0 : o.price, o.qty);
    const opp = o.side === Side.Buy ? this.asks : this.bids;
    const buy = o.side === Side.Buy;
    let qty = o.qty;
    let decremented = 0;
    let stopReason: CancelReason | null = null;
    outer: while (qty > 0) {
      const level = opp.best();
      if (level === undefined) break;
      if (!market && (buy ? level.price > o.price : level.price < o.price)) break;
      let m = level.head;
      while (m !== null && qty > 0) {
        const next = m.next;
        const mode = o.stp === StpMode.None && o.linked.length === 0 ? StpMode.None : selfTradeMode(o, m);
        if (mode !== StpMode.None) {
          if (mode === StpMode.CancelNewest) {
            stopReason = CancelReason.SelfTradeNewest;
            break outer;
          }
          if (mode === StpMode.CancelOldest) {
            this.removeResting(m, CancelReason.SelfTradeOldest);
          } else {
            const d = m.qty < qty ? m.qty : qty;
            qty -= d;
            decremented += d;
            if (d === m.qty) this.removeResting(m, CancelReason.SelfTradeDecrement);
            else this.reduceResting(m, d);
          }
          m = next;
          continue;
        }
        const q = m.qty < qty ? m.qty : qty;
        qty -= q;
        m.qty -= q;
        m.filled += q;
        level.qty -= q;
        opp.qty -= q;
        r.addFill(m.id, level.price, q);
        if (obs !== null) obs.onTrade(o.id, o.account, m.id, m.account, o.side, level.price, q, m.qty, qty);
        if (m.qty === 0) {
          this.unlink(m, true);
          this.freeOrder(m);
        } else if (obs !== null) {
          obs.onLevel(opp.side, level.price, level.qty, level.count);
        }
        m = next;
      }
    }
    if (decremented > 0) {
      // the incoming order's share of a self-trade decrement is cancelled, never filled
      r.cancelledQty = decremented;
      r.cancelReason = CancelReason.SelfTradeDecrement;
      if (obs !== null)
        obs.onCancelled(o.id, o.account, o.side, market ? 0 : o.price, decremented, CancelReason.SelfTradeDecrement);
    }
    if (qty === 0) return r;
    let reason: CancelReason | null = stopReason;
    if (reason === null) {
      if (market) reason = CancelReason.MarketRemainder;
      else if (o.tif === TimeInForce.IOC || o.tif === TimeInForce.FOK) reason = CancelReason.IocRemainder;
    }
    if (reason !== null) {
      r.cancelledQty += qty;
      r.cancelReason = reason;
      if (obs !== null) obs.onCancelled(o.id, o.account, o.side, market ? 0 : o.price, qty, reason);
      return r;
    }
    this.rest(o, qty, filledBefore + (o.qty - qty - decremented));
    r.restingQty = qty;
    return r;
  }

  private rest(o: IncomingOrder, qty: number, filled: number): void {
    const n = this.freeOrders.pop() ?? new RestingOrder();
    n.id = o.id;
    n.account = o.account;
    n.side = o.side;
    n.price = o.price;
    n.qty = qty;
    n.filled = filled;
    n.tif = o.tif as TimeInForce;
    n.expiresAt = o.tif === TimeInForce.GTT ? o.expiresAt : 0;
    n.postOnly = o.postOnly;
    n.stp = o.stp;
    n.linked = o.linked;
    this.append(n);
    if (n.tif === TimeInForce.GTT) this.heapPush(n.expiresAt, n.id);
    if (this.observer !== null) this.observer.onRested(n.id, n.account, n.side, n.price, qty);
  }

  /** Appends a node at the back of its price level (creating the level if needed) and indexes it. */
  private append(n: RestingOrder): void {
    const side = n.side === Side.Buy ? this.bids : this.asks;
    const levels = side.levels;
    let level: PriceLevel;
    const top = levels[levels.length - 1];
    if (top !== undefined && top.price === n.price) {
      level = top;
    } else {
      const i = side.find(n.price);
      if (i >= 0) {
        level = levels[i];
      } else {
        level = this.freeLevels.pop() ?? new PriceLevel();
        level.price = n.price;
        level.qty = 0;
        level.count = 0;
        level.head = null;
        level.tail = null;
        const at = -i - 1;
        if (at === levels.length) levels.push(level);
        else levels.splice(at, 0, level);
      }
    }
    n.level = level;
    n.next = null;
    n.prev = level.tail;
    if (level.tail === null) level.head = n;
    else level.tail.next = n;
    level.tail = n;
    level.count++;
    level.qty += n.qty;
    side.qty += n.qty;
    this.orders.set(n.id, n);
    if (this.observer !== null) this.observer.onLevel(n.side, level.price, level.qty, level.count);
  }

  /** Unlinks a node from its level (dropping the level when empty) and from the index. Does not free it. */
  private unlink(n: RestingOrder, emitLevel: boolean): void {
    const level = n.level as PriceLevel;
    const side = n.side === Side.Buy ? this.bids : this.asks;
    if (n.prev === null) level.head = n.next;
    else n.prev.next = n.next;
    if (n.next === null) level.tail = n.prev;
    else n.next.prev = n.prev;
    level.count--;
    level.qty -= n.qty;
    side.qty -= n.qty;
    this.orders.delete(n.id);
    if (level.count === 0) {
      const levels = side.levels;
      const last = levels.length - 1;
      if (levels[last] === level) levels.pop();
      else levels.splice(side.find(level.price), 1);
      this.freeLevels.push(level);
      if (this.observer !== null) this.observer.onLevel(n.side, level.price, 0, 0);
    } else if (emitLevel && this.observer !== null) {
      this.observer.onLevel(n.side, level.price, level.qty, level.count);
    }
  }

  private freeOrder(n: RestingOrder): void {
    n.prev = null;
    n.next = null;
    n.level = null;
    n.account = "";
    this.freeOrders.push(n);
  }

  private removeResting(n: RestingOrder, reason: CancelReason): void {
    const obs = this.observer;
    if (obs !== null) obs.onCancelled(n.id, n.account, n.side, n.price, n.qty, reason);
    this.unlink(n, true);
    this.freeOrder(n);
  }

  private reduceResting(n: RestingOrder, by: number): void {
    const level = n.level as PriceLevel;
    n.qty -= by;
    level.qty -= by;
    (n.side === Side.Buy ? this.bids : this.asks).qty -= by;
    const obs = this.observer;
    if (obs !== null) {
      obs.onReduced(n.id, n.account, n.side, n.price, n.qty);
      obs.onLevel(n.side, level.price, level.qty, level.count);
    }
  }

  private reject(o: IncomingOrder, code: RejectCode): ExecutionReport {
    return this.rejectId(o.id, o.account, code);
  }

  private rejectId(id: number, account: AccountId, code: RejectCode): ExecutionReport {
    const r = this.report;
    r.accepted = false;
    r.reject = code;
    if (this.observer !== null) this.observer.onRejected(id, account, code);
    return r;
  }

  // ---------------------------------------------------------------- expiry heap

  private heapPush(t: number, id: number): void {
    const times = this.expTimes;
    const ids = this.expIds;
    let i = times.length;
    times.push(t);
    ids.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (times[p] <= t) break;
      times[i] = times[p];
      ids[i] = ids[p];
      i = p;
    }
    times[i] = t;
    ids[i] = id;
  }

  private heapPop(): void {
    const times = this.expTimes;
    const ids = this.expIds;
    const t = times.pop() as number;
    const id = ids.pop() as number;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && times[c + 1] < times[c]) c++;
      if (times[c] >= t) break;
      times[i] = times[c];
      ids[i] = ids[c];
      i = c;
    }
    times[i] = t;
    ids[i] = id;
  }

  // ---------------------------------------------------------------- state

  /** Every resting order in priority order: bids best first, then asks best first. */
  *restingOrders(side: Side): IterableIterator<Readonly<RestingOrder>> {
    const levels = (side === Side.Buy ? this.bids : this.asks).levels;
    for (let i = levels.length - 1; i >= 0; i--) {
      for (let n = levels[i].head; n !== null; n = n.next) yield n;
    }
  }

  /** Aggregated depth, best first: [price, qty, orders] per level, at most `maxLevels` levels. */
  depth(side: Side, maxLevels = Infinity): Array<[number, number, number]> {
    const levels = (side === Side.Buy ? this.bids : this.asks).levels;
    const out: Array<[number, number, number]> = [];
    for (let i = levels.length - 1; i >= 0 && out.length < maxLevels; i--) {
      out.push([levels[i].price, levels[i].qty, levels[i].count]);
    }
    return out;
  }

  /** Re-inserts a resting order exactly as saved (restore from snapshot); call in priority order. */
  restore(o: {
    id: number;
    account: AccountId;
    side: Side;
    price: number;
    qty: number;
    filled: number;
    tif: TimeInForce;
    expiresAt: number;
    postOnly: boolean;
    stp: StpMode;
    linked?: readonly AccountId[];
  }): void {
    const n = this.freeOrders.pop() ?? new RestingOrder();
    Object.assign(n, o);
    n.linked = o.linked ?? NONE;
    this.append(n);
    if (n.tif === TimeInForce.GTT) this.heapPush(n.expiresAt, n.id);
  }
}
