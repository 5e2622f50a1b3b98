/**
 * Runs both engines in lockstep over a stream and checks, after every operation, the same acceptance, the same
 * fills (maker, price, quantity, in order) and the same best bid/ask; at the end, the same depth.
 */
import type { BenchEngine } from "./engines";
import type { Stream } from "./stream";

export interface Verdict {
  identical: boolean;
  ops: number;
  fills: number;
  mismatch?: string;
}

export function verify(s: Stream, a: BenchEngine, b: BenchEngine): Verdict {
  let fills = 0;
  for (let i = 0; i < s.n; i++) {
    a.run(i);
    b.run(i);
    const fa = a.lastFills();
    const fb = b.lastFills();
    fills += fa.length;
    const same =
      a.lastAccepted() === b.lastAccepted() &&
      fa.length === fb.length &&
      fa.every((f, j) => f[0] === fb[j][0] && f[1] === fb[j][1] && f[2] === fb[j][2]) &&
      a.bestBid() === b.bestBid() &&
      a.bestAsk() === b.bestAsk();
    if (!same) {
      const what = (e: BenchEngine, f: typeof fa) =>
        JSON.stringify({ accepted: e.lastAccepted(), fills: f, bid: e.bestBid(), ask: e.bestAsk() });
      return {
        identical: false,
        ops: i + 1,
        fills,
        mismatch: `op ${i} (kind ${s.kind[i]}, id ${s.id[i]}, price ${s.price[i]}, qty ${s.qty[i]}): ${a.name} ${what(a, fa)} vs ${b.name} ${what(b, fb)}`,
      };
    }
  }
  const da = JSON.stringify(a.depth());
  const db = JSON.stringify(b.depth());
  if (da !== db) return { identical: false, ops: s.n, fills, mismatch: "final depth differs" };
  return { identical: true, ops: s.n, fills };
}
