import { expect } from "chai";
import { RiskError, holdingOutcome, quoteFees, type FeeSchedule } from "../../../offchain/risk";
import { cny, pct } from "./book";

/** DESIGN.md's worked example: 8% interest plus 2,000 a year of other costs (a 1% service fee on 200,000). */
const WORKED: FeeSchedule = {
  annualRate: pct(8),
  serviceFeeRate: pct(1),
  commissionRate: 0n,
  minCommission: 0n,
  stampDutyRate: 0n,
  transferFeeRate: 0n,
  liquidationPenalty: pct(10),
};

/** A-share retail costs: commission 0.025% (min 5), stamp duty 0.05% on sells, transfer fee 0.001% per side. */
const A_SHARE: FeeSchedule = {
  annualRate: pct(8),
  maxAnnualRate: pct(12),
  serviceFeeRate: 0n,
  commissionRate: pct(0.025),
  minCommission: cny(5),
  stampDutyRate: pct(0.05),
  transferFeeRate: pct(0.001),
  liquidationPenalty: pct(10),
};

const fee = (quote: ReturnType<typeof quoteFees>, name: string) => quote.items.find((i) => i.name === name)!;

describe("risk: fee schedule", () => {
  it("charges interest per natural day at rate / 365: 8% on 200,000 is 43.835617 a day", () => {
    const quote = quoteFees({ ownFunds: cny(100_000), positionValue: cny(300_000), holdingDays: 1, schedule: WORKED });
    expect(quote.debt).to.equal(cny(200_000));
    expect(quote.dailyInterest).to.equal(43_835_617n); // 43.8356164… rounded up
    expect(fee(quote, "interest").expected).to.equal(43_835_617n);
  });

  it("reproduces the worked example: E = 100,000, L = 3, 8% → 16,000 interest, 30,000 gross, 12,000 net", () => {
    const input = { ownFunds: cny(100_000), positionValue: cny(300_000), holdingDays: 365, schedule: WORKED };
    const quote = quoteFees(input);
    expect(fee(quote, "interest").expected).to.equal(cny(16_000));
    expect(fee(quote, "serviceFee").expected).to.equal(cny(2_000));
    expect(quote.expectedTotal).to.equal(cny(18_000));

    const good = holdingOutcome(input, pct(10));
    expect(good.grossPnl).to.equal(cny(30_000));
    expect(good.netPnl).to.equal(cny(12_000));
    expect(good.returnOnOwnFunds).to.equal(pct(12));

    const poor = holdingOutcome(input, pct(5));
    expect(poor.grossPnl).to.equal(cny(15_000));
    expect(poor.netPnl).to.equal(-cny(3_000)); // a 5% year loses money
    expect(poor.netPnl < 0n).to.equal(true);
  });

  it("itemises trading costs and a worst case with the maximum rate and a full liquidation", () => {
    const quote = quoteFees({
      ownFunds: cny(100_000),
      positionValue: cny(300_000),
      holdingDays: 30,
      schedule: A_SHARE,
    });
    expect(quote.items.map((i) => i.name)).to.deep.equal([
      "interest",
      "serviceFee",
      "commission",
      "stampDuty",
      "transferFee",
      "liquidationPenalty",
    ]);
    expect(fee(quote, "interest").expected).to.equal(1_315_068_494n); // 200,000 · 8% · 30 / 365 = 1,315.0684931…
    expect(fee(quote, "interest").worstCase).to.equal(1_972_602_740n); // at 12%: 1,972.6027397…
    expect(fee(quote, "commission").expected).to.equal(cny(150)); // 75 buy + 75 sell
    expect(fee(quote, "stampDuty").expected).to.equal(cny(150));
    expect(fee(quote, "transferFee").expected).to.equal(cny(6));
    expect(fee(quote, "liquidationPenalty").expected).to.equal(0n);
    expect(fee(quote, "liquidationPenalty").worstCase).to.equal(cny(30_000));
    expect(quote.expectedTotal).to.equal(1_315_068_494n + cny(306));
    expect(quote.worstCaseTotal).to.equal(1_972_602_740n + cny(306) + cny(30_000));
  });

  it("applies the minimum commission per trade on a small position", () => {
    const quote = quoteFees({ ownFunds: cny(5_000), positionValue: cny(10_000), holdingDays: 0, schedule: A_SHARE });
    expect(fee(quote, "commission").expected).to.equal(cny(10)); // 2.50 each side → 5 minimum twice
    expect(fee(quote, "interest").expected).to.equal(0n);
  });

  it("rejects a position smaller than own funds, non-positive own funds and fractional days", () => {
    const base = { ownFunds: cny(100), positionValue: cny(50), holdingDays: 1, schedule: A_SHARE };
    expect(() => quoteFees(base)).to.throw(RiskError, "own funds must be positive");
    expect(() => quoteFees({ ...base, ownFunds: 0n })).to.throw(RiskError);
    expect(() => quoteFees({ ...base, positionValue: cny(200), holdingDays: 1.5 })).to.throw(RiskError);
  });
});
