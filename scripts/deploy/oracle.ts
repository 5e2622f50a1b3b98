import { ethers } from "ethers";
import { OracleRouter__factory, type ProtocolAccessManager as AccessManager } from "../../typechain-types";
import { ROLE } from "./roles";
import type { DeployOptions, TokenRecord } from "./types";

/** Risk parameters the router applies to every security on the dev chain (see docs/oracle.md). */
export const DEV_ORACLE_PARAMS = {
  /** A price older than an hour during an open session is Stale. */
  maxStaleness: 3600,
  /** Primary vs secondary: 2% (no secondary on the dev chain). */
  maxDeviation: ethers.parseUnits("0.02", 18),
  /** One update may move the price by at most 20% (A-share STAR board daily limit) before the breaker trips. */
  maxMove: ethers.parseUnits("0.2", 18),
  /** RiskMetrics decay. */
  ewmaLambda: ethers.parseUnits("0.94", 18),
} as const;

export interface OracleContracts {
  contracts: Record<string, string>;
}

function selectors(iface: ethers.Interface, names: string[]): string[] {
  return names.map((n) => {
    const fn = iface.getFunction(n);
    if (!fn) throw new Error(`no function ${n} in interface`);
    return fn.selector;
  });
}

/**
 * Deploys the OracleRouter and wires its risk-officer functions. `poke` stays public. Feeds are registered by
 * `configureAsset` (risk officer); on a fresh deployment the deployer holds the risk role for a moment, as in core.
 */
export async function deployOracle(
  opts: DeployOptions,
  manager: AccessManager,
  tokens: TokenRecord[],
): Promise<OracleContracts> {
  const log = opts.log ?? (() => {});
  const managerAddress = await manager.getAddress();
  const router = await new OracleRouter__factory(opts.deployer).deploy(managerAddress);
  await router.waitForDeployment();
  const routerAddress = await router.getAddress();
  log(`OracleRouter ${routerAddress}`);
  await (
    await manager.setTargetFunctionRole(
      routerAddress,
      selectors(OracleRouter__factory.createInterface(), [
        "configureAsset",
        "setSession",
        "setHoliday",
        "resetCircuitBreaker",
      ]),
      ROLE.RISK_OFFICER,
    )
  ).wait();
  void tokens;
  return { contracts: { OracleRouter: routerAddress } };
}
