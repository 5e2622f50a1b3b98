/**
 * Deploys MarginBridge and writes deployments/<network>.json.
 *   npx hardhat run scripts/deploy.ts --network localhost
 * Re-running reuses a live deployment with the same chain id unless MB_FRESH_DEPLOY=1.
 * On the `permissioned` network the role holders come from MB_ROLE_* variables (default: the deployer) and the
 * risk officer's execution delay from MB_RISK_DELAY_SECONDS (default 86400).
 */
import hre from "hardhat";
import {
  deployAll,
  deploymentIsLive,
  devRoleHolders,
  readDeployment,
  writeDeployment,
  type RoleHolders,
} from "./deploy/index";

async function main(): Promise<void> {
  const network = hre.network.name;
  const signers = await hre.ethers.getSigners();
  const deployer = signers[0];
  const existing = readDeployment(network);
  if (existing && process.env.MB_FRESH_DEPLOY !== "1" && (await deploymentIsLive(existing, hre.ethers.provider))) {
    console.log(JSON.stringify({ reused: true, ...existing }, null, 2));
    return;
  }
  const isDev = network === "hardhat" || network === "localhost";
  const roles: RoleHolders = isDev ? await devRoleHolders(signers) : envRoleHolders(await deployer.getAddress());
  const riskDelaySeconds = Number(process.env.MB_RISK_DELAY_SECONDS ?? (isDev ? "0" : "86400"));
  const record = await deployAll({ deployer, roles, riskDelaySeconds, log: (l) => console.error(l) }, network);
  const file = writeDeployment(record);
  console.error(`wrote ${file}`);
  console.log(JSON.stringify(record, null, 2));
}

function envRoleHolders(deployer: string): RoleHolders {
  const pick = (name: string): string => process.env[name] ?? deployer;
  return {
    admin: deployer,
    kycOfficer: pick("MB_ROLE_KYC_OFFICER"),
    custodian: pick("MB_ROLE_CUSTODIAN"),
    riskOfficer: pick("MB_ROLE_RISK_OFFICER"),
    operator: pick("MB_ROLE_OPERATOR"),
    reservePublisher: pick("MB_ROLE_RESERVE_PUBLISHER"),
    reporters: (process.env.MB_ROLE_REPORTERS ?? deployer).split(",").map((s) => s.trim()),
  };
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
