/**
 * Runs the price reporter against a deployment:
 *   ts-node --transpile-only offchain/oracle/cli.ts [--network localhost] [--rpc http://127.0.0.1:8545]
 *     [--source sim|<file>|<http url>] [--seed 42] [--step-seconds 60] [--interval-ms 5000]
 *     [--heartbeat 600] [--deviation-bps 50]
 * Keys: MB_REPORTER_KEYS (comma-separated private keys) and MB_RELAYER_KEY; without them, on chain id 31337 only,
 * the hardhat dev accounts 6–8 report and account 9 relays.
 */
import { JsonRpcProvider, Wallet, type HDNodeWallet, type Signer } from "ethers";
import { readDeployment } from "../chain/deployment";
import { oracleReporterEnv, type OracleReporterEnv } from "../shared/config";
import { DEV_REPORTER_INDICES, hardhatDevWallets } from "./devKeys";
import { reporterFromDeployment } from "./fromDeployment";
import { JsonPriceSource } from "./sources/jsonSource";
import { DEMO_ASSETS, MarketSimulator, SimulatedSource } from "./sources/simulator";
import type { PriceSource, ReporterLogger } from "./types";

interface CliConfig {
  network: string;
  rpc: string;
  source: string;
  seed: number;
  stepSeconds: number;
  intervalMs: number;
  heartbeat: number;
  deviationBps: number;
  reporterKeys: string[];
  relayerKey?: string;
}

function parseArgs(argv: string[], env: OracleReporterEnv): CliConfig {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const int = (name: string, fallback: number): number => {
    const v = Number(get(name, String(fallback)));
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
    return v;
  };
  return {
    network: get("network", "localhost"),
    rpc: get("rpc", env.rpcUrl ?? "http://127.0.0.1:8545"),
    source: get("source", "sim"),
    seed: int("seed", 42),
    stepSeconds: int("step-seconds", 60),
    intervalMs: int("interval-ms", 5_000),
    heartbeat: int("heartbeat", 600),
    deviationBps: int("deviation-bps", 50),
    reporterKeys: env.reporterKeys,
    relayerKey: env.relayerKey,
  };
}

const jsonLog: ReporterLogger = {
  debug: () => {},
  info: (msg, f) => console.log(JSON.stringify({ time: new Date().toISOString(), level: "info", msg, ...f }, big)),
  warn: (msg, f) => console.log(JSON.stringify({ time: new Date().toISOString(), level: "warn", msg, ...f }, big)),
  error: (msg, f) => console.log(JSON.stringify({ time: new Date().toISOString(), level: "error", msg, ...f }, big)),
};
function big(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return { name: v.name, message: v.message };
  return v;
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2), oracleReporterEnv());
  const record = readDeployment(cfg.network);
  if (!record) throw new Error(`no deployments/${cfg.network}.json: deploy first`);
  const provider = new JsonRpcProvider(cfg.rpc, undefined, { staticNetwork: true });
  const chainId = (await provider.getNetwork()).chainId;
  let reporters: Signer[];
  let relayer: Wallet | HDNodeWallet;
  if (cfg.reporterKeys.length > 0) {
    reporters = cfg.reporterKeys.map((k) => new Wallet(k, provider));
    if (!cfg.relayerKey) throw new Error("MB_RELAYER_KEY is required with MB_REPORTER_KEYS");
    relayer = new Wallet(cfg.relayerKey, provider);
  } else {
    if (chainId !== 31337n) throw new Error("set MB_REPORTER_KEYS and MB_RELAYER_KEY outside the dev chain");
    reporters = hardhatDevWallets(DEV_REPORTER_INDICES, provider);
    relayer = hardhatDevWallets([9], provider)[0];
  }
  const source: PriceSource =
    cfg.source === "sim"
      ? new SimulatedSource(new MarketSimulator({ seed: cfg.seed, assets: DEMO_ASSETS, stepSeconds: cfg.stepSeconds }))
      : new JsonPriceSource({ location: cfg.source });
  const service = await reporterFromDeployment({
    record,
    provider,
    reporters,
    relayer,
    source,
    policy: { heartbeatSeconds: cfg.heartbeat, deviationBps: cfg.deviationBps },
    intervalMs: cfg.intervalMs,
    log: jsonLog,
  });
  service.start();
  const shutdown = (): void => {
    void service.stop().then(() => provider.destroy());
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
