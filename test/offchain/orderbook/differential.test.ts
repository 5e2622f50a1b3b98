import { expect } from "chai";
import { type BookCommand, type ExecutionReport, InstrumentEngine, Side } from "../../../offchain/orderbook";
import { commandStream } from "./random";
import { type RefResult, ReferenceBook } from "./reference";

function applyRef(ref: ReferenceBook, ts: number, cmd: BookCommand): RefResult {
  ref.expire(ts);
  switch (cmd.kind) {
    case "limit":
      return ref.submit({ ...cmd, tif: cmd.tif });
    case "market":
      return ref.submit({ ...cmd, price: 0, tif: null });
    case "cancel":
      return ref.cancel(cmd.id, cmd.account);
    case "modify":
      return ref.modify(cmd.id, cmd.account, cmd.price, cmd.qty);
    default:
      return { accepted: true, reject: null, fills: [], restingQty: 0, cancelledQty: 0 };
  }
}

function summary(r: ExecutionReport): RefResult {
  const fills: RefResult["fills"] = [];
  for (let i = 0; i < r.fillCount; i++) fills.push([r.fillMakerIds[i], r.fillPrices[i], r.fillQtys[i]]);
  return { accepted: r.accepted, reject: r.reject, fills, restingQty: r.restingQty, cancelledQty: r.cancelledQty };
}

function queue(e: InstrumentEngine, side: Side): Array<[number, number]> {
  return [...e.book.restingOrders(side)].map((o) => [o.id, o.qty]);
}

describe("orderbook: differential test against a sorted-array reference model", function () {
  it("gives the same result, fills, touch and queues as the reference on 120 seeded streams of every order type, STP mode and modify", function () {
    let ops = 0;
    let fills = 0;
    let stpStreams = 0;
    for (let seed = 1; seed <= 120; seed++) {
      let engine = new InstrumentEngine("TEST");
      const ref = new ReferenceBook();
      let seq = 0;
      // a third of the streams run without STP, like the benchmark; the rest exercise all three modes
      const opts = { accounts: 4, stpShare: seed % 3 === 0 ? 0 : 0.5, mid: 1000, spread: 6 + (seed % 5) };
      if (opts.stpShare > 0) stpStreams++;
      for (const { ts, cmd } of commandStream(seed, 1500, () => ref.liveIds(), opts)) {
        const got = summary(engine.apply({ seq: ++seq, ts, cmd }));
        const want = applyRef(ref, ts, cmd);
        ops++;
        fills += want.fills.length;
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          expect(got, `seed ${seed} op ${seq} ${JSON.stringify(cmd)}`).to.deep.equal(want);
        }
        const refBid = ref.bids[0]?.price ?? 0;
        const refAsk = ref.asks[0]?.price ?? 0;
        if (engine.book.bestBid() !== refBid || engine.book.bestAsk() !== refAsk) {
          expect([engine.book.bestBid(), engine.book.bestAsk()], `touch, seed ${seed} op ${seq}`).to.deep.equal([
            refBid,
            refAsk,
          ]);
        }
        if (seq % 250 === 0) {
          expect(queue(engine, Side.Buy), `bid queue, seed ${seed} op ${seq}`).to.deep.equal(ref.queue(Side.Buy));
          expect(queue(engine, Side.Sell), `ask queue, seed ${seed} op ${seq}`).to.deep.equal(ref.queue(Side.Sell));
          // continue on an engine rebuilt from a snapshot: priority and clock must survive the round trip
          const restored = InstrumentEngine.fromSnapshot(engine.snapshot());
          expect(restored.hash()).to.equal(engine.hash());
          engine = restored;
        }
      }
      expect(engine.book.depth(Side.Buy), `final bid depth, seed ${seed}`).to.deep.equal(ref.depth(Side.Buy));
      expect(engine.book.depth(Side.Sell), `final ask depth, seed ${seed}`).to.deep.equal(ref.depth(Side.Sell));
    }
    expect(ops).to.equal(120 * 1500);
    expect(fills).to.be.greaterThan(20_000);
    expect(stpStreams).to.equal(80);
  });
});
