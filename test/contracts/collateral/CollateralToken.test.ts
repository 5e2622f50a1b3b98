import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture, identityHash, inAYear, verify, type CoreFixture } from "../../helpers/fixtures";
import { itRejectsCallersWithoutRole } from "../../helpers/behaviours";
import { ROLE } from "../../../scripts/deploy/roles";

const ref = (s: string): string => hre.ethers.encodeBytes32String(s);
const CNY = (n: bigint): bigint => n * 10n ** 6n;

/** Two verified clients (users[0], users[1]) holding cash; users[2] unverified. */
async function fundedFixture(): Promise<CoreFixture> {
  const fx = await deployCoreFixture();
  const [a, b] = fx.actors.users;
  await verify(fx, a.address);
  await verify(fx, b.address);
  await fx.cash.connect(fx.actors.custodian).mint(a.address, CNY(100_000n), ref("dep-1"));
  return fx;
}

describe("CollateralToken", () => {
  describe("deployment", () => {
    it("carries the decimals set at deployment", async () => {
      const fx = await loadFixture(deployCoreFixture);
      expect(await fx.cash.decimals()).to.equal(6);
      expect(await fx.securities[0].decimals()).to.equal(0);
      expect(await fx.cash.kycRegistry()).to.equal(await fx.kyc.getAddress());
    });
  });

  describe("mint", () => {
    it("mints to a verified holder against a custody deposit and emits Minted", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const a = fx.actors.users[0].address;
      await verify(fx, a);
      await expect(fx.cash.connect(fx.actors.custodian).mint(a, CNY(100_000n), ref("dep-1")))
        .to.emit(fx.cash, "Minted")
        .withArgs(a, CNY(100_000n), ref("dep-1"))
        .and.to.emit(fx.cash, "Transfer")
        .withArgs(hre.ethers.ZeroAddress, a, CNY(100_000n));
      expect(await fx.cash.balanceOf(a)).to.equal(CNY(100_000n));
      expect(await fx.cash.depositMinted(ref("dep-1"))).to.equal(true);
    });

    it("is idempotent per deposit reference: the same reference twice reverts and mints nothing", async () => {
      const fx = await loadFixture(fundedFixture);
      const a = fx.actors.users[0].address;
      await expect(fx.cash.connect(fx.actors.custodian).mint(a, CNY(1n), ref("dep-1")))
        .to.be.revertedWithCustomError(fx.cash, "CollateralDepositAlreadyMinted")
        .withArgs(ref("dep-1"));
      expect(await fx.cash.totalSupply()).to.equal(CNY(100_000n));
    });

    it("refuses an unverified receiver, a zero amount and a zero reference", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const custodian = fx.cash.connect(fx.actors.custodian);
      const stranger = fx.actors.users[2].address;
      await expect(custodian.mint(stranger, 1n, ref("d")))
        .to.be.revertedWithCustomError(fx.cash, "CollateralNotEligible")
        .withArgs(stranger);
      await verify(fx, stranger);
      await expect(custodian.mint(stranger, 0n, ref("d"))).to.be.revertedWithCustomError(
        fx.cash,
        "CollateralZeroAmount",
      );
      await expect(custodian.mint(stranger, 1n, hre.ethers.ZeroHash)).to.be.revertedWithCustomError(
        fx.cash,
        "CollateralInvalidReference",
      );
    });

    it("mints to a registered system account without KYC", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const system = fx.actors.users[3].address;
      await expect(fx.cash.setSystemAccount(system, true)).to.emit(fx.cash, "SystemAccountSet").withArgs(system, true);
      await fx.cash.connect(fx.actors.custodian).mint(system, 5n, ref("sys"));
      expect(await fx.cash.balanceOf(system)).to.equal(5n);
      expect(await fx.cash.isEligible(system)).to.equal(true);
    });
  });

  describe("transfer restrictions", () => {
    it("moves tokens between two verified holders", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      await expect(fx.cash.connect(a).transfer(b.address, CNY(10n))).to.changeTokenBalances(
        fx.cash,
        [a, b],
        [-CNY(10n), CNY(10n)],
      );
    });

    it("refuses an unverified receiver", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, , c] = fx.actors.users;
      await expect(fx.cash.connect(a).transfer(c.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralNotEligible")
        .withArgs(c.address);
    });

    it("refuses a receiver whose identity expired", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, , c] = fx.actors.users;
      await hre.network.provider.send("evm_mine"); // a block stamped now: the fixture's snapshot may be minutes old
      const expiry = BigInt(await time.latest()) + 3600n;
      await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(c.address, 1, 156, expiry, identityHash("c"));
      await fx.cash.connect(a).transfer(c.address, 1n);
      await time.increaseTo(expiry);
      await expect(fx.cash.connect(a).transfer(c.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralNotEligible")
        .withArgs(c.address);
    });

    it("refuses a sender or receiver whose identity was revoked, from the same block on", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      await fx.kyc.connect(fx.actors.kycOfficer).revoke(b.address, ref("case-9"));
      await expect(fx.cash.connect(a).transfer(b.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralNotEligible")
        .withArgs(b.address);
      await fx.kyc.connect(fx.actors.kycOfficer).revoke(a.address, ref("case-10"));
      await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(b.address, 1, 156, await inAYear(), identityHash("b2"));
      await expect(fx.cash.connect(a).transfer(b.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralNotEligible")
        .withArgs(a.address);
    });

    it("refuses a frozen sender and a frozen receiver, and allows them again after unfreeze", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      const operator = fx.cash.connect(fx.actors.operator);
      await expect(operator.setFrozen(b.address, true)).to.emit(fx.cash, "FreezeSet").withArgs(b.address, true);
      await expect(fx.cash.connect(a).transfer(b.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralAccountFrozen")
        .withArgs(b.address);
      await operator.setFrozen(a.address, true);
      await expect(fx.cash.connect(a).transfer(b.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralAccountFrozen")
        .withArgs(a.address);
      await operator.setFrozen(a.address, false);
      await operator.setFrozen(b.address, false);
      await expect(fx.cash.connect(a).transfer(b.address, 1n)).to.changeTokenBalances(fx.cash, [a, b], [-1n, 1n]);
    });

    it("refuses a freeze that changes nothing and the zero address", async () => {
      const fx = await loadFixture(fundedFixture);
      const operator = fx.cash.connect(fx.actors.operator);
      const b = fx.actors.users[1].address;
      await expect(operator.setFrozen(b, false))
        .to.be.revertedWithCustomError(fx.cash, "CollateralFreezeUnchanged")
        .withArgs(b, false);
      await expect(operator.setFrozen(hre.ethers.ZeroAddress, true))
        .to.be.revertedWithCustomError(fx.cash, "CollateralInvalidAccount")
        .withArgs(hre.ethers.ZeroAddress);
    });

    it("keeps a holder's balance and supply when its freeze or system flag changes (one storage word)", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      const supply = await fx.cash.totalSupply();
      await fx.cash.connect(fx.actors.operator).setFrozen(a.address, true);
      await fx.cash.setSystemAccount(a.address, true);
      expect(await fx.cash.balanceOf(a.address)).to.equal(CNY(100_000n));
      expect(await fx.cash.isFrozen(a.address)).to.equal(true);
      expect(await fx.cash.isSystemAccount(a.address)).to.equal(true);
      await fx.cash.connect(fx.actors.operator).setFrozen(a.address, false);
      await fx.cash.connect(a).transfer(b.address, CNY(1n));
      await fx.cash.setSystemAccount(a.address, false);
      expect(await fx.cash.isSystemAccount(a.address)).to.equal(false);
      expect(await fx.cash.isFrozen(a.address)).to.equal(false);
      expect(await fx.cash.balanceOf(a.address)).to.equal(CNY(99_999n));
      expect(await fx.cash.balanceOf(b.address)).to.equal(CNY(1n));
      expect(await fx.cash.totalSupply()).to.equal(supply);
    });

    it("moves nothing on a transfer to oneself and refuses more than the balance with the ERC-20 error", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      await expect(fx.cash.connect(a).transfer(a.address, CNY(7n)))
        .to.emit(fx.cash, "Transfer")
        .withArgs(a.address, a.address, CNY(7n));
      expect(await fx.cash.balanceOf(a.address)).to.equal(CNY(100_000n));
      await expect(fx.cash.connect(a).transfer(b.address, CNY(100_000n) + 1n))
        .to.be.revertedWithCustomError(fx.cash, "ERC20InsufficientBalance")
        .withArgs(a.address, CNY(100_000n), CNY(100_000n) + 1n);
    });

    it("refuses a mint that would take supply above 2**248 − 1 (the balance bits of a holder's word)", async () => {
      const fx = await loadFixture(fundedFixture);
      const a = fx.actors.users[0].address;
      const custodian = fx.cash.connect(fx.actors.custodian);
      const max = 2n ** 248n - 1n;
      const room = max - (await fx.cash.totalSupply());
      await expect(custodian.mint(a, room + 1n, ref("dep-big")))
        .to.be.revertedWithCustomError(fx.cash, "CollateralSupplyOverflow")
        .withArgs(max + 1n);
      await custodian.mint(a, room, ref("dep-big"));
      expect(await fx.cash.totalSupply()).to.equal(max);
      expect(await fx.cash.balanceOf(a)).to.equal(room + CNY(100_000n));
      expect(await fx.cash.isFrozen(a)).to.equal(false);
      expect(await fx.cash.isSystemAccount(a)).to.equal(false);
    });

    it("applies the same rules to transferFrom", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b, c] = fx.actors.users;
      await fx.cash.connect(a).approve(b.address, 10n);
      await expect(fx.cash.connect(b).transferFrom(a.address, c.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralNotEligible")
        .withArgs(c.address);
      await expect(fx.cash.connect(b).transferFrom(a.address, b.address, 1n)).to.changeTokenBalances(
        fx.cash,
        [a, b],
        [-1n, 1n],
      );
    });
  });

  describe("pause", () => {
    it("stops transfers, mints and redemptions until unpaused", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      await expect(fx.cash.connect(fx.actors.operator).pause())
        .to.emit(fx.cash, "Paused")
        .withArgs(fx.actors.operator.address);
      await expect(fx.cash.connect(a).transfer(b.address, 1n)).to.be.revertedWithCustomError(fx.cash, "EnforcedPause");
      await expect(
        fx.cash.connect(fx.actors.custodian).mint(a.address, 1n, ref("dep-2")),
      ).to.be.revertedWithCustomError(fx.cash, "EnforcedPause");
      await expect(fx.cash.connect(a).redeem(1n, ref("pay-1"))).to.be.revertedWithCustomError(fx.cash, "EnforcedPause");
      await expect(fx.cash.connect(fx.actors.operator).unpause()).to.emit(fx.cash, "Unpaused");
      await expect(fx.cash.connect(a).transfer(b.address, 1n)).to.changeTokenBalances(fx.cash, [a, b], [-1n, 1n]);
    });
  });

  describe("redeem", () => {
    it("burns the holder's tokens and emits the payout reference", async () => {
      const fx = await loadFixture(fundedFixture);
      const a = fx.actors.users[0];
      const tx = fx.cash.connect(a).redeem(CNY(40n), ref("pay-1"));
      await expect(tx).to.emit(fx.cash, "Redeemed").withArgs(a.address, CNY(40n), ref("pay-1"));
      await expect(tx).to.changeTokenBalance(fx.cash, a, -CNY(40n));
      expect(await fx.cash.totalSupply()).to.equal(CNY(100_000n - 40n));
    });

    it("refuses a reused payout reference, a zero reference, a zero amount and more than the balance", async () => {
      const fx = await loadFixture(fundedFixture);
      const a = fx.cash.connect(fx.actors.users[0]);
      await a.redeem(1n, ref("pay-1"));
      await expect(a.redeem(1n, ref("pay-1")))
        .to.be.revertedWithCustomError(fx.cash, "CollateralPayoutRefUsed")
        .withArgs(ref("pay-1"));
      await expect(a.redeem(1n, hre.ethers.ZeroHash)).to.be.revertedWithCustomError(
        fx.cash,
        "CollateralInvalidReference",
      );
      await expect(a.redeem(0n, ref("pay-2"))).to.be.revertedWithCustomError(fx.cash, "CollateralZeroAmount");
      await expect(a.redeem(CNY(200_000n), ref("pay-3"))).to.be.revertedWithCustomError(
        fx.cash,
        "ERC20InsufficientBalance",
      );
    });

    it("refuses a frozen holder", async () => {
      const fx = await loadFixture(fundedFixture);
      const a = fx.actors.users[0];
      await fx.cash.connect(fx.actors.operator).setFrozen(a.address, true);
      await expect(fx.cash.connect(a).redeem(1n, ref("pay-1")))
        .to.be.revertedWithCustomError(fx.cash, "CollateralAccountFrozen")
        .withArgs(a.address);
    });
  });

  describe("forcedTransfer", () => {
    async function liquidatorFixture(): Promise<CoreFixture & { liquidator: string }> {
      const fx = await fundedFixture();
      // The margin engine holds this role in production; here a plain account stands in for the role holder.
      const liquidator = fx.actors.users[4].address;
      await fx.manager.grantRole(ROLE.LIQUIDATOR, liquidator, 0);
      return { ...fx, liquidator };
    }

    it("moves a frozen holder's tokens, even while paused, for the liquidator role only", async () => {
      const fx = await loadFixture(liquidatorFixture);
      const [a, b] = fx.actors.users;
      await fx.cash.connect(fx.actors.operator).setFrozen(a.address, true);
      await fx.cash.connect(fx.actors.operator).pause();
      const liq = fx.cash.connect(fx.actors.users[4]);
      const tx = liq.forcedTransfer(a.address, b.address, CNY(5n));
      await expect(tx).to.emit(fx.cash, "ForcedTransfer").withArgs(a.address, b.address, CNY(5n));
      await expect(tx).to.changeTokenBalances(fx.cash, [a, b], [-CNY(5n), CNY(5n)]);
    });

    it("still refuses an ineligible or frozen receiver and a zero amount", async () => {
      const fx = await loadFixture(liquidatorFixture);
      const [a, b, c] = fx.actors.users;
      const liq = fx.cash.connect(fx.actors.users[4]);
      await expect(liq.forcedTransfer(a.address, c.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralNotEligible")
        .withArgs(c.address);
      await fx.cash.connect(fx.actors.operator).setFrozen(b.address, true);
      await expect(liq.forcedTransfer(a.address, b.address, 1n))
        .to.be.revertedWithCustomError(fx.cash, "CollateralAccountFrozen")
        .withArgs(b.address);
      await expect(liq.forcedTransfer(a.address, b.address, 0n)).to.be.revertedWithCustomError(
        fx.cash,
        "CollateralZeroAmount",
      );
    });

    it("never takes from a system account: what the engine, pool and fund hold backs their own ledgers", async () => {
      const fx = await loadFixture(liquidatorFixture);
      const [a] = fx.actors.users;
      const engine = fx.record.contracts.MarginEngine;
      await fx.cash.connect(fx.actors.custodian).mint(engine, CNY(10n), hre.ethers.id("system-held"));
      for (const system of [engine, fx.record.contracts.CapitalPool, fx.record.contracts.InsuranceFund]) {
        await expect(fx.cash.connect(fx.actors.users[4]).forcedTransfer(system, a.address, 1n))
          .to.be.revertedWithCustomError(fx.cash, "CollateralSystemAccountForced")
          .withArgs(system);
      }
      expect(await fx.cash.balanceOf(engine)).to.equal(CNY(10n));
    });

    it("is refused to the operator and the custodian", async () => {
      const fx = await loadFixture(liquidatorFixture);
      const [a, b] = fx.actors.users;
      for (const s of [fx.actors.operator, fx.actors.custodian, fx.actors.admin]) {
        await expect(fx.cash.connect(s).forcedTransfer(a.address, b.address, 1n))
          .to.be.revertedWithCustomError(fx.cash, "AccessManagedUnauthorized")
          .withArgs(s.address);
      }
    });
  });

  describe("permit (ERC-2612)", () => {
    it("sets an allowance from an off-chain signature, once", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      const deadline = BigInt(await time.latest()) + 3600n;
      const nonce = await fx.cash.nonces(a.address);
      const domain = {
        name: await fx.cash.name(),
        version: "1",
        chainId: (await hre.ethers.provider.getNetwork()).chainId,
        verifyingContract: await fx.cash.getAddress(),
      };
      const types = {
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      };
      const value = CNY(7n);
      const sig = hre.ethers.Signature.from(
        await a.signTypedData(domain, types, { owner: a.address, spender: b.address, value, nonce, deadline }),
      );
      await expect(fx.cash.connect(b).permit(a.address, b.address, value, deadline, sig.v, sig.r, sig.s))
        .to.emit(fx.cash, "Approval")
        .withArgs(a.address, b.address, value);
      expect(await fx.cash.allowance(a.address, b.address)).to.equal(value);
      await expect(
        fx.cash.connect(b).permit(a.address, b.address, value, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(fx.cash, "ERC2612InvalidSigner");
    });

    it("refuses an expired permit", async () => {
      const fx = await loadFixture(fundedFixture);
      const [a, b] = fx.actors.users;
      const deadline = BigInt(await time.latest()) - 1n;
      await expect(fx.cash.permit(a.address, b.address, 1n, deadline, 27, hre.ethers.ZeroHash, hre.ethers.ZeroHash))
        .to.be.revertedWithCustomError(fx.cash, "ERC2612ExpiredSignature")
        .withArgs(deadline);
    });
  });

  describe("access control", () => {
    itRejectsCallersWithoutRole(async () => {
      const fx = await loadFixture(fundedFixture);
      const outsider = fx.actors.users[0];
      const c = fx.cash;
      return {
        contract: c,
        outsider,
        calls: [
          { name: "mint", call: (s) => c.connect(s).mint(outsider.address, 1n, ref("x")) },
          {
            name: "forcedTransfer",
            call: (s) => c.connect(s).forcedTransfer(outsider.address, fx.actors.users[1].address, 1n),
          },
          { name: "setFrozen", call: (s) => c.connect(s).setFrozen(outsider.address, true) },
          { name: "setSystemAccount", call: (s) => c.connect(s).setSystemAccount(outsider.address, true) },
          { name: "setReserveFeed", call: (s) => c.connect(s).setReserveFeed(outsider.address, 1) },
          { name: "pause", call: (s) => c.connect(s).pause() },
          { name: "unpause", call: (s) => c.connect(s).unpause() },
        ],
      };
    });

    it("keeps minting with the custodian: the operator and the KYC officer cannot mint", async () => {
      const fx = await loadFixture(fundedFixture);
      for (const s of [fx.actors.operator, fx.actors.kycOfficer]) {
        await expect(fx.cash.connect(s).mint(fx.actors.users[0].address, 1n, ref("x"))).to.be.revertedWithCustomError(
          fx.cash,
          "AccessManagedUnauthorized",
        );
      }
    });
  });
});
