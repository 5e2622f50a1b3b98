import { expect } from "chai";
import { DEFAULT_TRADE_FEES, sizePosition, tradeCosts } from "../../../offchain/portfolio";

const CNY = 10n ** 6n;

describe("position sizing and a trade's costs (hand-computed)", function () {
  it("the source's rule: 1% of 100,000 CNY at risk, entry 50, a 3 × ATR stop with ATR 1.2 → stop 46.4, 277 shares, 200 in lots of 100", function () {
    const base = {
      equity: 100_000n * CNY,
      riskBps: 100,
      entryPrice: 50n * CNY,
      side: "buy" as const,
      atr: 1_200_000n,
      atrMultipleBps: 30_000,
      decimals: 0,
    };
    const one = sizePosition({ ...base, lotSize: 1n });
    // budget 1,000 CNY; distance 3 × 1.2 = 3.6 CNY; 1,000 / 3.6 = 277.7 → 277
    expect(one.budget).to.equal(1_000n * CNY);
    expect(one.stopDistance).to.equal(3_600_000n);
    expect(one.stopPrice).to.equal(46_400_000n);
    expect(one.quantity).to.equal(277n);
    expect(one.lossAtStop).to.equal(997_200_000n); // 277 × 3.6 = 997.2 CNY ≤ 1,000
    expect(one.notional).to.equal(13_850n * CNY);
    const lots = sizePosition({ ...base, lotSize: 100n });
    expect(lots.quantity).to.equal(200n);
    expect(lots.lossAtStop).to.equal(720n * CNY);
  });

  it("a stop price instead of an ATR; a stop on the wrong side is refused; no equity sizes nothing", function () {
    const s = sizePosition({
      equity: 50_000n * CNY,
      riskBps: 200,
      entryPrice: 10n * CNY,
      stopPrice: 9_500_000n,
      side: "buy",
      decimals: 0,
      lotSize: 100n,
    });
    // budget 1,000 CNY, distance 0.5 CNY → 2,000 shares
    expect(s.quantity).to.equal(2_000n);
    expect(() =>
      sizePosition({ equity: 1n, riskBps: 1, entryPrice: 10n, stopPrice: 11n, side: "buy", decimals: 0, lotSize: 1n }),
    ).to.throw(/losing side/);
    expect(
      sizePosition({ equity: -5n, riskBps: 100, entryPrice: 10n, stopPrice: 9n, side: "buy", decimals: 0, lotSize: 1n })
        .quantity,
    ).to.equal(0n);
  });

  it("a 100,000 CNY buy, 40,000 of it financed at 8% for 30 days: commission, stamp duty, transfer fee, interest, break-even", function () {
    const c = tradeCosts({
      side: "buy",
      notional: 100_000n * CNY,
      limitPrice: 10n * CNY,
      financed: 40_000n * CNY,
      holdingDays: 30,
      annualRate: 8n * 10n ** 16n,
      schedule: DEFAULT_TRADE_FEES,
    });
    const amount = Object.fromEntries(c.items.map((i) => [i.name, i.amount]));
    expect(amount.commission).to.equal(50n * CNY); // max(5, 0.025% × 100,000 = 25) × 2 legs
    expect(amount.stampDuty).to.equal(50n * CNY); // 0.05% on the sale
    expect(amount.transferFee).to.equal(2n * CNY); // 0.001% × 2 legs
    expect(amount.interest).to.equal(263_013_699n); // 40,000 × 8% × 30 / 365 = 263.0136986… rounded up
    expect(amount.serviceFee).to.equal(0n);
    expect(c.total).to.equal(365_013_699n);
    // 365.013699 / 100,000 = 0.365013699% → rounded up in WAD
    expect(c.breakEvenMove).to.equal(3_650_136_990_000_000n);
    expect(c.breakEvenPrice).to.equal(10_036_502n); // 10 × 1.00365013699 = 10.0365013699 → up
    const small = tradeCosts({
      ...c,
      side: "sell",
      notional: 1_000n * CNY,
      limitPrice: 10n * CNY,
      annualRate: 0n,
      schedule: DEFAULT_TRADE_FEES,
    });
    expect(small.items[0].amount).to.equal(5n * CNY); // the minimum commission, one leg
    expect(small.breakEvenMove).to.equal(null);
  });
});
