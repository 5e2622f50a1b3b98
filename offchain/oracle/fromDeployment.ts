import type { ContractRunner, JsonRpcProvider, Signer } from "ethers";
import { feedKey, volatilityFeedKey, type DeploymentRecord } from "../chain/deployment";
import { VOLATILITY_SUFFIX } from "./sources/simulator";
import { PriceReporterService } from "./service";
import type { PushPolicy } from "./policy";
import type { PriceSource, ReporterLogger } from "./types";

export interface ReporterFromDeployment {
  record: DeploymentRecord;
  provider: JsonRpcProvider;
  reporters: Signer[];
  relayer: ContractRunner & { getAddress(): Promise<string> };
  source: PriceSource;
  policy: PushPolicy;
  intervalMs: number;
  /**
   * "chain": observations are stamped with the chain's time (the wall clock plus how far the latest block is
   * ahead of it), so a development chain moved forward with evm_increaseTime keeps its prices fresh; "wall" (the
   * default, and what a production reporter uses) is the reporter's own clock.
   */
  clock?: "wall" | "chain";
  log?: ReporterLogger;
}

/**
 * Unix seconds on the chain's clock: the wall clock plus how far the latest block's timestamp is ahead of it
 * (never behind: a chain that lags the wall clock mines the next block at the wall clock). Falls back to the last
 * known offset when the node does not answer.
 */
export function chainClock(provider: JsonRpcProvider): () => Promise<number> {
  let ahead = 0;
  return async () => {
    const wall = Math.floor(Date.now() / 1000);
    try {
      const latest = await provider.getBlock("latest");
      if (latest) ahead = Math.max(0, latest.timestamp - wall);
    } catch {
      // keep the last offset: the tick's own RPC calls will report the outage
    }
    return wall + ahead;
  };
}

/**
 * A PriceReporterService for every security feed of a deployment (the record's `MedianPriceFeed.<symbol>`
 * entries) and every implied-volatility feed (`ImpliedVolatility.<symbol>`, as `<symbol>.IV`), with all reporters reading one source and one relayer whose pending nonce is read raw (ethers caches
 * identical reads for 250 ms, which would hand out the same nonce twice).
 */
export async function reporterFromDeployment(o: ReporterFromDeployment): Promise<PriceReporterService> {
  const chainId = (await o.provider.getNetwork()).chainId;
  const relayerAddress = await o.relayer.getAddress();
  const securities = o.record.tokens.filter((t) => t.kind === "security");
  const feeds = [
    ...securities
      .filter((t) => o.record.contracts[feedKey(t.symbol)])
      .map((t) => ({ symbol: t.symbol, address: o.record.contracts[feedKey(t.symbol)] })),
    // the implied volatilities the option series are priced with (`<symbol>.IV`), reported the same way
    ...securities
      .filter((t) => o.record.contracts[volatilityFeedKey(t.symbol)])
      .map((t) => ({ symbol: t.symbol + VOLATILITY_SUFFIX, address: o.record.contracts[volatilityFeedKey(t.symbol)] })),
  ];
  return new PriceReporterService({
    feeds,
    reporters: o.reporters.map((signer) => ({ signer, source: o.source })),
    relayer: o.relayer,
    nonce: async () => Number(await o.provider.send("eth_getTransactionCount", [relayerAddress, "pending"])),
    chainId,
    policy: o.policy,
    intervalMs: o.intervalMs,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    ...(o.clock === "chain" ? { clock: chainClock(o.provider) } : {}),
    log: o.log,
  });
}
