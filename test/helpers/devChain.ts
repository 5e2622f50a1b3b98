import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JsonRpcSigner } from "ethers";
import { startLocalChain, type LocalChain } from "../../scripts/lib/localChain";
import { deployAll, devRoleHolders, writeDeployment, type DeploymentRecord } from "../../scripts/deploy/index";

/** hardhat node's well-known dev keys (accounts #0..#2): admin, KYC officer, custodian. */
export const DEV_PRIVATE_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
] as const;

export interface DevChain {
  chain: LocalChain;
  record: DeploymentRecord;
  signers: JsonRpcSigner[];
  /** A temporary deployments directory holding <network>.json for the service to read. */
  deploymentsDir: string;
  stop(): Promise<void>;
}

/**
 * A real `hardhat node` JSON-RPC process on `port` with the full MarginBridge deployment (deployAll), its
 * record written to a temporary deployments directory under the network name "localhost".
 */
export async function startDevChain(port: number): Promise<DevChain> {
  const chain = await startLocalChain(port);
  try {
    const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => chain.provider.getSigner(i)));
    const record = await deployAll(
      { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
      "localhost",
    );
    const deploymentsDir = mkdtempSync(path.join(tmpdir(), "mb-deployments-"));
    writeDeployment(record, deploymentsDir);
    return {
      chain,
      record,
      signers,
      deploymentsDir,
      async stop() {
        await chain.stop();
        rmSync(deploymentsDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await chain.stop();
    throw err;
  }
}

/** Mines `n` empty blocks on a hardhat node. */
export async function mine(chain: LocalChain, n = 1): Promise<void> {
  await chain.provider.send("hardhat_mine", ["0x" + n.toString(16)]);
}
