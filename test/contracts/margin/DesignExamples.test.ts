import { expect } from "chai";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  CNY,
  WAD,
  State,
  marginFixture,
  pct,
  price,
  setTier,
  zeroRate,
  type MarginFixture,
} from "../../helpers/marginFixture";

/** One unit of the 8-decimal test feed, as an 18-decimal price. */
const FEED_TICK = 10n ** 10n;
const feedCeil = (p: bigint): bigint => ((p + FEED_TICK - 1n) / FEED_TICK) * FEED_TICK;

/** r* = (m·L − 1) / (L·(1 − m)) from DESIGN.md, with L and m as 18-decimal numbers, exact rational → 18 dec. */
function designThreshold(m: bigint, L: bigint): number {
  return ((Number(m) / 1e18) * (Number(L) / 1e18) - 1) / ((Number(L) / 1e18) * (1 - Number(m) / 1e18));
}

/** A client with 100,000 own cash at leverage L, all of it in mbBANK at 10 CNY. */
async function leveragedBank(fx: MarginFixture, client: MarginFixture["clientA"], L: bigint): Promise<void> {
  const own = 100_000n * CNY;
  await fx.fundAccount(client, fx.cash, own);
  await fx.engine.connect(client).borrow(own * (L - 1n));
  await fx.buy(client, fx.bank, (own * L) / (10n * CNY), price(10));
}

describe("DESIGN.md worked examples", () => {
  describe("liquidation return threshold r < (m·L − 1) / (L·(1 − m))", () => {
    it("is −33.33% for E = 100,000, L = 2, m = 25%, and the state flips exactly there", async () => {
      const fx = await loadFixture(marginFixture);
      await zeroRate(fx);
      await setTier(fx, 1, pct(25), pct(5));
      await leveragedBank(fx, fx.clientA, 2n);
      const view = await fx.engine.accountView(fx.clientA.address);
      expect(view.equity).to.equal(100_000n * CNY);
      expect(view.positionValue).to.equal(200_000n * CNY);
      expect(view.marginRatio).to.equal(WAD / 2n);
      // 100,000 / (200,000 − 50,000) − 1, rounded up
      expect(view.liquidationReturn).to.equal(-333_333_333_333_333_333n);
      expect(Number(view.liquidationReturn) / 1e18).to.be.closeTo(designThreshold(pct(25), 2n * WAD), 1e-15);
      expect((Number(view.liquidationReturn) / 1e16).toFixed(2)).to.equal("-33.33");
      // liquidation price = 10 · (1 + r*) = 6.666… CNY
      expect(view.liquidationPrice).to.equal(6_666_666_666_666_666_667n);

      // the feed has 8 decimals: the first feed price at or above p* keeps the account out of a margin call
      const atOrAbove = feedCeil(view.liquidationPrice);
      await fx.setPrice(fx.bank, atOrAbove);
      expect(await fx.engine.accountState(fx.clientA.address)).to.equal(State.Warning);
      await fx.setPrice(fx.bank, atOrAbove - FEED_TICK);
      expect(await fx.engine.accountState(fx.clientA.address)).to.equal(State.MarginCall);
    });

    it("is −11.11% for L = 3 (m = 25%)", async () => {
      const fx = await loadFixture(marginFixture);
      await zeroRate(fx);
      await setTier(fx, 1, pct(25), pct(5));
      await leveragedBank(fx, fx.clientB, 3n);
      const view = await fx.engine.accountView(fx.clientB.address);
      expect(view.positionValue).to.equal(300_000n * CNY);
      // 200,000 / (300,000 − 75,000) − 1, rounded up
      expect(view.liquidationReturn).to.equal(-111_111_111_111_111_111n);
      expect(Number(view.liquidationReturn) / 1e18).to.be.closeTo(designThreshold(pct(25), 3n * WAD), 1e-15);
      expect((Number(view.liquidationReturn) / 1e16).toFixed(2)).to.equal("-11.11");
      expect(view.liquidationPrice).to.equal(8_888_888_888_888_888_889n);
      await fx.setPrice(fx.bank, feedCeil(view.liquidationPrice));
      expect(await fx.engine.accountState(fx.clientB.address)).to.equal(State.Warning);
      await fx.setPrice(fx.bank, feedCeil(view.liquidationPrice) - FEED_TICK);
      expect(await fx.engine.accountState(fx.clientB.address)).to.equal(State.MarginCall);
    });
  });

  it("charges 8% a year on 200,000 as about 43.84 per natural day", async () => {
    const fx = await loadFixture(marginFixture);
    await fx.fundAccount(fx.clientB, fx.cash, 100_000n * CNY);
    await fx.engine.connect(fx.clientB).borrow(200_000n * CNY);
    const start = BigInt(await time.latest());
    await time.setNextBlockTimestamp(start + 86_400n);
    await fx.pool.accrue();
    const head = { blockTag: await fx.pool.runner!.provider!.getBlockNumber() };
    const [debt] = await fx.engine.debtOf(fx.clientB.address, head);
    expect(debt - 200_000n * CNY).to.equal(43_835_617n); // 43.835616… rounded up against the borrower
    expect(Number(debt - 200_000n * CNY) / 1e6).to.be.closeTo(43.84, 0.005);
    expect(await fx.pool.ratePerDay()).to.equal(pct(8) / 365n);
  });

  it("runs client A's seed flow: 100,000 at 2×, IM 20%, MM 15% → warning, margin call, segmented liquidation, loss waterfall", async () => {
    const fx = await loadFixture(marginFixture);
    const { engine, clientA, liquidator, pool, fund } = fx;
    await zeroRate(fx);
    for (const tier of [1, 2, 3]) await setTier(fx, tier, pct(15), pct(5));
    for (const t of [fx.bank, fx.tech, fx.small]) {
      await engine
        .connect(fx.actors.riskOfficer)
        .configureAsset(await t.getAddress(), tierOf(fx, t), 0n, pct(5), 10n ** 9n);
    }

    // Client A passes KYC (tier 2 = 2×), deposits 100,000 and takes 2×: 200,000 to trade.
    await fx.fundAccount(clientA, fx.cash, 100_000n * CNY);
    await expect(engine.connect(clientA).borrow(100_000n * CNY + 1n)).to.be.revertedWithCustomError(
      engine,
      "MarginLeverageExceeded",
    );
    await engine.connect(clientA).borrow(100_000n * CNY);
    expect((await engine.accountView(clientA.address)).cash).to.equal(200_000n * CNY);
    await fx.buy(clientA, fx.bank, 10_000n, price(10)); // 100,000 in the most liquid tier
    await fx.buy(clientA, fx.tech, 2_000n, price(25)); // 50,000
    await fx.buy(clientA, fx.small, 1_000n, price(50)); // 50,000 in the least liquid tier
    let view = await engine.accountView(clientA.address);
    expect(view.positionValue).to.equal(200_000n * CNY);
    expect(view.initialReq).to.equal(40_000n * CNY);
    expect(view.maintenanceReq).to.equal(30_000n * CNY);

    // −40%: ratio 16.7% < 15% + 5% → Warning; new risk is blocked by initial margin.
    await moveAll(fx, 0.6);
    await expect(engine.poke(clientA.address))
      .to.emit(engine, "AccountStateChanged")
      .withArgs(clientA.address, State.Healthy, State.Warning, 20_000n * CNY, 18_000n * CNY);
    await expect(engine.connect(clientA).borrow(1n * CNY))
      .to.be.revertedWithCustomError(engine, "MarginInitialMarginBreached")
      .withArgs(clientA.address, 20_000n * CNY, 24_000n * CNY);
    expect(await engine.checkInitialMargin(clientA.address)).to.equal(false);

    // −43%: equity 14,000 < maintenance 17,100 → margin call with a deadline; not yet liquidatable.
    await moveAll(fx, 0.57);
    const grace = (await engine.params()).gracePeriod;
    const tx = engine.poke(clientA.address);
    await expect(tx).to.emit(engine, "MarginCalled");
    await expect(tx)
      .to.emit(engine, "AccountStateChanged")
      .withArgs(clientA.address, State.Warning, State.MarginCall, 14_000n * CNY, 17_100n * CNY);
    view = await engine.accountView(clientA.address);
    expect(view.callDeadline).to.equal(BigInt(await time.latest()) + grace);
    await expect(engine.connect(liquidator).liquidate(clientA.address, 10))
      .to.be.revertedWithCustomError(engine, "MarginNotLiquidatable")
      .withArgs(clientA.address, State.MarginCall);

    // The deadline passes uncured → Liquidatable; anyone liquidates, least liquid first, only down to target.
    // The keeper sees the account still below maintenance within the grace period (a call nobody observed for a
    // whole grace period lapses: the chain cannot know the account did not recover in between).
    await fx.advance(grace - 60n);
    await engine.poke(clientA.address);
    await fx.advance(60n);
    expect(await engine.accountState(clientA.address)).to.equal(State.Liquidatable);
    const liq = engine.connect(liquidator).liquidate(clientA.address, 10);
    // Segment 1: all of mbSMALL (28,500 at 28.5) is not enough for the 17.5% target.
    await expect(liq)
      .to.emit(engine, "Liquidated")
      .withArgs(
        clientA.address,
        liquidator.address,
        await fx.small.getAddress(),
        1_000n,
        price(28.5),
        28_500n * CNY,
        27_075n * CNY,
        712_500_000n,
        712_500_000n,
      );
    // Segment 2: part of mbTECH at 14.25: (17.5% · 85,500 − 12,575) / (17.5% − 5%) = 19,100 → 1,341 shares.
    await expect(liq)
      .to.emit(engine, "Liquidated")
      .withArgs(
        clientA.address,
        liquidator.address,
        await fx.tech.getAddress(),
        1_341n,
        price(14.25),
        19_109_250_000n,
        18_153_787_500n,
        477_731_250n,
        477_731_250n,
      );
    view = await engine.accountView(clientA.address);
    expect(await engine.balanceOf(clientA.address, await fx.bank.getAddress())).to.equal(10_000n); // untouched
    expect(view.state).to.equal(State.Warning);
    expect(view.callDeadline).to.equal(0n);
    const target = view.maintenanceReq + (view.positionValue * pct(2.5)) / WAD;
    expect(view.equity).to.be.greaterThanOrEqual(target);
    // one share less would not have reached the target: seizing 1 more share than needed at most
    expect(view.equity - BigInt(target)).to.be.lessThan(14_250_000n);

    // Overnight gap: −80% from the start. Debt now exceeds all collateral → Defaulted → full liquidation,
    // then the insurance fund and the pool absorb the gap in that order: in the pool, the junior class first.
    await moveAll(fx, 0.2);
    expect(await engine.accountState(clientA.address)).to.equal(State.Defaulted);
    await fx.advance(Number((await engine.params()).oracleGrace));
    const [debtBefore] = await engine.debtOf(clientA.address);
    const fundBefore = await fund.balance();
    const seniorPriceBefore = await fx.senior.convertToAssets(10n ** 12n);
    const juniorPriceBefore = await fx.junior.convertToAssets(10n ** 12n);
    const settle = engine.connect(liquidator).liquidate(clientA.address, 10);
    await expect(settle).to.emit(engine, "DefaultSettled");
    await expect(settle).to.emit(pool, "BadDebtWrittenOff");
    await expect(settle).to.emit(fund, "BadDebtCovered");
    const [debtAfter] = await engine.debtOf(clientA.address);
    expect(debtAfter).to.equal(0n);
    expect(await engine.accountState(clientA.address)).to.equal(State.Healthy);
    expect(await fund.balance()).to.equal(0n); // the fund paid all it had (incl. this call's penalty share) first
    // Every penalty share owed to the fund (the earlier partial liquidation's too) was paid in before the claim.
    await expect(settle).to.emit(engine, "InsuranceSwept");
    expect(await engine.insuranceOwed()).to.equal(0n);
    const deficit = await pool.deficit();
    expect(deficit).to.be.greaterThan(0n);
    // The junior (first-loss) share price falls; the senior one does not.
    expect(await fx.junior.convertToAssets(10n ** 12n)).to.be.lessThan(juniorPriceBefore);
    expect(await fx.senior.convertToAssets(10n ** 12n)).to.be.greaterThanOrEqual(seniorPriceBefore);
    await expect(settle).to.emit(pool, "BadDebtWrittenOff").withArgs(engine, deficit, anyValue, anyValue, 0n, deficit);
    expect(debtBefore).to.be.greaterThan(deficit + fundBefore);
    // While the deficit is unresolved, nobody borrows.
    await fx.fundAccount(fx.clientC, fx.cash, 10_000n * CNY);
    await expect(engine.connect(fx.clientC).borrow(1_000n * CNY))
      .to.be.revertedWithCustomError(pool, "PoolDeficitUnresolved")
      .withArgs(deficit);
  });
});

function tierOf(fx: MarginFixture, token: MarginFixture["bank"]): number {
  return token === fx.bank ? 1 : token === fx.tech ? 2 : 3;
}

/** Sets every security to `factor` × its starting price (10, 25, 50). */
async function moveAll(fx: MarginFixture, factor: number): Promise<void> {
  await fx.setPrice(fx.bank, price(10 * factor));
  await fx.setPrice(fx.tech, price(25 * factor));
  await fx.setPrice(fx.small, price(50 * factor));
}
