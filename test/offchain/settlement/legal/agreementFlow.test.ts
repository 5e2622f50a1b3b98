import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture } from "../../../helpers/fixtures";
import { AgreementRegistry__factory, AgreementSettlement__factory } from "../../../../typechain-types";
import {
  AgreementService,
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  computeFinalSettlement,
  finalSettlementHash,
  LegalError,
  MemoryLegalStore,
} from "../../../../offchain/settlement/legal";
import { CNY, seedTerms } from "./seed";

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LegalError) return e.code;
    throw e;
  }
  return "no error";
}

async function flowFixture() {
  const core = await deployCoreFixture();
  const [client, platform, outsider] = core.actors.users;
  const registry = AgreementRegistry__factory.connect(core.record.contracts.AgreementRegistry, core.actors.operator);
  // Agreements close only through the end waterfall (the operator's settleEnd, which calls registry.close).
  const settlement = AgreementSettlement__factory.connect(
    core.record.contracts.AgreementSettlement,
    core.actors.operator,
  );
  const domain = agreementDomain((await hre.ethers.provider.getNetwork()).chainId, await registry.getAddress());
  const store = new MemoryLegalStore();
  const service = new AgreementService(store, domain);
  return { core, client, platform, outsider, registry, settlement, domain, store, service };
}

describe("legal: agreement lifecycle (prepare, sign, anchor, retrieve, close)", () => {
  it("takes the seed agreement from terms to an on-chain anchor and a recorded final settlement", async () => {
    const { client, platform, outsider, registry, settlement: end, domain, service } = await loadFixture(flowFixture);
    const rec = await service.prepare(seedTerms(client.address, platform.address));
    expect(rec.status).to.equal("awaiting-signatures");
    const td = agreementTypedData(domain, agreementMessage(rec.document));
    const sign = (s: typeof client) => s.signTypedData(td.domain, td.types, td.message);

    expect(await errorCode(service.addSignature(rec.document.terms.agreementId, await sign(outsider)))).to.equal(
      "LEGAL_BAD_SIGNATURE",
    );
    expect((await service.addSignature(td.message.agreementId, await sign(platform))).status).to.equal(
      "awaiting-signatures",
    );
    const signed = await service.addSignature(td.message.agreementId, await sign(client));
    expect(signed.status).to.equal("signed");

    // The chain capability sends these arguments; here the operator sends them directly.
    const args = await service.anchorArguments(td.message.agreementId);
    const receipt = await (await registry.anchor(...args)).wait();
    await service.markAnchored(td.message.agreementId, {
      txHash: receipt!.hash,
      blockNumber: receipt!.blockNumber,
      registry: await registry.getAddress(),
      chainId: 31337,
    });
    expect(await registry.matchesTerms(td.message.agreementId, rec.document.termsHash)).to.equal(true);

    // Both sides retrieve the same document; an outsider cannot.
    const asClient = await service.retrieve(td.message.agreementId, { address: client.address });
    const asPlatform = await service.retrieve(td.message.agreementId, { address: platform.address });
    expect(asClient.document.termsHash).to.equal(asPlatform.document.termsHash);
    expect(asClient.status).to.equal("anchored");
    expect(await errorCode(service.retrieve(td.message.agreementId, { address: outsider.address }))).to.equal(
      "LEGAL_FORBIDDEN",
    );

    const settlement = computeFinalSettlement({
      terms: asClient.document.terms,
      settledOn: "2028-01-01",
      closingCash: 220_000n * CNY,
      principal: 100_000n * CNY,
      interestDue: 8_000n * CNY,
      feesDue: [{ code: "MGMT", label: "Account management", amount: 2_000n * CNY }],
      insuranceFundAvailable: 0n,
    });
    const h = finalSettlementHash(settlement);
    // Never bound to a margin account: it closes with no shares to pay.
    await expect(end.settleEnd(td.message.agreementId, 0n, 0n, h))
      .to.emit(registry, "AgreementClosed")
      .withArgs(td.message.agreementId, client.address, h);
    const closed = await service.markClosed(td.message.agreementId, h);
    expect(closed.status).to.equal("closed");
    expect((await registry.agreementOf(td.message.agreementId)).finalSettlementHash).to.equal(h);
  });
});
