/**
 * npm start — the embedded default: a durable local JSON-RPC chain (hardhat node whose blocks are recorded in the
 * data directory and replayed at the next start), the MarginBridge deployment on it (reused when live), the
 * off-chain service on SQLite in the same data directory, and the oracle reporters on the market simulator.
 * Stopping and starting again loses nothing. If the chain and the data directory disagree, it refuses to start and
 * names the reset command. Stops cleanly on Ctrl-C.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DurableChainError, PortInUseError, startDurableChain, type DurableChain } from "./lib/durableChain";
import { PLATFORM_RISK_LIMITS } from "./lib/riskLimits";
import { deployAll, deploymentIsLive, devRoleHolders, readDeployment, writeDeployment } from "./deploy/index";
import { listDevSeries } from "./lib/devOptions";
import type { DeploymentRecord } from "./deploy/types";
import {
  CollateralToken__factory,
  KycRegistry__factory,
  MarginEngine__factory,
  MedianPriceFeed__factory,
} from "../typechain-types";
import { feedKey } from "./deploy/oracle";
import { id } from "ethers";
import { startService, type Service } from "../offchain/main";
import { ProductionStartRefused, isProductionProfile, runProduction } from "./lib/startProduction";
import { startPractice, type RunningPractice } from "./lib/startPractice";
import { practiceEnabled } from "../offchain/practice";
import { DEV_KEYS, DEV_OPERATOR_KEY, configFromEnv, sqlitePath, type Config } from "../offchain/shared/config";
import {
  DEMO_ASSETS,
  DEV_REPORTER_INDICES,
  MarketSimulator,
  SimulatedSource,
  FEED_DECIMALS,
  hardhatDevWallets,
  marketSimulatorRoutes,
  reporterFromDeployment,
  type PriceReporterService,
} from "../offchain/oracle";

const RESET = "npm run reset";
/** This start's demo API keys, in the data directory (read by `npm run demo`). */
export const DEMO_KEYS_FILE = "demo-keys.json";

/** What ties a data directory's service state to one chain: refused when a restart finds another chain. */
interface ChainBinding {
  chainId: number;
  genesisHash: string;
  /** Absent until the first deployment on the chain is known. */
  contracts?: Record<string, string>;
}

class StartRefused extends Error {}

async function main(): Promise<void> {
  // MB_PROFILE=production: a configured network and PostgreSQL, no local chain (scripts/lib/startProduction.ts).
  if (isProductionProfile()) return runProduction();
  const base = configFromEnv(process.env);
  const dataDir = path.resolve(base.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const port = Number(process.env.MB_CHAIN_PORT ?? "8545");

  // What is running, for the shutdown handler (filled in as each part starts).
  const running: {
    service?: Service;
    reporter?: PriceReporterService;
    chain?: DurableChain;
    practice?: RunningPractice;
  } = {};
  let stopping = false;
  const shutdown = async (code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await running.reporter?.stop();
    await running.practice?.reporter.stop();
    await running.practice?.service.stop();
    await running.service?.stop();
    await running.chain?.stop();
    process.exit(code);
  };

  const chain = await startDurableChain({
    dataDir,
    port,
    resetCommand: RESET,
    log: (l) => console.log(`chain: ${l}`),
    onFailure: (err) => {
      console.error(`chain recording stopped (${err.message}); stopping so that nothing unrecorded is served`);
      void shutdown(1);
    },
  });
  running.chain = chain;
  const replayed = chain.replayed;
  console.log(`local chain: ${chain.url} (chain id ${chain.manifest.params.chainId}; data ${chain.chainDir})`);
  console.log(`  replayed ${JSON.stringify(replayed)}`);

  const genesis = await chain.provider.getBlock(0);
  const chainId = Number((await chain.provider.getNetwork()).chainId);
  checkBinding(dataDir, { chainId, genesisHash: genesis!.hash! }, base);
  const deploymentsDir = base.chain.deploymentsDir ? path.resolve(base.chain.deploymentsDir) : undefined;
  const record = await deployOrReuse(chain, deploymentsDir);
  checkBinding(dataDir, { chainId, genesisHash: genesis!.hash!, contracts: record.contracts }, base);
  if (process.env.MB_EXIT_AFTER_DEPLOY === "1") return shutdown(0);

  const keeperWallet = hardhatDevWallets([12], chain.provider)[0];
  await prepareKeeper(chain, record, keeperWallet.address);
  const config: Config = {
    ...base,
    chain: {
      ...base.chain,
      rpcUrl: chain.url,
      network: "localhost",
      confirmations: process.env.MB_CONFIRMATIONS ? base.chain.confirmations : 1,
      kycOfficerKey: base.chain.kycOfficerKey ?? DEV_KEYS.kycOfficerKey,
      reservePublisherKey: base.chain.reservePublisherKey ?? DEV_KEYS.reservePublisherKey,
    },
    // The liquidation keeper signs with hardhat account #12 (KYC-verified, with cash in its margin account).
    keeper: { ...base.keeper, signerKey: keeperWallet.privateKey },
    // The settlement batcher and agreement anchoring send as the operator (hardhat account #4 on the dev chain).
    settlement: { ...base.settlement, operatorKey: base.settlement.operatorKey ?? DEV_OPERATOR_KEY },
  };
  const demoClient = await (await chain.provider.getSigner(10)).getAddress();
  const durable = chain;
  // The development market: seeded, continuing from the prices on the chain (a restart does not jump back to the
  // model's opening prices), with the risk officer's controls at /v1/dev/market (how `npm run demo` moves prices).
  const simulator = new MarketSimulator({
    seed: 42,
    assets: await assetsFromChain(chain, record),
    stepSeconds: 60,
  });
  const service = await startService(config, {
    deployment: record,
    demoKeys: true,
    demoClientAccount: demoClient,
    durableHead: () => durable.durableBlockNumber(),
    // The order book with pre-trade risk over the chain; its trades go to the settlement batcher's queue.
    // ATR stops over 10-second bars, 3 of them: the demo's stop at entry has its bars within a minute (production keeps
    // the default, 14 one-day bars)
    orderbook: { limits: PLATFORM_RISK_LIMITS, atr: { period: 3, barMs: 10_000 } },
    extraRoutes: [
      marketSimulatorRoutes(
        simulator,
        DEMO_ASSETS.map((a) => a.symbol),
      ),
    ],
  });
  console.log(`API: ${service.url}  (docs ${service.url}/docs, OpenAPI ${service.url}/openapi.json)`);
  console.log(
    service.metricsUrl
      ? `metrics: ${service.metricsUrl}`
      : "metrics: GET /v1/metrics with the operator key (or set MB_METRICS_PORT for a separate listener)",
  );
  console.log(`web console: ${service.url}/console/  (client, capital provider, auditor pages)`);
  const oracleIntervalMs = Number(process.env.MB_ORACLE_INTERVAL_MS ?? "5000");
  // Oracle reporters (hardhat accounts 6–8, account 9 relays) on the seeded market simulator: one minute of
  // simulated time per 5 s tick, pushed by heartbeat (10 min) or a 0.5% move.
  const log = service.log;
  const reporter = await reporterFromDeployment({
    record,
    provider: chain.provider,
    reporters: hardhatDevWallets(DEV_REPORTER_INDICES, chain.provider),
    relayer: hardhatDevWallets([9], chain.provider)[0],
    source: new SimulatedSource(simulator),
    policy: { heartbeatSeconds: 600, deviationBps: 50 },
    intervalMs: oracleIntervalMs,
    // observations carry the chain's time: the dev chain may be moved forward (evm_increaseTime) and stays priced
    clock: "chain",
    log: {
      debug: () => {},
      info: (msg, f) => log.info(`oracle: ${msg}`, f),
      warn: (msg, f) => log.warn(`oracle: ${msg}`, f),
      error: (msg, f) => log.error(`oracle: ${msg}`, f),
    },
  });
  running.service = service;
  running.reporter = reporter;
  reporter.start();
  console.log(
    "oracle reporters: 3 signers on the market simulator (seed 42), relaying to MedianPriceFeed per security",
  );
  // Paper trading (MB_PRACTICE, on in development): a second deployment on this chain, its own service and store.
  if (practiceEnabled(config)) {
    running.practice = await startPractice({
      chain,
      config,
      deploymentsDir,
      simulator,
      demoClient,
      realRecord: record,
      durableHead: () => durable.durableBlockNumber(),
      intervalMs: oracleIntervalMs,
    });
    console.log(
      `paper trading: ${running.practice.service.url}/console/  (practice API and console; its own deployment ` +
        `and store; the demo client's practice account ${running.practice.demoAccount})`,
    );
  }
  // For `npm run demo` (and the console): the development keys, the same across restarts, readable by this user
  // only. Their secrets are written there and nowhere else (never to the output).
  const keysFile = path.join(dataDir, DEMO_KEYS_FILE);
  const practiceKeys = running.practice && {
    url: running.practice.service.url,
    keys: running.practice.service.demoKeys,
  };
  writeFileSync(
    keysFile,
    JSON.stringify({ url: service.url, rpcUrl: chain.url, keys: service.demoKeys, practice: practiceKeys }, null, 2),
    { mode: 0o600 },
  );
  chmodSync(keysFile, 0o600);
  console.log(`demo API keys (development only; secrets in ${keysFile}, mode 0600):`);
  for (const [role, key] of Object.entries(service.demoKeys)) {
    console.log(`  ${role.padEnd(16)} key ${key.keyId}  subject ${key.subject}`);
  }

  console.log(`MarginBridge is running (data in ${dataDir}). Press Ctrl-C to stop; \`${RESET}\` starts afresh.`);
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
}

/**
 * The dev keeper liquidates from its own margin account: it needs a verified identity and cash in the engine.
 * Done once per chain (the deposit is the marker), through the same role holders as any client onboarding.
 */
async function prepareKeeper(chain: DurableChain, record: DeploymentRecord, keeper: string): Promise<void> {
  const cash = record.tokens.find((t) => t.kind === "cash")!;
  const engine = MarginEngine__factory.connect(record.contracts.MarginEngine, chain.provider);
  if ((await engine.balanceOf(keeper, cash.address)) > 0n) return;
  const [kycOfficer, custodian, keeperSigner] = await Promise.all([
    chain.provider.getSigner(1),
    chain.provider.getSigner(2),
    chain.provider.getSigner(keeper),
  ]);
  const block = await chain.provider.getBlock("latest");
  const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, kycOfficer);
  await (await kyc.setIdentity(keeper, 1, 156, block!.timestamp + 10 * 365 * 86_400, id(`keeper:${keeper}`))).wait();
  const amount = 1_000_000n * 10n ** BigInt(cash.decimals);
  const token = CollateralToken__factory.connect(cash.address, custodian);
  await (await token.mint(keeper, amount, id(`keeper-float:${keeper}`))).wait();
  await (await token.connect(keeperSigner).approve(record.contracts.MarginEngine, amount)).wait();
  await (await engine.connect(keeperSigner).deposit(cash.address, amount)).wait();
  console.log(`keeper ${keeper}: verified, 1,000,000 mbCNY in its margin account`);
}

/**
 * The simulated securities, each starting from its feed's latest answer on the chain when there is one: the
 * market continues where the chain left it instead of jumping back (which the router's breaker would refuse).
 */
async function assetsFromChain(chain: DurableChain, record: DeploymentRecord): Promise<typeof DEMO_ASSETS> {
  return Promise.all(
    DEMO_ASSETS.map(async (asset) => {
      const feed = record.contracts[feedKey(asset.symbol)];
      if (!feed) return asset;
      const contract = MedianPriceFeed__factory.connect(feed, chain.provider);
      if ((await contract.latestRound()) === 0n) return asset; // no report yet: the model's opening price
      const round = await contract.latestRoundData();
      if (round.answer <= 0n) return asset;
      // The model works in floating point; prices leave it as integers again (MarketSimulator.feedPrice).
      return { ...asset, initialPrice: Number(round.answer) / 10 ** FEED_DECIMALS };
    }),
  );
}

/** Reuses deployments/localhost.json when its contracts are live on this chain; deploys otherwise. */
async function deployOrReuse(chain: DurableChain, dir?: string): Promise<DeploymentRecord> {
  const existing = readDeployment("localhost", dir);
  if (existing && (await deploymentIsLive(existing, chain.provider))) {
    console.log(
      `deployment reused: ${path.join(dir ?? "deployments", "localhost.json")} (block ${existing.deployBlock})`,
    );
    return existing;
  }
  const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => chain.provider.getSigner(i)));
  const deployed = await deployAll(
    {
      deployer: signers[0],
      roles: await devRoleHolders(signers),
      riskDelaySeconds: 0,
      log: (l) => console.log(`  deployed ${l}`),
    },
    "localhost",
  );
  // the development option series (a put and a call on mbBANK), listed by the risk officer (#3) and the operator (#4)
  const record = await listDevSeries(deployed, signers[3], signers[4], (l) => console.log(`  listed ${l}`));
  await chain.waitDurable();
  console.log(`deployment written to ${writeDeployment(record, dir)}`);
  return record;
}

/**
 * The service's database belongs to one chain. A first start records which; a later start on another chain (the
 * chain folder was reset, or another deployment) is refused rather than mixing the two.
 */
function checkBinding(dataDir: string, now: ChainBinding, config: Config): void {
  const file = path.join(dataDir, "chain-binding.json");
  const dbFile = config.store.engine === "sqlite" ? sqlitePath(config) : "";
  if (!existsSync(file)) {
    if (dbFile && existsSync(dbFile)) {
      throw new StartRefused(
        `the data directory ${dataDir} holds a service database (${dbFile}) but no record of the chain it belongs to; ` +
          `it cannot be matched with this chain. Run \`${RESET}\` to start afresh.`,
      );
    }
    writeFileSync(file, JSON.stringify(now, null, 2) + "\n");
    return;
  }
  const was = JSON.parse(readFileSync(file, "utf8")) as ChainBinding;
  const sameChain = was.chainId === now.chainId && was.genesisHash === now.genesisHash;
  const sameContracts =
    !was.contracts || !now.contracts || JSON.stringify(was.contracts) === JSON.stringify(now.contracts);
  if (!sameChain || !sameContracts) {
    throw new StartRefused(
      `the data directory ${dataDir} belongs to another chain or deployment (chain ${was.chainId}, genesis ` +
        `${was.genesisHash}) than the one running now (chain ${now.chainId}, genesis ${now.genesisHash}` +
        `${sameContracts ? "" : ", different contract addresses"}). Refusing to mix them. Run \`${RESET}\` to start afresh.`,
    );
  }
  if (!was.contracts && now.contracts) writeFileSync(file, JSON.stringify(now, null, 2) + "\n");
}

main().catch((err) => {
  if (
    err instanceof DurableChainError ||
    err instanceof PortInUseError ||
    err instanceof StartRefused ||
    err instanceof ProductionStartRefused
  ) {
    console.error(`npm start refused: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
