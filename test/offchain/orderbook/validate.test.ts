import { expect } from "chai";
import * as orderbook from "../../../offchain/orderbook";
import { decodeCommand, RejectCode, Side, StpMode, TimeInForce } from "../../../offchain/orderbook";

describe("orderbook: edge validation of untrusted commands", function () {
  it("decodes a limit order with names for enums", function () {
    const d = decodeCommand({
      kind: "limit",
      id: 7,
      account: "0xabc",
      side: "sell",
      price: 1234,
      qty: 3,
      tif: "GTT",
      expiresAt: 99,
      postOnly: true,
      stp: "cancelOldest",
    });
    expect(d).to.deep.equal({
      ok: true,
      cmd: {
        kind: "limit",
        id: 7,
        account: "0xabc",
        side: Side.Sell,
        price: 1234,
        qty: 3,
        tif: TimeInForce.GTT,
        expiresAt: 99,
        postOnly: true,
        stp: StpMode.CancelOldest,
      },
    });
  });

  const bad: Array<[string, unknown, RejectCode, string]> = [
    ["a non-object", "limit", RejectCode.MalformedCommand, "body"],
    ["an unknown kind", { kind: "iceberg", id: 1, account: "a" }, RejectCode.MalformedCommand, "kind"],
    ["an unknown field", { kind: "cancel", id: 1, account: "a", force: true }, RejectCode.MalformedCommand, "force"],
    [
      "a fractional price",
      { kind: "limit", id: 1, account: "a", side: "buy", price: 1.5, qty: 1 },
      RejectCode.InvalidPrice,
      "price",
    ],
    [
      "a string quantity",
      { kind: "market", id: 1, account: "a", side: "buy", qty: "5" },
      RejectCode.InvalidQuantity,
      "qty",
    ],
    ["an unknown side", { kind: "market", id: 1, account: "a", side: "long", qty: 5 }, RejectCode.InvalidSide, "side"],
    [
      "an unknown STP mode",
      { kind: "market", id: 1, account: "a", side: "buy", qty: 5, stp: "both" },
      RejectCode.InvalidStpMode,
      "stp",
    ],
    ["a modify with nothing to change", { kind: "modify", id: 1, account: "a" }, RejectCode.ModifyNoChange, "price"],
    [
      "an unknown trigger",
      { kind: "protective", id: 1, account: "a", side: "sell", qty: 1, trigger: "moon" },
      RejectCode.InvalidTrigger,
      "trigger",
    ],
    [
      "a prototype key as enum",
      { kind: "market", id: 1, account: "a", side: "toString", qty: 5 },
      RejectCode.InvalidSide,
      "side",
    ],
  ];
  for (const [what, input, reject, field] of bad) {
    it(`rejects ${what} with ${reject} on "${field}"`, function () {
      expect(decodeCommand(input)).to.deep.equal({ ok: false, reject, field });
    });
  }

  it("keeps the capability's public surface deliberate", function () {
    expect(Object.keys(orderbook).sort()).to.deep.equal(
      [
        "ATR_SCALE",
        "AtrTracker",
        "BookService",
        "BookSide",
        "CancelReason",
        "ExecutionReport",
        "FileJournal",
        "FileSnapshotStore",
        "InMemoryRiskState",
        "InstrumentEngine",
        "JournalCorruptError",
        "JournalFailedError",
        "MAX_OPEN_ORDERS",
        "MAX_PRICE_TICKS",
        "MAX_QTY_LOTS",
        "MarginState",
        "MarketDataFeed",
        "NullObserver",
        "ObserverFanout",
        "OrderBook",
        "PROTECTIVE_TYPES",
        "PreTradeRisk",
        "PriceLevel",
        "ProtectiveBook",
        "RejectCode",
        "SequenceGapError",
        "Side",
        "StpMode",
        "TimeInForce",
        "atrStopDistanceDown",
        "decodeCommand",
        "formatPrice",
        "formatUnits",
        "lotsToUnits",
        "notional",
        "parseDecimal",
        "priceToTicks",
        "quantityToLots",
        "recover",
        "ticksToPrice",
        "trailingStopPrice",
        // the wiring: store journal, gateway, routes, streams, chain risk source
        "StoreJournal",
        "StoreSnapshotStore",
        "OrderGateway",
        "storeTradeSink",
        "orderbookRoutes",
        "orderbookStreams",
        "ChainRiskState",
        "oracleTicks",
      ].sort(),
    );
  });
});
