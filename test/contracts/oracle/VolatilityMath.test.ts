import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { OracleVolatilityMathHarness__factory } from "../../../typechain-types";

const WAD = 10n ** 18n;

async function harnessFixture() {
  const [deployer] = await hre.ethers.getSigners();
  return new OracleVolatilityMathHarness__factory(deployer).deploy();
}

describe("VolatilityMath", () => {
  it("computes ln(next/prev) within 1e-15 of Math.log for 18-decimal prices from 1e-6 to 1e6", async () => {
    const math = await loadFixture(harnessFixture);
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 10n ** 12n, max: 10n ** 24n }),
        fc.bigInt({ min: 10n ** 12n, max: 10n ** 24n }),
        async (prev, next) => {
          const r = Number(await math.logReturn(prev, next)) / 1e18;
          const reference = Math.log(Number(next) / Number(prev));
          // float64 itself carries ~1e-16 relative error on each input and on the log.
          expect(Math.abs(r - reference)).to.be.lessThan(1e-15 + Math.abs(reference) * 1e-15);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("is exactly antisymmetric and zero for equal prices", async () => {
    const math = await loadFixture(harnessFixture);
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        async (a, b) => {
          expect(await math.logReturn(a, b)).to.equal(-(await math.logReturn(b, a)));
        },
      ),
      { numRuns: 50 },
    );
    expect(await math.logReturn(7n * WAD, 7n * WAD)).to.equal(0n);
  });

  it("weighs a return by 2^(−Δt / half-life) within 1e-16 of the float reference", async () => {
    const math = await loadFixture(harnessFixture);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 * 86_400 }),
        fc.integer({ min: 1, max: 10 * 86_400 }),
        async (t, h) => {
          const w = Number(await math.decayWeight(t, h)) / 1e18;
          expect(Math.abs(w - Math.pow(2, -t / h))).to.be.lessThan(1e-15);
        },
      ),
      { numRuns: 150 },
    );
    expect(await math.decayWeight(0n, 86_400n)).to.equal(WAD);
    expect(await math.decayWeight(86_400n, 86_400n)).to.equal(WAD / 2n);
    expect(await math.decayWeight(64n * 86_400n, 86_400n)).to.equal(0n);
  });

  it("estimates the same daily volatility whether a random walk is pushed every minute or every 10 minutes", async () => {
    const math = await loadFixture(harnessFixture);
    // A seeded random walk with a true daily σ of 2%: one path, observed at two push intervals.
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const gauss = (): number => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    const sigmaDaily = 0.02;
    const seconds = 2 * 86_400;
    const logPrice: number[] = [0];
    for (let t = 1; t <= seconds; t++) logPrice.push(logPrice[t - 1] + sigmaDaily * Math.sqrt(1 / 86_400) * gauss());
    const run = async (every: number): Promise<number> => {
      let v = 0n;
      let w = 0n;
      for (let t = every; t <= seconds; t += every) {
        const r = BigInt(Math.round((logPrice[t] - logPrice[t - every]) * 1e18));
        [v, w] = await math.nextVariance(v, w, r, BigInt(every), 86_400n);
      }
      return Number(await math.volatility(v)) / 1e18;
    };
    const coarse = await run(600);
    const fine = await run(60);
    // Both estimate 2% a day (a per-round EWMA would differ by √(600/60) ≈ 3.2×).
    expect(coarse).to.be.within(0.017, 0.023);
    expect(fine).to.be.within(0.017, 0.023);
    expect(Math.abs(coarse - fine) / fine).to.be.lessThan(0.2);
  });

  it("steps V and W as (w·V·W + (1 − w)·r²·86400/Δt) / W' and W' = w·W + (1 − w), and takes √V in wad", async () => {
    const math = await loadFixture(harnessFixture);
    const r = 2n * 10n ** 16n; // 2% over one day: the sample is r² itself
    const [v1, w1] = await math.nextVariance(0n, 0n, r, 86_400n, 86_400n);
    expect(w1).to.equal(WAD / 2n);
    expect(v1).to.equal((r * r) / WAD);
    expect(await math.volatility(v1)).to.equal(r);
    // the same return over an hour is 24 times the daily variance
    const [v2] = await math.nextVariance(0n, 0n, r, 3_600n, 86_400n);
    expect(Number(v2) / 1e18).to.be.closeTo(24 * 0.0004, 1e-12);
    // a second day's return of 1% after the first: (½·4e-4·½ + ½·1e-4) / (½·½ + ½) = 2e-4
    const [v3, w3] = await math.nextVariance(v1, w1, r / 2n, 86_400n, 86_400n);
    expect(w3).to.equal((3n * WAD) / 4n);
    expect(Number(v3) / 1e18).to.be.closeTo(2e-4, 1e-15);
    expect(await math.volatility(0n)).to.equal(0n);
  });
});
