import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  CNY,
  DAY,
  JUNIOR,
  REDEMPTION,
  SENIOR,
  TRANCHES,
  WAD,
  ZERO_RATE,
  makePoolFixture,
  pct,
  tranchePoolFixture,
  zeroRatePoolFixture,
} from "../../helpers/poolFixture";

/** The deployment's rules at zero interest, with the gate off (first-in first-out alone). */
const noGateFixture = makePoolFixture({
  tranches: { ...TRANCHES, seniorRate: 0n },
  redemption: { ...REDEMPTION, gateUtilisation: WAD },
  rateModel: ZERO_RATE,
});
/** The gate at 90% utilisation and a quarter of a request per day (round figures). */
const gateFixture = makePoolFixture({
  tranches: { ...TRANCHES, seniorRate: 0n },
  redemption: { ...REDEMPTION, gateUtilisation: pct(90), gateFraction: pct(25) },
  rateModel: ZERO_RATE,
});
/** No notice for either class and the gate off (order across classes on equal due times). */
const noNoticeFixture = makePoolFixture({
  tranches: { ...TRANCHES, seniorRate: 0n },
  redemption: { ...REDEMPTION, juniorNotice: 0, gateUtilisation: WAD },
  rateModel: ZERO_RATE,
});

describe("CapitalPool redemption queue (ERC-7540)", () => {
  describe("requests served at once", () => {
    it("serves a senior request at once when nothing is due ahead and the cash allows; the controller claims it", async () => {
      const { pool, senior, lp, cash } = await loadFixture(zeroRatePoolFixture);
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      const shares = (await senior.balanceOf(lp.address)) / 4n;
      const now = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(now);
      const tx = senior.connect(lp).requestRedeem(shares, lp.address, lp.address);
      await expect(tx).to.emit(senior, "RedeemRequest").withArgs(lp.address, lp.address, 0n, lp.address, shares);
      await expect(tx)
        .to.emit(pool, "RedeemQueued")
        .withArgs(SENIOR, 1n, lp.address, shares, 25_000n * CNY, now);
      await expect(tx)
        .to.emit(pool, "RedeemServed")
        .withArgs(SENIOR, 1n, lp.address, shares, 25_000n * CNY, 0n, false);
      // Claimable, not paid: the controller pulls it (ERC-7540).
      expect(await senior.pendingRedeemRequest(0, lp.address)).to.equal(0n);
      expect(await senior.claimableRedeemRequest(0, lp.address)).to.equal(shares);
      expect(await senior.maxWithdraw(lp.address)).to.equal(25_000n * CNY);
      expect(await senior.totalSupply()).to.equal(shares * 3n);
      expect(await pool.trancheShares(SENIOR)).to.equal(shares * 3n);
      expect(await pool.claimableCash()).to.equal(25_000n * CNY);
      expect(await pool.totalAssets()).to.equal(75_000n * CNY);
      await expect(senior.connect(lp).redeem(shares, lp.address, lp.address))
        .to.emit(senior, "Withdraw")
        .withArgs(lp.address, lp.address, lp.address, 25_000n * CNY, shares);
      expect(await cash.balanceOf(lp.address)).to.equal(925_000n * CNY);
      expect(await pool.claimableCash()).to.equal(0n);
      expect(await senior.claimableRedeemRequest(0, lp.address)).to.equal(0n);
    });
  });

  describe("notice periods", () => {
    it("holds a junior request for its 7-day notice and pays it at the price when served, after any loss", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(zeroRatePoolFixture);
      await junior.connect(platform).deposit(200_000n * CNY, platform.address);
      await senior.connect(lp).deposit(800_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(500_000n * CNY);
      const half = (await junior.balanceOf(platform.address)) / 2n;
      const at = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(at);
      await expect(junior.connect(platform).requestRedeem(half, platform.address, platform.address))
        .to.emit(pool, "RedeemQueued")
        .withArgs(JUNIOR, 1n, platform.address, half, 100_000n * CNY, at + 7n * DAY);
      expect(await junior.pendingRedeemRequest(0, platform.address)).to.equal(half);
      expect(await pool.earmarked()).to.equal(100_000n * CNY);
      await time.increase(6n * DAY);
      expect(await pool.serveQueue.staticCall(10)).to.equal(0n);
      // A loss written off during the notice period falls on the request too.
      await pool.connect(borrower).writeOff(40_000n * CNY);
      await time.increaseTo(at + 7n * DAY);
      await expect(pool.serveQueue(10))
        .to.emit(pool, "RedeemServed")
        .withArgs(JUNIOR, 1n, platform.address, half, 80_000n * CNY, 0n, false);
      expect(await junior.maxWithdraw(platform.address)).to.equal(80_000n * CNY);
      expect(await pool.earmarked()).to.equal(0n);
      expect(await junior.totalAssets()).to.equal(80_000n * CNY);
    });

    it("never lets a shorter notice put a request ahead of an earlier one of its class", async () => {
      const { pool, junior, platform, attacker, actors } = await loadFixture(noGateFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await junior.connect(attacker).deposit(100_000n * CNY, attacker.address);
      await junior.connect(platform).requestRedeem(10n ** 12n, platform.address, platform.address);
      const first = await pool.requestOf(JUNIOR, 1);
      await pool.connect(actors.riskOfficer).setRedemptionParams({ ...REDEMPTION, juniorNotice: 0 });
      await junior.connect(attacker).requestRedeem(10n ** 12n, attacker.address, attacker.address);
      const second = await pool.requestOf(JUNIOR, 2);
      expect(second.dueAt).to.equal(first.dueAt);
      expect(second.remaining).to.equal(10n ** 12n);
      const [, , , , lastDue] = await pool.queueOf(JUNIOR);
      expect(lastDue).to.equal(first.dueAt);
    });
  });

  describe("first in first out", () => {
    it("serves requests beyond the cash in order as repayments bring it back, the head first, in part if need be", async () => {
      const { pool, senior, junior, lp, lp2, platform, borrower } = await loadFixture(noGateFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(500_000n * CNY, lp.address);
      await senior.connect(lp2).deposit(400_000n * CNY, lp2.address);
      await pool.connect(borrower).borrow(905_000n * CNY);
      expect(await pool.availableCash()).to.equal(95_000n * CNY);

      const lpShares = await senior.convertToShares(300_000n * CNY);
      await expect(senior.connect(lp).requestRedeem(lpShares, lp.address, lp.address))
        .to.emit(pool, "RedeemServed")
        .withArgs(
          SENIOR,
          1n,
          lp.address,
          (lpShares * 95n) / 300n,
          95_000n * CNY,
          lpShares - (lpShares * 95n) / 300n,
          false,
        );
      expect(await pool.availableCash()).to.equal(0n);
      // lp2 asks later: it is not next, so nothing is served at once.
      const lp2Shares = await senior.convertToShares(100_000n * CNY);
      await expect(senior.connect(lp2).requestRedeem(lp2Shares, lp2.address, lp2.address)).not.to.emit(
        pool,
        "RedeemServed",
      );
      expect(await senior.pendingRedeemRequest(0, lp2.address)).to.equal(lp2Shares);

      // 150,000 repaid: the head gets all of it, lp2 still waits.
      await pool.connect(borrower).repay(150_000n * CNY);
      await expect(pool.serveQueue(10))
        .to.emit(pool, "RedeemServed")
        .withArgs(SENIOR, 1n, lp.address, anyShares(), 150_000n * CNY, anyShares(), false);
      expect(await senior.pendingRedeemRequest(0, lp2.address)).to.equal(lp2Shares);
      // 300,000 more: the head's last 55,000, then lp2's 100,000; the rest stays in the pool.
      await pool.connect(borrower).repay(300_000n * CNY);
      const serve = await pool.serveQueue(10);
      const served = (await pool.queryFilter(pool.filters.RedeemServed(), serve.blockNumber!, serve.blockNumber!)).map(
        (e) => [e.args.ticket, e.args.controller, e.args.assets, e.args.remaining],
      );
      expect(served).to.deep.equal([
        [1n, lp.address, 55_000n * CNY, 0n],
        [2n, lp2.address, 100_000n * CNY, 0n],
      ]);
      expect(await senior.maxWithdraw(lp.address)).to.equal(300_000n * CNY);
      expect(await senior.maxWithdraw(lp2.address)).to.equal(100_000n * CNY);
      expect(await pool.availableCash()).to.equal(145_000n * CNY);
      expect(await pool.earmarked()).to.equal(0n);
    });

    it("orders the two classes by due time, the senior class first on equal times", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(noNoticeFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(905_000n * CNY);
      await senior.connect(lp).requestRedeem(await senior.convertToShares(95_000n * CNY), lp.address, lp.address);
      // The cash is gone; a junior then a senior request in the same block (same due time).
      await hre.network.provider.send("evm_setAutomine", [false]);
      await junior
        .connect(platform)
        .requestRedeem(await junior.convertToShares(5_000n * CNY), platform.address, platform.address);
      await senior.connect(lp).requestRedeem(await senior.convertToShares(5_000n * CNY), lp.address, lp.address);
      await hre.network.provider.send("evm_mine");
      await hre.network.provider.send("evm_setAutomine", [true]);
      await pool.connect(borrower).repay(7_000n * CNY);
      const tx = await pool.serveQueue(10);
      const served = (await pool.queryFilter(pool.filters.RedeemServed(), tx.blockNumber!, tx.blockNumber!)).map(
        (e) => [e.args.tranche, e.args.assets],
      );
      expect(served).to.deep.equal([
        [BigInt(SENIOR), 5_000n * CNY],
        [BigInt(JUNIOR), 2_000n * CNY],
      ]);
    });

    it("bounds the work of one call by maxSteps", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(noGateFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(905_000n * CNY);
      await senior.connect(lp).requestRedeem(await senior.convertToShares(95_000n * CNY), lp.address, lp.address);
      for (let i = 0; i < 3; i++) await senior.connect(lp).requestRedeem(10n ** 15n, lp.address, lp.address);
      await pool.connect(borrower).repay(10_000n * CNY);
      expect(await pool.serveQueue.staticCall(1)).to.equal(1n);
      await pool.serveQueue(1);
      expect((await pool.requestOf(SENIOR, 3)).remaining).to.equal(10n ** 15n);
      expect(await pool.serveQueue.staticCall(10)).to.equal(2n);
    });
  });

  describe("earmarks", () => {
    it("sets a queued request's value aside from lending until it is served", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(noGateFixture);
      await junior.connect(platform).deposit(200_000n * CNY, platform.address);
      await senior.connect(lp).deposit(800_000n * CNY, lp.address);
      await junior
        .connect(platform)
        .requestRedeem(await junior.convertToShares(50_000n * CNY), platform.address, platform.address);
      // Cash 1,000,000 − 50,000 earmarked − buffer (80,000 + 10,000): 860,000 may be lent.
      expect(await pool.lendableCash()).to.equal(860_000n * CNY);
      await expect(pool.connect(borrower).borrow(950_000n * CNY + 1n))
        .to.be.revertedWithCustomError(pool, "PoolInsufficientCash")
        .withArgs(950_000n * CNY + 1n, 950_000n * CNY);
      await expect(pool.connect(borrower).borrow(860_000n * CNY + 1n)).to.be.revertedWithCustomError(
        pool,
        "PoolBufferReached",
      );
      await pool.connect(borrower).borrow(860_000n * CNY);
      await time.increase(7n * DAY);
      await pool.serveQueue(10);
      expect(await junior.maxWithdraw(platform.address)).to.equal(50_000n * CNY);
      expect(await pool.earmarked()).to.equal(0n);
    });
  });

  describe("the gate", () => {
    it("above 90% utilisation serves every request a quarter of its size per day, pro rata", async () => {
      const { pool, senior, junior, lp, lp2, platform, borrower } = await loadFixture(gateFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(500_000n * CNY, lp.address);
      await senior.connect(lp2).deposit(400_000n * CNY, lp2.address);
      await pool.connect(borrower).borrow(900_000n * CNY);
      expect(await pool.utilisation()).to.equal(pct(90));
      expect(await pool.ungatedRoom()).to.equal(0n);
      const a = await senior.convertToShares(40_000n * CNY);
      const b = await senior.convertToShares(40_000n * CNY);
      await expect(senior.connect(lp).requestRedeem(a, lp.address, lp.address))
        .to.emit(pool, "RedeemServed")
        .withArgs(SENIOR, 1n, lp.address, a / 4n, 10_000n * CNY, a - a / 4n, true);
      await expect(senior.connect(lp2).requestRedeem(b, lp2.address, lp2.address))
        .to.emit(pool, "RedeemServed")
        .withArgs(SENIOR, 2n, lp2.address, b / 4n, 10_000n * CNY, b - b / 4n, true);
      // The same day: nothing more for either.
      await expect(pool.serveQueue(10)).not.to.emit(pool, "RedeemServed");
      // The next day: a quarter of what each still waits for.
      await time.increase(DAY);
      const tx = await pool.serveQueue(10);
      const served = (await pool.queryFilter(pool.filters.RedeemServed(), tx.blockNumber!, tx.blockNumber!)).map(
        (e) => [e.args.ticket, e.args.assets],
      );
      expect(served).to.deep.equal([
        [1n, 7_500n * CNY],
        [2n, 7_500n * CNY],
      ]);
      expect(await pool.availableCash()).to.equal(100_000n * CNY - 35_000n * CNY);
    });

    it("changes the redemption rules only through the risk officer, within bounds", async () => {
      const { pool, lp, actors } = await loadFixture(tranchePoolFixture);
      await expect(pool.connect(lp).setRedemptionParams(REDEMPTION))
        .to.be.revertedWithCustomError(pool, "AccessManagedUnauthorized")
        .withArgs(lp.address);
      for (const bad of [
        { ...REDEMPTION, seniorNotice: 366 * 86_400 },
        { ...REDEMPTION, gateUtilisation: WAD + 1n },
        { ...REDEMPTION, gateFraction: 0n },
        { ...REDEMPTION, gateFraction: WAD + 1n },
        { ...REDEMPTION, gateWindow: 0 },
      ]) {
        await expect(pool.connect(actors.riskOfficer).setRedemptionParams(bad))
          .to.be.revertedWithCustomError(pool, "PoolInvalidRedemptionParams")
          .withArgs(bad.seniorNotice, bad.juniorNotice, bad.gateUtilisation, bad.gateFraction, bad.gateWindow);
      }
      const next = { ...REDEMPTION, juniorNotice: 14 * 86_400 };
      await expect(pool.connect(actors.riskOfficer).setRedemptionParams(next))
        .to.emit(pool, "RedemptionParamsSet")
        .withArgs(0n, 14n * DAY, next.gateUtilisation, next.gateFraction, next.gateWindow);
      expect((await pool.redemptionParams()).juniorNotice).to.equal(14n * DAY);
    });
  });

  describe("the junior bound", () => {
    it("never pays a junior request below 10% of the debt; senior requests behind it still go", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(noGateFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(800_000n * CNY);
      await junior
        .connect(platform)
        .requestRedeem(await junior.balanceOf(platform.address), platform.address, platform.address);
      await time.increase(7n * DAY);
      // Junior room: 100,000 − 10% × 800,000 = 20,000.
      await expect(pool.serveQueue(10))
        .to.emit(pool, "RedeemServed")
        .withArgs(JUNIOR, 1n, platform.address, anyShares(), 20_000n * CNY, anyShares(), false);
      await expect(pool.serveQueue(10)).not.to.emit(pool, "RedeemServed");
      // A senior request due later is served at once: the blocked junior request holds it up no more.
      const s = await senior.convertToShares(10_000n * CNY);
      await expect(senior.connect(lp).requestRedeem(s, lp.address, lp.address))
        .to.emit(pool, "RedeemServed")
        .withArgs(SENIOR, 1n, lp.address, s, 10_000n * CNY, 0n, false);
      // Repayments free junior capital.
      await pool.connect(borrower).repay(800_000n * CNY);
      await pool.serveQueue(10);
      expect(await junior.pendingRedeemRequest(0, platform.address)).to.equal(0n);
    });
  });
});

/** Any share amount (the pool's conversions are exercised elsewhere). */
function anyShares(): (v: bigint) => boolean {
  return (v: bigint) => v >= 0n;
}
