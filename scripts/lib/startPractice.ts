import path from "node:path";
import { practiceAccountOf } from "../../offchain/chain/practiceChain";
import { startPracticeService, type Service } from "../../offchain/main";
import {
  DEV_REPORTER_INDICES,
  hardhatDevWallets,
  reporterFromDeployment,
  type MarketSimulator,
  type PriceReporterService,
  type PriceSource,
} from "../../offchain/oracle";
import { practiceNetwork } from "../../offchain/practice";
import type { Config } from "../../offchain/shared/config";
import { deploymentIsLive, readDeployment, writeDeployment } from "../deploy/index";
import { deployPractice, practiceDevWallets } from "../deploy/practice";
import type { DeploymentRecord } from "../deploy/types";
import type { DurableChain } from "./durableChain";
import { PLATFORM_RISK_LIMITS } from "./riskLimits";

export interface RunningPractice {
  service: Service;
  reporter: PriceReporterService;
  /** The development client's practice account (the subject of the practice demo client key). */
  demoAccount: string;
}

/**
 * `npm start`'s paper trading: the practice deployment on the same chain (reused when live), its price feeds fed by
 * the same reporters from the same market, and the practice service on its own port and store, with the
 * development client's practice account open. Stopped by the caller (reporter, then service).
 */
export async function startPractice(o: {
  chain: DurableChain;
  config: Config;
  deploymentsDir?: string;
  /** The development market the real reporters move; the practice feeds read its prices without moving it. */
  simulator: MarketSimulator;
  demoClient: string;
  realRecord: DeploymentRecord;
  durableHead: () => number;
  intervalMs: number;
}): Promise<RunningPractice> {
  const record = await deployOrReusePractice(o.chain, o.config, o.realRecord, o.deploymentsDir);
  const demoAccount = practiceAccountOf(o.config.practice.accountSeed, o.demoClient);
  const service = await startPracticeService(o.config, {
    deployment: record,
    demoKeys: true,
    demoClientAccount: demoAccount,
    durableHead: o.durableHead,
    orderbook: { limits: PLATFORM_RISK_LIMITS },
  });
  const reporter = await reporterFromDeployment({
    record,
    provider: o.chain.provider,
    reporters: hardhatDevWallets(DEV_REPORTER_INDICES, o.chain.provider),
    relayer: practiceDevWallets(o.chain.provider).relayer,
    source: mirrorOf(o.simulator),
    policy: { heartbeatSeconds: 600, deviationBps: 50 },
    intervalMs: o.intervalMs,
    clock: "chain",
  });
  // The practice feeds need a price before the practice account can be valued (and borrow).
  await reporter.tick();
  reporter.start();
  await service.practice!.open(o.demoClient, 2);
  return { service, reporter, demoAccount };
}

async function deployOrReusePractice(
  chain: DurableChain,
  config: Config,
  real: DeploymentRecord,
  dir?: string,
): Promise<DeploymentRecord> {
  const network = practiceNetwork(config);
  const existing = readDeployment(network, dir);
  if (existing && (await deploymentIsLive(existing, chain.provider))) {
    console.log(`practice deployment reused: ${path.join(dir ?? "deployments", `${network}.json`)}`);
    return existing;
  }
  const record = await deployPractice({
    provider: chain.provider,
    funder: await chain.provider.getSigner(0),
    reporters: real.roles.reporters,
    network,
  });
  await chain.waitDurable();
  console.log(`practice deployment written to ${writeDeployment(record, dir)}`);
  return record;
}

/**
 * The market's current prices, read without stepping it: the real reporters' source steps the simulator at each
 * read, and a second stepping reader would make the real market move twice as fast.
 */
function mirrorOf(simulator: MarketSimulator): PriceSource {
  return {
    name: "simulator (read only)",
    read: async (symbols, now) =>
      symbols.flatMap((symbol) => {
        const price = simulator.feedPrice(symbol);
        return price !== undefined && price > 0n ? [{ symbol, price, observedAt: now }] : [];
      }),
  };
}
