import { createHash } from "node:crypto";
import { ExecutionReport, type IncomingOrder, NONE, OrderBook } from "./book";
import type { BookObserver } from "./events";
import { type ProtectiveOrder, ProtectiveBook } from "./protective";
import {
  type AccountId,
  type BookCommand,
  CancelReason,
  RejectCode,
  Side,
  type StampedCommand,
  StpMode,
  TimeInForce,
} from "./types";

/** Engine settings: the book's capacity and the ATR's bars (see AtrTracker; defaults 14 one-day bars from 00:00 UTC). */
export interface EngineOptions {
  maxOpenOrders?: number;
  atrPeriod?: number;
  atrBarMs?: number;
  atrBarOffsetMs?: number;
}

/** Everything needed to rebuild an engine exactly: resting orders in priority order, protective orders, clock. */
export interface EngineSnapshot {
  version: 1;
  instrument: string;
  seq: number;
  ts: number;
  bids: SavedOrder[];
  asks: SavedOrder[];
  protective: ReturnType<ProtectiveBook["save"]>;
}

export type SavedOrder = [
  id: number,
  account: AccountId,
  price: number,
  qty: number,
  filled: number,
  tif: TimeInForce,
  expiresAt: number,
  postOnly: 0 | 1,
  stp: StpMode,
  /** Only when the order carries linked accounts (older snapshots never do). */
  linked?: AccountId[],
];

export class SequenceGapError extends Error {
  constructor(
    readonly expected: number,
    readonly got: number,
  ) {
    super(`command sequence gap: expected ${expected}, got ${got}`);
    this.name = "SequenceGapError";
  }
}

/**
 * One instrument's engine: the matching book plus the protective-order book, driven only by stamped commands
 * (sequence number and time set by the gateway before journaling), so that applying the same commands to the
 * same snapshot always gives the same state. Nothing here reads a clock or does I/O.
 */
export class InstrumentEngine {
  readonly book: OrderBook;
  readonly protective: ProtectiveBook;
  private lastSeq = 0;
  private lastTs = 0;
  private observerRef: BookObserver | null = null;
  private readonly incoming: IncomingOrder = {
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

  constructor(
    readonly instrument: string,
    opts: EngineOptions = {},
  ) {
    this.book = new OrderBook(opts.maxOpenOrders);
    this.protective = new ProtectiveBook({
      period: opts.atrPeriod,
      barMs: opts.atrBarMs,
      barOffsetMs: opts.atrBarOffsetMs,
    });
  }

  get seq(): number {
    return this.lastSeq;
  }

  get ts(): number {
    return this.lastTs;
  }

  set observer(o: BookObserver | null) {
    this.observerRef = o;
    this.book.observer = o;
  }

  get observer(): BookObserver | null {
    return this.observerRef;
  }

  /**
   * Applies one command. Sequence numbers must follow on without gaps (a gap means a lost journal entry).
   * Time never runs backwards: an earlier timestamp is treated as the last one seen.
   */
  apply(c: StampedCommand): ExecutionReport {
    if (c.seq !== this.lastSeq + 1) throw new SequenceGapError(this.lastSeq + 1, c.seq);
    this.lastSeq = c.seq;
    if (c.ts > this.lastTs) this.lastTs = c.ts;
    const obs = this.observerRef;
    if (obs !== null) obs.onCommandStart(c.seq, this.lastTs);
    this.book.expire(this.lastTs);
    const r = this.dispatch(c.cmd);
    if (obs !== null) obs.onCommandEnd(c.seq);
    return r;
  }

  private dispatch(cmd: BookCommand): ExecutionReport {
    const book = this.book;
    switch (cmd.kind) {
      case "limit": {
        if (this.protective.has(cmd.id)) return this.reject(cmd.id, cmd.account, RejectCode.DuplicateOrderId);
        const o = this.incoming;
        o.id = cmd.id;
        o.account = cmd.account;
        o.side = cmd.side;
        o.price = cmd.price;
        o.qty = cmd.qty;
        o.tif = cmd.tif;
        o.expiresAt = cmd.expiresAt ?? 0;
        o.postOnly = cmd.postOnly === true;
        o.stp = cmd.stp ?? StpMode.None;
        o.linked = cmd.linked ?? NONE;
        return book.limit(o);
      }
      case "market": {
        if (this.protective.has(cmd.id)) return this.reject(cmd.id, cmd.account, RejectCode.DuplicateOrderId);
        const o = this.incoming;
        o.id = cmd.id;
        o.account = cmd.account;
        o.side = cmd.side;
        o.price = 0;
        o.qty = cmd.qty;
        o.tif = null;
        o.expiresAt = 0;
        o.postOnly = false;
        o.stp = cmd.stp ?? StpMode.None;
        o.linked = cmd.linked ?? NONE;
        return book.market(o);
      }
      case "cancel": {
        if (!this.protective.has(cmd.id)) return book.cancel(cmd.id, cmd.account);
        const res = this.protective.cancel(cmd.id, cmd.account);
        if (!Array.isArray(res)) return this.reject(cmd.id, cmd.account, res);
        const r = book.report;
        r.reset(cmd.id);
        r.accepted = true;
        r.cancelledQty = res[0].order.qty;
        r.cancelReason = CancelReason.User;
        for (const d of res) this.emitDropped(d.order, d.reason);
        return r;
      }
      case "modify":
        return book.modify(cmd.id, cmd.account, cmd.price, cmd.qty);
      case "protective": {
        if (book.has(cmd.id)) return this.reject(cmd.id, cmd.account, RejectCode.DuplicateOrderId);
        const code = this.protective.add(cmd);
        if (code !== null) return this.reject(cmd.id, cmd.account, code);
        const r = book.report;
        r.reset(cmd.id);
        r.accepted = true;
        this.observerRef?.onAccepted(cmd.id, cmd.account, cmd.side, cmd.limitPrice ?? 0, cmd.qty);
        this.observerRef?.onProtective?.("armed", this.protective.get(cmd.id) as ProtectiveOrder, cmd.qty);
        return r;
      }
      case "oracle": {
        if (!Number.isInteger(cmd.price) || cmd.price < 1) return this.reject(0, "", RejectCode.InvalidPrice);
        const { fired, dropped } = this.protective.onOracle(cmd.price, this.lastTs);
        for (const d of dropped) this.emitDropped(d.order, d.reason);
        for (const f of fired) this.fire(f.order, f.oraclePrice, cmd.caps?.[String(f.order.id)] ?? 0);
        const r = book.report;
        r.reset(0);
        r.accepted = true;
        return r;
      }
      case "tick": {
        const r = book.report;
        r.reset(0);
        r.accepted = true;
        return r;
      }
      default:
        return this.reject(0, "", RejectCode.MalformedCommand);
    }
  }

  /**
   * A fired protective order enters the book under its own id: a market order, an IOC at its limit (`ioc`), or a
   * limit resting GTC (GTT until `expiresAt`). A reduce-only order is first cut to `cap` lots, or cancelled at 0.
   */
  private fire(p: ProtectiveOrder, oraclePrice: number, cap: number): void {
    const obs = this.observerRef;
    obs?.onTriggered(p.id, p.account, p.side, oraclePrice);
    let qty = p.qty;
    if (p.reduceOnly && cap < qty) {
      qty = Math.max(0, cap);
      obs?.onProtective?.("cut", p, qty);
      if (qty === 0) return this.emitDropped(p, CancelReason.ReduceOnly);
    }
    obs?.onProtective?.("fired", p, qty);
    const o = this.incoming;
    o.id = p.id;
    o.account = p.account;
    o.side = p.side;
    o.qty = qty;
    o.expiresAt = 0;
    o.postOnly = false;
    o.stp = p.stp;
    o.linked = NONE;
    if (p.limitPrice === 0) {
      o.price = 0;
      o.tif = null;
      this.book.market(o);
    } else {
      o.price = p.limitPrice;
      o.tif = p.ioc ? TimeInForce.IOC : p.expiresAt > 0 ? TimeInForce.GTT : TimeInForce.GTC;
      o.expiresAt = p.ioc ? 0 : p.expiresAt;
      this.book.limit(o);
    }
  }

  private emitDropped(p: ProtectiveOrder, reason: CancelReason): void {
    this.observerRef?.onCancelled(p.id, p.account, p.side, p.limitPrice, p.qty, reason);
    this.observerRef?.onProtective?.("cancelled", p, p.qty, reason);
  }

  private reject(id: number, account: AccountId, code: RejectCode): ExecutionReport {
    const r = this.book.report;
    r.reset(id);
    r.reject = code;
    this.observerRef?.onRejected(id, account, code);
    return r;
  }

  // ---------------------------------------------------------------- snapshots

  snapshot(): EngineSnapshot {
    const save = (side: Side): SavedOrder[] => {
      const out: SavedOrder[] = [];
      for (const o of this.book.restingOrders(side)) {
        const saved: SavedOrder = [
          o.id,
          o.account,
          o.price,
          o.qty,
          o.filled,
          o.tif,
          o.expiresAt,
          o.postOnly ? 1 : 0,
          o.stp,
        ];
        // appended only when set: snapshots of books without groups keep their exact form (and hash)
        if (o.linked.length > 0) saved.push([...o.linked]);
        out.push(saved);
      }
      return out;
    };
    return {
      version: 1,
      instrument: this.instrument,
      seq: this.lastSeq,
      ts: this.lastTs,
      bids: save(Side.Buy),
      asks: save(Side.Sell),
      protective: this.protective.save(),
    };
  }

  /** Rebuilds an engine from a snapshot (resting orders keep their priority). */
  static fromSnapshot(s: EngineSnapshot, opts: EngineOptions = {}): InstrumentEngine {
    if (s.version !== 1) throw new Error(`unsupported snapshot version ${String(s.version)}`);
    const e = new InstrumentEngine(s.instrument, opts);
    e.lastSeq = s.seq;
    e.lastTs = s.ts;
    e.book.now = s.ts;
    for (const [side, list] of [
      [Side.Buy, s.bids],
      [Side.Sell, s.asks],
    ] as const) {
      for (const [id, account, price, qty, filled, tif, expiresAt, postOnly, stp, linked] of list)
        e.book.restore({
          id,
          account,
          side,
          price,
          qty,
          filled,
          tif,
          expiresAt,
          postOnly: postOnly === 1,
          stp,
          linked,
        });
    }
    e.protective.load(s.protective);
    return e;
  }

  /** SHA-256 of the canonical snapshot: two engines with equal hashes hold identical books. */
  hash(): string {
    return createHash("sha256").update(JSON.stringify(this.snapshot())).digest("hex");
  }
}
