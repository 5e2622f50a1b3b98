/**
 * Deploys MarginBridge and writes deployments/<network>.json (in MB_DEPLOYMENTS_DIR when set).
 *   npm run deploy                                   # localhost (a dev node on 8545)
 *   MB_NETWORK=permissioned MB_RPC_URL=… MB_CHAIN_ID=… MB_DEPLOYER_KEY=… npm run deploy
 *   npx hardhat run scripts/deploy.ts --network permissioned
 * MB_NETWORK names the network of hardhat.config.ts when it differs from the one hardhat was started with (npm
 * run deploy starts it with localhost): the script runs itself again under that network, so every setting of
 * the network entry (URL, chain id, key, gas price) applies.
 * Re-running reuses a live deployment with the same chain id unless MB_FRESH_DEPLOY=1.
 * On the `permissioned` network the role holders come from MB_ROLE_* variables (default: the deployer) and the
 * risk officer's execution delay from MB_RISK_DELAY_SECONDS (default 86400).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
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
  const wanted = process.env.MB_NETWORK;
  if (wanted && wanted !== network) {
    if (!hre.config.networks[wanted]) throw new Error(`MB_NETWORK=${wanted} is not a network of hardhat.config.ts`);
    const r = spawnSync(
      process.execPath,
      [require.resolve("hardhat/internal/cli/cli"), "run", __filename, "--network", wanted],
      { stdio: "inherit", env: process.env },
    );
    process.exitCode = r.status ?? 1;
    return;
  }
  const dir = process.env.MB_DEPLOYMENTS_DIR ? path.resolve(process.env.MB_DEPLOYMENTS_DIR) : undefined;
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0) throw new Error(`no deployer key for network ${network} (set MB_DEPLOYER_KEY)`);
  const deployer = signers[0];
  const existing = readDeployment(network, dir);
  if (existing && process.env.MB_FRESH_DEPLOY !== "1" && (await deploymentIsLive(existing, hre.ethers.provider))) {
    console.log(JSON.stringify({ reused: true, ...existing }, null, 2));
    return;
  }
  const isDev = network === "hardhat" || network === "localhost";
  const roles: RoleHolders = isDev ? await devRoleHolders(signers) : envRoleHolders(await deployer.getAddress());
  const riskDelaySeconds = Number(process.env.MB_RISK_DELAY_SECONDS ?? (isDev ? "0" : "86400"));
  const record = await deployAll({ deployer, roles, riskDelaySeconds, log: (l) => console.error(l) }, network);
  const file = writeDeployment(record, dir);
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
