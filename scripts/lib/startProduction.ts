/**
 * `npm start` with MB_PROFILE=production: the service against a network given by configuration (a permissioned
 * EVM chain such as Besu QBFT) and PostgreSQL. No local chain, no development keys, no market simulator. Several
 * instances may run on one database (docs/production.md, "Several instances on one PostgreSQL").
 *
 * It refuses to start, naming what to do, when: the store is not PostgreSQL; MB_RPC_URL is not set or the node
 * does not answer; the node's chain id differs from MB_CHAIN_ID; the deployment record is missing or not live on
 * that chain (`MB_NETWORK=<network> npm run deploy` first). Signer keys come from the environment; a role whose key
 * is absent is disabled with a logged notice.
 */
import path from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { deploymentIsLive, deploymentPath, readDeployment, type DeploymentRecord } from "../deploy/index";
import { AgreementBinding__factory } from "../../typechain-types";
import { startService, type Service } from "../../offchain/main";
import { configFromEnv, type Config } from "../../offchain/shared/config";
import { Lease } from "../../offchain/shared/lease";
import { JsonPriceSource, reporterFromDeployment, type PriceReporterService } from "../../offchain/oracle";
import { PLATFORM_RISK_LIMITS } from "./riskLimits";

type Env = Record<string, string | undefined>;

/** Default lease time-to-live: a standby takes a dead holder's roles within this (plus one renew period). */
export const DEFAULT_LEASE_TTL_MS = 10_000;

export class ProductionStartRefused extends Error {}

export interface ProductionRun {
  service: Service;
  stop(): Promise<void>;
}

/** Whether this environment selects the production profile. */
export function isProductionProfile(env: Env = process.env): boolean {
  return env.MB_PROFILE === "production";
}

export async function startProduction(env: Env = process.env, say: (l: string) => void = console.log) {
  if (!env.MB_RPC_URL)
    throw new ProductionStartRefused("MB_PROFILE=production needs MB_RPC_URL (the chain's JSON-RPC)");
  if (env.MB_STORE !== "postgres" || !env.MB_DATABASE_URL)
    throw new ProductionStartRefused(
      "MB_PROFILE=production runs on PostgreSQL: set MB_STORE=postgres and MB_DATABASE_URL",
    );
  const config: Config = configFromEnv({
    ...env,
    MB_ENV: env.MB_ENV ?? "production",
    MB_NETWORK: env.MB_NETWORK ?? "permissioned",
  });
  const network = config.chain.network;
  const deploymentsDir = config.chain.deploymentsDir ? path.resolve(config.chain.deploymentsDir) : undefined;
  const deployCommand = `MB_NETWORK=${network} MB_RPC_URL=${config.chain.rpcUrl} MB_CHAIN_ID=… MB_DEPLOYER_KEY=… npm run deploy`;

  const provider = new JsonRpcProvider(config.chain.rpcUrl, undefined, { cacheTimeout: -1 });
  let chainId: number;
  try {
    chainId = Number((await withTimeout(provider.getNetwork(), 15_000)).chainId);
  } catch (err) {
    provider.destroy();
    throw new ProductionStartRefused(`the node at ${config.chain.rpcUrl} does not answer (${(err as Error).message})`);
  }
  if (env.MB_CHAIN_ID && Number(env.MB_CHAIN_ID) !== chainId) {
    provider.destroy();
    throw new ProductionStartRefused(
      `MB_CHAIN_ID=${env.MB_CHAIN_ID} but the node at ${config.chain.rpcUrl} is chain ${chainId}`,
    );
  }
  const record = readDeployment(network, deploymentsDir);
  const file = deploymentPath(network, deploymentsDir);
  if (!record || !(await deploymentIsLive(record, provider))) {
    provider.destroy();
    throw new ProductionStartRefused(
      record
        ? `the deployment in ${file} is not live on chain ${chainId} at ${config.chain.rpcUrl} (another chain, or a reset network). Deploy first: ${deployCommand}`
        : `no deployment record ${file}. Deploy first: ${deployCommand}`,
    );
  }
  say(`chain: ${config.chain.rpcUrl} (chain id ${chainId}); deployment ${file} (block ${record.deployBlock}) is live`);
  await requireAgreements(record, provider, file, say);

  // Signers from the environment only; an absent key disables its role.
  const roles: Array<[string, string | undefined, string]> = [
    [
      "KYC officer",
      config.chain.kycOfficerKey,
      "MB_KYC_OFFICER_KEY (KYC approvals stay pending, not written on-chain)",
    ],
    ["operator", config.settlement.operatorKey, "MB_OPERATOR_KEY (no settlement batcher, no agreement anchoring)"],
    [
      "reserve publisher",
      config.chain.reservePublisherKey,
      "MB_RESERVE_PUBLISHER_KEY (no proof-of-reserves publishing)",
    ],
  ];
  for (const [role, key, what] of roles) {
    say(key ? `${role}: ${new Wallet(key).address}` : `notice: no ${what}: the ${role} role is disabled`);
  }
  const keeperOn = config.keeper.enabled === true;
  say(
    keeperOn
      ? `liquidation keeper: ${new Wallet(config.keeper.signerKey).address}`
      : "notice: the liquidation keeper is disabled (MB_KEEPER_ENABLED=true with MB_KEEPER_KEY runs it)",
  );

  const ttlMs = Number(env.MB_LEASE_TTL_MS ?? DEFAULT_LEASE_TTL_MS);
  const service = await startService(config, {
    deployment: record,
    orderbook: { limits: PLATFORM_RISK_LIMITS },
    leases: { ttlMs, advertisedUrl: env.MB_ADVERTISED_URL || undefined },
    publicRpcUrl: env.MB_PUBLIC_RPC_URL || undefined,
  });

  // Oracle reporters: only with reporter keys, a relayer key and a price source; one instance reports at a time.
  let reporterLease: Lease | undefined;
  const reporterKeys = (env.MB_REPORTER_KEYS ?? "").split(",").filter(Boolean);
  if (reporterKeys.length > 0 && env.MB_RELAYER_KEY && env.MB_PRICE_SOURCE) {
    const source = new JsonPriceSource({ location: env.MB_PRICE_SOURCE });
    const log = service.log.child({ component: "oracle" });
    let reporter: PriceReporterService | undefined;
    reporterLease = new Lease({
      name: "role:oracle-reporter",
      // this process of this instance: a restart takes the reporter's lease back at once
      owner: service.instance.owner(env.MB_ADVERTISED_URL ?? service.url),
      claim: service.instance.claim,
      ttlMs,
      store: service.store.locks,
      log,
      onAcquired: async () => {
        reporter = await reporterFromDeployment({
          record,
          provider,
          reporters: reporterKeys.map((k) => new Wallet(k, provider)),
          relayer: new Wallet(env.MB_RELAYER_KEY!, provider),
          source,
          policy: {
            heartbeatSeconds: Number(env.MB_ORACLE_HEARTBEAT_SECONDS ?? 600),
            deviationBps: Number(env.MB_ORACLE_DEVIATION_BPS ?? 50),
          },
          intervalMs: Number(env.MB_ORACLE_INTERVAL_MS ?? 5_000),
          log: {
            debug: () => {},
            info: (msg, f) => log.info(msg, f),
            warn: (msg, f) => log.warn(msg, f),
            error: (msg, f) => log.error(msg, f),
          },
        });
        reporter.start();
      },
      onLost: async () => {
        await reporter?.stop();
        reporter = undefined;
      },
    });
    reporterLease.start();
    say(`oracle reporters: ${reporterKeys.length} signers on ${env.MB_PRICE_SOURCE} (one instance at a time)`);
  } else {
    say("notice: no oracle reporters (MB_REPORTER_KEYS, MB_RELAYER_KEY and MB_PRICE_SOURCE run them)");
  }

  say(
    `API: ${service.url}  (docs ${service.url}/docs, metrics ${service.metricsUrl ?? "GET /v1/metrics (operator key)"}); leases ${ttlMs} ms`,
  );
  say(`MarginBridge (production profile) is running on network ${network}, store postgres.`);
  return {
    service,
    async stop() {
      await reporterLease?.stop();
      await service.stop();
      provider.destroy();
    },
  } satisfies ProductionRun;
}

/** `npm start`'s production branch: starts, and stops cleanly on Ctrl-C or SIGTERM. */
export async function runProduction(): Promise<void> {
  const run = await startProduction();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void run.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Production lends only under a bound financing agreement (issue 22): a deployment whose AgreementBinding does not
 * require one (deployed with `requireAgreements: false`, or before it was the default) is refused, naming the fix.
 */
async function requireAgreements(
  record: DeploymentRecord,
  provider: JsonRpcProvider,
  file: string,
  say: (l: string) => void,
): Promise<void> {
  const address = record.contracts.AgreementBinding;
  const required = address ? await AgreementBinding__factory.connect(address, provider).required() : false;
  if (required) return void say("agreements: every borrow needs an active agreement bound to the account");
  provider.destroy();
  throw new ProductionStartRefused(
    `the deployment in ${file} does not require financing agreements to borrow: the admin calls ` +
      "AgreementBinding.requireAgreements() once (one-way), or redeploy with `npm run deploy`",
  );
}
