import { expect } from "chai";
import hre from "hardhat";
import fc from "fast-check";
import {
  NO_HISTORY,
  WAD,
  custodianFailure,
  providerRun,
  reserveAdequacy,
  dailyVolatility,
  decayWeight,
  nextVolatilityState,
  runScenario,
  tierMargins,
  type Scenario,
  type TierRule,
} from "../../../offchain/risk";
import { OracleVolatilityMathHarness__factory } from "../../../typechain-types";
import { BANK, SMALL, cny, pct, smallBook } from "./book";

const DAY = 86_400n;

describe("risk: one model with the chain — the router's volatility and the engine's tier margins", () => {
  it("computes the router's daily volatility exactly, step for step (differential against VolatilityMath)", async () => {
    const [deployer] = await hre.ethers.getSigners();
    const math = await new OracleVolatilityMathHarness__factory(deployer).deploy();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            r: fc.bigInt({ min: -(2n * 10n ** 17n), max: 2n * 10n ** 17n }),
            dt: fc.bigInt({ min: 0n, max: 4n * DAY }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.bigInt({ min: 60n, max: 10n * DAY }),
        async (steps, halfLife) => {
          let state = NO_HISTORY;
          let [v, w] = [0n, 0n];
          for (const { r, dt } of steps) {
            state = nextVolatilityState(state, r, dt, halfLife);
            [v, w] = await math.nextVariance(v, w, r, dt, halfLife);
            expect([state.variance, state.weight]).to.deep.equal([v, w]);
          }
          expect(dailyVolatility(state)).to.equal(await math.volatility(v));
          expect(decayWeight(steps[0].dt, halfLife)).to.equal(await math.decayWeight(steps[0].dt, halfLife));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("gives the engine's margins: max(floor, add-on + ⌈k·σ⌉) capped, initial above it, leverage 1/initial", () => {
    const rule: TierRule = {
      liquidityAddOn: pct(2),
      volatilityMultiplier: 3_295_000_000n * 10n ** 9n,
      floor: pct(20),
      cap: pct(50),
      initialBuffer: pct(5),
    };
    // calm: 2% a day → 2% + 6.59% < 20% floor
    expect(tierMargins(rule, pct(2))).to.deep.equal({
      maintenance: pct(20),
      initial: pct(25),
      maxLeverage: 4n * WAD,
    });
    // stressed: 8% a day → 2% + 26.36% = 28.36%; leverage 1 / 33.36% = 2.997…
    const stressed = tierMargins(rule, pct(8));
    expect(stressed.maintenance).to.equal(pct(2) + 263_600_000_000_000_000n);
    expect(stressed.maxLeverage).to.equal((WAD * WAD) / (stressed.maintenance + pct(5)));
    // crash: capped at 50%, leverage 1 / 55%
    expect(tierMargins(rule, pct(30)).maintenance).to.equal(pct(50));
  });
});

describe("risk: stress that can show a cascade", () => {
  const TIERS: Record<1 | 2 | 3, TierRule> = {
    1: {
      liquidityAddOn: 0n,
      volatilityMultiplier: 3_295_000_000n * 10n ** 9n,
      floor: pct(15),
      cap: pct(40),
      initialBuffer: pct(5),
    },
    2: {
      liquidityAddOn: pct(2),
      volatilityMultiplier: 3_295_000_000n * 10n ** 9n,
      floor: pct(20),
      cap: pct(50),
      initialBuffer: pct(5),
    },
    3: {
      liquidityAddOn: pct(5),
      volatilityMultiplier: 3_295_000_000n * 10n ** 9n,
      floor: pct(30),
      cap: pct(60),
      initialBuffer: pct(10),
    },
  };
  /** Five days of −6% on both assets. */
  const SLIDE: Scenario = {
    id: "slide",
    name: "−6% a day for five days",
    source: "hand-made",
    days: ["d1", "d2", "d3", "d4", "d5"],
    returns: Array.from(
      { length: 5 },
      () =>
        new Map([
          [BANK.asset, -pct(6)],
          [SMALL.asset, -pct(6)],
        ]),
    ),
  };

  it("raises maintenance with the measured volatility, day by day, and liquidates sooner than static margins", () => {
    const book = smallBook();
    const stat = runScenario(book, SLIDE);
    const dyn = runScenario(book, SLIDE, { dynamicMargin: { tiers: TIERS, halfLifeSeconds: DAY } });
    // a 6% daily move is a daily σ of 6%: 3.3 · 6% = 19.8% for tier 1, above its 15% floor
    const bankDay1 = dyn.daily[0].maintenance.get(BANK.asset)!;
    expect(bankDay1).to.be.greaterThan(pct(19));
    expect(stat.daily[0].maintenance.get(BANK.asset)).to.equal(BANK.maintenanceMargin);
    const firstDay = (r: typeof stat) => r.daily.findIndex((d) => d.accountsLiquidated > 0);
    expect(firstDay(dyn)).to.be.at.most(firstDay(stat));
    expect(dyn.accountsLiquidated).to.be.at.least(stat.accountsLiquidated);
  });

  it("lets forced sales move the next day's price: a cascade the flat path alone does not make", () => {
    const book = smallBook();
    const adv = { [BANK.asset]: cny(400_000), [SMALL.asset]: cny(100_000) };
    const without = runScenario(book, SLIDE);
    const withImpact = runScenario(book, SLIDE, {
      impact: { coefficient: 1, adv, sigma: { [BANK.asset]: 0.03, [SMALL.asset]: 0.05 } },
    });
    expect([...withImpact.daily.flatMap((d) => [...d.impact.values()])].some((i) => i > 0n)).to.equal(true);
    expect(withImpact.liquidationVolume).to.be.greaterThan(without.liquidationVolume);
    expect(withImpact.badDebt + withImpact.shortfallOutstanding).to.be.at.least(
      without.badDebt + without.shortfallOutstanding,
    );
  });

  it("holds liquidations back for a keeper outage, which costs the pool more", () => {
    const book = smallBook();
    const prompt = runScenario(book, SLIDE);
    const late = runScenario(book, SLIDE, { liquidatorOutageDays: 3 });
    expect(late.daily.slice(0, 3).every((d) => d.accountsLiquidated === 0)).to.equal(true);
    expect(late.badDebt).to.be.at.least(prompt.badDebt);
  });
});

describe("risk: counterparty scenarios and reserve adequacy", () => {
  it("loses an asset at its custodian: its holders' collateral goes to zero from that day", () => {
    const scenario: Scenario = {
      id: "flat",
      name: "flat",
      source: "hand-made",
      days: ["d1", "d2"],
      returns: [new Map(), new Map()],
    };
    const failed = custodianFailure(scenario, SMALL.asset, 0);
    const result = runScenario(smallBook(), failed);
    expect(failed.returns[0].get(SMALL.asset)).to.equal(-WAD);
    expect(result.accountsLiquidated).to.be.greaterThan(0);
    expect(result.badDebt + result.shortfallOutstanding).to.be.greaterThan(0n);
  });

  it("queues a run of providers beyond the pool's cash and the gate, and serves it in order as cash comes back", () => {
    const run = providerRun({
      claims: cny(1_000_000),
      poolCash: cny(100_000),
      buffer: pct(10),
      redeemPerDay: pct(20),
      inflowPerDay: cny(50_000),
      gatePerDay: pct(5),
      days: 10,
    });
    // day 1: 200,000 asked, 50,000 paid (the gate), 150,000 queued
    expect(run.days[0]).to.deep.include({ requested: cny(200_000), paid: cny(50_000), queued: cny(150_000) });
    expect(run.days.every((d) => d.paid <= cny(50_000))).to.equal(true);
    expect(run.maxQueued).to.be.greaterThan(cny(150_000));
    expect(run.paid).to.equal(run.days.reduce((s, d) => s + d.paid, 0n));
  });

  it("targets the insurance fund at the stress loss percentile and fills it faster in rough markets", () => {
    const losses = Array.from({ length: 100 }, (_, i) => cny(i * 1_000));
    const calm = reserveAdequacy({
      losses,
      percentile: 0.99,
      insuranceFund: cny(50_000),
      turnoverPerDay: cny(1_000_000),
      baseRate: pct(0.05),
      sigma: pct(2),
      calmSigma: pct(2),
    });
    expect(calm.target).to.equal(cny(98_000)); // 99th of 100, nearest rank
    expect(calm.gap).to.equal(cny(48_000));
    expect(calm.perDay).to.equal(cny(500));
    expect(calm.daysToTarget).to.equal(96);
    const rough = reserveAdequacy({ ...calmInput(losses), sigma: pct(6) });
    expect(rough.rate).to.equal(pct(0.15));
    expect(rough.daysToTarget).to.equal(32);
  });
});

function calmInput(losses: bigint[]) {
  return {
    losses,
    percentile: 0.99,
    insuranceFund: cny(50_000),
    turnoverPerDay: cny(1_000_000),
    baseRate: pct(0.05),
    sigma: pct(2),
    calmSigma: pct(2),
  };
}
