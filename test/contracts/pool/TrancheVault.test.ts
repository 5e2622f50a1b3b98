import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { PROVIDER_AGREEMENT_TYPES, agreementDomain, signProviderAgreement } from "../../../scripts/deploy/providers";
import {
  CNY,
  DAY,
  JUNIOR,
  SENIOR,
  SHARE,
  WAD,
  ZERO_RATE,
  atHead,
  plainPoolFixture,
  tranchePoolFixture,
} from "../../helpers/poolFixture";

describe("TrancheVault", () => {
  describe("ERC-4626 / ERC-7540 surface", () => {
    it("names its asset, share token, class and pool, and answers ERC-165 for ERC-7540 redemption, operators and ERC-7575", async () => {
      const { pool, senior, junior, cash } = await loadFixture(tranchePoolFixture);
      expect(await senior.asset()).to.equal(await cash.getAddress());
      expect(await senior.share()).to.equal(await senior.getAddress());
      expect(await senior.decimals()).to.equal(12);
      expect([await senior.tranche(), await junior.tranche()]).to.deep.equal([BigInt(SENIOR), BigInt(JUNIOR)]);
      expect(await junior.pool()).to.equal(await pool.getAddress());
      for (const [id, supported] of [
        ["0x01ffc9a7", true], // ERC-165
        ["0xe3bc4e65", true], // ERC-7540 operators
        ["0x620ee8e4", true], // ERC-7540 asynchronous redemption
        ["0x2f0a18c5", true], // ERC-7575
        ["0xce3bbe50", false], // ERC-7540 asynchronous deposit: deposits are synchronous
        ["0xffffffff", false],
      ] as const) {
        expect(await senior.supportsInterface(id), id).to.equal(supported);
      }
    });

    it("reverts the redemption previews (ERC-7540) and rounds the deposit previews in the vault's favour", async () => {
      const { pool, senior, junior, lp, platform, borrower } = await loadFixture(tranchePoolFixture);
      await junior.connect(platform).deposit(100_000n * CNY, platform.address);
      await senior.connect(lp).deposit(300_000n * CNY, lp.address);
      await pool.connect(borrower).borrow(100_000n * CNY);
      await time.increase(7n * DAY);
      await expect(senior.previewRedeem(1n)).to.be.revertedWithCustomError(senior, "VaultAsyncRedeem");
      await expect(senior.previewWithdraw(1n)).to.be.revertedWithCustomError(senior, "VaultAsyncRedeem");
      // The senior price is now above 10^-6 per share: a whole share costs more than it returns in cash units.
      const at = await atHead();
      const up = await senior.previewMint(SHARE, at);
      const down = await senior.convertToAssets(SHARE, at);
      expect(up).to.equal(down + 1n);
      // What a whole share is worth, rounded down, buys less than a whole share.
      expect(await senior.previewDeposit(down, at)).to.be.lessThan(SHARE);
    });
  });

  describe("deposits", () => {
    it("refuses shares to an address without an anchored agreement (deposit, mint, transfer)", async () => {
      const { senior, lp, lp2, outsider } = await loadFixture(tranchePoolFixture);
      expect(await senior.maxDeposit(outsider.address)).to.equal(0n);
      await expect(senior.connect(outsider).deposit(1n * CNY, outsider.address))
        .to.be.revertedWithCustomError(senior, "VaultNoAgreement")
        .withArgs(outsider.address, 0n, 1n);
      await expect(senior.connect(lp).deposit(1n * CNY, outsider.address))
        .to.be.revertedWithCustomError(senior, "VaultNoAgreement")
        .withArgs(outsider.address, 0n, 1n);
      await expect(senior.connect(lp).mint(SHARE, outsider.address))
        .to.be.revertedWithCustomError(senior, "VaultNoAgreement")
        .withArgs(outsider.address, 0n, 1n);
      await senior.connect(lp).deposit(10n * CNY, lp.address);
      await expect(senior.connect(lp).transfer(outsider.address, SHARE))
        .to.be.revertedWithCustomError(senior, "VaultNoAgreement")
        .withArgs(outsider.address, 0n, 1n);
      await expect(senior.connect(lp).transfer(lp2.address, SHARE)).to.emit(senior, "Transfer");
    });

    it("mints 10^6 shares per cash unit on the first deposit, sends the cash straight to the pool and books it", async () => {
      const { pool, senior, lp, cash } = await loadFixture(tranchePoolFixture);
      const shares = await senior.previewDeposit(200_000n * CNY);
      expect(shares).to.equal(200_000n * CNY * 10n ** 6n);
      const tx = senior.connect(lp).deposit(200_000n * CNY, lp.address);
      await expect(tx)
        .to.emit(senior, "Deposit")
        .withArgs(lp.address, lp.address, 200_000n * CNY, shares);
      await expect(tx)
        .to.emit(pool, "TrancheDeposited")
        .withArgs(SENIOR, 200_000n * CNY, shares);
      await expect(tx).to.changeTokenBalances(
        cash,
        [lp, await pool.getAddress(), await senior.getAddress()],
        [-200_000n * CNY, 200_000n * CNY, 0n],
      );
      expect(await senior.balanceOf(lp.address)).to.equal(shares);
      expect(await pool.trancheShares(SENIOR)).to.equal(await senior.totalSupply());
      expect(await senior.totalAssets()).to.equal(200_000n * CNY);
    });

    it("reports the real deposit headroom (the pool books cash in 88 bits) and refuses beyond it", async () => {
      const { senior, lp } = await loadFixture(plainPoolFixture);
      const cap = 2n ** 88n - 1n;
      expect(await senior.maxDeposit(lp.address)).to.equal(cap);
      await senior.connect(lp).deposit(200_000n * CNY, lp.address);
      const room = cap - 200_000n * CNY;
      expect(await senior.maxDeposit(lp.address)).to.equal(room);
      expect(await senior.maxMint(lp.address)).to.equal(await senior.convertToShares(room));
      await expect(senior.connect(lp).deposit(room + 1n, lp.address))
        .to.be.revertedWithCustomError(senior, "ERC4626ExceededMaxDeposit")
        .withArgs(lp.address, room + 1n, room);
      const max = await senior.maxMint(lp.address);
      await expect(senior.connect(lp).mint(max + 1n, lp.address))
        .to.be.revertedWithCustomError(senior, "ERC4626ExceededMaxMint")
        .withArgs(lp.address, max + 1n, max);
    });

    it("takes no value from a depositor through a donation to the pool (the first-depositor inflation attack)", async () => {
      for (const side of ["senior", "junior"] as const) {
        const fx = await loadFixture(tranchePoolFixture);
        const vault = fx[side];
        const [attacker, victim] = [fx.attacker, fx.accomplice];
        await vault.connect(attacker).deposit(1n, attacker.address);
        await fx.cash.connect(attacker).transfer(await fx.pool.getAddress(), 100_000n * CNY);
        const shares = await vault.previewDeposit(100_000n * CNY);
        // Same price the attacker paid: the donation is not cash of the pool.
        expect(shares, side).to.equal(100_000n * CNY * 10n ** 6n);
        await vault.connect(victim).deposit(100_000n * CNY, victim.address);
        expect(await vault.convertToAssets(await vault.balanceOf(victim.address)), side).to.equal(100_000n * CNY);
        expect(await vault.convertToAssets(await vault.balanceOf(attacker.address)), side).to.equal(1n);
      }
    });

    it("lets a token sent straight to the pool move neither share price, utilisation, rate nor available cash", async () => {
      const { pool, senior, junior, lp, lp2, platform, borrower, actors, cash } = await loadFixture(plainPoolFixture);
      await pool
        .connect(actors.riskOfficer)
        .setRateModel({ ...ZERO_RATE, base: (WAD / 100n) * 8n, slope1: WAD / 10n, kink: WAD / 2n });
      await senior.connect(lp).deposit(100_000n * CNY, lp.address);
      await junior.connect(platform).deposit(20_000n * CNY, platform.address);
      await pool.connect(borrower).borrow(40_000n * CNY);
      const views = async () => {
        const at = await atHead();
        return [
          await pool.totalAssets(at),
          await senior.convertToAssets(SHARE, at),
          await junior.convertToAssets(SHARE, at),
          await senior.previewDeposit(10_000n * CNY, at),
          await pool.utilisation(at),
          await pool.borrowRate(at),
          await pool.availableCash(at),
        ];
      };
      const at = (await time.latest()) + 10;
      const snapshot = await hre.network.provider.send("evm_snapshot");
      await time.increaseTo(at);
      const without = await views();
      await hre.network.provider.send("evm_revert", [snapshot]);
      await time.setNextBlockTimestamp(at);
      await cash.connect(lp2).transfer(await pool.getAddress(), 50_000n * CNY);
      expect(await views()).to.deep.equal(without);
    });
  });

  describe("provider agreements (EIP-712)", () => {
    it("anchors a provider's signature of the current terms, relayed by anyone, once per terms version", async () => {
      const { senior, junior, outsider, lp2 } = await loadFixture(tranchePoolFixture);
      const signedAt = BigInt(await time.latest());
      const [termsHash, termsVersion] = await senior.agreementTerms();
      const message = { provider: outsider.address, termsHash, termsVersion, signedAt };
      const digest = hre.ethers.TypedDataEncoder.hash(await agreementDomain(senior), PROVIDER_AGREEMENT_TYPES, message);
      expect(await senior.agreementDigest(outsider.address, signedAt)).to.equal(digest);
      const { signature } = await signProviderAgreement(senior, outsider, signedAt);
      // Someone else's signature, a future date, or the other class's domain: refused.
      const forged = await signProviderAgreement(senior, lp2, signedAt);
      await expect(senior.connect(lp2).anchorAgreement(outsider.address, signedAt, forged.signature))
        .to.be.revertedWithCustomError(senior, "VaultInvalidSignature")
        .withArgs(outsider.address);
      await expect(junior.connect(lp2).anchorAgreement(outsider.address, signedAt, signature))
        .to.be.revertedWithCustomError(junior, "VaultInvalidSignature")
        .withArgs(outsider.address);
      await expect(senior.anchorAgreement(outsider.address, signedAt + DAY, signature)).to.be.revertedWithCustomError(
        senior,
        "VaultSignedInFuture",
      );
      await expect(senior.connect(lp2).anchorAgreement(outsider.address, signedAt, signature))
        .to.emit(senior, "AgreementAnchored")
        .withArgs(outsider.address, termsVersion, termsHash, signedAt);
      const stored = await senior.agreementOf(outsider.address);
      expect([stored.termsVersion, stored.signedAt]).to.deep.equal([termsVersion, signedAt]);
      expect(await senior.hasAgreement(outsider.address)).to.equal(true);
      expect(await junior.hasAgreement(outsider.address)).to.equal(false);
      await expect(senior.anchorAgreement(outsider.address, signedAt, signature))
        .to.be.revertedWithCustomError(senior, "VaultAgreementAlreadyAnchored")
        .withArgs(outsider.address, termsVersion);
      await expect(senior.connect(outsider).deposit(1n * CNY, outsider.address)).to.emit(senior, "Deposit");
    });

    it("needs a new signature for new deposits after the terms change; shares already held can still leave", async () => {
      const { senior, lp, actors } = await loadFixture(tranchePoolFixture);
      await senior.connect(lp).deposit(10_000n * CNY, lp.address);
      const next = hre.ethers.id("senior terms v2");
      await expect(senior.connect(lp).setAgreementTerms(next, 2))
        .to.be.revertedWithCustomError(senior, "AccessManagedUnauthorized")
        .withArgs(lp.address);
      await expect(senior.connect(actors.riskOfficer).setAgreementTerms(hre.ethers.ZeroHash, 2))
        .to.be.revertedWithCustomError(senior, "VaultInvalidTerms")
        .withArgs(hre.ethers.ZeroHash, 2n, 1n);
      await expect(senior.connect(actors.riskOfficer).setAgreementTerms(next, 1))
        .to.be.revertedWithCustomError(senior, "VaultInvalidTerms")
        .withArgs(next, 1n, 1n);
      await expect(senior.connect(actors.riskOfficer).setAgreementTerms(next, 2))
        .to.emit(senior, "AgreementTermsSet")
        .withArgs(next, 2n);
      await expect(senior.connect(lp).deposit(1n * CNY, lp.address))
        .to.be.revertedWithCustomError(senior, "VaultNoAgreement")
        .withArgs(lp.address, 1n, 2n);
      await senior.connect(lp).requestRedeem(SHARE, lp.address, lp.address);
      await senior.connect(lp).redeem(SHARE, lp.address, lp.address);
      const { signedAt, signature } = await signProviderAgreement(senior, lp);
      await senior.anchorAgreement(lp.address, signedAt, signature);
      await expect(senior.connect(lp).deposit(1n * CNY, lp.address)).to.emit(senior, "Deposit");
    });
  });

  describe("requests and claims (ERC-7540)", () => {
    it("takes a request's shares from the owner, its operator or a spender of its allowance, and nobody else", async () => {
      const { senior, lp, lp2, accomplice } = await loadFixture(tranchePoolFixture);
      await senior.connect(lp).deposit(10_000n * CNY, lp.address);
      await expect(senior.connect(accomplice).requestRedeem(SHARE, accomplice.address, lp.address))
        .to.be.revertedWithCustomError(senior, "ERC20InsufficientAllowance")
        .withArgs(accomplice.address, 0n, SHARE);
      await senior.connect(lp).approve(accomplice.address, SHARE);
      await expect(senior.connect(accomplice).requestRedeem(SHARE, accomplice.address, lp.address))
        .to.emit(senior, "RedeemRequest")
        .withArgs(accomplice.address, lp.address, 0n, accomplice.address, SHARE);
      expect(await senior.allowance(lp.address, accomplice.address)).to.equal(0n);
      await expect(senior.connect(lp).setOperator(lp2.address, true))
        .to.emit(senior, "OperatorSet")
        .withArgs(lp.address, lp2.address, true);
      expect(await senior.isOperator(lp.address, lp2.address)).to.equal(true);
      await expect(senior.connect(lp2).requestRedeem(SHARE, lp.address, lp.address)).to.emit(senior, "RedeemRequest");
      await expect(senior.connect(lp).requestRedeem(0n, lp.address, lp.address)).to.be.revertedWithCustomError(
        senior,
        "VaultZeroShares",
      );
      await expect(senior.connect(lp).requestRedeem(SHARE, hre.ethers.ZeroAddress, lp.address))
        .to.be.revertedWithCustomError(senior, "VaultInvalidController")
        .withArgs(hre.ethers.ZeroAddress);
    });

    it("lets only the controller or its operator claim, to any receiver, never more than is claimable", async () => {
      const { senior, lp, lp2, accomplice, cash } = await loadFixture(tranchePoolFixture);
      await senior.connect(lp).deposit(10_000n * CNY, lp.address);
      // lp asks for lp2 as controller: the claim is lp2's.
      await senior.connect(lp).requestRedeem(3n * SHARE, lp2.address, lp.address);
      expect(await senior.claimableRedeemRequest(0, lp2.address)).to.equal(3n * SHARE);
      expect(await senior.claimableRedeemRequest(1, lp2.address)).to.equal(0n);
      expect(await senior.pendingRedeemRequest(1, lp2.address)).to.equal(0n);
      expect(await senior.maxRedeem(lp.address)).to.equal(0n);
      await expect(senior.connect(lp).redeem(SHARE, lp.address, lp2.address))
        .to.be.revertedWithCustomError(senior, "VaultNotController")
        .withArgs(lp.address, lp2.address);
      await expect(senior.connect(lp2).redeem(3n * SHARE + 1n, lp2.address, lp2.address))
        .to.be.revertedWithCustomError(senior, "ERC4626ExceededMaxRedeem")
        .withArgs(lp2.address, 3n * SHARE + 1n, 3n * SHARE);
      await expect(senior.connect(lp2).withdraw(3n * CNY + 1n, lp2.address, lp2.address))
        .to.be.revertedWithCustomError(senior, "ERC4626ExceededMaxWithdraw")
        .withArgs(lp2.address, 3n * CNY + 1n, 3n * CNY);
      // A withdrawal of part of the assets takes the claimable shares they stand for, rounded up.
      await expect(senior.connect(lp2).withdraw(1n, accomplice.address, lp2.address))
        .to.emit(senior, "Withdraw")
        .withArgs(lp2.address, accomplice.address, lp2.address, 1n, 10n ** 6n);
      await senior.connect(lp2).setOperator(accomplice.address, true);
      await expect(
        senior.connect(accomplice).redeem(await senior.maxRedeem(lp2.address), accomplice.address, lp2.address),
      ).to.changeTokenBalance(cash, accomplice, 3n * CNY - 1n);
      expect(await senior.maxWithdraw(lp2.address)).to.equal(0n);
    });

    it("burns served shares only for the pool", async () => {
      const { senior, lp } = await loadFixture(tranchePoolFixture);
      await expect(senior.connect(lp).burnServed(1n))
        .to.be.revertedWithCustomError(senior, "VaultNotPool")
        .withArgs(lp.address);
    });
  });
});
