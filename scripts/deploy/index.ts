import { execSync } from "node:child_process";
import type { Provider, Signer } from "ethers";
import { DEFAULT_DEPLOYMENTS_DIR } from "../../offchain/chain/deployment";
import { deployCore } from "./core";
import { deployAgreements } from "./agreements";
import { deployAgreementSettlement } from "./agreementSettlement";
import { deployGovernance } from "./governance";
import { deployMargin } from "./margin";
import { deployOracle } from "./oracle";
import { deployOptions } from "./options";
import { deployReserves } from "./reserves";
import { deploySettlement } from "./settlement";
import { ReserveLedger__factory } from "../../typechain-types";
import type { DeploymentRecord, DeployOptions, RoleHolders } from "./types";

export type { DeploymentRecord, DeployOptions, ProviderTermsRecord, RoleHolders, TokenRecord } from "./types";
export { ROLE, ROLE_LABELS } from "./roles";
export { DEFAULT_TOKENS } from "./core";
export { DEFAULT_CLOSE_OUT_PERIOD } from "./agreementSettlement";
export { DEV_FEED_PARAMS, DEV_ORACLE_PARAMS, feedKey } from "./oracle";
export { deploymentIsLive, deploymentPath, readDeployment, writeDeployment } from "../../offchain/chain/deployment";
export { deployReserves, reserveFeedName, type ReservesSettings } from "./reserves";
export { listOptionSeries, OPTION_SERIES_MARGIN, VOLATILITY_FEED_DECIMALS } from "./options";

export const DEPLOYMENTS_DIR = DEFAULT_DEPLOYMENTS_DIR;

/** Deploys every MarginBridge contract in dependency order and returns the record (not yet written). */
export async function deployAll(opts: DeployOptions, network: string): Promise<DeploymentRecord> {
  const provider = opts.deployer.provider as Provider;
  const startBlock = await provider.getBlockNumber();
  const core = await deployCore(opts);
  const oracle = await deployOracle(opts, core.manager, core.tokens);
  const contracts: Record<string, string> = { ...core.contracts, ...oracle.contracts };
  const margin = await deployMargin(opts, core.manager, contracts, core.tokens, contracts.OracleRouter);
  Object.assign(contracts, margin.contracts);
  Object.assign(contracts, await deployGovernance(opts, core.manager, contracts));
  const securities = core.tokens.filter((t) => t.kind === "security").map((t) => t.address);
  Object.assign(
    contracts,
    await deploySettlement(opts.deployer, core.manager, contracts.MarginEngine, securities, opts.log),
  );
  Object.assign(contracts, await deployAgreements(opts, core.manager, contracts.AgreementBinding));
  const agreementEnd = await deployAgreementSettlement(opts, core.manager, contracts);
  Object.assign(contracts, agreementEnd.contracts);
  Object.assign(contracts, await deployOptions(opts, core.manager, contracts, core.tokens));
  Object.assign(contracts, await deployReserves(opts, core.manager, core.tokens));
  // Reserves are what the system contracts hold: client collateral and cash in the engine, the pool's cash, the
  // insurance fund. The deployer is admin, the role setReserveHolders keeps.
  const ledger = ReserveLedger__factory.connect(contracts.ReserveLedger, opts.deployer);
  await (
    await ledger.setReserveHolders([contracts.MarginEngine, contracts.CapitalPool, contracts.InsuranceFund])
  ).wait();
  const chainId = Number((await provider.getNetwork()).chainId);
  return {
    network,
    chainId,
    deployBlock: startBlock + 1,
    deployedAt: new Date().toISOString(),
    commit: gitCommit(),
    riskDelaySeconds: opts.riskDelaySeconds,
    roles: opts.roles,
    contracts,
    tokens: core.tokens,
    providerTerms: margin.providerTerms,
    platformAccount: agreementEnd.platformAccount,
  };
}

/** Role holders for a dev chain: the node's well-known unlocked accounts, one per role. */
export async function devRoleHolders(signers: Signer[]): Promise<RoleHolders> {
  const a = await Promise.all(signers.slice(0, 10).map((s) => s.getAddress()));
  return {
    admin: a[0],
    kycOfficer: a[1],
    custodian: a[2],
    riskOfficer: a[3],
    operator: a[4],
    reservePublisher: a[5],
    reporters: [a[6], a[7], a[8]],
  };
}

export function gitCommit(): string {
  try {
    return execSync("git rev-parse HEAD", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}
