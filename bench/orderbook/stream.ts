/**
 * The seeded operation stream of `npm run bench -- orderbook`, held in typed arrays (no per-op objects):
 * about 60 % limits near the touch (some post-only and FOK), 10 % market, 25 % cancels of live orders, 5 % modifies
 * and IOCs. The generator simulates the book with the engine so that cancels and modifies target live orders; the
 * share of marketable limits adapts so the book hovers around `resting` orders (the deep variant: ten times more).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { type IncomingOrder, OrderBook, Side, StpMode, TimeInForce } from "../../offchain/orderbook";

export enum Op {
  Limit = 0,
  PostOnly = 1,
  Fok = 2,
  Ioc = 3,
  Market = 4,
  Cancel = 5,
  Modify = 6,
}

export interface Stream {
  name: string;
  n: number;
  kind: Uint8Array;
  side: Uint8Array;
  price: Int32Array;
  qty: Int32Array;
  id: Int32Array;
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface StreamStats {
  mix: Record<string, number>;
  avgResting: number;
  maxResting: number;
  avgLevels: number;
}

export function generate(
  name: string,
  n: number,
  resting: number,
  seed: number,
): { stream: Stream; stats: StreamStats } {
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const s: Stream = {
    name,
    n,
    kind: new Uint8Array(n),
    side: new Uint8Array(n),
    price: new Int32Array(n),
    qty: new Int32Array(n),
    id: new Int32Array(n),
  };
  const book = new OrderBook();
  const o: IncomingOrder = {
    id: 0,
    account: "b",
    side: Side.Buy,
    price: 0,
    qty: 0,
    tif: TimeInForce.GTC,
    expiresAt: 0,
    postOnly: false,
    stp: StpMode.None,
    linked: [],
  };
  // live ids for picking cancel/modify targets (lazily cleaned of filled orders) and which ids are post-only
  const live: number[] = [];
  const postOnly = new Uint8Array(n + 1);
  let nextId = 1;
  let mid = 100_000;
  const counts = new Array<number>(7).fill(0);
  let restingSum = 0;
  let restingMax = 0;
  let levelSum = 0;
  // how far behind the touch passive orders go (the same for both streams: the deep one is denser, not wider)
  const spreadTicks = 40;

  const passive = (side: Side): number => {
    // the own side's touch, else just inside the other side's, else the last mid
    const own = side === Side.Buy ? book.bestBid() : book.bestAsk();
    const opp = side === Side.Buy ? book.bestAsk() : book.bestBid();
    const ref = own > 0 ? own : opp > 0 ? (side === Side.Buy ? opp - 1 : opp + 1) : mid;
    const off = Math.floor(-Math.log(1 - rnd()) * (spreadTicks / 8)) - 1; // mostly at or just behind the touch
    const p = side === Side.Buy ? ref - Math.min(off, spreadTicks) : ref + Math.min(off, spreadTicks);
    // never cross with a passive order: keep it on its own side of the opposite touch
    if (side === Side.Buy && book.bestAsk() > 0 && p >= book.bestAsk()) return book.bestAsk() - 1;
    if (side === Side.Sell && book.bestBid() > 0 && p <= book.bestBid()) return book.bestBid() + 1;
    return Math.max(1, p);
  };
  const aggressive = (side: Side, reach: number): number => {
    const opp = side === Side.Buy ? book.bestAsk() : book.bestBid();
    if (opp === 0) return passive(side);
    return side === Side.Buy ? opp + int(0, reach) : Math.max(1, opp - int(0, reach));
  };
  const pickLive = (skipPostOnly: boolean): number => {
    for (let tries = 0; tries < 16 && live.length > 0; tries++) {
      const i = Math.floor(rnd() * live.length);
      const id = live[i];
      if (!book.has(id)) {
        live[i] = live[live.length - 1];
        live.pop();
        continue;
      }
      if (skipPostOnly && postOnly[id] === 1) continue;
      return id;
    }
    return 0;
  };

  for (let i = 0; i < n; i++) {
    const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
    const u = rnd();
    let kind: Op;
    let price = 0;
    let qty = int(1, 100);
    let id = 0;
    if (book.openOrders < resting * 0.5 && i < resting * 4) {
      // opening: build the book up to its working depth with passive limits
      kind = Op.Limit;
      price = passive(side);
    } else if (u < 0.6) {
      const v = rnd();
      if (v < 0.08) {
        kind = Op.PostOnly;
        price = passive(side);
      } else if (v < 0.13) {
        kind = Op.Fok;
        price = aggressive(side, 3);
        qty = int(1, 60);
      } else {
        kind = Op.Limit;
        const marketable = book.openOrders > resting ? 0.45 : 0.15;
        price = rnd() < marketable ? aggressive(side, 2) : passive(side);
      }
    } else if (u < 0.7) {
      kind = Op.Market;
      qty = int(1, 120);
    } else if (u < 0.95) {
      kind = Op.Cancel;
      id = pickLive(false);
    } else if (rnd() < 0.5) {
      kind = Op.Modify;
      id = pickLive(true);
      const target = id !== 0 ? book.get(id) : undefined;
      price = target !== undefined ? (rnd() < 0.2 ? aggressive(target.side, 1) : passive(target.side)) : passive(side);
      if (target !== undefined && price === target.price) price += target.side === Side.Buy ? -1 : 1;
    } else {
      kind = Op.Ioc;
      price = aggressive(side, 3);
    }
    if ((kind === Op.Cancel || kind === Op.Modify) && id === 0) {
      kind = Op.Limit; // nothing live to target (rare, at the very start)
      price = passive(side);
    }
    if (kind !== Op.Cancel && kind !== Op.Modify) id = nextId++;
    s.kind[i] = kind;
    s.side[i] = side;
    s.price[i] = price;
    s.qty[i] = qty;
    s.id[i] = id;
    counts[kind]++;
    // apply to the simulation book
    if (kind === Op.Cancel) book.cancel(id, "b");
    else if (kind === Op.Modify) book.modify(id, "b", price, undefined);
    else {
      o.id = id;
      o.side = side;
      o.price = price;
      o.qty = qty;
      o.postOnly = kind === Op.PostOnly;
      o.tif =
        kind === Op.Market
          ? null
          : kind === Op.Fok
            ? TimeInForce.FOK
            : kind === Op.Ioc
              ? TimeInForce.IOC
              : TimeInForce.GTC;
      const r = kind === Op.Market ? book.market(o) : book.limit(o);
      if (r.restingQty > 0) {
        live.push(id);
        if (kind === Op.PostOnly) postOnly[id] = 1;
      }
    }
    const bb = book.bestBid();
    const ba = book.bestAsk();
    if (bb > 0 && ba > 0) mid = (bb + ba) >> 1;
    restingSum += book.openOrders;
    if (book.openOrders > restingMax) restingMax = book.openOrders;
    levelSum += book.bids.levels.length + book.asks.levels.length;
  }
  const names = ["limit", "postOnly", "fok", "ioc", "market", "cancel", "modify"];
  const mix: Record<string, number> = {};
  names.forEach((k, i) => (mix[k] = Math.round((counts[i] / n) * 1000) / 10));
  return {
    stream: s,
    stats: { mix, avgResting: Math.round(restingSum / n), maxResting: restingMax, avgLevels: Math.round(levelSum / n) },
  };
}

/** Binary file: header (name length, name, n) then the five arrays. */
export function save(s: Stream, file: string): void {
  const name = Buffer.from(s.name, "utf8");
  const head = Buffer.alloc(8);
  head.writeUInt32LE(name.length, 0);
  head.writeUInt32LE(s.n, 4);
  writeFileSync(
    file,
    Buffer.concat([
      head,
      name,
      Buffer.from(s.kind.buffer),
      Buffer.from(s.side.buffer),
      Buffer.from(s.price.buffer),
      Buffer.from(s.qty.buffer),
      Buffer.from(s.id.buffer),
    ]),
  );
}

export function load(file: string): Stream {
  const buf = readFileSync(file);
  const nameLen = buf.readUInt32LE(0);
  const n = buf.readUInt32LE(4);
  let off = 8;
  const name = buf.subarray(off, off + nameLen).toString("utf8");
  off += nameLen;
  const take = (bytes: number): ArrayBuffer => {
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(buf.subarray(off, off + bytes));
    off += bytes;
    return ab;
  };
  return {
    name,
    n,
    kind: new Uint8Array(take(n)),
    side: new Uint8Array(take(n)),
    price: new Int32Array(take(4 * n)),
    qty: new Int32Array(take(4 * n)),
    id: new Int32Array(take(4 * n)),
  };
}
