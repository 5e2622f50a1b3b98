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

interface Batch {
  seq: number;
  depth: DepthUpdate | null;
  trades: TradeMessage[];
  orders: OrderEvent[];
}

const sideName = (s: Side): "buy" | "sell" => (s === Side.Buy ? "buy" : "sell");

export class MarketDataFeed implements BookObserver {
  private seq = 0;
  private ts = 0;
  private tradeNo = 0;
  private bidChanges = new Map<number, Level>();
  private askChanges = new Map<number, Level>();
  private trades: TradeMessage[] = [];
  private orders: OrderEvent[] = [];
  private readonly pending: Batch[] = [];
  private pendingHead = 0;
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

  /** Publishes every batch up to `seq` (its commands are durable now). */
  release(seq: number): void {
    const q = this.pending;
    let i = this.pendingHead;
    while (i < q.length && q[i].seq <= seq) this.publish(q[i++]);
    if (i === q.length) {
      q.length = 0;
      i = 0;
    }
    this.pendingHead = i;
    if (seq > this.releasedSeq) this.releasedSeq = seq;
  }

  private publish(b: Batch): void {
    if (b.depth !== null) {
      for (const l of b.depth.bids) {
        if (l[1] === 0) this.bids.delete(l[0]);
        else this.bids.set(l[0], l);
      }
      for (const l of b.depth.asks) {
        if (l[1] === 0) this.asks.delete(l[0]);
        else this.asks.set(l[0], l);
      }
    }
    this.releasedSeq = b.seq;
    if (this.publicSubs.size > 0) {
      if (b.depth !== null) for (const fn of this.publicSubs) fn(b.depth);
      for (const t of b.trades) for (const fn of this.publicSubs) fn(t);
    }
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
    const depth: DepthUpdate | null =
      this.bidChanges.size + this.askChanges.size === 0
        ? null
        : {
            type: "depthUpdate",
            instrument: this.instrument,
            seq,
            bids: [...this.bidChanges.values()],
            asks: [...this.askChanges.values()],
          };
    this.bidChanges.clear();
    this.askChanges.clear();
    if (depth === null && this.trades.length === 0 && this.orders.length === 0) {
      // nothing to publish; a gated feed still must not run ahead of what is durable
      if (!this.gated) this.releasedSeq = seq;
      return;
    }
    const batch: Batch = { seq, depth, trades: this.trades, orders: this.orders };
    if (this.trades.length > 0) this.trades = [];
    if (this.orders.length > 0) this.orders = [];
    if (this.gated) this.pending.push(batch);
    else this.publish(batch);
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
    const tradeId = `${this.seq}-${no}`;
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
    (side === Side.Buy ? this.bidChanges : this.askChanges).set(price, [price, qty, count]);
  }

  onTriggered(id: number, account: AccountId, side: Side, oraclePrice: number): void {
    this.order({ account, orderId: id, event: "triggered", side: sideName(side), price: oraclePrice });
  }
}
