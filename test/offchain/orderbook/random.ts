/** A small seeded PRNG (mulberry32) and a random command stream for the engine's tests. */
import { type BookCommand, Side, StpMode, TimeInForce } from "../../../offchain/orderbook";

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface StreamOptions {
  accounts: number;
  /** Probability that an order carries a self-trade prevention mode. */
  stpShare: number;
  mid: number;
  spread: number;
}

/**
 * Commands mixing every order type: GTC/GTT/IOC/FOK limits (some post-only), market orders, cancels and modifies
 * of live (and sometimes unknown or foreign) orders, and clock ticks that expire GTT orders. `live` returns the ids
 * the model currently has resting, so cancels and modifies hit real orders most of the time.
 */
export function* commandStream(
  seed: number,
  count: number,
  live: () => number[],
  opts: StreamOptions = { accounts: 4, stpShare: 0.5, mid: 1000, spread: 8 },
): Generator<{ ts: number; cmd: BookCommand }> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  let ts = 1_000_000;
  let nextId = 1;
  const accounts = Array.from({ length: opts.accounts }, (_, i) => `acct${i}`);
  const stps = [StpMode.CancelNewest, StpMode.CancelOldest, StpMode.DecrementBoth];
  const owners = new Map<number, string>();
  const ownerOf = (id: number): string => owners.get(id) ?? pick(accounts);
  for (let i = 0; i < count; i++) {
    ts += int(0, 3);
    const u = rnd();
    const account = pick(accounts);
    const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
    const stp = rnd() < opts.stpShare ? pick(stps) : StpMode.None;
    // buys cluster just below the mid and sells just above, with some overlap so that orders cross
    const price = side === Side.Buy ? opts.mid - int(-2, opts.spread) : opts.mid + int(-2, opts.spread);
    const qty = int(1, 20);
    const smallQty = int(1, 8);
    // IOC and FOK orders are priced to reach into the other side
    const aggressive = side === Side.Buy ? opts.mid + int(0, opts.spread) : opts.mid - int(0, opts.spread);
    const ids = live();
    if (u < 0.6) {
      const t = rnd();
      const tif = t < 0.6 ? TimeInForce.GTC : t < 0.75 ? TimeInForce.GTT : t < 0.9 ? TimeInForce.IOC : TimeInForce.FOK;
      const postOnly = (tif === TimeInForce.GTC || tif === TimeInForce.GTT) && rnd() < 0.2;
      const expiresAt = tif === TimeInForce.GTT ? ts + int(-2, 40) : undefined;
      owners.set(nextId, account);
      yield {
        ts,
        cmd: {
          kind: "limit",
          id: nextId++,
          account,
          side,
          price: tif === TimeInForce.IOC || tif === TimeInForce.FOK ? aggressive : price,
          qty: tif === TimeInForce.FOK ? smallQty : qty,
          tif,
          postOnly,
          stp,
          expiresAt,
        },
      };
    } else if (u < 0.66) {
      owners.set(nextId, account);
      yield { ts, cmd: { kind: "market", id: nextId++, account, side, qty: int(1, 12), stp } };
    } else if (u < 0.8) {
      const target = ids.length > 0 && rnd() < 0.9 ? pick(ids) : int(1, nextId + 5);
      // mostly the owner cancels; sometimes another account tries (must be refused)
      yield { ts, cmd: { kind: "cancel", id: target, account: rnd() < 0.9 ? ownerOf(target) : account } };
    } else if (u < 0.95) {
      const target = ids.length > 0 && rnd() < 0.9 ? pick(ids) : int(1, nextId + 5);
      const v = rnd();
      const cmd: BookCommand =
        v < 0.35
          ? { kind: "modify", id: target, account: ownerOf(target), qty: int(1, 25) }
          : v < 0.7
            ? { kind: "modify", id: target, account: ownerOf(target), price }
            : v < 0.95
              ? { kind: "modify", id: target, account: ownerOf(target), price, qty }
              : { kind: "modify", id: target, account };
      yield { ts, cmd };
    } else {
      ts += int(5, 30);
      yield { ts, cmd: { kind: "tick" } };
    }
  }
}
