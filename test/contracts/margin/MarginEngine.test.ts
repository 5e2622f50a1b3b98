import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ROLE } from "../../../scripts/deploy/roles";
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

/** A Params struct returned by a view, as the object a setter takes. */
function paramsOf(p: Awaited<ReturnType<MarginFixture["engine"]["params"]>>) {
  return {
    warningBuffer: p.warningBuffer,
    hardFloorFactor: p.hardFloorFactor,
    targetBuffer: p.targetBuffer,
    liquidatorShare: p.liquidatorShare,
    gracePeriod: p.gracePeriod,
    oracleGrace: p.oracleGrace,
    liquidationWindow: p.liquidationWindow,
    dustValue: p.dustValue,
  };
}

function tierOf(t: Awaited<ReturnType<MarginFixture["engine"]["tierRisk"]>>) {
  return {
    liquidityAddOn: t.liquidityAddOn,
    volatilityMultiplier: t.volatilityMultiplier,
    floor: t.floor,
    cap: t.cap,
    initialBuffer: t.initialBuffer,
    fixedVolatility: t.fixedVolatility,
  };
}

const addr = (c: { getAddress(): Promise<string> }): Promise<string> => c.getAddress();

/** Client C (5×, tier-1 margins 15% / 20% without volatility add-on) holding 20,000 mbBANK (200,000 CNY) with 150,000 borrowed and withdrawn: equity 50,000. */
async function leveredC(fx: MarginFixture): Promise<void> {
  await zeroRate(fx);
  await setTier(fx, 1, pct(15), pct(5)); // k = 0: margins do not move with the volatility of these price moves
  await fx.fundAccount(fx.clientC, fx.bank, 20_000n);
  await fx.engine.connect(fx.clientC).borrow(150_000n * CNY);
  await fx.engine.connect(fx.clientC).withdraw(await addr(fx.cash), 150_000n * CNY);
}

describe("MarginEngine", () => {
  describe("deposit", () => {
    it("credits the caller's account, moves the tokens in and emits CollateralDeposited", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine, clientA, cash } = fx;
      await cash.connect(fx.actors.custodian).mint(clientA.address, 5_000n * CNY, hre.ethers.id("dep-1"));
      await cash.connect(clientA).approve(await addr(engine), 5_000n * CNY);
      const tx = engine.connect(clientA).deposit(await addr(cash), 5_000n * CNY);
      await expect(tx)
        .to.emit(engine, "CollateralDeposited")
        .withArgs(clientA.address, await addr(cash), 5_000n * CNY);
      await expect(tx).to.changeTokenBalances(cash, [clientA, engine], [-5_000n * CNY, 5_000n * CNY]);
      expect(await engine.balanceOf(clientA.address, await addr(cash))).to.equal(5_000n * CNY);
    });

    it("refuses unverified owners, unlisted assets and zero amounts", async () => {
      const fx = await loadFixture(marginFixture);
      const stranger = fx.actors.users[9];
      await expect(fx.engine.connect(stranger).deposit(await addr(fx.cash), 1n))
        .to.be.revertedWithCustomError(fx.engine, "MarginNotVerified")
        .withArgs(stranger.address);
      await expect(fx.engine.connect(fx.clientA).deposit(await addr(fx.pool), 1n))
        .to.be.revertedWithCustomError(fx.engine, "MarginAssetNotListed")
        .withArgs(await addr(fx.pool));
      await expect(fx.engine.connect(fx.clientA).deposit(await addr(fx.cash), 0n)).to.be.revertedWithCustomError(
        fx.engine,
        "MarginZeroAmount",
      );
    });
  });

  it("keeps cash, debt, state and margin mode in one account slot: cash above 2**88 − 1 base units is refused whole", async () => {
    const fx = await loadFixture(marginFixture);
    const { engine, clientA, cash } = fx;
    const cap = 2n ** 88n - 1n;
    await cash.connect(fx.actors.custodian).mint(clientA.address, cap + 1n, hre.ethers.id("dep-cap"));
    await cash.connect(clientA).approve(await addr(engine), hre.ethers.MaxUint256);
    await engine.connect(clientA).deposit(await addr(cash), cap);
    await expect(engine.connect(clientA).deposit(await addr(cash), 1n))
      .to.be.revertedWithCustomError(engine, "SafeCastOverflowedUintDowncast")
      .withArgs(88, cap + 1n);
    expect(await engine.balanceOf(clientA.address, await addr(cash))).to.equal(cap);
    await expect(engine.connect(clientA).borrow(1_000n * CNY))
      .to.be.revertedWithCustomError(engine, "SafeCastOverflowedUintDowncast")
      .withArgs(88, cap + 1_000n * CNY);
    expect(await engine.balanceOf(clientA.address, await addr(cash))).to.equal(cap);
    expect((await engine.debtOf(clientA.address)).scaled).to.equal(0n);
  });

  describe("borrow and repay", () => {
    it("borrows into the account's cash balance up to the KYC tier's leverage", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine, clientA, pool } = fx;
      await fx.fundAccount(clientA, fx.cash, 100_000n * CNY);
      await expect(engine.connect(clientA).borrow(100_000n * CNY))
        .to.emit(engine, "Borrowed")
        .withArgs(clientA.address, 100_000n * CNY, 100_000n * CNY, 100_000n * CNY);
      expect(await engine.balanceOf(clientA.address, await addr(fx.cash))).to.equal(200_000n * CNY);
      expect(await pool.totalScaledDebt()).to.equal(100_000n * CNY);
      // tier 2 = 2×: exposure 200,000 + 10 > 2 · equity
      await expect(engine.connect(clientA).borrow(10n * CNY))
        .to.be.revertedWithCustomError(engine, "MarginLeverageExceeded")
        .withArgs(clientA.address, 200_010n * CNY, (v: bigint) => v <= 100_000n * CNY, 2n * WAD);
    });

    it("refuses a withdrawal that would break initial margin", async () => {
      const fx = await loadFixture(marginFixture);
      await leveredC(fx);
      const bank = await addr(fx.bank);
      // tier 1 defaults: maintenance 15%, initial 20%; vol 0 → IM on 185,000 = 37,000 > equity 35,000
      await expect(fx.engine.connect(fx.clientC).withdraw(bank, 1_500n))
        .to.be.revertedWithCustomError(fx.engine, "MarginInitialMarginBreached")
        .withArgs(fx.clientC.address, 35_000n * CNY, 37_000n * CNY);
      await expect(fx.engine.connect(fx.clientC).withdraw(bank, 500n))
        .to.emit(fx.engine, "CollateralWithdrawn")
        .withArgs(fx.clientC.address, bank, 500n);
      await expect(fx.engine.connect(fx.clientC).withdraw(bank, 20_000n))
        .to.be.revertedWithCustomError(fx.engine, "MarginInsufficientBalance")
        .withArgs(fx.clientC.address, bank, 19_500n, 20_000n);
    });

    it("blocks borrowing while a held price is not Safe", async () => {
      const fx = await loadFixture(marginFixture);
      await fx.fundAccount(fx.clientC, fx.bank, 1_000n);
      await time.increase(7 * 86_400); // no new rounds: the feed goes stale
      await expect(fx.engine.connect(fx.clientC).borrow(1_000n * CNY))
        .to.be.revertedWithCustomError(fx.engine, "MarginPriceUnsafe")
        .withArgs(await addr(fx.bank), 1);
    });

    it("repays from the cash balance, capped at the debt, and refuses with no debt", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine, clientA } = fx;
      await zeroRate(fx);
      await fx.fundAccount(clientA, fx.cash, 100_000n * CNY);
      await engine.connect(clientA).borrow(50_000n * CNY);
      await expect(engine.connect(clientA).repay(20_000n * CNY))
        .to.emit(engine, "Repaid")
        .withArgs(clientA.address, 20_000n * CNY, 20_000n * CNY, 30_000n * CNY);
      await expect(engine.connect(clientA).repay(1_000_000n * CNY))
        .to.emit(engine, "Repaid")
        .withArgs(clientA.address, 30_000n * CNY, 30_000n * CNY, 0n);
      expect(await engine.debtOf(clientA.address)).to.deep.equal([0n, 0n]);
      expect(await engine.balanceOf(clientA.address, await addr(fx.cash))).to.equal(100_000n * CNY);
      await expect(engine.connect(clientA).repay(1n))
        .to.be.revertedWithCustomError(engine, "MarginNoDebt")
        .withArgs(clientA.address);
    });
  });

  describe("account states", () => {
    it("walks Healthy → Warning → MarginCall, and a deposit cures the call back to Healthy", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine, clientC } = fx;
      await leveredC(fx);
      // equity 50,000 on 200,000: 25%; maintenance 15%, warning below 20%
      await fx.setPrice(fx.bank, price(9.6)); // 192,000 − 150,000 = 42,000 → 21.9% Healthy
      expect(await engine.accountState(clientC.address)).to.equal(State.Healthy);
      await fx.setPrice(fx.bank, price(9.3)); // 36,000 / 186,000 = 19.4% → Warning
      await expect(engine.poke(clientC.address))
        .to.emit(engine, "AccountStateChanged")
        .withArgs(clientC.address, State.Healthy, State.Warning, 36_000n * CNY, 27_900n * CNY);
      await fx.setPrice(fx.bank, price(8.5)); // 20,000 / 170,000 = 11.8% → MarginCall
      const call = await engine.poke(clientC.address);
      // the deadline runs from the poke's own block (on a loaded machine the chain's clock may have moved on)
      const mined = await hre.ethers.provider.getBlock((await call.wait())!.blockNumber);
      const deadline = BigInt(mined!.timestamp) + BigInt((await engine.params()).gracePeriod);
      await expect(call)
        .to.emit(engine, "MarginCalled")
        .withArgs(clientC.address, deadline, 20_000n * CNY, 25_500n * CNY);
      await expect(call)
        .to.emit(engine, "AccountStateChanged")
        .withArgs(clientC.address, State.Warning, State.MarginCall, 20_000n * CNY, 25_500n * CNY);
      await expect(engine.connect(clientC).borrow(1n)).to.be.revertedWithCustomError(
        engine,
        "MarginInitialMarginBreached",
      );

      await fx.cash.connect(fx.actors.custodian).mint(clientC.address, 20_000n * CNY, hre.ethers.id("cure"));
      await fx.cash.connect(clientC).approve(await addr(engine), 20_000n * CNY);
      const cure = engine.connect(clientC).deposit(await addr(fx.cash), 20_000n * CNY);
      await expect(cure).to.emit(engine, "MarginCallCured").withArgs(clientC.address);
      await expect(cure)
        .to.emit(engine, "AccountStateChanged")
        .withArgs(clientC.address, State.MarginCall, State.Healthy, 40_000n * CNY, 25_500n * CNY);
      expect((await engine.accountView(clientC.address)).callDeadline).to.equal(0n);
    });

    it("cures by repayment from the wallet (repaying from margin cash leaves equity unchanged)", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine, clientC } = fx;
      await leveredC(fx);
      await fx.setPrice(fx.bank, price(8.5)); // equity 20,000 < maintenance 25,500
      await engine.poke(clientC.address);
      expect((await engine.recordedState(clientC.address))[0]).to.equal(State.MarginCall);
      await fx.cash.connect(fx.actors.custodian).mint(clientC.address, 10_000n * CNY, hre.ethers.id("repay-cure"));
      await fx.cash.connect(clientC).approve(await addr(engine), 10_000n * CNY);
      const floatBefore = await fx.pool.floatHeld();
      const tx = engine.connect(clientC).repayFromWallet(10_000n * CNY);
      await expect(tx)
        .to.emit(engine, "Repaid")
        .withArgs(clientC.address, 10_000n * CNY, 10_000n * CNY, 140_000n * CNY);
      await expect(tx).to.emit(engine, "MarginCallCured").withArgs(clientC.address);
      // 30,000 ≥ 25,500 but below the warning line 25,500 + 5% · 170,000 = 34,000
      await expect(tx)
        .to.emit(engine, "AccountStateChanged")
        .withArgs(clientC.address, State.MarginCall, State.Warning, 30_000n * CNY, 25_500n * CNY);
      // The wallet's cash lands in the engine; the pool takes the repayment out of the engine's float it holds.
      await expect(tx).to.changeTokenBalances(fx.cash, [clientC, engine, fx.pool], [-10_000n * CNY, 10_000n * CNY, 0n]);
      expect(await fx.pool.floatHeld()).to.equal(floatBefore - 10_000n * CNY);
    });

    it("becomes Liquidatable when the deadline passes, or at once below the hard line", async () => {
      const fx = await loadFixture(marginFixture);
      await leveredC(fx);
      await fx.setPrice(fx.bank, price(8.5));
      await fx.engine.poke(fx.clientC.address);
      expect(await fx.engine.accountState(fx.clientC.address)).to.equal(State.MarginCall);
      const grace = (await fx.engine.params()).gracePeriod;
      await fx.advance(grace - 60n);
      await fx.engine.poke(fx.clientC.address); // still below maintenance: the same call goes on
      await fx.advance(60n);
      expect(await fx.engine.accountState(fx.clientC.address)).to.equal(State.Liquidatable);

      const fx2 = await loadFixture(marginFixture);
      await leveredC(fx2);
      // hard line = 50% of maintenance: 161,000 − 150,000 = 11,000 < 0.5 · 0.15 · 161,000 = 12,075
      await fx2.setPrice(fx2.bank, price(8.05));
      expect(await fx2.engine.accountState(fx2.clientC.address)).to.equal(State.Liquidatable);
      await fx2.setPrice(fx2.bank, price(7.4)); // 148,000 < debt 150,000
      expect(await fx2.engine.accountState(fx2.clientC.address)).to.equal(State.Defaulted);
    });

    it("counts a position whose price went stale at zero, so that the margin call is recorded", async () => {
      const fx = await loadFixture(marginFixture);
      await leveredC(fx);
      await fx.setPrice(fx.bank, price(8.5));
      await time.increase(7 * 86_400);
      const view = await fx.engine.accountView(fx.clientC.address);
      expect(view.pricesSafe).to.equal(false);
      expect(view.positionValue).to.equal(0n);
      await expect(fx.engine.poke(fx.clientC.address)).to.emit(fx.engine, "MarginCalled");
      // No position left that counts and debt above the cash: liquidatable at once (the hard line), not Defaulted
      // (the stale shares may still be worth something).
      expect((await fx.engine.recordedState(fx.clientC.address))[0]).to.equal(State.Liquidatable);
    });
  });

  describe("dynamic margin", () => {
    it("sets maintenance = clamp(base + k · EWMA volatility, floor, cap) and initial = maintenance + buffer", async () => {
      const fx = await loadFixture(marginFixture);
      await setTier(fx, 1, pct(15), pct(5), 2n * WAD);
      for (const p of [10, 10.5, 9.8, 10.4, 9.9, 10.6]) await fx.setPrice(fx.bank, price(p));
      const vol = await (await hre.ethers.getContractAt("IOracleRouter", fx.router)).volatility(await addr(fx.bank));
      expect(vol).to.be.greaterThan(0n);
      const [mm, im, reportedVol] = await fx.engine.assetMargins(await addr(fx.bank));
      const expected = pct(15) + (2n * WAD * vol + WAD - 1n) / WAD;
      expect(reportedVol).to.equal(vol);
      expect(mm).to.equal(expected > WAD - pct(5) ? WAD - pct(5) : expected);
      expect(im).to.equal(mm + pct(5));
      // clamped at the cap
      await fx.engine.connect(fx.actors.riskOfficer).setTierRisk(1, {
        liquidityAddOn: pct(15),
        volatilityMultiplier: 18n * WAD,
        floor: pct(10),
        cap: pct(40),
        initialBuffer: pct(5),
        fixedVolatility: 0n,
      });
      expect((await fx.engine.assetMargins(await addr(fx.bank)))[0]).to.equal(pct(40));
    });
  });

  describe("liquidation", () => {
    async function liquidatable(): Promise<MarginFixture> {
      const fx = await loadFixture(marginFixture);
      await leveredC(fx);
      await fx.setPrice(fx.bank, price(8.05)); // below the hard line
      await fx.advance((await fx.engine.params()).oracleGrace);
      return fx;
    }

    it("keeps lent cash in the pool as its float, repays from it and releases it when cash leaves", async () => {
      const fx = await liquidatable();
      const { engine, pool, cash, clientC, liquidator, fund } = fx;
      const [cashAddr, engineAddr, poolAddr] = await Promise.all([addr(cash), addr(engine), addr(pool)]);
      // The engine's own cash plus its float in the pool = its accounts' cash plus the share owed to the fund.
      const expectBacked = async (): Promise<void> => {
        let inside = await engine.insuranceOwed();
        for (const u of fx.actors.users) inside += await engine.balanceOf(u.address, cashAddr);
        expect((await cash.balanceOf(engineAddr)) + (await pool.floatHeld())).to.equal(inside);
      };
      // C borrowed 150,000 (no token moved) and withdrew it: the engine paid from its own cash (the liquidator's).
      expect(await pool.floatHeld()).to.equal(150_000n * CNY);
      expect(await cash.balanceOf(engineAddr)).to.equal(850_000n * CNY);
      await expectBacked();

      // The liquidation's repayment comes out of the float: no token moves at all.
      const liquidation = engine.connect(liquidator).liquidate(clientC.address, 5);
      await expect(liquidation).to.changeTokenBalances(cash, [engineAddr, poolAddr], [0n, 0n]);
      const float = await pool.floatHeld();
      expect(float).to.be.lessThan(150_000n * CNY);
      await expectBacked();

      // The liquidator takes all its cash out: more than the engine holds, the rest is released from the float.
      const all = await engine.balanceOf(liquidator.address, cashAddr);
      const shortfall = all - 850_000n * CNY;
      expect(shortfall).to.be.greaterThan(0n);
      const withdrawal = engine.connect(liquidator).withdraw(cashAddr, all);
      await expect(withdrawal).to.emit(pool, "FloatReleased").withArgs(engineAddr, engineAddr, shortfall);
      await expect(withdrawal).to.changeTokenBalances(
        cash,
        [liquidator.address, engineAddr, poolAddr],
        [all, -(850_000n * CNY), -shortfall],
      );
      expect(await pool.floatHeld()).to.equal(float - shortfall);
      await expectBacked();

      // The engine holds nothing of its own now: the fund's share is released from the float as well.
      const owed = await engine.insuranceOwed();
      expect(owed).to.be.greaterThan(0n);
      const sweep = engine.sweepInsurance();
      await expect(sweep).to.emit(pool, "FloatReleased").withArgs(engineAddr, engineAddr, owed);
      await expect(sweep).to.changeTokenBalances(cash, [await addr(fund), poolAddr], [owed, -owed]);
      await expectBacked();
    });

    it("refuses healthy accounts, self-liquidation and fresh prices inside the oracle grace", async () => {
      const fx = await loadFixture(marginFixture);
      await leveredC(fx);
      await expect(fx.engine.connect(fx.liquidator).liquidate(fx.clientC.address, 1))
        .to.be.revertedWithCustomError(fx.engine, "MarginNotLiquidatable")
        .withArgs(fx.clientC.address, State.Healthy);
      await expect(fx.engine.connect(fx.clientC).liquidate(fx.clientC.address, 1))
        .to.be.revertedWithCustomError(fx.engine, "MarginSelfLiquidation")
        .withArgs(fx.clientC.address);
    });

    it("sells just enough for the target, splits the penalty and repays the pool", async () => {
      const fx = await liquidatable();
      const { engine, clientC, liquidator, fund, pool } = fx;
      const before = await engine.accountView(clientC.address);
      const fundBefore = await fund.balance();
      const owedBefore = await engine.insuranceOwed();
      const tx = engine.connect(liquidator).liquidate(clientC.address, 5);
      await expect(tx).to.emit(engine, "Liquidated");
      const after = await engine.accountView(clientC.address);
      const p = await engine.params();
      const target = after.maintenanceReq + (after.positionValue * p.targetBuffer) / WAD;
      expect(after.equity).to.be.greaterThanOrEqual(target);
      // minimal: one share less (8.05 CNY) would have missed the target
      const [, , , units] = (await engine.queryFilter(engine.filters.Liquidated()))[0].args;
      expect(units).to.be.greaterThan(0n);
      expect(after.equity - target).to.be.lessThan(8_050_000n);
      expect(after.state).to.be.oneOf([BigInt(State.Healthy), BigInt(State.Warning)]);
      // penalty 5% of the seized value, half to the insurance fund
      const value = units * 8_050_000n;
      const penalty = (value * pct(5) + WAD - 1n) / WAD;
      // The fund's half is owed (held by the engine) until anyone sweeps it: one transfer for many liquidations.
      const share = penalty - penalty / 2n;
      expect((await engine.insuranceOwed()) - owedBefore).to.equal(share);
      expect(await fund.balance()).to.equal(fundBefore);
      expect(before.debt - after.debt).to.be.closeTo(value - penalty, 1n);
      expect(await pool.totalScaledDebt()).to.equal((await engine.debtOf(clientC.address))[1]);
      expect(await engine.balanceOf(liquidator.address, await addr(fx.bank))).to.equal(units);
      // The share owed is kept beside the durations: a parameter change leaves it as it is.
      await engine.connect(fx.actors.riskOfficer).setParams(paramsOf(p));
      expect((await engine.insuranceOwed()) - owedBefore).to.equal(share);

      const sweep = engine.connect(fx.clientA).sweepInsurance();
      await expect(sweep)
        .to.emit(engine, "InsuranceSwept")
        .withArgs(owedBefore + share);
      await expect(sweep)
        .to.emit(fund, "IncomeReceived")
        .withArgs(
          await engine.getAddress(),
          hre.ethers.encodeBytes32String("liquidation-penalty"),
          owedBefore + share,
          fundBefore + owedBefore + share,
        );
      expect(await fund.balance()).to.equal(fundBefore + owedBefore + share);
      expect(await engine.insuranceOwed()).to.equal(0n);
      // Nothing owed: a sweep pays nothing and emits nothing.
      expect(await engine.sweepInsurance.staticCall()).to.equal(0n);
      await expect(engine.sweepInsurance()).not.to.emit(engine, "InsuranceSwept");
    });

    it("seizes the least liquid tier first and honours the per-window cap", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine, clientA, liquidator } = fx;
      await zeroRate(fx);
      for (const tier of [1, 2, 3]) await setTier(fx, tier, pct(15), pct(5));
      // no haircuts, so that 2× fits the tier's leverage cap; mbSMALL capped at 300 shares per window
      await engine.connect(fx.actors.riskOfficer).configureAsset(await addr(fx.tech), 2, 0n, pct(5), 10n ** 9n);
      await engine.connect(fx.actors.riskOfficer).configureAsset(await addr(fx.small), 3, 0n, pct(5), 300n);
      await fx.fundAccount(clientA, fx.cash, 100_000n * CNY);
      await engine.connect(clientA).borrow(100_000n * CNY);
      await fx.buy(clientA, fx.bank, 10_000n, price(10));
      await fx.buy(clientA, fx.tech, 2_000n, price(25));
      await fx.buy(clientA, fx.small, 1_000n, price(50));
      await fx.setPrice(fx.bank, price(5.3));
      await fx.setPrice(fx.tech, price(13.25));
      await fx.setPrice(fx.small, price(26.5)); // −47%: equity 6,000 below the hard line 0.5 · 15,900
      await fx.advance((await engine.params()).oracleGrace);
      await expect(engine.connect(liquidator).liquidate(clientA.address, 3))
        .to.emit(engine, "Liquidated")
        .withArgs(
          clientA.address,
          liquidator.address,
          await addr(fx.small),
          300n,
          price(26.5),
          7_950n * CNY,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
        );
      expect(await engine.seizableInWindow(await addr(fx.small))).to.equal(0n);
      // mbSMALL is capped for this window: the same call went on with the next tier (mbTECH), and a used-up cap
      // never shields the rest of the account.
      expect(await engine.balanceOf(clientA.address, await addr(fx.small))).to.equal(700n);
      expect(await engine.balanceOf(clientA.address, await addr(fx.tech))).to.be.lessThan(2_000n);
      await fx.advance((await engine.params()).liquidationWindow);
      expect(await engine.seizableInWindow(await addr(fx.small))).to.equal(300n);
    });

    it("takes a whole position rather than leave dust", async () => {
      const fx = await liquidatable();
      // dust threshold above what would remain
      const p = await fx.engine.params();
      await fx.engine.connect(fx.actors.riskOfficer).setParams({ ...paramsOf(p), dustValue: 1_000_000n * CNY });
      await fx.engine.connect(fx.liquidator).liquidate(fx.clientC.address, 1);
      expect(await fx.engine.balanceOf(fx.clientC.address, await addr(fx.bank))).to.equal(0n);
      const view = await fx.engine.accountView(fx.clientC.address);
      expect(view.debt).to.equal(0n);
      expect(view.cash).to.be.greaterThan(0n); // proceeds above the debt stay the client's
      expect(view.state).to.equal(State.Healthy);
    });

    it("refuses a liquidator who cannot pay from its margin cash", async () => {
      const fx = await liquidatable();
      const poor = fx.clientA;
      await expect(fx.engine.connect(poor).liquidate(fx.clientC.address, 1)).to.be.revertedWithCustomError(
        fx.engine,
        "MarginInsufficientBalance",
      );
    });
  });

  describe("access control", () => {
    it("routes risk parameters through the risk officer and balance moves through the SETTLER", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine, clientA } = fx;
      const p = paramsOf(await engine.params());
      for (const call of [
        engine.connect(clientA).setParams(p),
        engine.connect(clientA).setTierRisk(1, tierOf(await engine.tierRisk(1))),
        engine.connect(clientA).configureAsset(await addr(fx.bank), 1, 0n, pct(5), 1n),
        engine.connect(clientA).transferBetweenAccounts(fx.dealer.address, clientA.address, await addr(fx.bank), 1n),
      ]) {
        await expect(call).to.be.revertedWithCustomError(engine, "AccessManagedUnauthorized").withArgs(clientA.address);
      }
      await expect(
        engine.connect(fx.actors.riskOfficer).setParams({ ...p, liquidatorShare: WAD + 1n }),
      ).to.be.revertedWithCustomError(engine, "MarginInvalidParams");
      // The dust value is stored in 72 bits (beside the insurance share owed): more is refused, not truncated.
      await expect(
        engine.connect(fx.actors.riskOfficer).setParams({ ...p, dustValue: 2n ** 72n }),
      ).to.be.revertedWithCustomError(engine, "MarginInvalidParams");
      await engine.connect(fx.actors.riskOfficer).setParams({ ...p, dustValue: 2n ** 72n - 1n });
      expect((await engine.params()).dustValue).to.equal(2n ** 72n - 1n);
      await expect(engine.connect(fx.actors.riskOfficer).setParams(p)).to.emit(engine, "ParamsSet");
      expect(paramsOf(await engine.params())).to.deep.equal(p);
    });

    it("stores tier ratios in steps of 1e-9, reads them back exactly and refuses finer ones", async () => {
      const fx = await loadFixture(marginFixture);
      const { engine } = fx;
      const risk = {
        liquidityAddOn: 123_456_789n * 10n ** 9n, // 0.123456789
        volatilityMultiplier: 2_500_000_001n * 10n ** 9n, // 2.500000001
        floor: pct(10),
        cap: pct(40),
        initialBuffer: 50_000_001n * 10n ** 9n,
        fixedVolatility: 45_678n * 10n ** 14n, // 4.5678% a day
      };
      await expect(engine.connect(fx.actors.riskOfficer).setTierRisk(2, risk)).to.emit(engine, "TierRiskSet");
      expect(tierOf(await engine.tierRisk(2))).to.deep.equal(risk);
      for (const field of Object.keys(risk) as (keyof typeof risk)[]) {
        await expect(engine.connect(fx.actors.riskOfficer).setTierRisk(2, { ...risk, [field]: risk[field] + 1n }))
          .to.be.revertedWithCustomError(engine, "MarginInvalidTierRisk")
          .withArgs(2);
      }
      expect(tierOf(await engine.tierRisk(2))).to.deep.equal(risk);
    });
  });
});

describe("MarginEngine against hostile inputs", () => {
  it("refuses re-entry from a listed token's transfer hook (deposit → withdraw)", async () => {
    const fx = await loadFixture(marginFixture);
    const { engine, clientA, actors } = fx;
    const hostile = await (await hre.ethers.getContractFactory("HostileReentrantToken", clientA)).deploy();
    const hostileAddress = await hostile.getAddress();
    await engine.connect(actors.riskOfficer).configureAsset(hostileAddress, 3, 0n, pct(10), 1_000n);
    await hostile.approve(await addr(engine), 2_000n);
    await engine.connect(clientA).deposit(hostileAddress, 1_000n);
    await hostile.arm(await addr(engine), engine.interface.encodeFunctionData("withdraw", [hostileAddress, 1_000n]));
    await expect(engine.connect(clientA).deposit(hostileAddress, 1_000n)).to.be.revertedWithCustomError(
      engine,
      "ReentrancyGuardReentrantCall",
    );
    expect(await engine.balanceOf(clientA.address, hostileAddress)).to.equal(1_000n);
    expect(await hostile.balanceOf(await addr(engine))).to.equal(1_000n);
  });

  it("applies a delayed risk officer's parameter change only after schedule and delay", async () => {
    const fx = await loadFixture(marginFixture);
    const { engine, manager, actors } = fx;
    const officer = actors.users[8];
    await manager.grantRole(ROLE.RISK_OFFICER, officer.address, 86_400);
    const next = { ...paramsOf(await engine.params()), gracePeriod: 7_200 };
    const data = engine.interface.encodeFunctionData("setParams", [next]);
    await expect(engine.connect(officer).setParams(next)).to.be.revertedWithCustomError(
      manager,
      "AccessManagerNotScheduled",
    );
    await manager.connect(officer).schedule(await addr(engine), data, 0);
    await time.increase(86_400);
    await expect(manager.connect(officer).execute(await addr(engine), data)).to.emit(engine, "ParamsSet");
    expect((await engine.params()).gracePeriod).to.equal(7_200n);
  });
});
