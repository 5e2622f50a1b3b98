import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ROLE } from "../../../scripts/deploy/roles";
import { CapitalPool__factory } from "../../../typechain-types";
import {
  CNY,
  DAY,
  PLAIN_REDEMPTION,
  PLAIN_TRANCHES,
  RAY,
  WAD,
  ZERO_RATE,
  atHead,
  plainPoolFixture as poolFixture,
} from "../../helpers/poolFixture";

// The lending book with every tranche and redemption rule off and only senior capital: the pool behaves as one class
// (tranche rules: Tranches.test.ts, the queue: RedemptionQueue.test.ts, the vaults: TrancheVault.test.ts).
describe("CapitalPool (the lending book)", () => {
  describe("borrowing", () => {
    it("only the bound borrower borrows, repays, writes off and releases its float", async () => {
      const { pool, senior, lp } = await loadFixture(poolFixture);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      for (const call of [
        () => pool.connect(lp).borrow(1n),
        () => pool.connect(lp).repay(1n),
        () => pool.connect(lp).writeOff(1n),
        () => pool.connect(lp).release(1n, lp.address),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(pool, "PoolNotBorrower").withArgs(lp.address);
      }
    });

    it("binds the borrower once, by the admin only, and never the zero address", async () => {
      const { pool, borrower, lp, actors } = await loadFixture(poolFixture);
      expect(await pool.borrower()).to.equal(borrower.address);
      await expect(pool.connect(lp).bindBorrower(lp.address))
        .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
        .withArgs(lp.address);
      await expect(pool.connect(actors.admin).bindBorrower(lp.address))
        .to.be.revertedWithCustomError(pool, "PoolBorrowerAlreadyBound")
        .withArgs(borrower.address);

      const fresh = await new CapitalPool__factory(actors.admin).deploy(
        await pool.asset(),
        await pool.insuranceFund(),
        await pool.authority(),
        { base: 0n, slope1: 0n, slope2: 0n, kink: 0n },
        0n,
        PLAIN_TRANCHES,
        PLAIN_REDEMPTION,
      );
      expect(await fresh.borrower()).to.equal(hre.ethers.ZeroAddress);
      await expect(fresh.connect(lp).borrow(1n))
        .to.be.revertedWithCustomError(fresh, "PoolNotBorrower")
        .withArgs(lp.address);
      await expect(fresh.connect(actors.admin).bindBorrower(hre.ethers.ZeroAddress))
        .to.be.revertedWithCustomError(fresh, "PoolInvalidBorrower")
        .withArgs(hre.ethers.ZeroAddress);
      await expect(fresh.connect(actors.admin).bindBorrower(lp.address))
        .to.emit(fresh, "BorrowerBound")
        .withArgs(lp.address);
      expect(await fresh.borrower()).to.equal(lp.address);
    });

    it("binds the two tranche vaults once, by the admin only; only they move cash into and out of a class", async () => {
      const { pool, senior, junior, lp, actors } = await loadFixture(poolFixture);
      const [s, j] = [await senior.getAddress(), await junior.getAddress()];
      expect([await pool.tranche(0), await pool.tranche(1)]).to.deep.equal([s, j]);
      await expect(pool.connect(lp).bindTranches(s, j))
        .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
        .withArgs(lp.address);
      await expect(pool.connect(actors.admin).bindTranches(j, s))
        .to.be.revertedWithCustomError(pool, "PoolTranchesAlreadyBound")
        .withArgs(s, j);
      for (const [t, call] of [
        [0, () => pool.connect(lp).trancheDeposit(0, 1n, 1n)],
        [1, () => pool.connect(lp).trancheEnqueue(1, lp.address, 1n, 0n)],
        [0, () => pool.connect(lp).trancheClaim(0, lp.address, lp.address, 0n, 1n)],
        [2, () => pool.connect(lp).trancheDeposit(2, 1n, 1n)],
      ] as const) {
        await expect(call()).to.be.revertedWithCustomError(pool, "PoolNotTranche").withArgs(t, lp.address);
      }

      const fresh = await new CapitalPool__factory(actors.admin).deploy(
        await pool.asset(),
        await pool.insuranceFund(),
        await pool.authority(),
        ZERO_RATE,
        0n,
        PLAIN_TRANCHES,
        PLAIN_REDEMPTION,
      );
      const zero = hre.ethers.ZeroAddress;
      for (const [a, b] of [
        [zero, j],
        [s, zero],
        [s, s],
      ]) {
        await expect(fresh.connect(actors.admin).bindTranches(a, b))
          .to.be.revertedWithCustomError(fresh, "PoolInvalidTranches")
          .withArgs(a, b);
      }
      await expect(fresh.connect(actors.admin).bindTranches(s, j)).to.emit(fresh, "TranchesBound").withArgs(s, j);
    });

    it("lends cash, records scaled debt and refuses more than the available cash", async () => {
      const { pool, senior, lp, borrower } = await loadFixture(poolFixture);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      await expect(pool.connect(borrower).borrow(100_000n * CNY + 1n))
        .to.be.revertedWithCustomError(pool, "PoolInsufficientCash")
        .withArgs(100_000n * CNY + 1n, 100_000n * CNY);
      await expect(pool.connect(borrower).borrow(60_000n * CNY))
        .to.emit(pool, "Borrowed")
        .withArgs(borrower.address, 60_000n * CNY, 60_000n * CNY, RAY);
      expect(await pool.totalScaledDebt()).to.equal(60_000n * CNY);
      expect(await pool.utilisation()).to.equal((WAD * 6n) / 10n);
    });

    it("keeps lent cash as the borrower's float: only the float is released, repayment takes it first", async () => {
      const { pool, senior, lp, borrower, cash, actors } = await loadFixture(poolFixture);
      await pool.connect(actors.riskOfficer).setRateModel(ZERO_RATE);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      const poolAddress = await pool.getAddress();
      // Borrowing moves no token: the pool keeps the 60,000 for the borrower, outside its own cash.
      await expect(pool.connect(borrower).borrow(60_000n * CNY)).to.changeTokenBalances(
        cash,
        [poolAddress, borrower.address],
        [0n, 0n],
      );
      expect(await pool.floatHeld()).to.equal(60_000n * CNY);
      expect(await cash.balanceOf(poolAddress)).to.equal(100_000n * CNY);
      expect(await pool.availableCash()).to.equal(40_000n * CNY);
      expect(await pool.totalAssets()).to.equal(100_000n * CNY);

      // Never more than the float (the pool's own 40,000 cannot leave this way), never zero, only the borrower.
      await expect(pool.connect(borrower).release(60_000n * CNY + 1n, borrower.address))
        .to.be.revertedWithCustomError(pool, "PoolFloatExceeded")
        .withArgs(60_000n * CNY + 1n, 60_000n * CNY);
      await expect(pool.connect(borrower).release(0n, borrower.address)).to.be.revertedWithCustomError(
        pool,
        "PoolZeroAmount",
      );
      const release = pool.connect(borrower).release(25_000n * CNY, lp.address);
      await expect(release)
        .to.emit(pool, "FloatReleased")
        .withArgs(borrower.address, lp.address, 25_000n * CNY);
      await expect(release).to.changeTokenBalances(cash, [poolAddress, lp.address], [-25_000n * CNY, 25_000n * CNY]);
      expect(await pool.floatHeld()).to.equal(35_000n * CNY);
      expect(await pool.totalAssets()).to.equal(100_000n * CNY);

      // Repaying 50,000: 35,000 from the float, 15,000 pulled from the borrower.
      const repay = pool.connect(borrower).repay(50_000n * CNY);
      await expect(repay)
        .to.emit(pool, "Repaid")
        .withArgs(borrower.address, 50_000n * CNY, 50_000n * CNY, RAY);
      await expect(repay).to.changeTokenBalances(
        cash,
        [poolAddress, borrower.address],
        [15_000n * CNY, -15_000n * CNY],
      );
      expect(await pool.floatHeld()).to.equal(0n);
      expect(await pool.availableCash()).to.equal(90_000n * CNY);
      expect(await cash.balanceOf(poolAddress)).to.equal(90_000n * CNY);
      await expect(pool.connect(borrower).release(1n, borrower.address))
        .to.be.revertedWithCustomError(pool, "PoolFloatExceeded")
        .withArgs(1n, 0n);
    });

    it("accrues 8% a year per second: 200,000 owes about 43.84 after one natural day", async () => {
      const { pool, senior, lp, borrower } = await loadFixture(poolFixture);
      await senior.connect(lp).deposit(400_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(200_000n * CNY);
      const start = BigInt(await time.latest());
      await time.setNextBlockTimestamp(start + DAY);
      await pool.accrue();
      const interest = (await pool.totalDebt(await atHead())) - 200_000n * CNY;
      // 200,000 × 8% / 365 = 43.835616… CNY for exactly one day (the accrue block is one day after the borrow)
      expect(interest).to.equal((200_000n * CNY * 8n) / 100n / 365n);
      expect(Number(interest) / 1e6).to.be.closeTo(43.84, 0.005);
      expect(await pool.ratePerDay()).to.equal((8n * WAD) / 100n / 365n);
      expect(await pool.borrowRate()).to.equal((8n * WAD) / 100n);
    });

    it("repays scaled debt, pulling ceil(scaled · index) and emitting Repaid", async () => {
      const { pool, senior, lp, borrower } = await loadFixture(poolFixture);
      await senior.connect(lp).deposit(400_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(200_000n * CNY);
      const start = BigInt(await time.latest());
      await time.setNextBlockTimestamp(start + 180n * DAY);
      await hre.network.provider.send("evm_setAutomine", [false]);
      const tx = await pool.connect(borrower).repay(200_000n * CNY);
      await hre.network.provider.send("evm_mine");
      await hre.network.provider.send("evm_setAutomine", [true]);
      // one accrual over 180 days: index = RAY · (1 + 8% · 180/365)
      const index = RAY + (RAY * 8n * 180n) / 100n / 365n;
      const scaled = 200_000n * CNY;
      const owed = (scaled * index + RAY - 1n) / RAY;
      expect(owed - 200_000n * CNY).to.be.closeTo((16_000n * CNY * 180n) / 365n, 1n);
      await expect(tx).to.emit(pool, "Repaid").withArgs(borrower.address, owed, scaled, index);
      expect(await pool.totalScaledDebt()).to.equal(0n);
      await expect(pool.connect(borrower).repay(1n))
        .to.be.revertedWithCustomError(pool, "PoolDebtExceeded")
        .withArgs(1n, 0n);
    });

    it("prices a kinked utilisation model and changes it only through the risk officer", async () => {
      const { pool, senior, lp, borrower, actors } = await loadFixture(poolFixture);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      const model = { base: WAD / 50n, slope1: WAD / 10n, slope2: WAD, kink: (WAD * 8n) / 10n };
      await expect(pool.connect(lp).setRateModel(model))
        .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
        .withArgs(lp.address);
      await expect(pool.connect(actors.riskOfficer).setRateModel(model))
        .to.emit(pool, "RateModelSet")
        .withArgs(model.base, model.slope1, model.slope2, model.kink);
      await pool.connect(borrower).borrow(40_000n * CNY);
      // U = 40% → 2% + 10% × 0.4/0.8 = 7%
      expect(await pool.borrowRate(await atHead())).to.equal((7n * WAD) / 100n);
      await pool.connect(borrower).borrow(50_000n * CNY);
      // U ≈ 90% (plus one second of interest) → 2% + 10% + 100% × 0.1/0.2 = 62%
      expect(await pool.borrowRate(await atHead())).to.be.closeTo((62n * WAD) / 100n, 10n ** 12n);
      await expect(pool.connect(actors.riskOfficer).setRateModel({ ...model, kink: WAD + 1n }))
        .to.be.revertedWithCustomError(pool, "PoolInvalidRateModel")
        .withArgs(model.base, model.slope1, model.slope2, WAD + 1n);
    });

    it("applies a delayed risk-officer grant only after schedule and the delay", async () => {
      const { pool, manager, actors } = await loadFixture(poolFixture);
      const officer = actors.users[5];
      await manager.grantRole(ROLE.RISK_OFFICER, officer.address, Number(DAY));
      const data = pool.interface.encodeFunctionData("setReserveFactor", [WAD / 5n]);
      // Without a schedule the call itself tries to consume one and fails.
      await expect(pool.connect(officer).setReserveFactor(WAD / 5n)).to.be.revertedWithCustomError(
        manager,
        "AccessManagerNotScheduled",
      );
      await manager.connect(officer).schedule(await pool.getAddress(), data, 0);
      await expect(manager.connect(officer).execute(await pool.getAddress(), data)).to.be.revertedWithCustomError(
        manager,
        "AccessManagerNotReady",
      );
      await time.increase(DAY);
      await expect(manager.connect(officer).execute(await pool.getAddress(), data))
        .to.emit(pool, "ReserveFactorSet")
        .withArgs(WAD / 5n);
      expect(await pool.reserveFactor()).to.equal(WAD / 5n);
    });
  });

  describe("reserve factor and accounting identity", () => {
    it("owes 10% of interest to the insurance fund and keeps totalAssets = cash + debt − reserves owed", async () => {
      const { pool, senior, fund, lp, borrower } = await loadFixture(poolFixture);
      await senior.connect(lp).deposit(300_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(200_000n * CNY);
      await time.increase(180n * DAY);
      await pool.accrue();
      const head = await atHead();
      const debt = await pool.totalDebt(head);
      const owed = await pool.reservesOwed(head);
      expect(owed).to.be.closeTo((debt - 200_000n * CNY) / 10n, 1n);
      const balance = await (
        await hre.ethers.getContractAt("CollateralToken", await pool.asset())
      ).balanceOf(await pool.getAddress());
      // The token balance holds the pool's own cash, the borrower's float (lent cash not yet released) and claimable
      // redemptions (none here).
      expect(await pool.totalAssets(head)).to.equal(
        balance - (await pool.floatHeld(head)) - (await pool.claimableCash(head)) + debt - owed,
      );
      expect(await pool.trancheAssets(0, head)).to.equal(await pool.totalAssets(head));

      await expect(pool.sweepReserves()).to.emit(fund, "IncomeReceived");
      // the sweep accrues one more second first, so the fund receives slightly more than `owed`
      expect(await pool.reservesOwed(await atHead())).to.equal(0n);
      expect(await fund.totalReceived(hre.ethers.encodeBytes32String("reserve-factor"))).to.be.closeTo(owed, 60n);
      expect(await fund.balance()).to.equal(await fund.totalReceived(hre.ethers.encodeBytes32String("reserve-factor")));
    });
  });

  describe("bad debt", () => {
    it("writes off: the book and the share price fall by the loss, borrowing stops until the deficit is resolved", async () => {
      const { pool, senior, lp, borrower, actors } = await loadFixture(poolFixture);
      await pool.connect(actors.riskOfficer).setRateModel(ZERO_RATE);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(50_000n * CNY);
      const oneShare = 10n ** 12n;
      const priceBefore = await senior.convertToAssets(oneShare);
      // No junior capital here: the senior class bears the whole loss.
      await expect(pool.connect(borrower).writeOff(10_000n * CNY))
        .to.emit(pool, "BadDebtWrittenOff")
        .withArgs(borrower.address, 10_000n * CNY, 10_000n * CNY, 0n, 10_000n * CNY, 10_000n * CNY);
      expect(await senior.convertToAssets(oneShare)).to.equal((priceBefore * 9n) / 10n);
      expect(await pool.seniorDeficit()).to.equal(10_000n * CNY);
      expect(await pool.totalAssets()).to.equal(90_000n * CNY);
      expect(await pool.deficit()).to.equal(10_000n * CNY);
      expect(await pool.totalWrittenOff()).to.equal(10_000n * CNY);
      await expect(pool.connect(borrower).borrow(1n))
        .to.be.revertedWithCustomError(pool, "PoolDeficitUnresolved")
        .withArgs(10_000n * CNY);

      await expect(pool.connect(lp).coverDeficit(4_000n * CNY))
        .to.emit(pool, "DeficitCovered")
        .withArgs(lp.address, 4_000n * CNY, 4_000n * CNY, 6_000n * CNY);
      expect(await pool.totalAssets()).to.equal(94_000n * CNY);
      await expect(pool.connect(lp).coverDeficit(6_000n * CNY + 1n))
        .to.be.revertedWithCustomError(pool, "PoolNoSuchDeficit")
        .withArgs(6_000n * CNY + 1n, 6_000n * CNY);
      await expect(pool.connect(actors.riskOfficer).acknowledgeDeficit())
        .to.emit(pool, "DeficitAcknowledged")
        .withArgs(6_000n * CNY);
      expect(await pool.seniorDeficit()).to.equal(0n);
      await expect(pool.connect(borrower).borrow(1n * CNY)).to.emit(pool, "Borrowed");
    });
  });
});

describe("InsuranceFund", () => {
  it("books income by source and pays bad debt only to its claimant, never more than it holds", async () => {
    const { fund, lp, borrower, manager } = await loadFixture(poolFixture);
    const cash = await hre.ethers.getContractAt("CollateralToken", await fund.asset());
    await cash.connect(lp).approve(await fund.getAddress(), hre.ethers.MaxUint256);
    const donation = hre.ethers.encodeBytes32String("donation");
    await expect(fund.connect(lp).receiveIncome(5_000n * CNY, donation))
      .to.emit(fund, "IncomeReceived")
      .withArgs(lp.address, donation, 5_000n * CNY, 5_000n * CNY);
    await expect(fund.connect(lp).receiveIncome(0n, donation)).to.be.revertedWithCustomError(
      fund,
      "InsuranceZeroAmount",
    );
    await expect(fund.connect(lp).coverBadDebt(lp.address, 1n, lp.address))
      .to.be.revertedWithCustomError(fund, "AccessManagedUnauthorized")
      .withArgs(lp.address);

    await manager.grantRole(ROLE.INSURANCE_CLAIMANT, borrower.address, 0);
    await expect(fund.connect(borrower).coverBadDebt(lp.address, 8_000n * CNY, borrower.address))
      .to.emit(fund, "BadDebtCovered")
      .withArgs(borrower.address, lp.address, borrower.address, 8_000n * CNY, 5_000n * CNY, 0n);
    expect(await fund.totalCovered()).to.deep.equal([5_000n * CNY, 1n]);
    expect(await fund.balance()).to.equal(0n);
    expect(await fund.totalReceived(donation)).to.equal(5_000n * CNY);
  });
});
