import type { FillRow, Store } from "../../offchain/store";

/** A journal row and its fills, built like the order gateway writes them (sides 0 buy, 1 sell; ticks and lots). */
interface Row {
  seq: number;
  entry: string;
}
type Fill = FillRow;

/**
 * A seeded order flow for one book: limit orders, client cancels and crossing orders that trade with a resting
 * one, written to the store's journal and fills as the book and the gateway write them. Surveillance reads it.
 */
export class SeededFlow {
  private seq = 0;
  private nextId = 1;
  readonly rows: Row[] = [];
  readonly fills: Fill[] = [];

  constructor(
    readonly instrument: string,
    private readonly tickSize = 10_000n,
  ) {}

  private push(ts: number, cmd: Record<string, unknown>): number {
    this.seq++;
    this.rows.push({ seq: this.seq, entry: JSON.stringify({ seq: this.seq, ts, cmd }) });
    return this.seq;
  }

  /** A resting limit order; its id. */
  limit(ts: number, account: string, side: "buy" | "sell", price: number, qty: number): number {
    const id = this.nextId++;
    this.push(ts, { kind: "limit", id, account, side: side === "buy" ? 0 : 1, price, qty, tif: 0 });
    return id;
  }

  cancel(ts: number, account: string, id: number): void {
    this.push(ts, { kind: "cancel", id, account });
  }

  /** A crossing limit order of `taker` that trades `qty` with the resting order `makerId` of `maker`; the trade id. */
  take(
    ts: number,
    taker: string,
    side: "buy" | "sell",
    maker: string,
    makerId: number,
    price: number,
    qty = 1,
  ): string {
    const id = this.nextId++;
    const seq = this.push(ts, { kind: "limit", id, account: taker, side: side === "buy" ? 0 : 1, price, qty, tif: 2 });
    const tradeId = `${this.instrument}:${seq}-1`;
    const common = {
      tradeId,
      instrument: this.instrument,
      price: BigInt(price) * this.tickSize,
      quantity: BigInt(qty),
      seq,
      idx: 1,
    };
    const other = side === "buy" ? "sell" : "buy";
    this.fills.push({ ...common, role: "taker", account: taker, orderId: id, side });
    this.fills.push({ ...common, role: "maker", account: maker, orderId: makerId, side: other });
    return tradeId;
  }

  /** A resting order of `maker` and `taker` crossing it at once: one trade between the two; the trade id. */
  trade(ts: number, buyer: string, seller: string, price = 1_000, qty = 1): string {
    const makerId = this.limit(ts, seller, "sell", price, qty);
    return this.take(ts, buyer, "buy", seller, makerId, price, qty);
  }

  /** Writes what was built since the last write. */
  async write(store: Store): Promise<void> {
    const rows = this.rows.splice(0);
    const fills = this.fills.splice(0);
    if (rows.length > 0) await store.orderbook.appendJournal(this.instrument, rows);
    if (fills.length > 0) await store.orderbook.recordFills(fills);
  }
}
