import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture, type CoreFixture } from "../../helpers/fixtures";
import { itRejectsCallersWithoutRole } from "../../helpers/behaviours";
import { ROLE } from "../../../scripts/deploy/roles";
import { AgreementRegistry__factory, type AgreementRegistry } from "../../../typechain-types";
import {
  agreementDigest,
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
  recoverAgreementSigner,
  type FinancingAgreementMessage,
} from "../../../offchain/settlement/legal";
import { seedTerms } from "../../offchain/settlement/legal/seed";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { TypedDataDomain } from "ethers";

interface Fx extends CoreFixture {
  registry: AgreementRegistry;
  client: HardhatEthersSigner;
  platform: HardhatEthersSigner;
  domain: TypedDataDomain;
  message: FinancingAgreementMessage;
  clientSig: string;
  platformSig: string;
}

async function fixture(): Promise<Fx> {
  const core = await deployCoreFixture();
  const registry = AgreementRegistry__factory.connect(core.record.contracts.AgreementRegistry, core.actors.operator);
  const [client, platform] = core.actors.users;
  const doc = buildAgreement(seedTerms(client.address, platform.address));
  const domain = agreementDomain((await hre.ethers.provider.getNetwork()).chainId, await registry.getAddress());
  const message = agreementMessage(doc);
  const td = agreementTypedData(domain, message);
  return {
    ...core,
    registry,
    client,
    platform,
    domain,
    message,
    clientSig: await client.signTypedData(td.domain, td.types, td.message),
    platformSig: await platform.signTypedData(td.domain, td.types, td.message),
  };
}

async function sign(signer: HardhatEthersSigner, domain: TypedDataDomain, m: FinancingAgreementMessage) {
  const td = agreementTypedData(domain, m);
  return signer.signTypedData(td.domain, td.types, td.message);
}

describe("AgreementRegistry", () => {
  describe("agreementDigest", () => {
    it("equals the EIP-712 digest ethers computes for the same domain and message", async () => {
      const { registry, domain, message } = await loadFixture(fixture);
      expect(await registry.agreementDigest(message)).to.equal(agreementDigest(domain, message));
    });

    it("publishes its EIP-712 domain (EIP-5267) with the short name", async () => {
      const { registry } = await loadFixture(fixture);
      const d = await registry.eip712Domain();
      expect(d.name).to.equal("MarginBridge Agreements");
      expect(d.version).to.equal("1");
    });
  });

  describe("anchor", () => {
    describe("when both parties signed", () => {
      it("stores the terms hash and both signers, emits AgreementAnchored and is readable by anyone", async () => {
        const { registry, message, clientSig, platformSig, client, platform, actors } = await loadFixture(fixture);
        const tx = registry.anchor(message, clientSig, platformSig);
        await expect(tx)
          .to.emit(registry, "AgreementAnchored")
          .withArgs(
            message.agreementId,
            client.address,
            platform.address,
            message.termsHash,
            message.version,
            message.effectiveAt,
            message.expiresAt,
          );
        const receipt = await (await tx).wait();
        const block = await hre.ethers.provider.getBlock(receipt!.blockNumber);
        const outsider = registry.connect(actors.users[5]);
        const a = await outsider.agreementOf(message.agreementId);
        expect(a.termsHash).to.equal(message.termsHash);
        expect(a.client).to.equal(client.address);
        expect(a.platform).to.equal(platform.address);
        expect(a.version).to.equal(1n);
        expect(a.effectiveAt).to.equal(BigInt(message.effectiveAt));
        expect(a.expiresAt).to.equal(BigInt(message.expiresAt));
        expect(a.anchoredAt).to.equal(BigInt(block!.timestamp));
        expect(a.anchoredBlock).to.equal(BigInt(receipt!.blockNumber));
        expect(a.closedAt).to.equal(0n);
        expect(await outsider.isAnchored(message.agreementId)).to.equal(true);
        expect(await outsider.matchesTerms(message.agreementId, message.termsHash)).to.equal(true);
        expect(await outsider.matchesTerms(message.agreementId, hre.ethers.ZeroHash)).to.equal(false);
        expect(await outsider.anchoredCount()).to.equal(1n);
      });

      it("accepts signatures that plain ethers recovers to the client and the platform", async () => {
        const { domain, message, clientSig, platformSig, client, platform } = await loadFixture(fixture);
        expect(recoverAgreementSigner(domain, message, clientSig)).to.equal(client.address);
        expect(recoverAgreementSigner(domain, message, platformSig)).to.equal(platform.address);
      });
    });

    describe("when a party is a contract wallet (ERC-1271)", () => {
      /**
       * Runtime code of a minimal wallet that approves exactly one digest (like a Safe's approved hash): it returns
       * the ERC-1271 magic value 0x1626ba7e when the first argument equals `digest`, and zero otherwise.
       */
      const approvingWallet = (digest: string): string =>
        "0x7f" + digest.slice(2) + "600435146032576000600052602060" + "00f3" + "5b631626ba7e60e01b60005260206000f3";

      it("accepts the wallet's approval of this agreement's digest and refuses it for any other", async () => {
        const { registry, message, platformSig, domain, platform, actors } = await loadFixture(fixture);
        const wallet = actors.users[6].address;
        const walletMessage = { ...message, client: wallet };
        const digest = agreementDigest(domain, walletMessage);
        await hre.network.provider.send("hardhat_setCode", [wallet, approvingWallet(digest)]);
        const platformSigForWallet = await sign(platform, domain, walletMessage);
        expect(platformSig).to.not.equal(platformSigForWallet);

        const other = { ...walletMessage, agreementId: hre.ethers.id("other") };
        await expect(registry.anchor(other, "0x", await sign(platform, domain, other)))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidSignature")
          .withArgs(other.agreementId, wallet);
        await expect(registry.anchor(walletMessage, "0x", platformSigForWallet))
          .to.emit(registry, "AgreementAnchored")
          .withArgs(
            message.agreementId,
            wallet,
            platform.address,
            message.termsHash,
            message.version,
            message.effectiveAt,
            message.expiresAt,
          );
      });
    });

    describe("when the id was anchored before", () => {
      it("rejects a second anchoring of the same id, even with fresh valid signatures over new terms", async () => {
        const { registry, message, clientSig, platformSig, client, platform, domain } = await loadFixture(fixture);
        await registry.anchor(message, clientSig, platformSig);
        await expect(registry.anchor(message, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementAlreadyAnchored")
          .withArgs(message.agreementId, message.termsHash);
        const changed = { ...message, termsHash: hre.ethers.id("other terms") };
        await expect(
          registry.anchor(changed, await sign(client, domain, changed), await sign(platform, domain, changed)),
        )
          .to.be.revertedWithCustomError(registry, "AgreementAlreadyAnchored")
          .withArgs(message.agreementId, message.termsHash);
      });
    });

    describe("when a signature does not match", () => {
      it("rejects signatures replayed under another agreement id", async () => {
        const { registry, message, clientSig, platformSig, client } = await loadFixture(fixture);
        const other = { ...message, agreementId: hre.ethers.id("another agreement") };
        await expect(registry.anchor(other, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidSignature")
          .withArgs(other.agreementId, client.address);
      });

      it("rejects signatures made for another registry (domain separation)", async () => {
        const { registry, message, client, platform, domain } = await loadFixture(fixture);
        const elsewhere = { ...domain, verifyingContract: platform.address };
        await expect(
          registry.anchor(message, await sign(client, elsewhere, message), await sign(platform, elsewhere, message)),
        )
          .to.be.revertedWithCustomError(registry, "AgreementInvalidSignature")
          .withArgs(message.agreementId, client.address);
      });

      it("rejects a tampered terms hash and a platform signature made by someone else", async () => {
        const { registry, message, clientSig, platformSig, client, platform, domain, actors } =
          await loadFixture(fixture);
        const tampered = { ...message, termsHash: hre.ethers.id("tampered") };
        await expect(registry.anchor(tampered, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidSignature")
          .withArgs(message.agreementId, client.address);
        const forged = await sign(actors.users[3], domain, message);
        await expect(registry.anchor(message, clientSig, forged))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidSignature")
          .withArgs(message.agreementId, platform.address);
        await expect(registry.anchor(message, platformSig, clientSig))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidSignature")
          .withArgs(message.agreementId, client.address);
        await expect(registry.anchor(message, clientSig, "0x1234"))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidSignature")
          .withArgs(message.agreementId, platform.address);
      });
    });

    describe("when the struct is malformed", () => {
      it("rejects a zero id, bad parties, an empty terms hash and an inverted term", async () => {
        const { registry, message, clientSig, platformSig, client } = await loadFixture(fixture);
        const Z = hre.ethers.ZeroHash;
        await expect(registry.anchor({ ...message, agreementId: Z }, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidId")
          .withArgs(Z);
        await expect(registry.anchor({ ...message, platform: client.address }, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidParties")
          .withArgs(client.address, client.address);
        await expect(registry.anchor({ ...message, client: hre.ethers.ZeroAddress }, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidParties")
          .withArgs(hre.ethers.ZeroAddress, message.platform);
        await expect(registry.anchor({ ...message, termsHash: Z }, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementEmptyTermsHash")
          .withArgs(message.agreementId);
        await expect(registry.anchor({ ...message, expiresAt: message.effectiveAt }, clientSig, platformSig))
          .to.be.revertedWithCustomError(registry, "AgreementInvalidTerm")
          .withArgs(message.effectiveAt, message.effectiveAt);
      });
    });

    itRejectsCallersWithoutRole(async () => {
      const fx = await loadFixture(fixture);
      const asOutsider = (s: Parameters<AgreementRegistry["connect"]>[0]) => fx.registry.connect(s);
      return {
        contract: fx.registry,
        outsider: fx.client,
        calls: [
          { name: "anchor", call: (s) => asOutsider(s).anchor(fx.message, fx.clientSig, fx.platformSig) },
          { name: "close", call: (s) => asOutsider(s).close(fx.message.agreementId, hre.ethers.id("final")) },
        ],
      };
    });
  });

  describe("close", () => {
    // In a deployment only the AgreementSettlement holds AGREEMENT_SETTLER (its settleEnd closes an agreement at the
    // end of its waterfall); here the role is granted to a signer to test the registry's own rules alone.
    async function closer(): Promise<Fx> {
      const fx = await fixture();
      await fx.manager.grantRole(ROLE.AGREEMENT_SETTLER, fx.actors.operator.address, 0);
      return fx;
    }

    it("the operator cannot close an agreement directly: close belongs to AGREEMENT_SETTLER, not OPERATOR", async () => {
      const { registry, message, clientSig, platformSig, actors, manager, record } = await loadFixture(fixture);
      await registry.anchor(message, clientSig, platformSig);
      await expect(registry.close(message.agreementId, hre.ethers.id("final")))
        .to.be.revertedWithCustomError(registry, "AccessManagedUnauthorized")
        .withArgs(actors.operator.address);
      const selector = registry.interface.getFunction("close").selector;
      expect(await manager.getTargetFunctionRole(await registry.getAddress(), selector)).to.equal(
        ROLE.AGREEMENT_SETTLER,
      );
      expect((await manager.hasRole(ROLE.AGREEMENT_SETTLER, record.contracts.AgreementSettlement))[0]).to.equal(true);
      expect((await manager.hasRole(ROLE.AGREEMENT_SETTLER, actors.operator.address))[0]).to.equal(false);
    });

    it("records the final settlement hash once and emits AgreementClosed", async () => {
      const { registry, message, clientSig, platformSig, client } = await loadFixture(closer);
      await registry.anchor(message, clientSig, platformSig);
      const h = hre.ethers.id("final settlement");
      await expect(registry.close(message.agreementId, h))
        .to.emit(registry, "AgreementClosed")
        .withArgs(message.agreementId, client.address, h);
      const a = await registry.agreementOf(message.agreementId);
      expect(a.finalSettlementHash).to.equal(h);
      expect(a.closedAt).to.be.greaterThan(0n);
      await expect(registry.close(message.agreementId, hre.ethers.id("again")))
        .to.be.revertedWithCustomError(registry, "AgreementAlreadyClosed")
        .withArgs(message.agreementId, h);
    });

    it("refuses an unknown agreement and an empty hash", async () => {
      const { registry, message, clientSig, platformSig } = await loadFixture(closer);
      await expect(registry.close(message.agreementId, hre.ethers.id("x")))
        .to.be.revertedWithCustomError(registry, "AgreementNotAnchored")
        .withArgs(message.agreementId);
      await expect(registry.agreementOf(message.agreementId))
        .to.be.revertedWithCustomError(registry, "AgreementNotAnchored")
        .withArgs(message.agreementId);
      await registry.anchor(message, clientSig, platformSig);
      await expect(registry.close(message.agreementId, hre.ethers.ZeroHash))
        .to.be.revertedWithCustomError(registry, "AgreementEmptySettlementHash")
        .withArgs(message.agreementId);
    });
  });
});
