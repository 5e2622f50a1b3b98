/**
 * npm start — the embedded default: a local JSON-RPC chain (hardhat node), the MarginBridge deployment on it,
 * and (as capabilities land) the off-chain service on SQLite. Stops cleanly on Ctrl-C.
 */
import { startLocalChain } from "./lib/localChain";
import { deployAll, devRoleHolders, writeDeployment } from "./deploy/index";

async function main(): Promise<void> {
  const port = Number(process.env.MB_CHAIN_PORT ?? "8545");
  const chain = await startLocalChain(port);
  console.log(`local chain: ${chain.url} (hardhat node, chain id 31337)`);
  const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => chain.provider.getSigner(i)));
  const record = await deployAll(
    {
      deployer: signers[0],
      roles: await devRoleHolders(signers),
      riskDelaySeconds: 0,
      log: (l) => console.log(`  deployed ${l}`),
    },
    "localhost",
  );
  const file = writeDeployment(record);
  console.log(`deployment written to ${file}`);
  console.log(
    JSON.stringify({ chainId: record.chainId, deployBlock: record.deployBlock, contracts: record.contracts }, null, 2),
  );
  if (process.env.MB_EXIT_AFTER_DEPLOY === "1") {
    await chain.stop();
    return;
  }
  console.log("MarginBridge is running. Press Ctrl-C to stop.");
  const shutdown = async (): Promise<void> => {
    await chain.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
