import { expect } from "chai";
import {
  ATR_SCALE,
  AtrTracker,
  atrStopDistanceDown,
  type BookCommand,
  CancelReason,
  InstrumentEngine,
  MarketDataFeed,
  type OrderEvent,
  RejectCode,
  Side,
  TimeInForce,
  trailingStopPrice,
} from "../../../offchain/orderbook";

/** An engine whose commands are stamped in order, with a feed that records each account's order events. */
function harness() {
  const engine = new InstrumentEngine("TEST", { atrPeriod: 3 });
  const feed = new MarketDataFeed("TEST", false);
  engine.observer = feed;
  const events: OrderEvent[] = [];
  feed.subscribeAccount("alice", (e) => events.push(e));
  let seq = 0;
  const run = (cmd: BookCommand, ts = 1_000 + seq) => engine.apply({ seq: ++seq, ts, cmd });
  return { engine, events, run };
}

describe("orderbook: protective orders (oracle-triggered)", function () {
  describe("ATR trailing stop arithmetic", function () {
    it("highest 50, ATR 1.2, k = 3 → stop 46.4 (0.1 tick: 500 − ⌊3 × 12⌋ = 464)", function () {
      const d = atrStopDistanceDown(12n * ATR_SCALE, 30_000);
      expect(d).to.equal(36);
      expect(trailingStopPrice(Side.Sell, 500, d)).to.equal(464);
      expect(trailingStopPrice(Side.Buy, 500, d)).to.equal(536);
    });

    it("rounds the distance down, so the stop sits closer to the market", function () {
      // ATR 1.25 ticks × k 2.5 = 3.125 ticks → 3
      expect(atrStopDistanceDown(1_250_000n, 25_000)).to.equal(3);
    });

    it("tracks Wilder's ATR over oracle updates (mean of the first `period` ranges, then smoothed)", function () {
      const atr = new AtrTracker(3);
      for (const p of [100, 102, 101, 104]) atr.update(p); // ranges 2, 1, 3 → mean 2
      expect(atr.ready).to.equal(true);
      expect(atr.value).to.equal(2n * ATR_SCALE);
      atr.update(100); // range 4 → 2 + (4 − 2) / 3
      expect(atr.value).to.equal(2n * ATR_SCALE + (2n * ATR_SCALE) / 3n);
    });
  });

  describe("stop-loss and stop-limit fire on the oracle price, not on trades", function () {
    it("a sell stop-loss becomes a market order when the oracle falls to its trigger", function () {
      const { engine, events, run } = harness();
      run({ kind: "oracle", price: 100 });
      run({ kind: "limit", id: 1, account: "bob", side: Side.Buy, price: 94, qty: 10, tif: TimeInForce.GTC });
      expect(
        run({ kind: "protective", id: 2, account: "alice", side: Side.Sell, qty: 4, trigger: "stop", triggerPrice: 95 })
          .accepted,
      ).to.equal(true);
      // a trade printed far below the trigger does not fire it: only the oracle does
      run({ kind: "limit", id: 3, account: "carol", side: Side.Sell, price: 90, qty: 1, tif: TimeInForce.IOC });
      expect(engine.protective.has(2)).to.equal(true);
      run({ kind: "oracle", price: 96 });
      expect(engine.protective.has(2)).to.equal(true);
      run({ kind: "oracle", price: 95 });
      expect(engine.protective.has(2)).to.equal(false);
      expect(events.map((e) => e.event)).to.deep.equal(["accepted", "triggered", "accepted", "fill"]);
      expect(events[3]).to.include({ orderId: 2, price: 94, qty: 4, role: "taker" });
      expect(engine.book.get(1)?.qty).to.equal(5); // 10 − 1 (carol) − 4 (stop)
    });

    it("a stop-limit rests as a limit order at its limit price when fired", function () {
      const { engine, run } = harness();
      run({ kind: "oracle", price: 100 });
      run({
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 4,
        trigger: "stop",
        triggerPrice: 95,
        limitPrice: 93,
      });
      run({ kind: "oracle", price: 94 });
      expect(engine.book.get(2)).to.include({ price: 93, qty: 4, side: Side.Sell, tif: TimeInForce.GTC });
    });

    it("a buy stop (protecting a short) fires on a rise", function () {
      const { engine, run } = harness();
      run({ kind: "oracle", price: 100 });
      run({ kind: "protective", id: 2, account: "alice", side: Side.Buy, qty: 1, trigger: "stop", triggerPrice: 105 });
      run({ kind: "oracle", price: 104 });
      expect(engine.protective.has(2)).to.equal(true);
      run({ kind: "oracle", price: 106 });
      expect(engine.protective.has(2)).to.equal(false);
    });

    it("refuses triggers that would fire at once, and orders before any oracle price", function () {
      const { run } = harness();
      const stop: BookCommand = {
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 1,
        trigger: "stop",
        triggerPrice: 101,
      };
      expect(run(stop).reject).to.equal(RejectCode.OracleUnavailable);
      run({ kind: "oracle", price: 100 });
      expect(run(stop).reject).to.equal(RejectCode.InvalidTrigger);
      expect(run({ ...stop, trigger: "takeProfit", triggerPrice: 99 }).reject).to.equal(RejectCode.InvalidTrigger);
    });
  });

  describe("take-profit", function () {
    it("a sell take-profit fires when the oracle rises to its target", function () {
      const { engine, run } = harness();
      run({ kind: "oracle", price: 100 });
      run({ kind: "limit", id: 1, account: "bob", side: Side.Buy, price: 110, qty: 10, tif: TimeInForce.GTC });
      run({
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 3,
        trigger: "takeProfit",
        triggerPrice: 110,
      });
      run({ kind: "oracle", price: 109 });
      expect(engine.protective.has(2)).to.equal(true);
      run({ kind: "oracle", price: 110 });
      expect(engine.book.get(1)?.qty).to.equal(7);
    });
  });

  describe("trailing stops", function () {
    it("a fixed trailing sell stop follows new highs, never loosens, and fires on the pullback", function () {
      const { engine, run } = harness();
      run({ kind: "oracle", price: 100 });
      run({ kind: "protective", id: 2, account: "alice", side: Side.Sell, qty: 1, trigger: "trailing", trailTicks: 5 });
      expect(engine.protective.get(2)?.triggerPrice).to.equal(95);
      run({ kind: "oracle", price: 110 });
      expect(engine.protective.get(2)?.triggerPrice).to.equal(105);
      run({ kind: "oracle", price: 106 });
      expect(engine.protective.get(2)?.triggerPrice).to.equal(105);
      run({ kind: "oracle", price: 105 });
      expect(engine.protective.has(2)).to.equal(false);
    });

    it("an ATR trailing stop sits k × ATR below the highest oracle price", function () {
      const { engine, run } = harness();
      for (const p of [500, 512, 500, 512]) run({ kind: "oracle", price: p }); // ranges 12, 12, 12 → ATR 12 ticks
      expect(engine.protective.atr.value).to.equal(12n * ATR_SCALE);
      run({
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 1,
        trigger: "trailing",
        atrMultipleBps: 30_000,
      });
      expect(engine.protective.get(2)?.triggerPrice).to.equal(512 - 36);
    });

    it("refuses an ATR trailing stop until the ATR has `period` ranges", function () {
      const { run } = harness();
      run({ kind: "oracle", price: 500 });
      const r = run({
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 1,
        trigger: "trailing",
        atrMultipleBps: 30_000,
      });
      expect(r.reject).to.equal(RejectCode.OracleUnavailable);
    });
  });

  describe("one-cancels-other", function () {
    function pair() {
      const h = harness();
      h.run({ kind: "oracle", price: 100 });
      h.run({
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 1,
        trigger: "stop",
        triggerPrice: 95,
      });
      h.run({
        kind: "protective",
        id: 3,
        account: "alice",
        side: Side.Sell,
        qty: 1,
        trigger: "takeProfit",
        triggerPrice: 110,
        ocoWith: 2,
      });
      return h;
    }

    it("when one leg fires, the other is cancelled", function () {
      const { engine, events, run } = pair();
      run({ kind: "oracle", price: 111 });
      expect(engine.protective.size).to.equal(0);
      expect(events.find((e) => e.orderId === 2 && e.event === "cancelled")?.reason).to.equal(
        CancelReason.OcoPartnerTriggered,
      );
    });

    it("cancelling one leg cancels both", function () {
      const { engine, events, run } = pair();
      expect(run({ kind: "cancel", id: 3, account: "alice" }).accepted).to.equal(true);
      expect(engine.protective.size).to.equal(0);
      expect(events.filter((e) => e.event === "cancelled").map((e) => e.reason)).to.deep.equal([
        CancelReason.User,
        CancelReason.OcoPartnerCancelled,
      ]);
    });

    it("refuses a partner of another account, or one already paired", function () {
      const { run } = pair();
      const leg: BookCommand = {
        kind: "protective",
        id: 4,
        account: "bob",
        side: Side.Sell,
        qty: 1,
        trigger: "stop",
        triggerPrice: 90,
        ocoWith: 2,
      };
      expect(run(leg).reject).to.equal(RejectCode.OcoPartnerInvalid);
      expect(run({ ...leg, account: "alice" }).reject).to.equal(RejectCode.OcoPartnerInvalid);
    });
  });

  it("triggers are part of journaled oracle commands: replaying them from a snapshot fires the same orders", function () {
    const { engine, run } = harness();
    run({ kind: "oracle", price: 100 });
    run({ kind: "limit", id: 1, account: "bob", side: Side.Buy, price: 90, qty: 50, tif: TimeInForce.GTC });
    run({ kind: "protective", id: 2, account: "alice", side: Side.Sell, qty: 5, trigger: "trailing", trailTicks: 3 });
    run({ kind: "protective", id: 3, account: "alice", side: Side.Sell, qty: 7, trigger: "stop", triggerPrice: 96 });
    const saved = engine.snapshot();
    const tail: BookCommand[] = [
      { kind: "oracle", price: 104 },
      { kind: "oracle", price: 100 },
      { kind: "oracle", price: 95 },
    ];
    let seq = engine.seq;
    for (const cmd of tail) engine.apply({ seq: ++seq, ts: 5_000, cmd });
    const replayed = InstrumentEngine.fromSnapshot(saved, { atrPeriod: 3 });
    seq = replayed.seq;
    for (const cmd of tail) replayed.apply({ seq: ++seq, ts: 5_000, cmd });
    expect(engine.book.get(1)?.qty).to.equal(50 - 5 - 7);
    expect(replayed.hash()).to.equal(engine.hash());
  });
});
