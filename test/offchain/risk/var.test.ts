import { expect } from "chai";
import {
  RiskError,
  bookExposures,
  historicalVar,
  monteCarloVar,
  tailRisk,
  type MarketModel,
} from "../../../offchain/risk";
import { cny, smallBook } from "./book";

const ONE_ASSET = (degreesOfFreedom: number): MarketModel => ({
  assets: ["X"],
  annualVolatility: [0.3],
  correlation: [[1]],
  degreesOfFreedom,
});

describe("risk: value at risk", () => {
  it("takes VaR as the smallest of the ⌈N·(1 − c)⌉ worst losses and ES as their mean", () => {
    const losses = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(tailRisk(losses, 0.99)).to.deep.equal({ valueAtRisk: 100n, expectedShortfall: 100n });
    expect(tailRisk(losses, 0.95)).to.deep.equal({ valueAtRisk: 96n, expectedShortfall: 98n });
    expect(
      tailRisk(
        Array.from({ length: 250 }, (_, i) => i),
        0.99,
      ),
    ).to.deep.equal({
      valueAtRisk: 247n, // 3rd worst of 250
      expectedShortfall: 248n,
    });
    expect(tailRisk([-5, -3], 0.5).valueAtRisk).to.equal(0n); // a book that only gains risks nothing
    expect(() => tailRisk([], 0.99)).to.throw(RiskError, "no losses");
    expect(() => tailRisk([1], 1)).to.throw(RiskError, "confidence");
  });

  it("sums the book's exposure per asset over every account", () => {
    const exposures = bookExposures(smallBook());
    expect(exposures.get("mbBANK")).to.equal(cny(300_000)); // 20,000 + 10,000 at 10
    expect(exposures.get("mbSMALL")).to.equal(cny(300_000)); // 10,000 + 5,000 at 20
  });

  it("computes historical VaR by hand: 1-day and compounded 2-day windows on 1,000,000 of exposure", () => {
    const exposures = new Map([["X", 1_000_000n]]);
    const returns = [-0.1, 0.05, -0.02, 0.03].map((r) => new Map([["X", r]]));
    // 1-day losses 100,000, −50,000, 20,000, −30,000; at 50% the tail is the 2 worst.
    expect(historicalVar(exposures, [returns], 0.5, 1)).to.deep.include({
      samples: 4,
      valueAtRisk: 20_000n,
      expectedShortfall: 60_000n,
    });
    // 2-day: 0.9 · 1.05 − 1 = −5.5% → 55,000; 1.05 · 0.98 − 1 → −29,000; 0.98 · 1.03 − 1 → −9,400.
    expect(historicalVar(exposures, [returns], 0.5, 2)).to.deep.include({
      samples: 3,
      valueAtRisk: 0n,
      expectedShortfall: 22_800n,
    });
    expect(() => historicalVar(exposures, [returns], 0.99, 5)).to.throw(RiskError, "as many days");
    // Two series of 2 days: 2-day windows stay inside each (−10% then +5%; −2% then +3%), 2 samples not 3.
    expect(historicalVar(exposures, [returns.slice(0, 2), returns.slice(2)], 0.5, 2).samples).to.equal(2);
  });

  it("puts Monte Carlo VaR near the analytic figure and scales it by about √10 over 10 days", () => {
    const exposures = new Map([["X", cny(1_000_000)]]);
    const options = { confidence: 0.99, paths: 20_000, seed: 3 };
    const oneDay = monteCarloVar(exposures, ONE_ASSET(30), { ...options, horizonDays: 1 });
    const tenDay = monteCarloVar(exposures, ONE_ASSET(30), { ...options, horizonDays: 10 });
    // Near-normal (ν = 30): 1,000,000 · (1 − exp(−2.33 · 0.3 / √252)) ≈ 43,100.
    expect(Number(oneDay.valueAtRisk) / 1e6).to.be.closeTo(43_100, 2_500);
    expect(Number(tenDay.valueAtRisk) / Number(oneDay.valueAtRisk)).to.be.closeTo(Math.sqrt(10), 0.35);
    expect(oneDay.expectedShortfall > oneDay.valueAtRisk).to.equal(true);
    expect(oneDay).to.deep.include({ method: "monte-carlo", horizonDays: 1, samples: 20_000 });
  });

  it("gives a larger 99% VaR and expected shortfall with fat tails (ν = 4) at the same volatility", () => {
    const exposures = new Map([["X", cny(1_000_000)]]);
    const options = { confidence: 0.99, paths: 20_000, seed: 3, horizonDays: 1 };
    const fat = monteCarloVar(exposures, ONE_ASSET(4), options);
    const thin = monteCarloVar(exposures, ONE_ASSET(30), options);
    expect(fat.valueAtRisk > thin.valueAtRisk).to.equal(true);
    expect(fat.expectedShortfall - thin.expectedShortfall > thin.expectedShortfall / 10n).to.equal(true);
  });
});
