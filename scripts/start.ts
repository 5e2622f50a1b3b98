/**
 * npm start — the embedded default: a local JSON-RPC chain (hardhat node), the MarginBridge deployment on it,
 * and (as capabilities land) the off-chain service on SQLite. Stops cleanly on Ctrl-C.
 */
import { rmSync } from "node:fs";
import { startLocalChain } from "./lib/localChain";
import { deployAll, devRoleHolders, writeDeployment } from "./deploy/index";
import { startService } from "../offchain/main";
import { DEV_KEYS, configFromEnv, sqlitePath } from "../offchain/shared/config";
import {
  DEMO_ASSETS,
  DEV_REPORTER_INDICES,
  MarketSimulator,
  SimulatedSource,
  hardhatDevWallets,
  reporterFromDeployment,
} from "../offchain/oracle";

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
  const base = configFromEnv(process.env);
  const config = {
    ...base,
    chain: {
      ...base.chain,
      rpcUrl: chain.url,
      network: "localhost",
      confirmations: process.env.MB_CONFIRMATIONS ? base.chain.confirmations : 1,
      kycOfficerKey: base.chain.kycOfficerKey ?? DEV_KEYS.kycOfficerKey,
    },
  };
  if (config.store.engine === "sqlite" && !process.env.MB_SQLITE_PATH) {
    // The embedded chain starts empty on every run, so its service database does too.
    const file = sqlitePath(config);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  }
  const demoClient = await (await chain.provider.getSigner(10)).getAddress();
  const service = await startService(config, { deployment: record, demoKeys: true, demoClientAccount: demoClient });
  console.log(
    `API: ${service.url}  (docs ${service.url}/docs, OpenAPI ${service.url}/openapi.json, metrics ${service.url}/metrics)`,
  );
  console.log("demo API keys (development only; sign requests as described in docs/service.md):");
  for (const [role, key] of Object.entries(service.demoKeys)) {
    console.log(`  ${role.padEnd(16)} key ${key.keyId}  secret ${key.secret}  subject ${key.subject}`);
  }
  // Oracle reporters (hardhat accounts 6–8, account 9 relays) on the seeded market simulator: one step a minute of
  // simulated time per 5 s tick, pushed by heartbeat (10 min) or a 0.5% move.
  const reporter = await reporterFromDeployment({
    record,
    provider: chain.provider,
    reporters: hardhatDevWallets(DEV_REPORTER_INDICES, chain.provider),
    relayer: hardhatDevWallets([9], chain.provider)[0],
    source: new SimulatedSource(new MarketSimulator({ seed: 42, assets: DEMO_ASSETS, stepSeconds: 60 })),
    policy: { heartbeatSeconds: 600, deviationBps: 50 },
    intervalMs: 5_000,
    log: {
      debug: () => {},
      info: (msg, f) => service.log.info(`oracle: ${msg}`, f),
      warn: (msg, f) => service.log.warn(`oracle: ${msg}`, f),
      error: (msg, f) => service.log.error(`oracle: ${msg}`, f),
    },
  });
  reporter.start();
  console.log(
    "oracle reporters: 3 signers on the market simulator (seed 42), relaying to MedianPriceFeed per security",
  );
  console.log("MarginBridge is running. Press Ctrl-C to stop.");
  const shutdown = async (): Promise<void> => {
    await reporter.stop();
    await service.stop();
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
