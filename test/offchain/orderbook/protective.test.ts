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
  const engine = new InstrumentEngine("TEST", { atrPeriod: 3, atrBarMs: 1_000 });
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

    it("ATR over time bars, by hand: true ranges 6, 4, 6 → 5.333333, then Wilder's 5.222222 after a gap down", function () {
      // bars of one second, period 3; each bar's rounds at t = 1000·bar + 10·i
      const atr = new AtrTracker({ period: 3, barMs: 1_000 });
      const bars = [
        [100, 104, 98, 101], // O 100 H 104 L 98 C 101: TR = H − L = 6 (no previous close)
        [103, 99, 102], // H 103 L 99 C 102: TR = max(4, |103 − 101|, |99 − 101|) = 4
        [108, 105], // H 108 L 105 C 105: TR = max(3, |108 − 102| = 6, |105 − 102|) = 6
        [100, 101], // H 101 L 100 C 101: TR = max(1, |101 − 105|, |100 − 105| = 5) = 5
        [101], // opens the fifth bar: the fourth completes
      ];
      const seen: Array<[number, bigint, boolean]> = [];
      bars.forEach((rounds, bar) => {
        rounds.forEach((p, i) => atr.update(p, 1_000 * bar + 10 * i));
        seen.push([atr.completed, atr.value, atr.ready]);
      });
      expect(seen).to.deep.equal([
        [0, 0n, false],
        [1, 6_000_000n, false],
        [2, 5_000_000n, false],
        [3, 5_333_333n, true], // (6 + 4 + 6) / 3
        [4, 5_222_222n, true], // (5.333333 · 2 + 5) / 3
      ]);
      expect(atr.current).to.deep.equal({ index: 4, open: 101, high: 101, low: 101, close: 101 });
    });

    it("the source's example from daily bars: 14 days of range 1.2, high 50 → a 3 × ATR stop at 46.4", function () {
      // tick 0.1: prices in tenths. Each day trades 48.8–50.0 and closes at 49.4: every true range is 12 ticks.
      const engine = new InstrumentEngine("TEST"); // defaults: 14 one-day bars from 00:00 UTC
      let seq = 0;
      const DAY = 86_400_000;
      const oracle = (price: number, ts: number) => engine.apply({ seq: ++seq, ts, cmd: { kind: "oracle", price } });
      for (let day = 0; day < 14; day++)
        for (const [i, p] of [488, 500, 494].entries()) oracle(p, day * DAY + i * 3_600_000);
      expect(engine.protective.atr.ready).to.equal(false); // the 14th day is still open
      oracle(500, 14 * DAY + 3_600_000);
      expect(engine.protective.atr.value).to.equal(12n * ATR_SCALE); // ATR 1.2
      const placed = engine.apply({
        seq: ++seq,
        ts: 14 * DAY + 3_700_000,
        cmd: {
          kind: "protective",
          id: 1,
          account: "alice",
          side: Side.Sell,
          qty: 1,
          trigger: "trailing",
          atrMultipleBps: 30_000,
        },
      });
      expect(placed.accepted).to.equal(true);
      expect(engine.protective.get(1)).to.include({ extreme: 500, triggerPrice: 464 }); // 50 − 3 × 1.2 = 46.4
      oracle(465, 14 * DAY + 3_800_000);
      expect(engine.protective.has(1)).to.equal(true);
      oracle(464, 14 * DAY + 3_900_000);
      expect(engine.protective.has(1)).to.equal(false);
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
      // one round per one-second bar: bars 500, 512, 500 complete with true ranges 0, 12, 12 → ATR 8 ticks;
      // then 512 (opening the fourth bar)
      [500, 512, 500, 512].forEach((p, i) => run({ kind: "oracle", price: p }, 1_000 * (i + 1)));
      expect(engine.protective.atr.value).to.equal(8n * ATR_SCALE);
      run({ kind: "oracle", price: 500 }, 5_000); // the fourth bar completes: (8 · 2 + 12) / 3 = 9.333333
      run({ kind: "oracle", price: 512 }, 5_500);
      expect(engine.protective.atr.value).to.equal(9_333_333n);
      run({
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 1,
        trigger: "trailing",
        atrMultipleBps: 30_000,
      });
      expect(engine.protective.get(2)?.triggerPrice).to.equal(512 - 27); // ⌊3 × 9.333333⌋ = 27
    });

    it("refuses an ATR trailing stop until `period` bars have completed", function () {
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

  describe("signed children and reduce-only", function () {
    it("a stop with a signed worst price fires as IOC there: nothing trades beyond it, the rest is cancelled", function () {
      const { engine, events, run } = harness();
      run({ kind: "oracle", price: 100 });
      run({ kind: "limit", id: 1, account: "bob", side: Side.Buy, price: 94, qty: 2, tif: TimeInForce.GTC });
      run({ kind: "limit", id: 3, account: "bob", side: Side.Buy, price: 90, qty: 9, tif: TimeInForce.GTC });
      const stop: BookCommand = {
        kind: "protective",
        id: 2,
        account: "alice",
        side: Side.Sell,
        qty: 5,
        trigger: "stop",
        triggerPrice: 95,
        limitPrice: 93,
        ioc: true,
      };
      expect(run(stop).accepted).to.equal(true);
      run({ kind: "oracle", price: 95, caps: { "2": 5 } });
      expect(engine.book.get(1)).to.equal(undefined); // 2 filled at 94
      expect(engine.book.get(3)?.qty).to.equal(9); // 90 is below the signed 93: untouched
      expect(engine.book.get(2)).to.equal(undefined); // the remainder did not rest
      expect(events.filter((e) => e.orderId === 2).map((e) => e.event)).to.deep.equal([
        "accepted",
        "triggered",
        "accepted",
        "fill",
        "cancelled",
      ]);
    });

    it("a reduce-only order is cut to its cap when it fires, and cancelled (REDUCE_ONLY) at a cap of 0", function () {
      const { engine, run } = harness();
      run({ kind: "oracle", price: 100 });
      run({ kind: "limit", id: 1, account: "bob", side: Side.Buy, price: 90, qty: 50, tif: TimeInForce.GTC });
      const leg = { kind: "protective", account: "alice", side: Side.Sell, trigger: "stop", limitPrice: 90, ioc: true };
      run({ ...leg, id: 2, qty: 10, triggerPrice: 96, reduceOnly: true } as BookCommand);
      run({ ...leg, id: 3, qty: 10, triggerPrice: 96, reduceOnly: true } as BookCommand);
      const seen: string[] = [];
      engine.observer = Object.assign(new MarketDataFeed("TEST", false), {
        onProtective: (event: string, o: { id: number }, qty: number) => seen.push(`${event} ${o.id} ${qty}`),
      });
      run({ kind: "oracle", price: 96, caps: { "2": 4 } });
      expect(engine.book.get(1)?.qty).to.equal(46); // 4 sold, order 3 sold nothing
      expect(seen).to.deep.equal(["cut 2 4", "fired 2 4", "cut 3 0", "cancelled 3 10"]);
    });

    it("an order whose signed child expired is dropped (EXPIRED) at the next oracle round, never fired", function () {
      const { engine, events, run } = harness();
      run({ kind: "oracle", price: 100 }, 1_000);
      run({ kind: "limit", id: 1, account: "bob", side: Side.Buy, price: 90, qty: 5, tif: TimeInForce.GTC }, 1_001);
      const leg = { kind: "protective", account: "alice", side: Side.Sell, trigger: "stop", qty: 1, limitPrice: 90 };
      run({ ...leg, id: 2, triggerPrice: 95, ioc: true, expiresAt: 2_000 } as BookCommand, 1_002);
      run({ kind: "oracle", price: 94 }, 2_000);
      expect(engine.protective.has(2)).to.equal(false);
      expect(engine.book.get(1)?.qty).to.equal(5); // nothing sold
      expect(events.find((e) => e.orderId === 2 && e.event === "cancelled")?.reason).to.equal(CancelReason.Expired);
    });

    it("a percentage trailing stop trails ⌊highest × bps⌋ below the highest", function () {
      const { engine, run } = harness();
      run({ kind: "oracle", price: 1_000 });
      run({ kind: "protective", id: 2, account: "alice", side: Side.Sell, qty: 1, trigger: "trailing", trailBps: 250 });
      expect(engine.protective.get(2)?.triggerPrice).to.equal(975);
      run({ kind: "oracle", price: 1_099 });
      expect(engine.protective.get(2)?.triggerPrice).to.equal(1_099 - 27); // ⌊1099 × 2.5%⌋ = 27
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
    const replayed = InstrumentEngine.fromSnapshot(saved, { atrPeriod: 3, atrBarMs: 1_000 });
    seq = replayed.seq;
    for (const cmd of tail) replayed.apply({ seq: ++seq, ts: 5_000, cmd });
    expect(engine.book.get(1)?.qty).to.equal(50 - 5 - 7);
    expect(replayed.hash()).to.equal(engine.hash());
  });
});
