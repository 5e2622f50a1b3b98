import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture, identityHash, inAYear } from "../../helpers/fixtures";
import { itRejectsCallersWithoutRole } from "../../helpers/behaviours";

describe("KycRegistry", () => {
  describe("setIdentity", () => {
    it("registers an identity and emits IdentitySet", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const client = fx.actors.users[0].address;
      const expiry = await inAYear();
      const h = identityHash("client-a");
      await expect(fx.kyc.connect(fx.actors.kycOfficer).setIdentity(client, 2, 156, expiry, h))
        .to.emit(fx.kyc, "IdentitySet")
        .withArgs(client, 2, 156, expiry, h);
      const id = await fx.kyc.identityOf(client);
      expect(id.tier).to.equal(2);
      expect(id.jurisdiction).to.equal(156);
      expect(id.expiresAt).to.equal(expiry);
      expect(id.identityHash).to.equal(h);
      expect(id.registered).to.equal(true);
      expect(await fx.kyc.isVerified(client)).to.equal(true);
      expect(await fx.kyc.maxLeverageOf(client)).to.equal(2n * 10n ** 18n);
    });

    it("updates an existing identity's tier and expiry", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const client = fx.actors.users[0].address;
      await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(client, 2, 156, await inAYear(), identityHash("a"));
      await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(client, 3, 156, await inAYear(), identityHash("a"));
      expect(await fx.kyc.maxLeverageOf(client)).to.equal(3n * 10n ** 18n);
    });

    it("rejects the zero address", async () => {
      const fx = await loadFixture(deployCoreFixture);
      await expect(
        fx.kyc
          .connect(fx.actors.kycOfficer)
          .setIdentity(hre.ethers.ZeroAddress, 1, 156, await inAYear(), identityHash("x")),
      )
        .to.be.revertedWithCustomError(fx.kyc, "KycInvalidAccount")
        .withArgs(hre.ethers.ZeroAddress);
    });

    it("rejects tier 0 and tiers above MAX_TIER", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const officer = fx.kyc.connect(fx.actors.kycOfficer);
      const client = fx.actors.users[0].address;
      await expect(officer.setIdentity(client, 0, 156, await inAYear(), identityHash("x")))
        .to.be.revertedWithCustomError(fx.kyc, "KycInvalidTier")
        .withArgs(0);
      await expect(officer.setIdentity(client, 6, 156, await inAYear(), identityHash("x")))
        .to.be.revertedWithCustomError(fx.kyc, "KycInvalidTier")
        .withArgs(6);
    });

    it("rejects an expiry that is not in the future", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const now = BigInt(await time.latest());
      // Pin the block time: on a loaded machine the wall clock would otherwise move the next block further.
      await time.setNextBlockTimestamp(now + 1n);
      await expect(
        fx.kyc.connect(fx.actors.kycOfficer).setIdentity(fx.actors.users[0].address, 1, 156, now, identityHash("x")),
      )
        .to.be.revertedWithCustomError(fx.kyc, "KycExpiryNotInFuture")
        .withArgs(now, now + 1n);
    });

    it("rejects an empty identity hash", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const client = fx.actors.users[0].address;
      await expect(
        fx.kyc.connect(fx.actors.kycOfficer).setIdentity(client, 1, 156, await inAYear(), hre.ethers.ZeroHash),
      )
        .to.be.revertedWithCustomError(fx.kyc, "KycEmptyIdentityHash")
        .withArgs(client);
    });
  });

  describe("revoke", () => {
    it("stops verification in the same block and emits IdentityRevoked", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const client = fx.actors.users[0].address;
      await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(client, 2, 156, await inAYear(), identityHash("a"));
      const reason = hre.ethers.encodeBytes32String("AML-2026-17");
      await expect(fx.kyc.connect(fx.actors.kycOfficer).revoke(client, reason))
        .to.emit(fx.kyc, "IdentityRevoked")
        .withArgs(client, reason);
      expect(await fx.kyc.isVerified(client)).to.equal(false);
      expect(await fx.kyc.maxLeverageOf(client)).to.equal(0);
    });

    it("rejects an unregistered account and a second revocation", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const officer = fx.kyc.connect(fx.actors.kycOfficer);
      const client = fx.actors.users[0].address;
      await expect(officer.revoke(client, hre.ethers.ZeroHash))
        .to.be.revertedWithCustomError(fx.kyc, "KycNotRegistered")
        .withArgs(client);
      await officer.setIdentity(client, 2, 156, await inAYear(), identityHash("a"));
      await officer.revoke(client, hre.ethers.ZeroHash);
      await expect(officer.revoke(client, hre.ethers.ZeroHash))
        .to.be.revertedWithCustomError(fx.kyc, "KycAlreadyRevoked")
        .withArgs(client);
    });

    it("lets the officer re-approve a revoked account with a new record", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const officer = fx.kyc.connect(fx.actors.kycOfficer);
      const client = fx.actors.users[0].address;
      await officer.setIdentity(client, 2, 156, await inAYear(), identityHash("a"));
      await officer.revoke(client, hre.ethers.ZeroHash);
      await officer.setIdentity(client, 1, 156, await inAYear(), identityHash("a2"));
      expect(await fx.kyc.isVerified(client)).to.equal(true);
    });
  });

  describe("expiry", () => {
    it("stops verification at expiresAt exactly", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const client = fx.actors.users[0].address;
      // The fixture's snapshot may be minutes old (a loaded machine): the next block is stamped with the clock,
      // so the expiry is counted from a block mined now, with room for the transaction that sets it.
      await hre.network.provider.send("evm_mine");
      const expiry = BigInt(await time.latest()) + 3600n;
      await fx.kyc.connect(fx.actors.kycOfficer).setIdentity(client, 2, 156, expiry, identityHash("a"));
      await time.setNextBlockTimestamp(expiry - 1n);
      await hre.network.provider.send("evm_mine");
      expect(await fx.kyc.isVerified(client)).to.equal(true);
      await time.setNextBlockTimestamp(expiry);
      await hre.network.provider.send("evm_mine");
      expect(await fx.kyc.isVerified(client)).to.equal(false);
      expect(await fx.kyc.maxLeverageOf(client)).to.equal(0);
    });
  });

  describe("setTierLeverage", () => {
    it("sets a tier's maximum leverage for the risk officer and emits TierLeverageSet", async () => {
      const fx = await loadFixture(deployCoreFixture);
      await expect(fx.kyc.connect(fx.actors.riskOfficer).setTierLeverage(2, 25n * 10n ** 17n))
        .to.emit(fx.kyc, "TierLeverageSet")
        .withArgs(2, 25n * 10n ** 17n);
      expect(await fx.kyc.tierLeverage(2)).to.equal(25n * 10n ** 17n);
    });

    it("rejects leverage below 1x or above 10x and undefined tiers", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const risk = fx.kyc.connect(fx.actors.riskOfficer);
      await expect(risk.setTierLeverage(2, 10n ** 18n - 1n))
        .to.be.revertedWithCustomError(fx.kyc, "KycInvalidLeverage")
        .withArgs(2, 10n ** 18n - 1n);
      await expect(risk.setTierLeverage(2, 11n * 10n ** 18n))
        .to.be.revertedWithCustomError(fx.kyc, "KycInvalidLeverage")
        .withArgs(2, 11n * 10n ** 18n);
      await expect(risk.setTierLeverage(0, 10n ** 18n))
        .to.be.revertedWithCustomError(fx.kyc, "KycInvalidTier")
        .withArgs(0);
    });

    it("waits for the execution delay when the risk role carries one", async () => {
      const fx = await loadFixture(deployCoreFixture);
      const delay = 3600;
      const officer = fx.actors.users[6];
      await fx.manager.grantRole(3, officer.address, delay);
      const risk = fx.kyc.connect(officer);
      // A direct call is refused: the role now needs schedule → wait → execute.
      await expect(risk.setTierLeverage(2, 3n * 10n ** 18n)).to.be.revertedWithCustomError(
        fx.manager,
        "AccessManagerNotScheduled",
      );
      const target = await fx.kyc.getAddress();
      const data = fx.kyc.interface.encodeFunctionData("setTierLeverage", [2, 3n * 10n ** 18n]);
      await fx.manager.connect(officer).schedule(target, data, 0);
      await expect(fx.manager.connect(officer).execute(target, data)).to.be.revertedWithCustomError(
        fx.manager,
        "AccessManagerNotReady",
      );
      await time.increase(delay);
      await expect(fx.manager.connect(officer).execute(target, data))
        .to.emit(fx.kyc, "TierLeverageSet")
        .withArgs(2, 3n * 10n ** 18n);
    });
  });

  describe("access control", () => {
    itRejectsCallersWithoutRole(async () => {
      const fx = await loadFixture(deployCoreFixture);
      const outsider = fx.actors.users[5];
      const exp = await inAYear();
      return {
        contract: fx.kyc,
        outsider,
        calls: [
          {
            name: "setIdentity",
            call: (s) => fx.kyc.connect(s).setIdentity(outsider.address, 1, 156, exp, identityHash("x")),
          },
          { name: "revoke", call: (s) => fx.kyc.connect(s).revoke(outsider.address, hre.ethers.ZeroHash) },
          { name: "setTierLeverage", call: (s) => fx.kyc.connect(s).setTierLeverage(1, 10n ** 18n) },
        ],
      };
    });

    it("does not let the KYC officer change tier leverage, nor the risk officer write identities", async () => {
      const fx = await loadFixture(deployCoreFixture);
      await expect(fx.kyc.connect(fx.actors.kycOfficer).setTierLeverage(1, 10n ** 18n)).to.be.revertedWithCustomError(
        fx.kyc,
        "AccessManagedUnauthorized",
      );
      await expect(
        fx.kyc
          .connect(fx.actors.riskOfficer)
          .setIdentity(fx.actors.users[0].address, 1, 156, await inAYear(), identityHash("x")),
      ).to.be.revertedWithCustomError(fx.kyc, "AccessManagedUnauthorized");
    });
  });
});
