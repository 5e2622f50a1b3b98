import {
  type AccountId,
  CancelReason,
  MAX_PRICE_TICKS,
  MAX_QTY_LOTS,
  type ProtectiveKind,
  type ProtectiveOrderCommand,
  RejectCode,
  Side,
  StpMode,
} from "./types";

/**
 * Protective orders: stop-loss, stop-limit, take-profit, trailing stops (fixed distance or k × ATR) and
 * one-cancels-other pairs. They fire on the ORACLE price, never on the last trade (one trader can print a trade;
 * nobody alone moves the oracle median). The oracle price reaches the book as a journaled command, so a replay
 * fires exactly the same triggers in the same order.
 *
 * Trigger rules (prices in ticks):
 *   stop        sell: oracle ≤ trigger        buy: oracle ≥ trigger
 *   takeProfit  sell: oracle ≥ trigger        buy: oracle ≤ trigger
 *   trailing    sell: oracle ≤ highest − d    buy: oracle ≥ lowest + d
 *               d = trailTicks, ⌊extreme × bps⌋, or ⌊k × ATR⌋ (k in basis points, ATR over time bars below)
 * A fired order becomes a market order, an immediate-or-cancel order at `limitPrice` (`ioc`: a market order bounded
 * by the worst price the client signed), or a limit order resting at `limitPrice` (stop-limit / take-profit-limit).
 * A reduce-only order is cut, when it fires, to the cap its oracle command carries (never flipping a position).
 * Orders fired by one update enter the book in placement order.
 */

/** ATR is kept in micro-ticks (10^-6 tick) so that fractional ATRs (1.2 ticks) stay exact. */
export const ATR_SCALE = 1_000_000n;
const BPS = 10_000n;

/**
 * Distance of an ATR trailing stop in whole ticks, rounded DOWN (the stop sits closer to the market, so it
 * protects earlier rather than later): ⌊k × ATR⌋ with k in basis points and ATR in micro-ticks.
 */
export function atrStopDistanceDown(atrMicroTicks: bigint, kBps: number): number {
  return Number((atrMicroTicks * BigInt(kBps)) / (BPS * ATR_SCALE));
}

/**
 * The stop price of a trailing stop: for a sell (protecting a long) `extreme` is the highest oracle price seen
 * and the stop is below it; for a buy (protecting a short) `extreme` is the lowest and the stop is above it.
 * Example from the source material: highest 50.0, ATR 1.2, k = 3 with a 0.1 tick → 500 − ⌊3 × 12⌋ = 464 (46.4).
 */
export function trailingStopPrice(side: Side, extreme: number, distance: number): number {
  return side === Side.Sell ? extreme - distance : extreme + distance;
}

/** One trading day: the default bar. */
export const DAY_MS = 86_400_000;

/** How the ATR's bars are cut: `barMs` long, starting at `barOffsetMs` past the UTC epoch, `period` bars averaged. */
export interface AtrOptions {
  period?: number;
  barMs?: number;
  barOffsetMs?: number;
}

/** An open, high, low, close bar (ticks) and the index of its time window. */
export interface Bar {
  index: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

/**
 * Average true range over time bars built from the oracle's rounds (the journaled `oracle` commands and their
 * stamped time). A bar is the window [offset + i·barMs, offset + (i+1)·barMs); its open, high, low and close are the
 * first, highest, lowest and last oracle price inside it. Sessions: the OracleRouter's trading calendar marks a price
 * Closed outside its asset's session and the gateway passes only Safe prices to the books, so no round outside a
 * session reaches a bar, and a window without a round (overnight, a weekend, a holiday) makes no bar at all. The
 * offset puts the day boundary where the market's is (a UTC+8 market: −8 h); 24/7 markets get UTC days.
 *
 * True range of a bar: max(high − low, |high − previous close|, |low − previous close|) (the first: high − low).
 * ATR: the simple mean of the first `period` true ranges, then Wilder's smoothing ATR = (ATR·(period − 1) + TR) /
 * period; micro-ticks, rounded down. Only completed bars count: a bar completes when a round of a later window
 * arrives.
 */
export class AtrTracker {
  private bar: Bar | null = null;
  private prevClose = 0;
  private bars = 0;
  private sum = 0n;
  private atr = 0n;
  readonly period: number;
  readonly barMs: number;
  readonly barOffsetMs: number;

  constructor(opts: AtrOptions = {}) {
    this.period = opts.period ?? 14;
    this.barMs = opts.barMs ?? DAY_MS;
    this.barOffsetMs = opts.barOffsetMs ?? 0;
  }

  /** The ATR in micro-ticks over the completed bars (0 before the first). */
  get value(): bigint {
    return this.atr;
  }

  /** True once `period` bars have completed. */
  get ready(): boolean {
    return this.bars >= this.period;
  }

  /** Completed bars so far. */
  get completed(): number {
    return this.bars;
  }

  /** The bar being built (undefined before the first round). */
  get current(): Readonly<Bar> | undefined {
    return this.bar ?? undefined;
  }

  /** An oracle round at `price` (ticks), stamped `ts` (ms; never earlier than the previous round's). */
  update(price: number, ts: number): void {
    const index = Math.floor((ts - this.barOffsetMs) / this.barMs);
    const b = this.bar;
    if (b !== null && index <= b.index) {
      if (price > b.high) b.high = price;
      if (price < b.low) b.low = price;
      b.close = price;
      return;
    }
    if (b !== null) this.complete(b);
    this.bar = { index, open: price, high: price, low: price, close: price };
  }

  private complete(b: Bar): void {
    let tr = b.high - b.low;
    if (this.bars > 0) tr = Math.max(tr, Math.abs(b.high - this.prevClose), Math.abs(b.low - this.prevClose));
    const range = BigInt(tr) * ATR_SCALE;
    this.bars++;
    const n = BigInt(this.period);
    if (this.bars <= this.period) {
      this.sum += range;
      this.atr = this.sum / BigInt(this.bars);
    } else {
      this.atr = (this.atr * (n - 1n) + range) / n;
    }
    this.prevClose = b.close;
  }

  save(): { bar: Bar | null; prevClose: number; bars: number; sum: string; atr: string } {
    return {
      bar: this.bar === null ? null : { ...this.bar },
      prevClose: this.prevClose,
      bars: this.bars,
      sum: this.sum.toString(),
      atr: this.atr.toString(),
    };
  }

  /** Loads a saved state; one saved before ATR had bars (over single rounds) starts the bars afresh. */
  load(s: Partial<ReturnType<AtrTracker["save"]>>): void {
    const bars = typeof s.bars === "number" && s.sum !== undefined && s.atr !== undefined;
    this.bar = bars && s.bar ? { ...s.bar } : null;
    this.prevClose = bars ? (s.prevClose ?? 0) : 0;
    this.bars = bars ? (s.bars as number) : 0;
    this.sum = bars ? BigInt(s.sum as string) : 0n;
    this.atr = bars ? BigInt(s.atr as string) : 0n;
  }
}

export interface ProtectiveOrder {
  id: number;
  account: AccountId;
  side: Side;
  qty: number;
  trigger: ProtectiveKind;
  /** Fixed trigger price, or the current stop of a trailing order. */
  triggerPrice: number;
  trailTicks: number;
  /** Percentage trailing distance, basis points of the extreme. */
  trailBps: number;
  atrMultipleBps: number;
  /** Highest (sell) / lowest (buy) oracle price since placement; trailing orders only. */
  extreme: number;
  /** 0 for a market order on trigger. */
  limitPrice: number;
  /** Fires as immediate-or-cancel at limitPrice (a market order bounded by the signed worst price). */
  ioc: boolean;
  /** A fired limit rests until then (ms); 0: good till cancelled. */
  expiresAt: number;
  /** Cut at fire time to the cap its oracle command carries (see OracleCommand.caps). */
  reduceOnly: boolean;
  ocoWith: number;
  stp: StpMode;
  /** Placement order: fired orders enter the book in this order. */
  placed: number;
}

/** A fired protective order, ready to enter the book. */
export interface FiredOrder {
  order: ProtectiveOrder;
  oraclePrice: number;
}

/** A protective order removed without firing (its OCO partner fired or was cancelled). */
export interface DroppedOrder {
  order: ProtectiveOrder;
  reason: CancelReason;
}

function positiveInt(x: unknown, max: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= max;
}

/** Fires on a fall: sell stops, buy take-profits. */
function firesOnFall(o: ProtectiveOrder): boolean {
  return (o.trigger === "stop" || o.trigger === "trailing") === (o.side === Side.Sell);
}

export class ProtectiveBook {
  private readonly orders = new Map<number, ProtectiveOrder>();
  private placed = 0;
  readonly atr: AtrTracker;
  oraclePrice = 0;

  constructor(atr: AtrOptions = {}) {
    this.atr = new AtrTracker(atr);
  }

  get size(): number {
    return this.orders.size;
  }

  has(id: number): boolean {
    return this.orders.has(id);
  }

  get(id: number): Readonly<ProtectiveOrder> | undefined {
    return this.orders.get(id);
  }

  /** Validates and stores a protective order. Returns a reject code, or null when it was accepted. */
  add(cmd: ProtectiveOrderCommand): RejectCode | null {
    const o = this.build(cmd);
    if (typeof o === "string") return o;
    if (cmd.ocoWith !== undefined) {
      const partner = this.orders.get(cmd.ocoWith) as ProtectiveOrder;
      partner.ocoWith = o.id;
      o.ocoWith = partner.id;
    }
    o.placed = ++this.placed;
    this.orders.set(o.id, o);
    return null;
  }

  /** What `add` would answer now, without storing anything (the gateway asks before it stores the signed order). */
  check(cmd: ProtectiveOrderCommand): RejectCode | null {
    const o = this.build(cmd);
    return typeof o === "string" ? o : null;
  }

  /** The order `cmd` describes at the current oracle price, or why it is refused. */
  private build(cmd: ProtectiveOrderCommand): ProtectiveOrder | RejectCode {
    if (cmd.side !== Side.Buy && cmd.side !== Side.Sell) return RejectCode.InvalidSide;
    if (!positiveInt(cmd.id, Number.MAX_SAFE_INTEGER)) return RejectCode.InvalidOrderId;
    if (!positiveInt(cmd.qty, MAX_QTY_LOTS)) return RejectCode.InvalidQuantity;
    if (cmd.limitPrice !== undefined && !positiveInt(cmd.limitPrice, MAX_PRICE_TICKS)) return RejectCode.InvalidPrice;
    const stp = cmd.stp ?? StpMode.None;
    if (
      stp !== StpMode.None &&
      stp !== StpMode.CancelNewest &&
      stp !== StpMode.CancelOldest &&
      stp !== StpMode.DecrementBoth
    )
      return RejectCode.InvalidStpMode;
    if (this.orders.has(cmd.id)) return RejectCode.DuplicateOrderId;
    const oracle = this.oraclePrice;
    if (oracle === 0) return RejectCode.OracleUnavailable;
    const o: ProtectiveOrder = {
      id: cmd.id,
      account: cmd.account,
      side: cmd.side,
      qty: cmd.qty,
      trigger: cmd.trigger,
      triggerPrice: 0,
      trailTicks: 0,
      atrMultipleBps: 0,
      extreme: 0,
      trailBps: 0,
      limitPrice: cmd.limitPrice ?? 0,
      ioc: cmd.ioc === true,
      expiresAt: cmd.expiresAt ?? 0,
      reduceOnly: cmd.reduceOnly === true,
      ocoWith: 0,
      stp,
      placed: 0,
    };
    if (cmd.trigger === "stop" || cmd.trigger === "takeProfit") {
      if (!positiveInt(cmd.triggerPrice, MAX_PRICE_TICKS)) return RejectCode.InvalidTrigger;
      o.triggerPrice = cmd.triggerPrice;
      // an order that would fire at once is a mistake (or a market order in disguise): refuse it
      if (this.fires(o, oracle)) return RejectCode.InvalidTrigger;
    } else if (cmd.trigger === "trailing") {
      const fixed = cmd.trailTicks !== undefined;
      const pct = cmd.trailBps !== undefined;
      const atr = cmd.atrMultipleBps !== undefined;
      if (Number(fixed) + Number(pct) + Number(atr) !== 1) return RejectCode.InvalidTrigger;
      if (fixed && !positiveInt(cmd.trailTicks, MAX_PRICE_TICKS)) return RejectCode.InvalidTrigger;
      if (pct && !positiveInt(cmd.trailBps, 9_999)) return RejectCode.InvalidTrigger;
      if (atr && !positiveInt(cmd.atrMultipleBps, 1_000_000)) return RejectCode.InvalidTrigger;
      if (atr && !this.atr.ready) return RejectCode.OracleUnavailable;
      o.trailTicks = cmd.trailTicks ?? 0;
      o.trailBps = cmd.trailBps ?? 0;
      o.atrMultipleBps = cmd.atrMultipleBps ?? 0;
      o.extreme = oracle;
      o.triggerPrice = this.trailingStop(o);
      if (o.triggerPrice < 1 || this.fires(o, oracle)) return RejectCode.InvalidTrigger;
    } else {
      return RejectCode.InvalidTrigger;
    }
    if (cmd.ioc === true && o.limitPrice === 0) return RejectCode.InvalidPrice;
    if (cmd.expiresAt !== undefined && !positiveInt(cmd.expiresAt, Number.MAX_SAFE_INTEGER))
      return RejectCode.InvalidTimeInForce;
    if (cmd.ocoWith !== undefined) {
      const partner = this.orders.get(cmd.ocoWith);
      if (partner === undefined || partner.account !== cmd.account || partner.ocoWith !== 0)
        return RejectCode.OcoPartnerInvalid;
    }
    return o;
  }

  /** The orders a new oracle price would fire, in placement order (the gateway caps reduce-only ones first). */
  wouldFire(price: number): ProtectiveOrder[] {
    return this.list().filter((o) => this.fires(o, price));
  }

  /** Cancels a protective order (and its OCO partner). Returns the removed orders, or a reject code. */
  cancel(id: number, account: AccountId): RejectCode | DroppedOrder[] {
    const o = this.orders.get(id);
    if (o === undefined) return RejectCode.UnknownOrder;
    if (o.account !== account) return RejectCode.NotOrderOwner;
    this.orders.delete(id);
    const out: DroppedOrder[] = [{ order: o, reason: CancelReason.User }];
    const partner = o.ocoWith !== 0 ? this.orders.get(o.ocoWith) : undefined;
    if (partner !== undefined) {
      this.orders.delete(partner.id);
      out.push({ order: partner, reason: CancelReason.OcoPartnerCancelled });
    }
    return out;
  }

  /**
   * A new oracle price: updates the ATR, moves trailing stops (they only ever tighten), and removes and returns
   * every order that fires, in placement order, plus the OCO partners this cancels.
   */
  onOracle(price: number, ts: number): { fired: FiredOrder[]; dropped: DroppedOrder[] } {
    this.oraclePrice = price;
    this.atr.update(price, ts);
    const fired: FiredOrder[] = [];
    const dropped: DroppedOrder[] = [];
    if (this.orders.size === 0) return { fired, dropped };
    const hits: ProtectiveOrder[] = [];
    for (const o of this.orders.values()) {
      // its signed child has expired: the hub would refuse the fill, so it is dropped, never fired
      if (o.expiresAt !== 0 && o.expiresAt <= ts) {
        this.orders.delete(o.id);
        dropped.push({ order: o, reason: CancelReason.Expired });
        const partner = o.ocoWith !== 0 ? this.orders.get(o.ocoWith) : undefined;
        if (partner !== undefined) partner.ocoWith = 0;
        continue;
      }
      if (o.trigger === "trailing") {
        // the stop is judged against the extreme BEFORE this price: a new high cannot fire a sell stop
        if (!this.fires(o, price)) {
          if (o.side === Side.Sell ? price > o.extreme : price < o.extreme) o.extreme = price;
          const next = this.trailingStop(o);
          // ATR may widen the distance; a stop never loosens once set
          if (o.side === Side.Sell ? next > o.triggerPrice : next < o.triggerPrice) o.triggerPrice = next;
          continue;
        }
      } else if (!this.fires(o, price)) {
        continue;
      }
      hits.push(o);
    }
    hits.sort((a, b) => a.placed - b.placed);
    for (const o of hits) {
      if (!this.orders.has(o.id)) continue; // its OCO partner fired first
      this.orders.delete(o.id);
      fired.push({ order: o, oraclePrice: price });
      const partner = o.ocoWith !== 0 ? this.orders.get(o.ocoWith) : undefined;
      if (partner !== undefined) {
        this.orders.delete(partner.id);
        dropped.push({ order: partner, reason: CancelReason.OcoPartnerTriggered });
      }
    }
    return { fired, dropped };
  }

  private fires(o: ProtectiveOrder, price: number): boolean {
    return firesOnFall(o) ? price <= o.triggerPrice : price >= o.triggerPrice;
  }

  private trailingStop(o: ProtectiveOrder): number {
    return trailingStopPrice(o.side, o.extreme, this.distance(o));
  }

  /** A trailing order's distance in ticks: fixed, a share of the extreme, or k × ATR (each rounded down). */
  distance(o: Pick<ProtectiveOrder, "extreme" | "trailTicks" | "trailBps" | "atrMultipleBps">): number {
    if (o.trailTicks !== 0) return o.trailTicks;
    if (o.trailBps !== 0) return Math.floor((o.extreme * o.trailBps) / 10_000);
    return atrStopDistanceDown(this.atr.value, o.atrMultipleBps);
  }

  /** All protective orders in placement order (for snapshots and the hash). */
  list(): ProtectiveOrder[] {
    return [...this.orders.values()].sort((a, b) => a.placed - b.placed);
  }

  save(): { placed: number; oraclePrice: number; atr: ReturnType<AtrTracker["save"]>; orders: ProtectiveOrder[] } {
    return { placed: this.placed, oraclePrice: this.oraclePrice, atr: this.atr.save(), orders: this.list() };
  }

  load(s: ReturnType<ProtectiveBook["save"]>): void {
    this.orders.clear();
    this.placed = s.placed;
    this.oraclePrice = s.oraclePrice;
    this.atr.load(s.atr);
    // orders saved before percentage trails, signed children and reduce-only: market on trigger, uncut
    for (const o of s.orders as Array<Partial<ProtectiveOrder> & ProtectiveOrder>)
      this.orders.set(o.id, {
        ...o,
        trailBps: o.trailBps ?? 0,
        ioc: o.ioc ?? false,
        expiresAt: o.expiresAt ?? 0,
        reduceOnly: o.reduceOnly ?? false,
      });
  }
}
