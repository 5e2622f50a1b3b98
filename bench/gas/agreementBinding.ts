/**
 * Gas of binding a financing agreement to a margin account (AgreementBinding, issue 22) and of a borrow under it:
 * the engine's extra cost is one call to the binding (one slot for an unbound account; the term beside the agreed
 * numbers and the registry's closedAt for a bound one). Compare with margin.ts's "first, cash-only account" borrow.
 */
import type { GasContext } from "./types";
import { gasOf } from "./types";
import { CNY, marginFixture, pct } from "../../fixtures/margin";
import { AgreementBinding__factory, AgreementRegistry__factory } from "../../typechain-types";
import { agreementDomain, agreementMessage, agreementTypedData, buildAgreement } from "../../offchain/settlement/legal";
import { seedTerms } from "../../fixtures/legalSeed";

export async function measure({ hre, emit }: GasContext): Promise<void> {
  const fx = await marginFixture({ feeds: "median" });
  const { engine, clientA } = fx;
  const operator = fx.actors.operator;
  const c = fx.record.contracts;
  const binding = AgreementBinding__factory.connect(c.AgreementBinding, operator);
  const registry = AgreementRegistry__factory.connect(c.AgreementRegistry, operator);
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const doc = buildAgreement(
    seedTerms(clientA.address, operator.address, { effectiveAt: now - 1, expiresAt: now + 90 * 86_400 }),
  );
  const domain = agreementDomain((await hre.ethers.provider.getNetwork()).chainId, c.AgreementRegistry);
  const td = agreementTypedData(domain, agreementMessage(doc));
  const sigs = await Promise.all([clientA, operator].map((s) => s.signTypedData(td.domain, td.types, td.message)));
  await (await registry.anchor(agreementMessage(doc), sigs[0], sigs[1])).wait();
  const id = doc.terms.agreementId;
  emit({
    contract: "AgreementBinding",
    method: "propose",
    gas: await gasOf(binding.propose(id, pct(200), pct(5))),
  });
  emit({
    contract: "AgreementBinding",
    method: "accept",
    gas: await gasOf(binding.connect(clientA).accept(id, pct(200), pct(5))),
  });
  await fx.cash.connect(fx.actors.custodian).mint(clientA.address, 200_000n * CNY, "0x" + "33".repeat(32));
  await fx.cash.connect(clientA).approve(await engine.getAddress(), 2n ** 255n);
  await (await engine.connect(clientA).deposit(await fx.cash.getAddress(), 100_000n * CNY)).wait();
  emit({
    contract: "MarginEngine",
    method: "borrow",
    gas: await gasOf(engine.connect(clientA).borrow(90_000n * CNY)),
    case: "first, cash-only account bound to an agreement",
    target: 120_000,
  });
}
