import { expect } from "chai";
import fc from "fast-check";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { PortfolioMarginHarness } from "../../../typechain-types";
import type { OptionLeg, OptionMarket, PortfolioRiskParameters } from "../../../offchain/risk";
import { DAY, MARKET, NOW, PARAMS, WAD, harnessFixture, leg } from "./fixtures";

const CNY = WAD; // requirements are 18-decimal money (price units × whole shares)
const SEED = Number(process.env.MB_PROPERTY_SEED ?? 20261207);
const RUNS = Number(process.env.MB_OPTION_PROPERTY_RUNS ?? 20); // 40 in the helper's runs; 20 keeps CI shorter

async function requirementOf(
  math: PortfolioMarginHarness,
  units: bigint,
  legs: OptionLeg[],
  market: OptionMarket = MARKET,
  params: PortfolioRiskParameters = PARAMS,
) {
  const [requirement, worstScenario, worstLoss] = await math.requirement(units, legs, market, params);
  const losses = await math.scenarioLosses(units, legs, market, params);
  return { requirement, worstScenario: Number(worstScenario), worstLoss, losses: [...losses] };
}

/** The price of a leg now, per share (wad). */
async function premium(math: PortfolioMarginHarness, l: OptionLeg): Promise<bigint> {
  const f = l.isCall ? math.callPrice : math.putPrice;
  return f(MARKET.spot, l.strike, l.expiry - NOW, MARKET.volatility, MARKET.rate);
}

const near = (x: bigint, cny: number, tolerance = 0.01): void => {
  expect(Math.abs(Number(x) / 1e18 - cny)).to.be.lessThan(tolerance);
};

describe("PortfolioMargin", () => {
  describe("worked examples (spot 10, σ 30%, 90 days, range ±15%, vol ±25%, extreme ±30% at 35%, 1-day look-ahead)", () => {
    it("10,000 shares alone need the full 15% down-move: 15,000 CNY (scenario 12, price −R)", async () => {
      const math = await loadFixture(harnessFixture);
      // By hand: every scenario loses 10,000 × (10 − scenario spot). −R: 10,000 × 1.5 = 15,000 (rows 12 and 13, the
      // lower index reported); the extreme −30% row: 10,000 × 3 × 35% = 10,500. Volatility is irrelevant to shares.
      const r = await requirementOf(math, 10_000n, []);
      expect(r.requirement).to.equal(15_000n * CNY);
      expect(r.worstScenario).to.equal(12);
      expect(r.losses[15]).to.equal(10_500n * CNY);
      expect(r.losses[10]).to.equal(-15_000n * CNY);
    });

    it("a protective put struck at 9 lowers it to 10,113.74 CNY, below the put-capped loss 11,991.38", async () => {
      const math = await loadFixture(harnessFixture);
      // By hand (Black-Scholes, r = 0): the 9-put costs P0 = 0.199138 per share now (T = 90 days). With the put, the
      // position is worth at least 10,000 × max(S', 9) in any scenario (a European put with r = 0 is worth at least
      // its intrinsic value), so no loss exceeds 10,000 × (10 − 9) + 10,000 × P0 = 11,991.38: the put-capped loss.
      // The worst row is 13 (price −15% to 8.50, σ down to 22.5%, 89 days left): the shares lose 15,000, the put
      // gains 10,000 × (P(8.50) − P0) = 10,000 × (0.68776 − 0.19914) = 4,886.26 → 10,113.74 CNY.
      const put = leg(false, 9n, 100n);
      const p0 = await premium(math, put);
      near(p0, 0.19913761897948268, 1e-12);
      const hedged = await requirementOf(math, 10_000n, [put]);
      const alone = await requirementOf(math, 10_000n, []);
      expect(hedged.worstScenario).to.equal(13);
      near(hedged.requirement, 10_113.74);
      expect(hedged.requirement < alone.requirement).to.equal(true);
      const cap = 10_000n * (10n * WAD - 9n * WAD) + 10_000n * p0;
      expect(hedged.requirement <= cap).to.equal(true);
      for (const loss of hedged.losses) expect(loss <= cap).to.equal(true);
    });

    it("a collar (long shares, long 9-put, short 11-call) needs 7,685.57 CNY, below the put alone and its cap", async () => {
      const math = await loadFixture(harnessFixture);
      // By hand: the written 11-call (C0 = 0.246514) pays for the put (net credit 0.047376 per share), so the cap is
      // 10,000 × (10 − 9) − 10,000 × 0.047376 = 9,526.24; the worst row is again 13 (−15%, σ down): shares −15,000,
      // put +4,886.26, short call +10,000 × (0.24651 − 0.00368) = +2,428.17 → 7,685.57 CNY. The short-option minimum
      // is 10,000 × 10 × 1% = 1,000, below the scan risk, so it does not bind.
      const put = leg(false, 9n, 100n);
      const call = leg(true, 11n, -100n);
      const collar = await requirementOf(math, 10_000n, [put, call]);
      const putOnly = await requirementOf(math, 10_000n, [put]);
      expect(collar.worstScenario).to.equal(13);
      near(collar.requirement, 7_685.57);
      expect(collar.requirement < putOnly.requirement).to.equal(true);
      const cap = 10_000n * WAD - 10_000n * ((await premium(math, call)) - (await premium(math, put)));
      expect(collar.requirement <= cap).to.equal(true);
      expect(await math.shortOptionCharge([put, call], MARKET.spot, PARAMS.shortOptionMinimum)).to.equal(1_000n * CNY);
    });

    it("a naked written 11-call needs 8,571.04 CNY, 3.5 times its premium of 2,465.14", async () => {
      const math = await loadFixture(harnessFixture);
      // By hand: the worst row is 10 (+15% to 11.50, σ up to 37.5%, 89 days): the call is worth 1.10362, so the
      // writer loses 10,000 × (1.10362 − 0.24651) = 8,571.04 CNY.
      const call = leg(true, 11n, -100n);
      const r = await requirementOf(math, 0n, [call]);
      expect(r.worstScenario).to.equal(10);
      near(r.requirement, 8_571.04);
      expect(r.requirement > 10_000n * (await premium(math, call))).to.equal(true);
    });

    it("far out of the money (a written 20-call) the short-option minimum binds: 1,000 CNY instead of 11.13", async () => {
      const math = await loadFixture(harnessFixture);
      // By hand: C0 = 6.8e-7; at +15% and σ 37.5% the call is worth 0.00111, a scan loss of 11.13 CNY; the minimum
      // charge is 10,000 written shares × 10 × 1% = 1,000 CNY and replaces the scan risk (SPAN: the larger of the two).
      const r = await requirementOf(math, 0n, [leg(true, 20n, -100n)]);
      near(r.worstLoss, 11.13);
      expect(r.requirement).to.equal(1_000n * CNY);
    });

    it("a put spread never needs more than its width: 3,408.16 (bought 10/9) and 4,502.48 (sold 10/9) ≤ 10,000", async () => {
      const math = await loadFixture(harnessFixture);
      // By hand: the 10-put costs 0.593751, the 9-put 0.199138. Bought spread (long 10, short 9): at most the debit,
      // 10,000 × 0.394614 = 3,946.14, is lost; worst row 11 (+15%, σ down): 3,408.16. Sold spread (short 10, long 9):
      // at most width − credit = 10,000 − 3,946.14 = 6,053.86; worst row 13 (−15%, σ down): 4,502.48. The short-option
      // minimum (1,000) does not bind. Both are below the spread width × size = 1 × 10,000 = 10,000 CNY.
      const bought = await requirementOf(math, 0n, [leg(false, 10n, 100n), leg(false, 9n, -100n)]);
      const sold = await requirementOf(math, 0n, [leg(false, 10n, -100n), leg(false, 9n, 100n)]);
      near(bought.requirement, 3_408.16);
      near(sold.requirement, 4_502.48);
      expect(bought.worstScenario).to.equal(11);
      expect(sold.worstScenario).to.equal(13);
      for (const r of [bought, sold]) expect(r.requirement <= 10_000n * CNY).to.equal(true);
      // The two spreads are each other's opposite: rows 0–13 are exact negatives.
      for (let i = 0; i < 14; i++) expect(bought.losses[i]).to.equal(-sold.losses[i]);
    });

    it("values an expired leg at its intrinsic value in every scenario", async () => {
      const math = await loadFixture(harnessFixture);
      // A put struck at 12 that expired yesterday is worth 2 per share at spot 10: 100 contracts × 100 × 2 = 20,000;
      // at −15% (8.50) it is worth 3.50, so row 12 gains 15,000 and offsets the shares' loss exactly.
      const expired = { ...leg(false, 12n, 100n), expiry: NOW - DAY };
      const value = await math.portfolioValue(0n, [expired], MARKET.spot, MARKET.volatility, MARKET, 0n);
      expect(value).to.equal(20_000n * CNY);
      const r = await requirementOf(math, 10_000n, [expired]);
      expect(r.losses[12]).to.equal(0n);
      expect(r.requirement).to.equal(0n);
    });
  });

  describe("the grid", () => {
    it("moves the price by 0, ±R/3, ±2R/3, ±R with volatility up and down, then ±X at unchanged volatility", async () => {
      const math = await loadFixture(harnessFixture);
      const expected: [number, number][] = [
        [10, 0.375], [10, 0.225], [10.5, 0.375], [10.5, 0.225], [9.5, 0.375], [9.5, 0.225], [11, 0.375], [11, 0.225],
        [9, 0.375], [9, 0.225], [11.5, 0.375], [11.5, 0.225], [8.5, 0.375], [8.5, 0.225], [13, 0.3], [7, 0.3],
      ]; // prettier-ignore
      for (let i = 0; i < 16; i++) {
        const [spot, volatility] = await math.scenarioMarket(i, MARKET, PARAMS);
        expect(Number(spot) / 1e18).to.be.closeTo(expected[i][0], 1e-15);
        expect(Number(volatility) / 1e18).to.be.closeTo(expected[i][1], 1e-15);
      }
    });
  });

  describe("bad input", () => {
    it("refuses a zero spot, a zero strike or contract size, too many legs and ranges of 100% or more", async () => {
      const math = await loadFixture(harnessFixture);
      const put = leg(false, 9n, 1n);
      await expect(math.requirement(1n, [], { ...MARKET, spot: 0n }, PARAMS))
        .to.be.revertedWithCustomError(math, "PortfolioMarginSpotOutOfRange")
        .withArgs(0n);
      await expect(math.requirement(1n, [put, { ...put, strike: 0n }], MARKET, PARAMS))
        .to.be.revertedWithCustomError(math, "PortfolioMarginStrikeOutOfRange")
        .withArgs(1n, 0n);
      await expect(math.requirement(1n, [{ ...put, contractSize: 0n }], MARKET, PARAMS))
        .to.be.revertedWithCustomError(math, "PortfolioMarginContractSizeOutOfRange")
        .withArgs(0n, 0n);
      await expect(math.requirement(1n, Array(9).fill(put), MARKET, PARAMS))
        .to.be.revertedWithCustomError(math, "PortfolioMarginTooManyLegs")
        .withArgs(9n, 8n);
      await expect(math.requirement(1n, [put], MARKET, { ...PARAMS, priceRange: WAD }))
        .to.be.revertedWithCustomError(math, "PortfolioMarginPriceRangeTooWide")
        .withArgs(WAD);
      await expect(math.requirement(1n, [put], MARKET, { ...PARAMS, priceRange: WAD / 2n }))
        .to.be.revertedWithCustomError(math, "PortfolioMarginExtremeMoveTooWide")
        .withArgs(WAD);
      await expect(math.requirement(1n, [put], MARKET, { ...PARAMS, volatilityShift: WAD }))
        .to.be.revertedWithCustomError(math, "PortfolioMarginVolatilityOutOfRange")
        .withArgs(MARKET.volatility, WAD);
      await expect(math.requirement(1n, [put], MARKET, { ...PARAMS, extremeFraction: WAD + 1n }))
        .to.be.revertedWithCustomError(math, "PortfolioMarginFractionTooLarge")
        .withArgs(WAD + 1n, PARAMS.shortOptionMinimum);
      await expect(math.requirement(10n ** 18n + 1n, [], MARKET, PARAMS))
        .to.be.revertedWithCustomError(math, "PortfolioMarginQuantityOutOfRange")
        .withArgs(10n ** 18n + 1n);
      await expect(math.requirement(0n, [{ ...put, contracts: -(10n ** 18n) - 1n }], MARKET, PARAMS))
        .to.be.revertedWithCustomError(math, "PortfolioMarginQuantityOutOfRange")
        .withArgs(-(10n ** 18n) - 1n);
    });
  });

  describe("properties", () => {
    const legArb = fc.record({
      isCall: fc.boolean(),
      strike: fc.integer({ min: 60, max: 160 }).map((k) => (BigInt(k) * WAD) / 10n), // 6–16 around spot 10
      expiry: fc.integer({ min: 0, max: 400 }).map((d) => NOW + BigInt(d) * DAY - DAY / 2n), // incl. expired
      contracts: fc.integer({ min: -300, max: 300 }).map(BigInt),
      contractSize: fc.constantFrom(1n, 10n, 100n),
    });
    const group = fc.record({
      units: fc.integer({ min: -20_000, max: 20_000 }).map(BigInt),
      legs: fc.array(legArb, { maxLength: 4 }),
    });

    it("closing a position that loses in every scenario lowers every scenario loss and never raises the requirement", async () => {
      const math = await loadFixture(harnessFixture);
      // A long 5-day call struck 31% above spot with a 7-day look-ahead: it expires worthless in every scenario
      // (the highest scenario price is +30%), so it loses its whole premium in every row; removing it from a
      // portfolio strictly lowers every scenario loss and adds no written contract (the short-option minimum is
      // unchanged). max() is monotone, so the requirement cannot rise.
      const params = { ...PARAMS, lookAhead: 7n * DAY };
      const market = { ...MARKET, volatility: (3n * WAD) / 2n };
      const doomed: OptionLeg = {
        isCall: true,
        strike: 131n * (WAD / 10n),
        expiry: NOW + 5n * DAY,
        contracts: 50n,
        contractSize: 100n,
      };
      await fc.assert(
        fc.asyncProperty(group, async ({ units, legs }) => {
          const withIt = await requirementOf(math, units, [...legs, doomed], market, params);
          const without = await requirementOf(math, units, legs, market, params);
          for (let i = 0; i < 16; i++) expect(without.losses[i] < withIt.losses[i]).to.equal(true);
          expect(without.requirement <= withIt.requirement).to.equal(true);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });

    it("shares fully covered by puts never need more than the put-capped loss (r = 0), whatever the market", async () => {
      const math = await loadFixture(harnessFixture);
      // With r = 0 a European put is worth at least K − S, so shares + puts are worth at least units × max(S', K) in
      // every row: no loss exceeds units × (S − K)⁺ + units × P0 (the premium). The model's noise (≤ 1e-15 × spot
      // per price) is allowed for.
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 1000 }),
          fc.integer({ min: 50, max: 150 }),
          fc.integer({ min: 2, max: 720 }),
          fc.integer({ min: 5, max: 150 }),
          fc.integer({ min: 1, max: 500 }),
          async (spotCny, strikePct, days, volPct, contracts) => {
            const spot = BigInt(spotCny) * WAD;
            const strike = (spot * BigInt(strikePct)) / 100n;
            const market = { ...MARKET, spot, volatility: (BigInt(volPct) * WAD) / 100n };
            const put: OptionLeg = {
              isCall: false,
              strike,
              expiry: NOW + BigInt(days) * DAY,
              contracts: BigInt(contracts),
              contractSize: 100n,
            };
            const units = BigInt(contracts) * 100n;
            const r = await requirementOf(math, units, [put], market);
            const p0 = await math.putPrice(spot, strike, put.expiry - NOW, market.volatility, 0n);
            const cap = units * (spot > strike ? spot - strike : 0n) + units * p0;
            const noise = (units * spot) / 10n ** 14n; // 1e-14 × the shares' value
            expect(r.requirement <= cap + noise).to.equal(true);
            const alone = await requirementOf(math, units, [], market);
            expect(alone.requirement).to.equal((units * spot * PARAMS.priceRange) / WAD);
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );
    });

    it("the requirement is max(worst scenario loss, short-option minimum, 0) and at least every scenario loss", async () => {
      const math = await loadFixture(harnessFixture);
      await fc.assert(
        fc.asyncProperty(group, async ({ units, legs }) => {
          const r = await requirementOf(math, units, legs);
          const worst = r.losses.reduce((a, b) => (b > a ? b : a));
          expect(r.worstLoss).to.equal(worst);
          expect(r.worstScenario).to.equal(r.losses.indexOf(worst));
          const floor = await math.shortOptionCharge(legs, MARKET.spot, PARAMS.shortOptionMinimum);
          const expected = [worst, floor, 0n].reduce((a, b) => (b > a ? b : a));
          expect(r.requirement).to.equal(expected);
          for (const loss of r.losses) expect(r.requirement >= loss).to.equal(true);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });

    it("two groups on the same underlying need together at most the sum of their requirements", async () => {
      const math = await loadFixture(harnessFixture);
      // Always true within the bounds (≤ 8 legs together): values add exactly, so rows 0–13 of A+B are the sums of
      // A's and B's rows; an extreme row is ⌈f·(a+b)⌉ ≤ ⌈f·a⌉ + ⌈f·b⌉; the worst row of A+B is at most A's worst plus
      // B's worst; the short-option minimum is ⌈c·(uA+uB)⌉ ≤ ⌈c·uA⌉ + ⌈c·uB⌉; and max(x+x', y+y', 0) ≤
      // max(x, y, 0) + max(x', y', 0). Legs are concatenated, not netted (netting a long against a short of the
      // same series only lowers the minimum).
      await fc.assert(
        fc.asyncProperty(group, group, async (a, b) => {
          const ra = await requirementOf(math, a.units, a.legs);
          const rb = await requirementOf(math, b.units, b.legs);
          const both = await requirementOf(math, a.units + b.units, [...a.legs, ...b.legs]);
          for (let i = 0; i < 14; i++) expect(both.losses[i]).to.equal(ra.losses[i] + rb.losses[i]);
          expect(both.requirement <= ra.requirement + rb.requirement).to.equal(true);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  });

  describe("gas", () => {
    it("prints the gas of a requirement for 0, 1, 4 and 8 legs (bounded: 17 valuations of at most 8 legs)", async () => {
      const math = await loadFixture(harnessFixture);
      const strikes = [8n, 9n, 10n, 11n, 12n, 9n, 10n, 11n];
      const figures: string[] = [];
      let last = 0n;
      for (const n of [0, 1, 4, 8]) {
        const legs = strikes
          .slice(0, n)
          .map((k, j) => leg(j % 2 === 0, k, j % 3 === 0 ? -100n : 100n, 30n + 30n * BigInt(j)));
        const [gas] = await math.requirementGas(10_000n, legs, MARKET, PARAMS);
        figures.push(`${n} legs: ${gas}`);
        expect(gas > last).to.equal(true);
        last = gas;
      }
      const [priceGas] = await math.priceGas(true, 10n * WAD, 11n * WAD, 90n * DAY, (3n * WAD) / 10n, 0n);
      console.log(`      PortfolioMargin.requirement gas — ${figures.join(", ")}; one OptionMath.price: ${priceGas}`);
      expect(last < 10_000_000n).to.equal(true);
    });
  });
});
