/**
 * Gas of a financing agreement's end on-chain (issue 22): AgreementBinding.terminate, AgreementSettlement.chargeFee
 * (an indebted account: the engine values it for the initial-margin check), forceClose (one listed security) and
 * settleEnd (both shares, the check of every listed security's balance, the pool's profit share and registry.close),
 * and CapitalPool.receiveProfitShare on its own.
 */
import type { GasContext } from "./types";
import { gasOf } from "./types";
import { CNY, marginFixture, pct, price } from "../../fixtures/margin";
import {
  AgreementBinding__factory,
  AgreementRegistry__factory,
  AgreementSettlement__factory,
} from "../../typechain-types";
import { agreementDomain, agreementMessage, agreementTypedData, buildAgreement } from "../../offchain/settlement/legal";
import { seedTerms } from "../../fixtures/legalSeed";
import { DEFAULT_CLOSE_OUT_PERIOD } from "../../scripts/deploy/agreementSettlement";
import { ROLE } from "../../scripts/deploy/roles";

export async function measure({ hre, emit }: GasContext): Promise<void> {
  const fx = await marginFixture({ feeds: "median" });
  const { engine, clientA, liquidator } = fx;
  const operator = fx.actors.operator;
  const c = fx.record.contracts;
  const binding = AgreementBinding__factory.connect(c.AgreementBinding, operator);
  const registry = AgreementRegistry__factory.connect(c.AgreementRegistry, operator);
  const end = AgreementSettlement__factory.connect(c.AgreementSettlement, operator);
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const doc = buildAgreement(
    seedTerms(clientA.address, operator.address, { effectiveAt: now - 1, expiresAt: now + 90 * 86_400 }),
  );
  const domain = agreementDomain((await hre.ethers.provider.getNetwork()).chainId, c.AgreementRegistry);
  const td = agreementTypedData(domain, agreementMessage(doc));
  const sigs = await Promise.all([clientA, operator].map((s) => s.signTypedData(td.domain, td.types, td.message)));
  await (await registry.anchor(agreementMessage(doc), sigs[0], sigs[1])).wait();
  const id = doc.terms.agreementId;
  await (await binding.propose(id, pct(200), pct(5))).wait();
  await (await binding.connect(clientA).accept(id, pct(200), pct(5))).wait();
  await fx.fundAccount(clientA, fx.cash, 20_000n * CNY);
  await (await engine.connect(clientA).borrow(10_000n * CNY)).wait();
  await fx.buy(clientA, fx.tech, 400n, price(25));
  await fx.buy(clientA, fx.small, 100n, price(50));

  emit({
    contract: "AgreementSettlement",
    method: "chargeFee",
    gas: await gasOf(end.chargeFee(id, 120n * CNY, hre.ethers.id("fee:month 1"))),
    case: "indebted account holding two securities",
  });
  emit({
    contract: "AgreementBinding",
    method: "terminate",
    gas: await gasOf(binding.terminate(clientA.address)),
    case: "by the operator",
  });
  // repay is capped at the debt: an amount above it repays the interest accrued to the block too
  await (await engine.connect(clientA).repay(11_000n * CNY)).wait();
  await (
    await fx.harness.trade(fx.dealer.address, clientA.address, await fx.tech.getAddress(), 400n, 10_000n * CNY)
  ).wait();
  await fx.advance(DEFAULT_CLOSE_OUT_PERIOD);
  await fx.advance(Number((await engine.params()).oracleGrace) + 1);
  emit({
    contract: "AgreementSettlement",
    method: "forceClose",
    gas: await gasOf(end.connect(liquidator).forceClose(id, await fx.small.getAddress(), 100n)),
    case: "the rest of one security, buyer without debt",
  });
  emit({
    contract: "AgreementSettlement",
    method: "settleEnd",
    gas: await gasOf(end.settleEnd(id, 2_000n * CNY, 500n * CNY, hre.ethers.id("final settlement"))),
    case: "bound account, both shares, 3 listed securities checked, registry.close",
  });
  // The pool's entry alone: a bench signer takes the AgreementSettlement's role for the measurement.
  const payer = fx.lp;
  await (await fx.manager.grantRole(ROLE.AGREEMENT_SETTLER, payer.address, 0)).wait();
  await (
    await fx.cash.connect(fx.actors.custodian).mint(payer.address, 1_000n * CNY, hre.ethers.id("gas:profit"))
  ).wait();
  await (await fx.cash.connect(payer).approve(c.CapitalPool, 1_000n * CNY)).wait();
  emit({
    contract: "CapitalPool",
    method: "receiveProfitShare",
    gas: await gasOf(fx.pool.connect(payer).receiveProfitShare(1_000n * CNY)),
  });
}
