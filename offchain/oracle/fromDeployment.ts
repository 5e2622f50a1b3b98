import type { ContractRunner, JsonRpcProvider, Signer } from "ethers";
import type { DeploymentRecord } from "../../scripts/deploy/types";
import { feedKey } from "../../scripts/deploy/oracle";
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
  log?: ReporterLogger;
}

/**
 * A PriceReporterService for every security feed of a deployment (the record's `MedianPriceFeed.<symbol>`
 * entries), with all reporters reading one source and one relayer whose pending nonce is read raw (ethers caches
 * identical reads for 250 ms, which would hand out the same nonce twice).
 */
export async function reporterFromDeployment(o: ReporterFromDeployment): Promise<PriceReporterService> {
  const chainId = (await o.provider.getNetwork()).chainId;
  const relayerAddress = await o.relayer.getAddress();
  const feeds = o.record.tokens
    .filter((t) => t.kind === "security" && o.record.contracts[feedKey(t.symbol)])
    .map((t) => ({ symbol: t.symbol, address: o.record.contracts[feedKey(t.symbol)] }));
  return new PriceReporterService({
    feeds,
    reporters: o.reporters.map((signer) => ({ signer, source: o.source })),
    relayer: o.relayer,
    nonce: async () => Number(await o.provider.send("eth_getTransactionCount", [relayerAddress, "pending"])),
    chainId,
    policy: o.policy,
    intervalMs: o.intervalMs,
    backoff: { baseMs: 1_000, maxMs: 60_000 },
    log: o.log,
  });
}
