import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ROLE } from "../../../scripts/deploy/roles";
import {
  CNY,
  DAY,
  RAY,
  REDEMPTION,
  SENIOR,
  SHARE,
  TRANCHES,
  WAD,
  atHead,
  makePoolFixture,
  pct,
  tranchePoolFixture,
  zeroRatePoolFixture,
} from "../../helpers/poolFixture";

const YEAR = 365n * DAY;
/** The senior target and the tranche rules in the pool's 1e-9 units. */
const RATE9 = BigInt(TRANCHES.seniorRate) / 10n ** 9n;
const grow = (claim: bigint, seconds: bigint): bigint => claim + (claim * RATE9 * seconds) / (10n ** 9n * YEAR);

/** Kinked model with the deployment's tranche rules: 2% + 10% up to 80% of the lendable book, then +100%. */
const kinkedFixture = makePoolFixture({
  tranches: TRANCHES,
  redemption: REDEMPTION,
  rateModel: { base: pct(2), slope1: pct(10), slope2: WAD, kink: pct(80) },
});

describe("CapitalPool tranches", () => {
  describe("interest split", () => {
    it("pays the senior class its 4% target first and the junior class the rest of what the book earned", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(tranchePoolFixture);
      await junior.connect(platform).deposit(200_000n * CNY, platform.address);
      await senior.connect(lp).deposit(800_000n * CNY, lp.address);
      const seniorAt = BigInt(await time.latest());
      await pool.connect(borrower).borrow(500_000n * CNY);
      const borrowAt = BigInt(await time.latest());
      await time.setNextBlockTimestamp(seniorAt + YEAR);
      const tx = pool.checkpointTranches();
      // One accrual over the whole interval: index = 1 + 8% · Δt / year; 10% of the interest is owed to the fund.
      const dt = seniorAt + YEAR - borrowAt;
      const index = RAY + (RAY * pct(8) * dt) / (WAD * YEAR);
      const debt = (500_000n * CNY * index) / RAY;
      const interest = debt - 500_000n * CNY;
      const book = 1_000_000n * CNY + interest - interest / 10n;
      const seniorAssets = grow(800_000n * CNY, YEAR);
      expect(seniorAssets).to.equal(832_000n * CNY);
      await expect(tx)
        .to.emit(pool, "TranchesAccrued")
        .withArgs(seniorAssets, book - seniorAssets, 32_000n * CNY, book - seniorAssets - 200_000n * CNY);
      expect(await senior.totalAssets()).to.equal(seniorAssets);
      expect(await junior.totalAssets()).to.equal(book - seniorAssets);
      // ≈ 40,000 of interest, 4,000 to the fund: the junior class earns ≈ 4,000 on 200,000 (2%), the senior 4%.
      expect(book - seniorAssets - 200_000n * CNY).to.be.closeTo(4_000n * CNY, 10n * CNY);
    });

    it("makes the junior class pay the senior target when the book earns less (TranchesAccrued says so)", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(tranchePoolFixture);
      await junior.connect(platform).deposit(200_000n * CNY, platform.address);
      await senior.connect(lp).deposit(800_000n * CNY, lp.address);
      const seniorAt = BigInt(await time.latest());
      await pool.connect(borrower).borrow(100_000n * CNY);
      await time.setNextBlockTimestamp(seniorAt + YEAR);
      const tx = await pool.checkpointTranches();
      const [event] = (await pool.queryFilter(pool.filters.TranchesAccrued(), tx.blockNumber!, tx.blockNumber!)).map(
        (e) => e.args,
      );
      expect(event.seniorChange).to.equal(32_000n * CNY);
      // ≈ 8,000 of interest less 800 to the fund = 7,200 earned; the senior class took 32,000.
      expect(event.juniorChange).to.be.closeTo(-24_800n * CNY, 10n * CNY);
      expect(await junior.totalAssets()).to.equal(event.juniorAssets);
    });

    it("gives the senior class the whole book once the junior class is exhausted, and new junior capital its own worth", async () => {
      const { senior, junior, lp, platform, accomplice } = await loadFixture(tranchePoolFixture);
      await junior.connect(platform).deposit(10_000n * CNY, platform.address);
      await senior.connect(lp).deposit(990_000n * CNY, lp.address);
      await time.increase(300n * DAY); // (the providers' KYC lasts a year)
      // Nothing lent: the book is still 1,000,000 while the senior claim grew past it (≈ 1,022,548).
      expect(await senior.totalAssets()).to.equal(1_000_000n * CNY);
      expect(await junior.totalAssets()).to.equal(0n);
      await junior.connect(accomplice).deposit(50_000n * CNY, accomplice.address);
      const shares = await junior.balanceOf(accomplice.address);
      expect(await junior.convertToAssets(shares)).to.be.closeTo(50_000n * CNY, 1n);
      expect(await junior.convertToAssets(await junior.balanceOf(platform.address))).to.be.lessThan(1n * CNY);
      expect(await senior.totalAssets()).to.equal(1_000_000n * CNY);
    });

    it("lets a class without shares hold nothing: the other class takes the whole book", async () => {
      const { pool, senior, junior, platform, lp } = await loadFixture(tranchePoolFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await time.increase(300n * DAY);
      expect(await pool.trancheAssets(SENIOR)).to.equal(0n);
      expect(await junior.totalAssets()).to.equal(100_000n * CNY);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      expect(await senior.convertToAssets(await senior.balanceOf(lp.address))).to.equal(100_000n * CNY);
    });
  });

  describe("losses", () => {
    it("falls on the junior class first and on the senior class only once the junior class is exhausted", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(zeroRatePoolFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(500_000n * CNY);
      const seniorPrice = await senior.convertToAssets(SHARE);
      const juniorPrice = await junior.convertToAssets(SHARE);

      await expect(pool.connect(borrower).writeOff(60_000n * CNY))
        .to.emit(pool, "BadDebtWrittenOff")
        .withArgs(borrower.address, 60_000n * CNY, 60_000n * CNY, 60_000n * CNY, 0n, 60_000n * CNY);
      expect(await junior.totalAssets()).to.equal(40_000n * CNY);
      expect(await senior.totalAssets()).to.equal(900_000n * CNY);
      expect(await senior.convertToAssets(SHARE)).to.equal(seniorPrice);
      expect(await junior.convertToAssets(SHARE)).to.be.closeTo((juniorPrice * 4n) / 10n, 1n);

      await expect(pool.connect(borrower).writeOff(100_000n * CNY))
        .to.emit(pool, "BadDebtWrittenOff")
        .withArgs(borrower.address, 100_000n * CNY, 100_000n * CNY, 40_000n * CNY, 60_000n * CNY, 160_000n * CNY);
      expect(await junior.totalAssets()).to.equal(0n);
      expect(await senior.totalAssets()).to.equal(840_000n * CNY);
      expect(await pool.seniorDeficit()).to.equal(60_000n * CNY);

      // A cover restores the senior class's loss first, then the junior class's.
      await expect(pool.connect(lp).coverDeficit(70_000n * CNY))
        .to.emit(pool, "DeficitCovered")
        .withArgs(lp.address, 70_000n * CNY, 60_000n * CNY, 90_000n * CNY);
      expect(await senior.totalAssets()).to.equal(900_000n * CNY);
      expect(await junior.totalAssets()).to.equal(10_000n * CNY);
      expect(await pool.seniorDeficit()).to.equal(0n);
    });
  });

  describe("lending limits", () => {
    it("stops borrowing before utilisation reaches 1 − the buffer (10% of the senior, 5% of the junior class)", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(zeroRatePoolFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      expect(await pool.liquidityBuffer()).to.equal(95_000n * CNY);
      expect(await pool.lendableCash()).to.equal(905_000n * CNY);
      await expect(pool.connect(borrower).borrow(905_000n * CNY + 1n))
        .to.be.revertedWithCustomError(pool, "PoolBufferReached")
        .withArgs(905_000n * CNY + 1n, 905_000n * CNY);
      await pool.connect(borrower).borrow(905_000n * CNY);
      expect(await pool.utilisation()).to.equal(pct(90.5));
      expect(await pool.lendableCash()).to.equal(0n);
      await expect(pool.connect(borrower).borrow(1n))
        .to.be.revertedWithCustomError(pool, "PoolBufferReached")
        .withArgs(1n, 0n);
    });

    it("stops borrowing that would leave junior assets below 10% of the debt", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(zeroRatePoolFixture);
      await junior.connect(platform).deposit(50_000n * CNY, platform.address);
      await senior.connect(lp).deposit(950_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(500_000n * CNY);
      expect(await pool.juniorRequired()).to.equal(50_000n * CNY);
      await expect(pool.connect(borrower).borrow(1n))
        .to.be.revertedWithCustomError(pool, "PoolJuniorBelowBound")
        .withArgs(50_000n * CNY, 50_000n * CNY + 1n);
      // More junior capital lifts the bound.
      await junior.connect(platform).deposit(10_000n * CNY, platform.address);
      await expect(pool.connect(borrower).borrow(100_000n * CNY)).to.emit(pool, "Borrowed");
    });

    it("feeds the rate model the utilisation of the lendable book, so it reaches 100% where borrowing stops", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(kinkedFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      // Buffer share of the book: 95,000 / 1,000,000 = 9.5%.
      await pool.connect(borrower).borrow(452_500n * CNY);
      let at = await atHead();
      expect(await pool.utilisation(at)).to.equal(pct(45.25));
      expect(await pool.rateUtilisation(at)).to.equal(pct(50));
      // 2% + 10% · 50 / 80 = 8.25%
      expect(await pool.borrowRate(at)).to.equal(pct(8.25));
      await pool.connect(borrower).borrow((await pool.lendableCash()) - 1n * CNY);
      at = await atHead();
      expect(await pool.rateUtilisation(at)).to.be.closeTo(WAD, pct(0.01));
      expect(await pool.borrowRate(at)).to.be.closeTo(pct(112), pct(0.1));
    });
  });

  describe("profit share (an ended financing agreement's providers' share, AgreementSettlement only)", () => {
    /** receiveProfitShare mapped to AGREEMENT_SETTLER as deploy maps it; `settler` (lp2) stands in for the
     *  AgreementSettlement, the only holder in a deployment. */
    async function profitFixture(base: typeof tranchePoolFixture) {
      const fx = await base();
      const selector = fx.pool.interface.getFunction("receiveProfitShare").selector;
      await fx.manager.setTargetFunctionRole(await fx.pool.getAddress(), [selector], ROLE.AGREEMENT_SETTLER);
      await fx.manager.grantRole(ROLE.AGREEMENT_SETTLER, fx.lp2.address, 0);
      return { ...fx, settler: fx.lp2 };
    }
    const zeroRateProfit = () => profitFixture(zeroRatePoolFixture);
    const trancheProfit = () => profitFixture(tranchePoolFixture);

    it("refuses a provider, the borrower, an outsider and the operator: only the role's holder pays a profit share", async () => {
      const { pool, lp, borrower, attacker, outsider, actors } = await loadFixture(zeroRateProfit);
      for (const caller of [lp, borrower, attacker, outsider, actors.operator]) {
        await expect(pool.connect(caller).receiveProfitShare(1_000n * CNY))
          .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
          .withArgs(caller.address);
      }
    });

    it("refuses zero", async () => {
      const { pool, settler } = await loadFixture(zeroRateProfit);
      await expect(pool.connect(settler).receiveProfitShare(0n)).to.be.revertedWithCustomError(pool, "PoolZeroAmount");
    });

    it("raises the book and the junior share price by exactly the share when the senior class is at its target", async () => {
      const { pool, senior, junior, lp, platform, settler, borrower, cash } = await loadFixture(zeroRateProfit);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(300_000n * CNY);
      const before = {
        total: await pool.totalAssets(),
        senior: await senior.totalAssets(),
        junior: await junior.totalAssets(),
        cash: await pool.availableCash(),
        held: await cash.balanceOf(await pool.getAddress()),
        platformValue: await junior.convertToAssets(await junior.balanceOf(platform.address)),
        lpValue: await senior.convertToAssets(await senior.balanceOf(lp.address)),
      };
      await expect(pool.connect(settler).receiveProfitShare(12_345n * CNY))
        .to.emit(pool, "ProfitShareReceived")
        .withArgs(settler.address, 12_345n * CNY, 0n, 12_345n * CNY);
      expect(await pool.totalAssets()).to.equal(before.total + 12_345n * CNY);
      expect(await junior.totalAssets()).to.equal(before.junior + 12_345n * CNY);
      expect(await senior.totalAssets()).to.equal(before.senior);
      expect(await pool.availableCash()).to.equal(before.cash + 12_345n * CNY);
      expect(await cash.balanceOf(await pool.getAddress())).to.equal(before.held + 12_345n * CNY);
      // the junior provider (the sole holder) owns the whole share, less the vault's virtual-share rounding
      const platformValue = await junior.convertToAssets(await junior.balanceOf(platform.address));
      expect(platformValue).to.be.closeTo(before.platformValue + 12_345n * CNY, 1n);
      expect(await senior.convertToAssets(await senior.balanceOf(lp.address))).to.equal(before.lpValue);
    });

    it("makes up the senior class's accrued target first when the junior class is exhausted, the rest to the junior", async () => {
      const { pool, senior, junior, lp, platform, settler } = await loadFixture(trancheProfit);
      await junior.connect(platform).deposit(10_000n * CNY, platform.address);
      const deposited = await (await senior.connect(lp).deposit(990_000n * CNY, lp.address)).getBlock();
      await time.increase(300n * DAY);
      // Nothing lent: the book stays 1,000,000 while the senior claim grew past it (≈ 1,022,548).
      expect(await junior.totalAssets()).to.equal(0n);
      const tx = await pool.connect(settler).receiveProfitShare(50_000n * CNY);
      const at = BigInt((await tx.getBlock())!.timestamp);
      const claim = grow(990_000n * CNY, at - BigInt(deposited!.timestamp));
      const toSenior = claim - 1_000_000n * CNY;
      expect(toSenior > 20_000n * CNY && toSenior < 50_000n * CNY).to.equal(true);
      await expect(tx)
        .to.emit(pool, "ProfitShareReceived")
        .withArgs(settler.address, 50_000n * CNY, toSenior, 50_000n * CNY - toSenior);
      expect(await senior.totalAssets({ blockTag: tx.blockNumber! })).to.equal(claim);
      expect(await junior.totalAssets({ blockTag: tx.blockNumber! })).to.equal(50_000n * CNY - toSenior);
      expect(await pool.totalAssets({ blockTag: tx.blockNumber! })).to.equal(1_050_000n * CNY);
    });

    it("a direct transfer moves no share price; only the booked profit share does", async () => {
      const { pool, senior, junior, lp, platform, settler, attacker, cash } = await loadFixture(zeroRateProfit);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      const juniorPrice = await junior.convertToAssets(SHARE);
      await cash.connect(attacker).transfer(await pool.getAddress(), 5_000n * CNY);
      expect(await junior.convertToAssets(SHARE)).to.equal(juniorPrice);
      await pool.connect(settler).receiveProfitShare(5_000n * CNY);
      expect(await junior.convertToAssets(SHARE)).to.be.greaterThan(juniorPrice);
      expect(await junior.totalAssets()).to.equal(105_000n * CNY);
    });
  });

  describe("rules", () => {
    it("changes the tranche rules only through the risk officer, within bounds, accruing the old senior rate first", async () => {
      const { pool, senior, junior, lp, platform, actors } = await loadFixture(tranchePoolFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      const from = BigInt(await time.latest());
      const next = { ...TRANCHES, seniorRate: pct(5) };
      await expect(pool.connect(lp).setTrancheParams(next))
        .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
        .withArgs(lp.address);
      for (const bad of [
        { ...next, seniorRate: WAD + 10n ** 9n },
        { ...next, minJuniorRatio: 1n },
        { ...next, seniorBuffer: pct(50) + 10n ** 9n },
        { ...next, juniorBuffer: pct(60) },
      ]) {
        await expect(pool.connect(actors.riskOfficer).setTrancheParams(bad))
          .to.be.revertedWithCustomError(pool, "PoolInvalidTrancheParams")
          .withArgs(bad.seniorRate, bad.minJuniorRatio, bad.seniorBuffer, bad.juniorBuffer);
      }
      await time.setNextBlockTimestamp(from + 30n * DAY);
      const set = pool.connect(actors.riskOfficer).setTrancheParams(next);
      await expect(set)
        .to.emit(pool, "TrancheParamsSet")
        .withArgs(next.seniorRate, next.minJuniorRatio, next.seniorBuffer, next.juniorBuffer);
      // 30 days at the old 4% (paid by the junior class: nothing is lent), then 5% from here on.
      const at30 = grow(100_000n * CNY, 30n * DAY);
      await expect(set)
        .to.emit(pool, "TranchesAccrued")
        .withArgs(at30, 200_000n * CNY - at30, at30 - 100_000n * CNY, 100_000n * CNY - at30);
      expect(await pool.trancheParams()).to.deep.equal([pct(5), pct(10), pct(10), pct(5)]);
      await time.increaseTo(from + 60n * DAY);
      const rate5 = (at30 * (pct(5) / 10n ** 9n) * 30n * DAY) / (10n ** 9n * YEAR);
      expect(await senior.totalAssets()).to.equal(at30 + rate5);
    });

    it("shows a delayed rule change to providers before it executes: target, function, parameters, time", async () => {
      const { pool, manager, actors } = await loadFixture(tranchePoolFixture);
      const officer = actors.users[8];
      await manager.grantRole(ROLE.RISK_OFFICER, officer.address, Number(2n * DAY));
      const next = { ...TRANCHES, minJuniorRatio: pct(5) };
      const data = pool.interface.encodeFunctionData("setTrancheParams", [next]);
      const tx = await manager.connect(officer).schedule(await pool.getAddress(), data, 0);
      const [scheduled] = await manager.queryFilter(manager.filters.OperationScheduled(), tx.blockNumber!);
      // What a provider's page reads: the target, the decoded call, and when it may execute.
      expect(scheduled.args.target).to.equal(await pool.getAddress());
      const call = pool.interface.parseTransaction({ data: scheduled.args.data })!;
      expect(call.name).to.equal("setTrancheParams");
      expect(call.args[0].minJuniorRatio).to.equal(pct(5));
      const readyAt = BigInt((await hre.ethers.provider.getBlock(tx.blockNumber!))!.timestamp) + 2n * DAY;
      expect(scheduled.args.schedule).to.equal(readyAt);
      expect(await manager.getSchedule(scheduled.args.operationId)).to.equal(readyAt);
      await expect(manager.connect(officer).execute(await pool.getAddress(), data)).to.be.revertedWithCustomError(
        manager,
        "AccessManagerNotReady",
      );
      await time.increaseTo(readyAt);
      await expect(manager.connect(officer).execute(await pool.getAddress(), data))
        .to.emit(pool, "TrancheParamsSet")
        .withArgs(next.seniorRate, pct(5), next.seniorBuffer, next.juniorBuffer);
    });
  });
});
