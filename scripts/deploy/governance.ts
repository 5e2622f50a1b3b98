import type { ethers } from "ethers";
import {
  MarginEngine__factory,
  OracleRouter__factory,
  RiskGuardian__factory,
  type ProtocolAccessManager as AccessManager,
} from "../../typechain-types";
import { ROLE } from "./roles";
import type { DeployOptions } from "./types";

function selectors(iface: ethers.Interface, names: string[]): string[] {
  return names.map((n) => {
    const fn = iface.getFunction(n);
    if (!fn) throw new Error(`no function ${n} in interface`);
    return fn.selector;
  });
}

/** Every function of the RiskGuardian: the guardian's immediate, one-way tightenings. */
export const GUARDIAN_FUNCTIONS = [
  "tightenTierRisk",
  "tightenHaircut",
  "tightenParams",
  "pauseBorrowing",
  "tightenLeverage",
  "tightenOracleGuards",
  "rearmBreaker",
];

/**
 * Governance that tightens fast and loosens slowly: the RiskGuardian is callable by GUARDIAN without delay and holds
 * RISK_OFFICER without delay itself (the only immediate path of that role, one-way by its checks); the human risk
 * officer keeps RISK_OFFICER with the configured delay. The engine's per-asset pause and the router's guards are
 * RISK_OFFICER functions, so resuming and loosening wait the delay.
 */
export async function deployGovernance(
  opts: DeployOptions,
  manager: AccessManager,
  contracts: Record<string, string>,
): Promise<{ RiskGuardian: string }> {
  const log = opts.log ?? (() => {});
  const wait = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await tx).wait();
  };
  const guardian = await new RiskGuardian__factory(opts.deployer).deploy(
    await manager.getAddress(),
    contracts.MarginEngine,
    contracts.OracleRouter,
    contracts.KycRegistry,
  );
  await guardian.waitForDeployment();
  const address = await guardian.getAddress();
  log(`RiskGuardian ${address}`);
  await wait(
    manager.setTargetFunctionRole(
      address,
      selectors(RiskGuardian__factory.createInterface(), GUARDIAN_FUNCTIONS),
      ROLE.GUARDIAN,
    ),
  );
  await wait(
    manager.setTargetFunctionRole(
      contracts.MarginEngine,
      selectors(MarginEngine__factory.createInterface(), ["setBorrowingPaused"]),
      ROLE.RISK_OFFICER,
    ),
  );
  await wait(
    manager.setTargetFunctionRole(
      contracts.OracleRouter,
      selectors(OracleRouter__factory.createInterface(), ["setGuards"]),
      ROLE.RISK_OFFICER,
    ),
  );
  await wait(manager.grantRole(ROLE.RISK_OFFICER, address, 0));
  await wait(manager.grantRole(ROLE.GUARDIAN, opts.roles.guardian ?? opts.roles.riskOfficer, 0));
  return { RiskGuardian: address };
}
