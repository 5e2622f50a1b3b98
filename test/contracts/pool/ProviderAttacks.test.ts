/**
 * Attacks on the capital providers' side (issue 19), each written as the attacker's steps and then the assertion that
 * the chain refuses it or that it gains nothing. The attacker has a second account (its accomplice, an independent
 * provider with its own agreements); the borrower stands for the margin engine (docs/security.md, rules 11–18).
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  CNY,
  DAY,
  REDEMPTION,
  SENIOR,
  SHARE,
  TRANCHES,
  WAD,
  makePoolFixture,
  tranchePoolFixture,
  zeroRatePoolFixture,
} from "../../helpers/poolFixture";
import type { PoolFixture } from "../../helpers/poolFixture";

/** The deployment's rules, zero interest, no gate: the queue's order alone. */
const fifoFixture = makePoolFixture({
  tranches: { ...TRANCHES, seniorRate: 0n },
  redemption: { ...REDEMPTION, gateUtilisation: WAD },
  rateModel: { base: 0n, slope1: 0n, slope2: 0n, kink: 0n },
});

/** Sends the calls in one block, in order. */
async function oneBlock(calls: (() => Promise<unknown>)[]): Promise<void> {
  await hre.network.provider.send("evm_setAutomine", [false]);
  try {
    for (const call of calls) await call();
    await hre.network.provider.send("evm_mine");
  } finally {
    await hre.network.provider.send("evm_setAutomine", [true]);
  }
}

/** Junior 100,000 (the platform), senior 900,000 split between `a` and `b`, and `debt` lent. */
async function book(fx: PoolFixture, a: string, b: string, debt: bigint): Promise<void> {
  const signer = (x: string) => fx.providers.find((p) => p.address === x)!;
  await fx.junior.connect(fx.platform).deposit(100_000n * CNY, fx.platform.address);
  await fx.senior.connect(signer(a)).deposit(450_000n * CNY, a);
  await fx.senior.connect(signer(b)).deposit(450_000n * CNY, b);
  if (debt > 0n) await fx.pool.connect(fx.borrower).borrow(debt);
}

describe("Capital provider attacks", () => {
  describe("jumping the queue", () => {
    it("a later request is never served ahead of an earlier one waiting for cash, whoever calls serveQueue", async () => {
      const fx = await loadFixture(fifoFixture);
      const { pool, senior, lp: victim, attacker, accomplice, borrower } = fx;
      await book(fx, victim.address, attacker.address, 905_000n * CNY);
      // The victim asks for more than the 95,000 of cash: it takes it all and waits for the rest.
      await senior
        .connect(victim)
        .requestRedeem(await senior.convertToShares(200_000n * CNY), victim.address, victim.address);
      // The attacker asks after it, and its accomplice pokes the queue as soon as cash comes back.
      const mine = await senior.convertToShares(50_000n * CNY);
      await expect(senior.connect(attacker).requestRedeem(mine, attacker.address, attacker.address)).not.to.emit(
        pool,
        "RedeemServed",
      );
      await pool.connect(borrower).repay(100_000n * CNY);
      await expect(pool.connect(accomplice).serveQueue(10))
        .to.emit(pool, "RedeemServed")
        .withArgs(
          SENIOR,
          1n,
          victim.address,
          (v: bigint) => v > 0n,
          100_000n * CNY,
          (v: bigint) => v > 0n,
          false,
        );
      expect(await senior.maxWithdraw(attacker.address)).to.equal(0n);
      // Even a fresh request of the attacker's made now, with cash at hand, waits behind the victim.
      await pool.connect(borrower).repay(1_000n * CNY);
      await expect(senior.connect(attacker).requestRedeem(SHARE, attacker.address, attacker.address)).not.to.emit(
        pool,
        "RedeemServed",
      );
      expect(await senior.maxWithdraw(attacker.address)).to.equal(0n);
    });

    it("nobody claims, requests or redirects another provider's redemption without its approval", async () => {
      const fx = await loadFixture(tranchePoolFixture);
      const { senior, lp: victim, attacker, accomplice } = fx;
      await senior.connect(victim).deposit(10_000n * CNY, victim.address);
      await senior.connect(attacker).deposit(10_000n * CNY, attacker.address);
      await senior.connect(victim).requestRedeem(5n * SHARE, victim.address, victim.address);
      await expect(senior.connect(attacker).redeem(5n * SHARE, attacker.address, victim.address))
        .to.be.revertedWithCustomError(senior, "VaultNotController")
        .withArgs(attacker.address, victim.address);
      await expect(senior.connect(attacker).requestRedeem(SHARE, attacker.address, victim.address))
        .to.be.revertedWithCustomError(senior, "ERC20InsufficientAllowance")
        .withArgs(attacker.address, 0n, SHARE);
      // The attacker makes its accomplice its operator: that grants nothing over the victim.
      await senior.connect(attacker).setOperator(accomplice.address, true);
      await expect(senior.connect(accomplice).withdraw(1n, accomplice.address, victim.address))
        .to.be.revertedWithCustomError(senior, "VaultNotController")
        .withArgs(accomplice.address, victim.address);
      // A revoked operator is refused at once.
      await senior.connect(victim).setOperator(accomplice.address, true);
      await senior.connect(victim).setOperator(accomplice.address, false);
      await expect(senior.connect(accomplice).redeem(SHARE, accomplice.address, victim.address))
        .to.be.revertedWithCustomError(senior, "VaultNotController")
        .withArgs(accomplice.address, victim.address);
    });
  });

  describe("draining the buffer in one block", () => {
    it("a run of every senior provider in one block takes at most the room below 92% and 5% of each request", async () => {
      const fx = await loadFixture(zeroRatePoolFixture);
      const { pool, senior, attacker, accomplice } = fx;
      await book(fx, attacker.address, accomplice.address, 850_000n * CNY);
      const cash = await pool.availableCash();
      expect(cash).to.equal(150_000n * CNY);
      const room = await pool.ungatedRoom();
      // Room before the gate: 150,000 − 850,000 · 8/92 = 76,086.95.
      expect(room).to.equal(150_000n * CNY - (850_000n * CNY * 8n + 91n) / 92n);
      const all = await senior.balanceOf(attacker.address);
      await oneBlock([
        () => senior.connect(attacker).requestRedeem(all, attacker.address, attacker.address),
        () => senior.connect(accomplice).requestRedeem(all, accomplice.address, accomplice.address),
      ]);
      const taken = cash - (await pool.availableCash());
      // The attacker's request took the room and then 5% of what it still asked for; the accomplice 5% of its own.
      const gated = ((all - (all * room) / (450_000n * CNY)) * 5n) / 100n / 10n ** 6n;
      expect(await senior.maxWithdraw(attacker.address)).to.be.closeTo(room + gated, 1n);
      expect(await senior.maxWithdraw(accomplice.address)).to.equal((450_000n * CNY) / 20n);
      // At most the room and 5% of everything asked: 121,087 of the 150,000.
      expect(taken).to.be.lessThanOrEqual(room + (900_000n * CNY) / 20n);
      expect(await pool.availableCash()).to.be.greaterThan(25_000n * CNY);
      // Nor a second block the same day.
      await expect(pool.serveQueue(10)).not.to.emit(pool, "RedeemServed");
    });

    it("a borrower cannot lend itself the buffer, in one call or in many", async () => {
      const fx = await loadFixture(zeroRatePoolFixture);
      const { pool, borrower } = fx;
      await book(fx, fx.lp.address, fx.lp2.address, 0n);
      const lendable = await pool.lendableCash();
      expect(lendable).to.equal(905_000n * CNY);
      for (let i = 0; i < 5; i++) await pool.connect(borrower).borrow(lendable / 5n);
      await expect(pool.connect(borrower).borrow(1n))
        .to.be.revertedWithCustomError(pool, "PoolBufferReached")
        .withArgs(1n, 0n);
      expect(await pool.availableCash()).to.equal(95_000n * CNY);
    });
  });

  describe("a junior provider escaping a loss that is about to be written off", () => {
    it("cannot leave at once: the notice period runs, and the loss written off meanwhile is its own", async () => {
      const fx = await loadFixture(zeroRatePoolFixture);
      const { pool, junior, attacker, accomplice, borrower, platform, cash } = fx;
      await book(fx, fx.lp.address, fx.lp2.address, 0n);
      await junior.connect(attacker).deposit(50_000n * CNY, attacker.address);
      await pool.connect(borrower).borrow(300_000n * CNY);
      // An account is going bad: the attacker asks for all its junior shares back at once…
      const mine = await junior.balanceOf(attacker.address);
      await expect(junior.connect(attacker).requestRedeem(mine, attacker.address, attacker.address)).not.to.emit(
        pool,
        "RedeemServed",
      );
      expect(await pool.serveQueue.staticCall(10)).to.equal(0n);
      // …and hands nothing to its accomplice: junior shares are junior wherever they go.
      await junior.connect(platform).transfer(accomplice.address, SHARE);
      // The default is written off within the week: 90,000 after the insurance fund.
      await time.increase(3n * DAY);
      await pool.connect(borrower).writeOff(90_000n * CNY);
      await time.increase(4n * DAY);
      await pool.serveQueue(10);
      // The junior class (150,000) lost 90,000: the attacker's third is worth 20,000, not 50,000.
      expect(await junior.maxWithdraw(attacker.address)).to.equal(20_000n * CNY);
      await junior.connect(attacker).redeem(mine, attacker.address, attacker.address);
      expect(await cash.balanceOf(attacker.address)).to.equal(970_000n * CNY);
      expect(await fx.senior.totalAssets()).to.equal(900_000n * CNY);
    });

    it("cannot take junior capital below 10% of the debt even after its notice", async () => {
      const fx = await loadFixture(fifoFixture);
      const { pool, junior, platform, borrower } = fx;
      await book(fx, fx.lp.address, fx.lp2.address, 800_000n * CNY);
      await junior
        .connect(platform)
        .requestRedeem(await junior.balanceOf(platform.address), platform.address, platform.address);
      await time.increase(7n * DAY);
      await pool.serveQueue(10);
      expect(await junior.totalAssets()).to.equal(80_000n * CNY);
      expect(await pool.juniorRequired()).to.equal(80_000n * CNY);
      // And the borrower cannot lend against what the junior class no longer covers.
      await expect(pool.connect(borrower).borrow(1n))
        .to.be.revertedWithCustomError(pool, "PoolJuniorBelowBound")
        .withArgs(80_000n * CNY, 80_000n * CNY + 1n);
    });
  });

  describe("rounding that favours the provider", () => {
    it("round trips of dust at a price above par never return more than they put in", async () => {
      const fx = await loadFixture(tranchePoolFixture);
      const { pool, senior, junior, attacker, lp, platform, borrower, cash } = fx;
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(500_000n * CNY);
      await time.increase(30n * DAY);
      const lpValue = await senior.convertToAssets(await senior.balanceOf(lp.address));
      const start = await cash.balanceOf(attacker.address);
      for (const amount of [1n, 2n, 3n, 7n, 999_999n]) {
        await senior.connect(attacker).deposit(amount, attacker.address);
        const shares = await senior.balanceOf(attacker.address);
        if (shares > 0n) await senior.connect(attacker).requestRedeem(shares, attacker.address, attacker.address);
        const claimable = await senior.maxRedeem(attacker.address);
        if (claimable > 0n) await senior.connect(attacker).redeem(claimable, attacker.address, attacker.address);
      }
      expect(await cash.balanceOf(attacker.address)).to.be.lessThanOrEqual(start);
      // Minting one share costs at least what it is worth; the other providers lost nothing.
      const cost = await senior.previewMint(1n);
      expect(cost).to.equal(1n);
      expect(await senior.convertToAssets(await senior.balanceOf(lp.address))).to.be.greaterThanOrEqual(lpValue);
    });

    it("a claim in assets burns the claimable shares rounded up, a claim in shares pays the assets rounded down", async () => {
      const fx = await loadFixture(tranchePoolFixture);
      const { pool, senior, junior, attacker, platform, borrower } = fx;
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(attacker).deposit(100_000n * CNY, attacker.address);
      await pool.connect(borrower).borrow(50_000n * CNY);
      await time.increase(30n * DAY);
      await senior.connect(attacker).requestRedeem(10n * SHARE + 123n, attacker.address, attacker.address);
      const [, cs, ca] = await pool.redemptionsOf(SENIOR, attacker.address);
      await expect(senior.connect(attacker).withdraw(1n, attacker.address, attacker.address))
        .to.emit(senior, "Withdraw")
        .withArgs(attacker.address, attacker.address, attacker.address, 1n, (cs + ca - 1n) / ca);
      const [, cs2, ca2] = await pool.redemptionsOf(SENIOR, attacker.address);
      await expect(senior.connect(attacker).redeem(1n, attacker.address, attacker.address))
        .to.emit(senior, "Withdraw")
        .withArgs(attacker.address, attacker.address, attacker.address, ca2 / cs2, 1n);
    });
  });

  describe("a borrower pushing junior below the bound", () => {
    it("cannot borrow past junior / 10%, however it slices the loan, nor after the junior class shrank", async () => {
      const fx = await loadFixture(zeroRatePoolFixture);
      const { pool, junior, senior, platform, lp, borrower } = fx;
      await junior.connect(platform).deposit(40_000n * CNY, platform.address);
      await senior.connect(lp).deposit(900_000n * CNY, lp.address);
      for (let i = 0; i < 4; i++) await pool.connect(borrower).borrow(100_000n * CNY);
      await expect(pool.connect(borrower).borrow(1n))
        .to.be.revertedWithCustomError(pool, "PoolJuniorBelowBound")
        .withArgs(40_000n * CNY, 40_000n * CNY + 1n);
      // A loss makes the junior class smaller: nothing more may be lent until the debt falls or junior capital grows.
      await pool.connect(borrower).writeOff(10_000n * CNY);
      await pool.connect(fx.actors.riskOfficer).acknowledgeDeficit();
      await expect(pool.connect(borrower).borrow(1n))
        .to.be.revertedWithCustomError(pool, "PoolJuniorBelowBound")
        .withArgs(30_000n * CNY, 39_000n * CNY + 1n);
      await pool.connect(borrower).repay(100_000n * CNY);
      await expect(pool.connect(borrower).borrow(1n * CNY)).to.emit(pool, "Borrowed");
    });
  });

  describe("agreements", () => {
    it("no shares reach an address without its own signature: not by deposit for it, transfer, or a replayed signature", async () => {
      const fx = await loadFixture(tranchePoolFixture);
      const { senior, junior, attacker, outsider, lp } = fx;
      await senior.connect(attacker).deposit(10n * CNY, attacker.address);
      await expect(senior.connect(attacker).deposit(1n, outsider.address)).to.be.revertedWithCustomError(
        senior,
        "VaultNoAgreement",
      );
      await expect(senior.connect(attacker).transfer(outsider.address, 1n)).to.be.revertedWithCustomError(
        senior,
        "VaultNoAgreement",
      );
      // lp's anchored senior agreement does not open the junior class to it.
      await expect(junior.connect(lp).deposit(1n, lp.address))
        .to.be.revertedWithCustomError(junior, "VaultNoAgreement")
        .withArgs(lp.address, 0n, 1n);
    });
  });
});
