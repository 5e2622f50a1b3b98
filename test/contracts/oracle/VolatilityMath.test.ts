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

  it("steps the EWMA as λ·σ² + (1 − λ)·r², seeds with r², and takes √ in wad", async () => {
    const math = await loadFixture(harnessFixture);
    const lambda = (94n * WAD) / 100n;
    const r = 2n * 10n ** 16n; // 2%
    expect(await math.nextVariance(123n, r, lambda, true)).to.equal((r * r) / WAD);
    const v = 4n * 10n ** 14n;
    expect(await math.nextVariance(v, -r, lambda, false)).to.equal((v * lambda) / WAD + (((r * r) / WAD) * 6n) / 100n);
    expect(await math.volatility(4n * 10n ** 14n)).to.equal(2n * 10n ** 16n);
  });
});
