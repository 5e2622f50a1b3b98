import { expect } from "chai";
import {
  CancelReason,
  type ExecutionReport,
  type IncomingOrder,
  MAX_OPEN_ORDERS,
  OrderBook,
  RejectCode,
  Side,
  StpMode,
  TimeInForce,
} from "../../../offchain/orderbook";

function order(p: Partial<IncomingOrder> & { id: number; side: Side }): IncomingOrder {
  return {
    account: "alice",
    price: 100,
    qty: 10,
    tif: TimeInForce.GTC,
    expiresAt: 0,
    postOnly: false,
    stp: StpMode.None,
    linked: [],
    ...p,
  };
}

function fills(r: ExecutionReport): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < r.fillCount; i++) out.push([r.fillMakerIds[i], r.fillPrices[i], r.fillQtys[i]]);
  return out;
}

function queue(b: OrderBook, side: Side): Array<[number, number]> {
  return [...b.restingOrders(side)].map((o) => [o.id, o.qty]);
}

describe("orderbook: matching engine", function () {
  let b: OrderBook;
  beforeEach(() => {
    b = new OrderBook();
  });

  describe("price-time priority", function () {
    it("fills the best price first, then the earliest order at that price", function () {
      b.limit(order({ id: 1, side: Side.Sell, price: 101, qty: 5 }));
      b.limit(order({ id: 2, side: Side.Sell, price: 100, qty: 5, account: "bob" }));
      b.limit(order({ id: 3, side: Side.Sell, price: 100, qty: 5, account: "carol" }));
      const r = b.limit(order({ id: 4, side: Side.Buy, price: 101, qty: 12, account: "dave" }));
      expect(fills(r)).to.deep.equal([
        [2, 100, 5],
        [3, 100, 5],
        [1, 101, 2],
      ]);
      expect(r.restingQty).to.equal(0);
      expect(queue(b, Side.Sell)).to.deep.equal([[1, 3]]);
    });

    it("trades at the resting order's price, not the incoming limit", function () {
      b.limit(order({ id: 1, side: Side.Buy, price: 105, qty: 3 }));
      const r = b.limit(order({ id: 2, side: Side.Sell, price: 99, qty: 3, account: "bob" }));
      expect(fills(r)).to.deep.equal([[1, 105, 3]]);
    });

    it("rests the unfilled part of a limit order behind earlier orders at its price (partial fill)", function () {
      b.limit(order({ id: 1, side: Side.Sell, price: 100, qty: 4 }));
      b.limit(order({ id: 2, side: Side.Buy, price: 99, qty: 1, account: "bob" }));
      const r = b.limit(order({ id: 3, side: Side.Buy, price: 100, qty: 10, account: "bob" }));
      expect(r.filledQty).to.equal(4);
      expect(r.restingQty).to.equal(6);
      expect(b.bestBid()).to.equal(100);
      expect(b.bestAsk()).to.equal(0);
      expect(b.get(3)?.filled).to.equal(4);
      expect(b.depth(Side.Buy)).to.deep.equal([
        [100, 6, 1],
        [99, 1, 1],
      ]);
    });
  });

  describe("order types", function () {
    beforeEach(() => {
      b.limit(order({ id: 1, side: Side.Sell, price: 100, qty: 5, account: "maker" }));
      b.limit(order({ id: 2, side: Side.Sell, price: 102, qty: 5, account: "maker" }));
    });

    it("market: takes every level it needs and cancels what the book cannot fill", function () {
      const r = b.market(order({ id: 3, side: Side.Buy, qty: 12, tif: null }));
      expect(fills(r)).to.deep.equal([
        [1, 100, 5],
        [2, 102, 5],
      ]);
      expect(r.cancelledQty).to.equal(2);
      expect(r.cancelReason).to.equal(CancelReason.MarketRemainder);
      expect(b.openOrders).to.equal(0);
    });

    it("IOC: takes up to its limit and never rests", function () {
      const r = b.limit(order({ id: 3, side: Side.Buy, price: 101, qty: 8, tif: TimeInForce.IOC }));
      expect(fills(r)).to.deep.equal([[1, 100, 5]]);
      expect(r.cancelledQty).to.equal(3);
      expect(r.cancelReason).to.equal(CancelReason.IocRemainder);
      expect(b.has(3)).to.equal(false);
    });

    it("FOK: fills completely when the book holds enough within its limit", function () {
      const r = b.limit(order({ id: 3, side: Side.Buy, price: 102, qty: 10, tif: TimeInForce.FOK }));
      expect(r.accepted).to.equal(true);
      expect(r.filledQty).to.equal(10);
    });

    it("FOK: is rejected without touching the book when it cannot fill completely", function () {
      const r = b.limit(order({ id: 3, side: Side.Buy, price: 101, qty: 6, tif: TimeInForce.FOK }));
      expect(r.accepted).to.equal(false);
      expect(r.reject).to.equal(RejectCode.FokNotFillable);
      expect(queue(b, Side.Sell)).to.deep.equal([
        [1, 5],
        [2, 5],
      ]);
    });

    it("post-only: rests when it would not take, is rejected when it would", function () {
      expect(b.limit(order({ id: 3, side: Side.Buy, price: 99, postOnly: true })).accepted).to.equal(true);
      const r = b.limit(order({ id: 4, side: Side.Buy, price: 100, postOnly: true }));
      expect(r.reject).to.equal(RejectCode.PostOnlyWouldTake);
      expect(b.has(4)).to.equal(false);
    });

    it("GTT: rests until its expiry, then leaves the book as expired", function () {
      b.expire(1_000);
      const r = b.limit(order({ id: 3, side: Side.Buy, price: 99, tif: TimeInForce.GTT, expiresAt: 2_000 }));
      expect(r.restingQty).to.equal(10);
      b.expire(1_999);
      expect(b.has(3)).to.equal(true);
      b.expire(2_000);
      expect(b.has(3)).to.equal(false);
      expect(b.bestBid()).to.equal(0);
    });

    it("GTT: is rejected when its expiry is not in the future", function () {
      b.expire(5_000);
      const r = b.limit(order({ id: 3, side: Side.Buy, price: 99, tif: TimeInForce.GTT, expiresAt: 5_000 }));
      expect(r.reject).to.equal(RejectCode.AlreadyExpired);
    });
  });

  describe("cancel", function () {
    it("removes the order in O(1) by id and drops its level when empty", function () {
      b.limit(order({ id: 1, side: Side.Buy, price: 99 }));
      b.limit(order({ id: 2, side: Side.Buy, price: 98 }));
      const r = b.cancel(1, "alice");
      expect(r.accepted).to.equal(true);
      expect(r.cancelledQty).to.equal(10);
      expect(r.cancelReason).to.equal(CancelReason.User);
      expect(b.bestBid()).to.equal(98);
      expect(b.bids.levels.map((l) => l.price)).to.deep.equal([98]);
    });

    it("refuses an unknown order and another account's order", function () {
      b.limit(order({ id: 1, side: Side.Buy, price: 99 }));
      expect(b.cancel(7, "alice").reject).to.equal(RejectCode.UnknownOrder);
      expect(b.cancel(1, "mallory").reject).to.equal(RejectCode.NotOrderOwner);
      expect(b.has(1)).to.equal(true);
    });
  });

  describe("modify", function () {
    beforeEach(() => {
      b.limit(order({ id: 1, side: Side.Buy, price: 99, qty: 10 }));
      b.limit(order({ id: 2, side: Side.Buy, price: 99, qty: 10, account: "bob" }));
    });

    it("a size decrease keeps time priority", function () {
      const r = b.modify(1, "alice", undefined, 4);
      expect(r.accepted).to.equal(true);
      expect(queue(b, Side.Buy)).to.deep.equal([
        [1, 4],
        [2, 10],
      ]);
    });

    it("a size increase loses time priority", function () {
      b.modify(1, "alice", undefined, 11);
      expect(queue(b, Side.Buy)).to.deep.equal([
        [2, 10],
        [1, 11],
      ]);
    });

    it("a price change loses priority, keeps account and STP, and trades when the new price crosses", function () {
      b.limit(order({ id: 3, side: Side.Sell, price: 101, qty: 3, account: "carol" }));
      b.modify(1, "alice", 100, undefined);
      expect(queue(b, Side.Buy)).to.deep.equal([
        [1, 10],
        [2, 10],
      ]);
      const r = b.modify(2, "bob", 101, undefined);
      expect(fills(r)).to.deep.equal([[3, 101, 3]]);
      expect(b.get(2)?.account).to.equal("bob");
      expect(b.get(2)?.filled).to.equal(3);
      expect(b.get(2)?.qty).to.equal(7);
    });

    it("refuses a no-op, a foreign order, a post-only price that would take, and bad values", function () {
      b.limit(order({ id: 3, side: Side.Buy, price: 90, postOnly: true }));
      b.limit(order({ id: 4, side: Side.Sell, price: 101, account: "carol" }));
      expect(b.modify(1, "alice", 99, 10).reject).to.equal(RejectCode.ModifyNoChange);
      expect(b.modify(1, "bob", 98, undefined).reject).to.equal(RejectCode.NotOrderOwner);
      expect(b.modify(3, "alice", 101, undefined).reject).to.equal(RejectCode.PostOnlyWouldTake);
      expect(b.get(3)?.price).to.equal(90);
      expect(b.modify(1, "alice", undefined, 0).reject).to.equal(RejectCode.InvalidQuantity);
      expect(b.modify(1, "alice", 0, undefined).reject).to.equal(RejectCode.InvalidPrice);
      expect(b.modify(99, "alice", 98, undefined).reject).to.equal(RejectCode.UnknownOrder);
    });
  });

  describe("self-trade prevention (the incoming order's mode applies)", function () {
    beforeEach(() => {
      b.limit(order({ id: 1, side: Side.Sell, price: 100, qty: 5, account: "alice" }));
      b.limit(order({ id: 2, side: Side.Sell, price: 100, qty: 5, account: "bob" }));
    });

    it("none: the account trades with itself", function () {
      const r = b.limit(order({ id: 3, side: Side.Buy, qty: 5 }));
      expect(fills(r)).to.deep.equal([[1, 100, 5]]);
    });

    it("cancel-newest: the incoming remainder is cancelled at the first own order, the resting one stays", function () {
      const r = b.limit(order({ id: 3, side: Side.Buy, qty: 5, stp: StpMode.CancelNewest }));
      expect(r.filledQty).to.equal(0);
      expect(r.cancelledQty).to.equal(5);
      expect(r.cancelReason).to.equal(CancelReason.SelfTradeNewest);
      expect(queue(b, Side.Sell)).to.deep.equal([
        [1, 5],
        [2, 5],
      ]);
    });

    it("cancel-oldest: the resting own order is cancelled and matching goes on", function () {
      const r = b.limit(order({ id: 3, side: Side.Buy, qty: 5, stp: StpMode.CancelOldest }));
      expect(fills(r)).to.deep.equal([[2, 100, 5]]);
      expect(b.openOrders).to.equal(0);
    });

    it("decrement-both: both shrink by the smaller size without a trade", function () {
      const r = b.limit(order({ id: 3, side: Side.Buy, qty: 3, stp: StpMode.DecrementBoth }));
      expect(r.filledQty).to.equal(0);
      expect(r.cancelledQty).to.equal(3);
      expect(r.cancelReason).to.equal(CancelReason.SelfTradeDecrement);
      expect(queue(b, Side.Sell)).to.deep.equal([
        [1, 2],
        [2, 5],
      ]);
      const r2 = b.limit(order({ id: 4, side: Side.Buy, qty: 6, stp: StpMode.DecrementBoth }));
      expect(fills(r2)).to.deep.equal([[2, 100, 4]]);
      expect(r2.cancelledQty).to.equal(2);
      expect(queue(b, Side.Sell)).to.deep.equal([[2, 1]]);
    });

    it("FOK counts only liquidity it could really take under its STP mode", function () {
      expect(
        b.limit(order({ id: 3, side: Side.Buy, qty: 6, tif: TimeInForce.FOK, stp: StpMode.CancelOldest })).reject,
      ).to.equal(RejectCode.FokNotFillable);
      expect(
        b.limit(order({ id: 4, side: Side.Buy, qty: 5, tif: TimeInForce.FOK, stp: StpMode.CancelOldest })).filledQty,
      ).to.equal(5);
    });
  });

  describe("rejects carry a reason code", function () {
    const cases: Array<[string, Partial<IncomingOrder>, RejectCode]> = [
      ["side", { side: 7 as Side }, RejectCode.InvalidSide],
      ["order id", { id: 0 }, RejectCode.InvalidOrderId],
      ["zero quantity", { qty: 0 }, RejectCode.InvalidQuantity],
      ["fractional quantity", { qty: 1.5 }, RejectCode.InvalidQuantity],
      ["quantity above 10^9 lots", { qty: 1_000_000_001 }, RejectCode.InvalidQuantity],
      ["zero price", { price: 0 }, RejectCode.InvalidPrice],
      ["price above 2^31 − 1 ticks", { price: 2 ** 31 }, RejectCode.InvalidPrice],
      ["time in force", { tif: 9 as TimeInForce }, RejectCode.InvalidTimeInForce],
      ["post-only IOC", { tif: TimeInForce.IOC, postOnly: true }, RejectCode.InvalidTimeInForce],
      ["STP mode", { stp: 8 as StpMode }, RejectCode.InvalidStpMode],
    ];
    for (const [what, p, code] of cases) {
      it(`invalid ${what} → ${code}`, function () {
        const r = b.limit(order({ id: 1, side: Side.Buy, ...p }));
        expect(r.accepted).to.equal(false);
        expect(r.reject).to.equal(code);
        expect(b.openOrders).to.equal(0);
      });
    }

    it("a live order id → DUPLICATE_ORDER_ID", function () {
      b.limit(order({ id: 1, side: Side.Buy }));
      expect(b.limit(order({ id: 1, side: Side.Buy, price: 90 })).reject).to.equal(RejectCode.DuplicateOrderId);
    });

    it("a full book → BOOK_FULL (the capacity that keeps every sum a safe integer)", function () {
      const small = new OrderBook(2);
      small.limit(order({ id: 1, side: Side.Buy, price: 90 }));
      small.limit(order({ id: 2, side: Side.Buy, price: 91 }));
      expect(small.limit(order({ id: 3, side: Side.Buy, price: 92 })).reject).to.equal(RejectCode.BookFull);
      // an order that cannot rest is still fine
      expect(small.limit(order({ id: 4, side: Side.Sell, price: 91, tif: TimeInForce.IOC })).filledQty).to.equal(10);
      expect(MAX_OPEN_ORDERS * 1_000_000_000).to.be.below(Number.MAX_SAFE_INTEGER);
    });
  });
});
