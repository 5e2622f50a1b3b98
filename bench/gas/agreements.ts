import { deployCoreFixture } from "../../fixtures/core";
import { seedTerms } from "../../fixtures/legalSeed";
import {
  agreementDomain,
  agreementMessage,
  agreementTypedData,
  buildAgreement,
  computeFinalSettlement,
  finalSettlementHash,
} from "../../offchain/settlement/legal";
import { AgreementRegistry__factory, AgreementSettlement__factory } from "../../typechain-types";
import { gasOf, type GasContext } from "./types";

const CNY = 10n ** 6n;

/**
 * AgreementRegistry.anchor (two ECDSA signatures), as the operator sends it for the seed agreement, and its close,
 * which only AgreementSettlement.settleEnd reaches (here for the agreement never bound to an account: no shares).
 */
export async function measure({ hre, emit }: GasContext): Promise<void> {
  const core = await deployCoreFixture();
  const [client, platform] = core.actors.users;
  const registry = AgreementRegistry__factory.connect(core.record.contracts.AgreementRegistry, core.actors.operator);
  const domain = agreementDomain((await hre.ethers.provider.getNetwork()).chainId, await registry.getAddress());
  const terms = seedTerms(client.address, platform.address);
  const td = agreementTypedData(domain, agreementMessage(buildAgreement(terms)));
  const clientSig = await client.signTypedData(td.domain, td.types, td.message);
  const platformSig = await platform.signTypedData(td.domain, td.types, td.message);
  emit({
    contract: "AgreementRegistry",
    method: "anchor",
    gas: await gasOf(registry.anchor(td.message, clientSig, platformSig)),
    signatures: "2 ECDSA",
  });
  const settlement = computeFinalSettlement({
    terms,
    settledOn: "2028-01-01",
    closingCash: 220_000n * CNY,
    principal: 100_000n * CNY,
    interestDue: 8_000n * CNY,
    feesDue: [],
    insuranceFundAvailable: 0n,
  });
  const end = AgreementSettlement__factory.connect(core.record.contracts.AgreementSettlement, core.actors.operator);
  emit({
    contract: "AgreementSettlement",
    method: "settleEnd(never bound: registry.close)",
    gas: await gasOf(end.settleEnd(terms.agreementId, 0n, 0n, finalSettlementHash(settlement))),
  });
}
