import type { BookObserver } from "./events";
import { type AccountId, type CancelReason, type RejectCode, Side } from "./types";

/**
 * Market data: depth snapshots and incremental depth updates, public trades, and each account's own order events.
 * The API puts these messages on WebSocket unchanged (they are plain JSON; prices in ticks, quantities in lots).
 *
 * Consistency contract for a client: take a `depthSnapshot` (its `seq` is the last command it includes), then
 * apply every `depthUpdate` with a larger `seq` in order; a level with qty 0 is removed. Messages are released only
 * once their command is durable in the journal, so nothing a client sees can be lost by a crash.
 */
export type Level = [price: number, qty: number, orders: number];

export interface DepthSnapshot {
  type: "depthSnapshot";
  instrument: string;
  seq: number;
  bids: Level[];
  asks: Level[];
}

export interface DepthUpdate {
  type: "depthUpdate";
  instrument: string;
  seq: number;
  bids: Level[];
  asks: Level[];
}

export interface TradeMessage {
  type: "trade";
  instrument: string;
  seq: number;
  /** `<seq>-<n>`: unique, and the same after a replay. */
  tradeId: string;
  price: number;
  qty: number;
  takerSide: "buy" | "sell";
  ts: number;
}

export type OrderEventKind = "accepted" | "rejected" | "fill" | "rested" | "reduced" | "cancelled" | "triggered";

/** One of an account's own order events (only ever sent to that account). */
export interface OrderEvent {
  type: "order";
  instrument: string;
  seq: number;
  account: AccountId;
  orderId: number;
  event: OrderEventKind;
  side?: "buy" | "sell";
  price?: number;
  qty?: number;
  /** Open quantity left after the event (fills). */
  remaining?: number;
  role?: "maker" | "taker";
  tradeId?: string;
  reason?: RejectCode | CancelReason;
  ts: number;
}

export type PublicMessage = DepthUpdate | TradeMessage;

/** A command's events, held until the command is durable. */
interface Batch {
  seq: number;
  trades: TradeMessage[];
  orders: OrderEvent[];
}

const sideName = (s: Side): "buy" | "sell" => (s === Side.Buy ? "buy" : "sell");

export class MarketDataFeed implements BookObserver {
  private seq = 0;
  private ts = 0;
  private tradeNo = 0;
  private trades: TradeMessage[] = [];
  private orders: OrderEvent[] = [];
  private readonly pending: Batch[] = [];
  private pendingHead = 0;
  /** Every level change not yet applied to the mirror, flat: seq, side, price, qty, count (no per-change object). */
  private readonly levelLog: number[] = [];
  private levelHead = 0;
  /** Depth as of the last released command: what snapshots are cut from. */
  private readonly bids = new Map<number, Level>();
  private readonly asks = new Map<number, Level>();
  private releasedSeq = 0;
  private readonly publicSubs = new Set<(m: PublicMessage) => void>();
  private readonly accountSubs = new Map<AccountId, Set<(m: OrderEvent) => void>>();

  /**
   * @param gated when true, batches wait for `release(seq)` (called once the journal made them durable);
   *              when false they are published at the end of each command.
   */
  constructor(
    readonly instrument: string,
    private readonly gated = true,
  ) {}

  // ---------------------------------------------------------------- subscriptions

  subscribePublic(fn: (m: PublicMessage) => void): () => void {
    this.publicSubs.add(fn);
    return () => this.publicSubs.delete(fn);
  }

  subscribeAccount(account: AccountId, fn: (m: OrderEvent) => void): () => void {
    let set = this.accountSubs.get(account);
    if (set === undefined) {
      set = new Set();
      this.accountSubs.set(account, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Depth as of the last released command, best first, at most `maxLevels` per side. */
  snapshot(maxLevels = 50): DepthSnapshot {
    const sorted = (m: Map<number, Level>, desc: boolean): Level[] =>
      [...m.values()]
        .sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]))
        .slice(0, maxLevels)
        .map((l) => [l[0], l[1], l[2]]);
    return {
      type: "depthSnapshot",
      instrument: this.instrument,
      seq: this.releasedSeq,
      bids: sorted(this.bids, true),
      asks: sorted(this.asks, false),
    };
  }

  /** Starts the mirror from an engine's depth (after recovery), as of `seq`. */
  seed(seq: number, bids: Level[], asks: Level[]): void {
    this.bids.clear();
    this.asks.clear();
    for (const l of bids) this.bids.set(l[0], [l[0], l[1], l[2]]);
    for (const l of asks) this.asks.set(l[0], [l[0], l[1], l[2]]);
    this.releasedSeq = seq;
    this.seq = seq;
  }

  /**
   * Publishes everything up to `seq` (its commands are durable now), command by command: the depth update built
   * from the level log (so a subscriber that joined while commands were in flight still gets every change after
   * its snapshot), then the command's trades and order events.
   */
  release(seq: number): void {
    const log = this.levelLog;
    const q = this.pending;
    let li = this.levelHead;
    let pi = this.pendingHead;
    const listening = this.publicSubs.size > 0;
    for (;;) {
      const ls = li < log.length ? log[li] : Infinity;
      const ps = pi < q.length ? q[pi].seq : Infinity;
      const s = ls < ps ? ls : ps;
      if (s > seq) break;
      let bids: Map<number, Level> | null = null;
      let asks: Map<number, Level> | null = null;
      while (li < log.length && log[li] === s) {
        const buy = log[li + 1] === Side.Buy;
        const price = log[li + 2];
        const qty = log[li + 3];
        const count = log[li + 4];
        const mirror = buy ? this.bids : this.asks;
        if (qty === 0) mirror.delete(price);
        else {
          const l = mirror.get(price);
          if (l === undefined) mirror.set(price, [price, qty, count]);
          else {
            l[1] = qty;
            l[2] = count;
          }
        }
        if (listening) {
          if (buy) (bids ??= new Map()).set(price, [price, qty, count]);
          else (asks ??= new Map()).set(price, [price, qty, count]);
        }
        li += 5;
      }
      this.releasedSeq = s;
      if (bids !== null || asks !== null) {
        const update: DepthUpdate = {
          type: "depthUpdate",
          instrument: this.instrument,
          seq: s,
          bids: bids === null ? [] : [...bids.values()],
          asks: asks === null ? [] : [...asks.values()],
        };
        for (const fn of this.publicSubs) fn(update);
      }
      if (ps === s) this.publish(q[pi++]);
    }
    if (li === log.length) {
      log.length = 0;
      li = 0;
    }
    if (pi === q.length) {
      q.length = 0;
      pi = 0;
    }
    this.levelHead = li;
    this.pendingHead = pi;
    if (seq > this.releasedSeq) this.releasedSeq = seq;
  }

  private publish(b: Batch): void {
    if (this.publicSubs.size > 0) for (const t of b.trades) for (const fn of this.publicSubs) fn(t);
    if (this.accountSubs.size > 0) {
      for (const e of b.orders) {
        const subs = this.accountSubs.get(e.account);
        if (subs !== undefined) for (const fn of subs) fn(e);
      }
    }
  }

  // ---------------------------------------------------------------- BookObserver

  onCommandStart(seq: number, ts: number): void {
    this.seq = seq;
    this.ts = ts;
    this.tradeNo = 0;
  }

  onCommandEnd(seq: number): void {
    if (this.trades.length > 0 || this.orders.length > 0) {
      this.pending.push({ seq, trades: this.trades, orders: this.orders });
      if (this.trades.length > 0) this.trades = [];
      if (this.orders.length > 0) this.orders = [];
    }
    if (!this.gated) this.release(seq);
  }

  private order(e: Omit<OrderEvent, "type" | "instrument" | "seq" | "ts">): void {
    // nobody to tell: a subscriber that joins later starts from its own snapshot, not from past events
    if (this.accountSubs.size === 0) return;
    this.orders.push({ type: "order", instrument: this.instrument, seq: this.seq, ts: this.ts, ...e });
  }

  onRejected(id: number, account: AccountId, code: RejectCode): void {
    this.order({ account, orderId: id, event: "rejected", reason: code });
  }

  onAccepted(id: number, account: AccountId, side: Side, price: number, qty: number): void {
    this.order({ account, orderId: id, event: "accepted", side: sideName(side), price, qty });
  }

  onTrade(
    takerId: number,
    takerAccount: AccountId,
    makerId: number,
    makerAccount: AccountId,
    takerSide: Side,
    price: number,
    qty: number,
    makerRemaining: number,
    takerRemaining: number,
  ): void {
    const no = ++this.tradeNo;
    if (this.publicSubs.size === 0 && this.accountSubs.size === 0) return;
    const tradeId = `${this.instrument}:${this.seq}-${no}`; // the id the settlement queue gets (gateway)
    if (this.publicSubs.size > 0)
      this.trades.push({
        type: "trade",
        instrument: this.instrument,
        seq: this.seq,
        tradeId,
        price,
        qty,
        takerSide: sideName(takerSide),
        ts: this.ts,
      });
    const makerSide = takerSide === Side.Buy ? Side.Sell : Side.Buy;
    this.order({
      account: takerAccount,
      orderId: takerId,
      event: "fill",
      side: sideName(takerSide),
      price,
      qty,
      remaining: takerRemaining,
      role: "taker",
      tradeId,
    });
    this.order({
      account: makerAccount,
      orderId: makerId,
      event: "fill",
      side: sideName(makerSide),
      price,
      qty,
      remaining: makerRemaining,
      role: "maker",
      tradeId,
    });
  }

  onRested(id: number, account: AccountId, side: Side, price: number, qty: number): void {
    this.order({ account, orderId: id, event: "rested", side: sideName(side), price, qty });
  }

  onReduced(id: number, account: AccountId, side: Side, price: number, qty: number): void {
    this.order({ account, orderId: id, event: "reduced", side: sideName(side), price, remaining: qty });
  }

  onCancelled(id: number, account: AccountId, side: Side, price: number, qty: number, reason: CancelReason): void {
    this.order({ account, orderId: id, event: "cancelled", side: sideName(side), price, qty, reason });
  }

  onLevel(side: Side, price: number, qty: number, count: number): void {
    this.levelLog.push(this.seq, side, price, qty, count);
  }

  onTriggered(id: number, account: AccountId, side: Side, oraclePrice: number): void {
    this.order({ account, orderId: id, event: "triggered", side: sideName(side), price: oraclePrice });
  }
}
