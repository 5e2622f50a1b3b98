import type { BookView, FlowEvent, FlowRule, Finding, GroupOf } from "./rules/types";

interface Window {
  start: number;
  end: number;
  /** The position of the first event in it: a reader restarted there sees the whole window again. */
  firstPos: number;
  /** Per account, one state per rule (in rule order). */
  accounts: Map<string, unknown[]>;
}

const noGroups: GroupOf = () => undefined;

/**
 * Runs rule families over a stream of flow events in tumbling windows per instrument: each event updates the state
 * of its account(s) in the instrument's current window; a window closes when an event past its end arrives, or
 * when the clock passes it (`closeDue`), and its findings are read then. Kept in memory between runs; what
 * survives a restart is `safePosition()`: a reader started there sees every window not yet closed again, whole.
 */
export class FlowMonitor {
  private readonly windows = new Map<string, Window>();
  private readonly books = new Map<string, BookView>();
  private lastPos = 0;
  /** Per book, the resting orders in the order they were placed (ids and times), to forget the oldest. */
  private readonly placed = new Map<BookView, { ids: number[]; ts: number[]; head: number }>();

  constructor(
    private readonly rules: FlowRule<unknown>[],
    private readonly windowMs: number,
    private readonly groupOf: GroupOf = noGroups,
    startPos = 0,
  ) {
    this.lastPos = startPos;
  }

  /** Feeds one event; the findings of the window it closed, if it closed one. */
  feed(e: FlowEvent): Finding[] {
    let w = this.windows.get(e.instrument);
    let closed: Finding[] = [];
    if (w !== undefined && e.ts >= w.end) {
      closed = this.close(e.instrument, w);
      w = undefined;
    }
    if (w === undefined) {
      const start = Math.floor(e.ts / this.windowMs) * this.windowMs;
      w = { start, end: start + this.windowMs, firstPos: e.pos, accounts: new Map() };
      this.windows.set(e.instrument, w);
    }
    const book = this.book(e.instrument);
    if (e.kind === "trade") {
      this.observe(w, e.buyer, e, book);
      if (e.seller !== e.buyer) this.observe(w, e.seller, e, book);
    } else this.observe(w, e.account, e, book);
    this.track(book, e);
    this.lastPos = e.pos;
    return closed;
  }

  /** Closes every window whose end is at or before `now` (nothing more can fall in it); their findings. */
  closeDue(now: number): Finding[] {
    const out: Finding[] = [];
    for (const [instrument, w] of [...this.windows]) if (w.end <= now) out.push(...this.close(instrument, w));
    return out;
  }

  /** Where a reader restarted must begin: just before the oldest window still open, else after the last event. */
  safePosition(): number {
    let pos = this.lastPos;
    for (const w of this.windows.values()) pos = Math.min(pos, w.firstPos - 1);
    return pos;
  }

  get position(): number {
    return this.lastPos;
  }

  /** Skips to `pos` (events before it are gone: the book compacted its journal). */
  skipTo(pos: number): void {
    this.lastPos = Math.max(this.lastPos, pos);
  }

  private observe(w: Window, account: string, e: FlowEvent, book: BookView): void {
    let states = w.accounts.get(account);
    if (states === undefined) {
      states = this.rules.map((r) => r.init());
      w.accounts.set(account, states);
    }
    for (let i = 0; i < this.rules.length; i++) this.rules[i].observe(states[i], account, e, book, this.groupOf);
  }

  private close(instrument: string, w: Window): Finding[] {
    this.windows.delete(instrument);
    const out: Finding[] = [];
    const span = { start: w.start, end: w.end, instrument };
    for (const [account, states] of w.accounts)
      for (let i = 0; i < this.rules.length; i++) out.push(...this.rules[i].findings(states[i], account, span));
    return out;
  }

  private book(instrument: string): BookView {
    let b = this.books.get(instrument);
    if (b === undefined) {
      b = { resting: new Map(), lastTradePrice: null };
      this.books.set(instrument, b);
    }
    return b;
  }

  /**
   * Orders older than two windows are forgotten (filled, expired, or resting far too long to matter here), oldest
   * first from a queue: walking the map itself from its start would step over every deleted entry each time.
   */
  private forget(b: BookView, id: number, ts: number): void {
    const q = this.placed.get(b) ?? { ids: [], ts: [], head: 0 };
    this.placed.set(b, q);
    q.ids.push(id);
    q.ts.push(ts);
    while (q.head < q.ts.length && q.ts[q.head] <= ts - 2 * this.windowMs) {
      if (b.resting.get(q.ids[q.head])?.ts === q.ts[q.head]) b.resting.delete(q.ids[q.head]);
      q.head++;
    }
    if (q.head > 4_096) {
      q.ids = q.ids.slice(q.head);
      q.ts = q.ts.slice(q.head);
      q.head = 0;
    }
  }

  /** Keeps the resting orders (to price trades and the touch) after the rules saw the event. */
  private track(b: BookView, e: FlowEvent): void {
    if (e.kind === "order" && e.type === "limit" && e.side !== null && e.price !== null && e.qty !== null) {
      b.resting.set(e.orderId, { account: e.account, side: e.side, price: e.price, qty: e.qty, ts: e.ts });
      this.forget(b, e.orderId, e.ts);
    } else if (e.kind === "cancel") b.resting.delete(e.orderId);
    else if (e.kind === "trade") b.lastTradePrice = b.resting.get(e.makerOrderId)?.price ?? b.lastTradePrice;
  }
}
