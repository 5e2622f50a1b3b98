import { expect } from "chai";
import {
  ReturnGenerator,
  RiskError,
  Rng,
  TRADING_DAYS_PER_YEAR,
  cholesky,
  distribution,
  runMonteCarlo,
  type MarketModel,
} from "../../../offchain/risk";
import { cny, smallBook } from "./book";

const MODEL: MarketModel = {
  assets: ["mbBANK", "mbSMALL"],
  annualVolatility: [0.32, 0.48],
  correlation: [
    [1, 0.6],
    [0.6, 1],
  ],
  degreesOfFreedom: 4,
};

function moments(xs: number[]) {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  const kurtosis = xs.reduce((s, x) => s + (x - mean) ** 4, 0) / n / variance ** 2;
  return { mean, sd: Math.sqrt(variance), kurtosis };
}

describe("risk: Monte Carlo", () => {
  describe("Rng (xoshiro128**)", () => {
    it("matches the reference algorithm's first outputs for seed 1 and replays a seed exactly", () => {
      // Computed with an independent transcription of the C reference (xoshiro128starstar.c) from the same state.
      const rng = new Rng(1);
      expect([1, 2, 3, 4, 5].map(() => rng.nextUint32())).to.deep.equal([
        2442144158, 3238099751, 3819917871, 2104621829, 2021136066,
      ]);
      const a = new Rng(99);
      const b = new Rng(99);
      expect(Array.from({ length: 50 }, () => a.normal())).to.deep.equal(Array.from({ length: 50 }, () => b.normal()));
      expect(new Rng(2).uniform()).to.not.equal(new Rng(3).uniform());
    });

    it("draws uniforms strictly inside (0, 1) and standard normals with mean 0 and variance 1", () => {
      const rng = new Rng(7);
      const u = Array.from({ length: 20_000 }, () => rng.uniform());
      expect(u.every((x) => x > 0 && x < 1)).to.equal(true);
      const z = moments(Array.from({ length: 20_000 }, () => rng.normal()));
      expect(z.mean).to.be.closeTo(0, 0.03);
      expect(z.sd).to.be.closeTo(1, 0.03);
      expect(z.kurtosis).to.be.closeTo(3, 0.2);
    });
  });

  describe("cholesky", () => {
    it("factors a correlation matrix so that L·Lᵀ gives it back", () => {
      const c = [
        [1, 0.6, 0.3],
        [0.6, 1, 0.5],
        [0.3, 0.5, 1],
      ];
      const l = cholesky(c);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const product = l[i].reduce((s, _, k) => s + l[i][k] * l[j][k], 0);
          expect(product).to.be.closeTo(c[i][j], 1e-12);
        }
        for (let j = i + 1; j < 3; j++) expect(l[i][j]).to.equal(0);
      }
    });

    it("rejects matrices that are not correlation matrices", () => {
      const code = (m: number[][]) => {
        try {
          cholesky(m);
        } catch (e) {
          return (e as RiskError).code + ": " + (e as Error).message;
        }
        return "accepted";
      };
      expect(
        code([
          [1, 0.9, -0.9],
          [0.9, 1, 0.9],
          [-0.9, 0.9, 1],
        ]),
      ).to.equal("RISK_INVALID_CORRELATION: correlation matrix is not positive definite");
      expect(
        code([
          [1, 0.5],
          [0.4, 1],
        ]),
      ).to.contain("not symmetric");
      expect(
        code([
          [2, 0],
          [0, 1],
        ]),
      ).to.contain("unit diagonal");
    });
  });

  describe("ReturnGenerator", () => {
    it("hits the target volatility and correlation, with fatter tails than a normal (ν = 4)", () => {
      const generator = new ReturnGenerator(MODEL, new Rng(11));
      const days = Array.from({ length: 30_000 }, () => generator.nextDay());
      const bank = moments(days.map((d) => d[0]));
      const small = moments(days.map((d) => d[1]));
      expect(bank.sd).to.be.closeTo(0.32 / Math.sqrt(TRADING_DAYS_PER_YEAR), 0.001);
      expect(small.sd).to.be.closeTo(0.48 / Math.sqrt(TRADING_DAYS_PER_YEAR), 0.0015);
      const covariance = days.reduce((s, d) => s + (d[0] - bank.mean) * (d[1] - small.mean), 0) / days.length;
      expect(covariance / bank.sd / small.sd).to.be.closeTo(0.6, 0.03);
      expect(bank.kurtosis).to.be.greaterThan(4.5); // a normal has 3
    });

    it("rejects ν < 3 and a model whose sizes disagree", () => {
      expect(() => new ReturnGenerator({ ...MODEL, degreesOfFreedom: 2 }, new Rng(1))).to.throw(
        RiskError,
        "integer ≥ 3",
      );
      expect(() => new ReturnGenerator({ ...MODEL, annualVolatility: [0.3] }, new Rng(1))).to.throw(RiskError);
    });
  });

  describe("runMonteCarlo", () => {
    it("is reproducible for a seed and reports distributions consistent with its worst path", () => {
      const options = { paths: 40, days: 10, seed: 5 };
      const a = runMonteCarlo(smallBook(), { ...MODEL, annualVolatility: [0.6, 0.9] }, options);
      const b = runMonteCarlo(smallBook(), { ...MODEL, annualVolatility: [0.6, 0.9] }, options);
      expect(a).to.deep.equal(b);
      // C is below maintenance from the start: every path liquidates it.
      expect(a.accountsLiquidated.p99 >= 1n).to.equal(true);
      for (const metric of [a.liquidationVolume, a.badDebt, a.insuranceFundUsed, a.capitalPoolLoss]) {
        expect(metric.max >= metric.p99 && metric.p99 >= metric.p95).to.equal(true);
        expect(metric.max >= metric.mean).to.equal(true);
      }
      expect(a.worstPath.capitalPoolLoss).to.equal(a.capitalPoolLoss.max);
      expect(a.worstPath.daily).to.have.length(10);
      expect(a.pathsWithBadDebt).to.be.within(1, 40);
    });

    it("rejects a non-positive number of paths or days", () => {
      expect(() => runMonteCarlo(smallBook(), MODEL, { paths: 0, days: 1, seed: 1 })).to.throw(RiskError);
    });
  });

  it("takes percentiles as the ⌈N·(1 − q)⌉-th largest value and rounds the mean up", () => {
    const values = Array.from({ length: 100 }, (_, i) => cny(i + 1));
    expect(distribution(values)).to.deep.equal({ mean: 50_500_000n, p95: cny(96), p99: cny(100), max: cny(100) });
    expect(distribution([1n, 2n]).mean).to.equal(2n);
  });
});
