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
 *               d = trailTicks, or ⌊k × ATR⌋ (k in basis points, ATR from the oracle's own updates)
 * A fired order becomes a market order, or a limit order at `limitPrice` (stop-limit / take-profit-limit).
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

/**
 * Average true range over the oracle's own updates, Wilder's smoothing: the true range of an update is
 * |p_t − p_{t−1}| (the oracle publishes points, not bars); the first `period` ranges are averaged, then
 * ATR_t = ATR_{t−1} + (TR_t − ATR_{t−1}) / period, in micro-ticks, rounded down.
 */
export class AtrTracker {
  private last = 0;
  private samples = 0;
  private atr = 0n;
  constructor(readonly period = 14) {}

  get value(): bigint {
    return this.samples >= 1 ? this.atr : 0n;
  }

  /** True once `period` ranges have been seen. */
  get ready(): boolean {
    return this.samples >= this.period;
  }

  update(price: number): void {
    if (this.last !== 0) {
      const tr = BigInt(Math.abs(price - this.last)) * ATR_SCALE;
      this.samples++;
      const n = BigInt(Math.min(this.samples, this.period));
      this.atr = this.atr + (tr - this.atr) / n;
    }
    this.last = price;
  }

  save(): { last: number; samples: number; atr: string } {
    return { last: this.last, samples: this.samples, atr: this.atr.toString() };
  }

  load(s: { last: number; samples: number; atr: string }): void {
    this.last = s.last;
    this.samples = s.samples;
    this.atr = BigInt(s.atr);
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
  atrMultipleBps: number;
  /** Highest (sell) / lowest (buy) oracle price since placement; trailing orders only. */
  extreme: number;
  /** 0 for a market order on trigger. */
  limitPrice: number;
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

  constructor(atrPeriod = 14) {
    this.atr = new AtrTracker(atrPeriod);
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
      limitPrice: cmd.limitPrice ?? 0,
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
      const atr = cmd.atrMultipleBps !== undefined;
      if (fixed === atr) return RejectCode.InvalidTrigger;
      if (fixed && !positiveInt(cmd.trailTicks, MAX_PRICE_TICKS)) return RejectCode.InvalidTrigger;
      if (atr && !positiveInt(cmd.atrMultipleBps, 1_000_000)) return RejectCode.InvalidTrigger;
      if (atr && !this.atr.ready) return RejectCode.OracleUnavailable;
      o.trailTicks = cmd.trailTicks ?? 0;
      o.atrMultipleBps = cmd.atrMultipleBps ?? 0;
      o.extreme = oracle;
      o.triggerPrice = this.trailingStop(o);
      if (o.triggerPrice < 1 || this.fires(o, oracle)) return RejectCode.InvalidTrigger;
    } else {
      return RejectCode.InvalidTrigger;
    }
    if (cmd.ocoWith !== undefined) {
      const partner = this.orders.get(cmd.ocoWith);
      if (partner === undefined || partner.account !== cmd.account || partner.ocoWith !== 0)
        return RejectCode.OcoPartnerInvalid;
      partner.ocoWith = o.id;
      o.ocoWith = partner.id;
    }
    o.placed = ++this.placed;
    this.orders.set(o.id, o);
    return null;
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
  onOracle(price: number): { fired: FiredOrder[]; dropped: DroppedOrder[] } {
    this.oraclePrice = price;
    this.atr.update(price);
    const fired: FiredOrder[] = [];
    const dropped: DroppedOrder[] = [];
    if (this.orders.size === 0) return { fired, dropped };
    const hits: ProtectiveOrder[] = [];
    for (const o of this.orders.values()) {
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
    const d = o.trailTicks !== 0 ? o.trailTicks : atrStopDistanceDown(this.atr.value, o.atrMultipleBps);
    return trailingStopPrice(o.side, o.extreme, d);
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
    for (const o of s.orders) this.orders.set(o.id, { ...o });
  }
}
