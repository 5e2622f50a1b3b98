import type { ProtectiveOrder } from "./protective";
import type { AccountId, CancelReason, RejectCode, Side } from "./types";

/** What happened to a protective order: placed, fired (with `qty` lots), cut to `qty` at fire time, cancelled. */
export type ProtectiveEvent = "armed" | "fired" | "cut" | "cancelled";

/**
 * What the engine tells its observers, synchronously and in order, while it applies a command. Arguments are
 * primitives so that the hot path allocates nothing; observers that keep an event copy what they need.
 * Quantities are lots, prices ticks.
 */
export interface BookObserver {
  /** A command starts: every following call belongs to it until `onCommandEnd`. */
  onCommandStart(seq: number, ts: number): void;
  onCommandEnd(seq: number): void;
  /** The command was refused; nothing in the book changed. */
  onRejected(id: number, account: AccountId, code: RejectCode): void;
  /** An order was accepted (before any matching). `price` is 0 for market orders. */
  onAccepted(id: number, account: AccountId, side: Side, price: number, qty: number): void;
  /** A trade: the taker (incoming) order met a resting maker order. */
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
  ): void;
  /** An order now rests in the book with `qty` open at `price`. */
  onRested(id: number, account: AccountId, side: Side, price: number, qty: number): void;
  /** A resting order's open quantity shrank without a trade (modify down, self-trade decrement) to `qty`. */
  onReduced(id: number, account: AccountId, side: Side, price: number, qty: number): void;
  /** An order (resting or incoming) ended with `qty` lots not filled. */
  onCancelled(id: number, account: AccountId, side: Side, price: number, qty: number, reason: CancelReason): void;
  /** A price level's total changed: `qty` 0 means the level is gone. */
  onLevel(side: Side, price: number, qty: number, count: number): void;
  /** A protective order fired on the oracle price and is being submitted to the book. */
  onTriggered(id: number, account: AccountId, side: Side, oraclePrice: number): void;
  /** The life of a protective order (off the hot path; optional): the order as it stands at the event. */
  onProtective?(event: ProtectiveEvent, order: Readonly<ProtectiveOrder>, qty: number, reason?: CancelReason): void;
}

/** Forwards every call to several observers (market data, risk exposure, own-order events). */
export class ObserverFanout implements BookObserver {
  constructor(private readonly targets: BookObserver[]) {}
  onCommandStart(seq: number, ts: number): void {
    for (const t of this.targets) t.onCommandStart(seq, ts);
  }
  onCommandEnd(seq: number): void {
    for (const t of this.targets) t.onCommandEnd(seq);
  }
  onRejected(id: number, account: AccountId, code: RejectCode): void {
    for (const t of this.targets) t.onRejected(id, account, code);
  }
  onAccepted(id: number, account: AccountId, side: Side, price: number, qty: number): void {
    for (const t of this.targets) t.onAccepted(id, account, side, price, qty);
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
    for (const t of this.targets)
      t.onTrade(takerId, takerAccount, makerId, makerAccount, takerSide, price, qty, makerRemaining, takerRemaining);
  }
  onRested(id: number, account: AccountId, side: Side, price: number, qty: number): void {
    for (const t of this.targets) t.onRested(id, account, side, price, qty);
  }
  onReduced(id: number, account: AccountId, side: Side, price: number, qty: number): void {
    for (const t of this.targets) t.onReduced(id, account, side, price, qty);
  }
  onCancelled(id: number, account: AccountId, side: Side, price: number, qty: number, reason: CancelReason): void {
    for (const t of this.targets) t.onCancelled(id, account, side, price, qty, reason);
  }
  onLevel(side: Side, price: number, qty: number, count: number): void {
    for (const t of this.targets) t.onLevel(side, price, qty, count);
  }
  onTriggered(id: number, account: AccountId, side: Side, oraclePrice: number): void {
    for (const t of this.targets) t.onTriggered(id, account, side, oraclePrice);
  }
  onProtective(event: ProtectiveEvent, order: Readonly<ProtectiveOrder>, qty: number, reason?: CancelReason): void {
    for (const t of this.targets) t.onProtective?.(event, order, qty, reason);
  }
}

/** An observer that ignores everything; extend it to handle only some events. */
export class NullObserver implements BookObserver {
  onCommandStart(_seq: number, _ts: number): void {}
  onCommandEnd(_seq: number): void {}
  onRejected(_id: number, _account: AccountId, _code: RejectCode): void {}
  onAccepted(_id: number, _account: AccountId, _side: Side, _price: number, _qty: number): void {}
  onTrade(
    _takerId: number,
    _takerAccount: AccountId,
    _makerId: number,
    _makerAccount: AccountId,
    _takerSide: Side,
    _price: number,
    _qty: number,
    _makerRemaining: number,
    _takerRemaining: number,
  ): void {}
  onRested(_id: number, _account: AccountId, _side: Side, _price: number, _qty: number): void {}
  onReduced(_id: number, _account: AccountId, _side: Side, _price: number, _qty: number): void {}
  onCancelled(
    _id: number,
    _account: AccountId,
    _side: Side,
    _price: number,
    _qty: number,
    _reason: CancelReason,
  ): void {}
  onLevel(_side: Side, _price: number, _qty: number, _count: number): void {}
  onTriggered(_id: number, _account: AccountId, _side: Side, _oraclePrice: number): void {}
}
