import { expect } from "chai";
import {
  formatPrice,
  type InstrumentSpec,
  notional,
  priceToTicks,
  quantityToLots,
  RejectCode,
} from "../../../offchain/orderbook";

/** mbBANK against mbCNY: tick 0.01 CNY (10,000 minor units), lot 100 shares. */
const BANK: InstrumentSpec = {
  id: "BANK",
  base: "mbBANK",
  baseDecimals: 0,
  quote: "mbCNY",
  quoteDecimals: 6,
  tickSize: 10_000n,
  lotSize: 100n,
};

describe("orderbook: instrument grid (ticks and lots) and money", function () {
  it("maps decimal prices to ticks and refuses prices off the tick grid", function () {
    expect(priceToTicks(BANK, "12.34")).to.equal(1234);
    expect(priceToTicks(BANK, "12.345")).to.equal(RejectCode.OffTickGrid);
    expect(priceToTicks(BANK, "12.3456789")).to.equal(RejectCode.InvalidPrice);
    expect(priceToTicks(BANK, "0")).to.equal(RejectCode.InvalidPrice);
    expect(priceToTicks(BANK, "-1")).to.equal(RejectCode.InvalidPrice);
    expect(priceToTicks(BANK, "99999999")).to.equal(RejectCode.InvalidPrice); // 9.99·10^9 ticks > 2^31 − 1
  });

  it("maps quantities to lots and refuses quantities off the lot grid", function () {
    expect(quantityToLots(BANK, "300")).to.equal(3);
    expect(quantityToLots(BANK, "250")).to.equal(RejectCode.OffLotGrid);
    expect(quantityToLots(BANK, "1.5")).to.equal(RejectCode.InvalidQuantity);
  });

  it("computes notional exactly in bigint cash minor units", function () {
    // 12.34 CNY × 300 shares = 3,702 CNY
    expect(notional(BANK, 1234, 3)).to.equal(3_702_000_000n);
    // the largest price and quantity the book allows stay exact
    expect(notional(BANK, 2 ** 31 - 1, 1_000_000_000)).to.equal(2147483647n * 10_000n * 1_000_000_000n * 100n);
    expect(formatPrice(BANK, 1234)).to.equal("12.34");
    expect(formatPrice(BANK, 1200)).to.equal("12");
  });
});
