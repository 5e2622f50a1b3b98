import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture } from "../../helpers/fixtures";
import { ROLE } from "../../../scripts/deploy/roles";

describe("Deployment (scripts/deploy)", () => {
  it("records the chain, deploy block, commit and every contract address with code", async () => {
    const fx = await loadFixture(deployCoreFixture);
    expect(fx.record.chainId).to.equal(31337);
    expect(fx.record.deployBlock).to.be.greaterThan(0);
    expect(fx.record.commit).to.match(/^([0-9a-f]{40}|unknown)$/);
    for (const [name, address] of Object.entries(fx.record.contracts)) {
      expect(await fx.cash.runner!.provider!.getCode(address), name).to.not.equal("0x");
    }
  });

  it("deploys one cash token and at least two security tokens with distinct liquidity tiers", async () => {
    const fx = await loadFixture(deployCoreFixture);
    const cash = fx.record.tokens.filter((t) => t.kind === "cash");
    const securities = fx.record.tokens.filter((t) => t.kind === "security");
    expect(cash).to.have.length(1);
    expect(securities.length).to.be.greaterThanOrEqual(2);
    expect(new Set(securities.map((t) => t.liquidityTier)).size).to.equal(securities.length);
  });

  it("grants each role to its holder and no other, with the risk officer's configured delay", async () => {
    const fx = await loadFixture(deployCoreFixture);
    const a = fx.actors;
    const expected: [bigint, string][] = [
      [ROLE.ADMIN, a.admin.address],
      [ROLE.KYC_OFFICER, a.kycOfficer.address],
      [ROLE.CUSTODIAN, a.custodian.address],
      [ROLE.RISK_OFFICER, a.riskOfficer.address],
      [ROLE.OPERATOR, a.operator.address],
      [ROLE.RESERVE_PUBLISHER, a.reservePublisher.address],
      ...a.reporters.map((r) => [ROLE.ORACLE_REPORTER, r.address] as [bigint, string]),
    ];
    for (const [role, holder] of expected) {
      const [isMember, delay] = await fx.manager.hasRole(role, holder);
      expect(isMember, `role ${role}`).to.equal(true);
      expect(delay).to.equal(0);
    }
    // The deployer took the risk role only to write the initial tier table, and gave it up.
    expect((await fx.manager.hasRole(ROLE.RISK_OFFICER, a.admin.address))[0]).to.equal(false);
    expect((await fx.manager.hasRole(ROLE.KYC_OFFICER, a.users[0].address))[0]).to.equal(false);
  });

  it("writes the initial tier table: tier n may take n-fold leverage", async () => {
    const fx = await loadFixture(deployCoreFixture);
    for (let tier = 1; tier <= 5; tier++) expect(await fx.kyc.tierLeverage(tier)).to.equal(BigInt(tier) * 10n ** 18n);
  });

  it("maps every restricted function of the tokens and the registry to its role", async () => {
    const fx = await loadFixture(deployCoreFixture);
    const kyc = await fx.kyc.getAddress();
    const role = (target: string, fn: string, iface: typeof fx.kyc.interface | typeof fx.cash.interface) =>
      fx.manager.getTargetFunctionRole(target, iface.getFunction(fn as never)!.selector);
    expect(await role(kyc, "setIdentity", fx.kyc.interface)).to.equal(ROLE.KYC_OFFICER);
    expect(await role(kyc, "revoke", fx.kyc.interface)).to.equal(ROLE.KYC_OFFICER);
    expect(await role(kyc, "setTierLeverage", fx.kyc.interface)).to.equal(ROLE.RISK_OFFICER);
    const cash = await fx.cash.getAddress();
    expect(await role(cash, "mint", fx.cash.interface)).to.equal(ROLE.CUSTODIAN);
    expect(await role(cash, "pause", fx.cash.interface)).to.equal(ROLE.OPERATOR);
    expect(await role(cash, "setFrozen", fx.cash.interface)).to.equal(ROLE.OPERATOR);
    expect(await role(cash, "forcedTransfer", fx.cash.interface)).to.equal(ROLE.LIQUIDATOR);
    expect(await role(cash, "setSystemAccount", fx.cash.interface)).to.equal(ROLE.ADMIN);
  });
});
