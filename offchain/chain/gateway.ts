import { Wallet, type JsonRpcProvider } from "ethers";
import {
  CollateralToken__factory,
  KycRegistry__factory,
  ProtocolAccessManager__factory,
  type CollateralToken,
  type KycRegistry,
} from "../../typechain-types";
import type { Config } from "../shared/config";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import type { DeploymentRecord } from "./deployment";
import { collateralTokenHandler } from "./handlers/collateralToken";
import { kycRegistryHandler } from "./handlers/kycRegistry";
import type { ContractHandler } from "./handlers/types";
import { Indexer } from "./indexer";
import type { RetryOptions } from "./retry";
import { ServiceProvider } from "./rpcTransport";
import { TxSender } from "./sender";
import { rawSigner, type RawSigner } from "./signer";

/**
 * Everything the service knows about the chain: one provider, typechain bindings at the deployment's
 * addresses, a sender per configured key, and the indexer. Only chain/ holds providers and signers.
 */
export interface ChainGateway {
  provider: JsonRpcProvider;
  deployment: DeploymentRecord;
  kycRegistry: KycRegistry;
  tokens: Record<string, CollateralToken>;
  /** Signs KycRegistry writes; absent when no KYC officer key is configured. */
  kycOfficer?: TxSender;
  retry: RetryOptions;
  /**
   * A signer for `privateKey` held here (one per key): it signs raw transactions that the caller journals before
   * sending (the liquidation keeper), so the key itself never leaves chain/.
   */
  signer(privateKey: string): RawSigner;
  /** The handlers this foundation indexes; capabilities append theirs before the indexer is built. */
  coreHandlers(): ContractHandler[];
  createIndexer(store: Store, handlers: ContractHandler[], name?: string): Indexer;
  close(): void;
}

export function createChainGateway(config: Config["chain"], deployment: DeploymentRecord, log: Logger): ChainGateway {
  // Every request has a deadline, so a stalled node costs a request at most rpcTimeoutMs (then 503).
  const provider = new ServiceProvider(config.rpcUrl, deployment.chainId, config.rpcTimeoutMs, {
    staticNetwork: true,
    // The indexer and the sender need the node's current head, never a cached one.
    cacheTimeout: -1,
    pollingInterval: Math.min(config.pollIntervalMs, 1000),
  });
  const retry: RetryOptions = {
    retries: config.rpcRetries,
    baseMs: config.rpcRetryBaseMs,
    deadlineMs: config.rpcTimeoutMs,
    onRetry: (attempt, err) => log.warn("rpc retry", { attempt, err }),
  };
  const kycRegistry = KycRegistry__factory.connect(deployment.contracts.KycRegistry, provider);
  const tokens: Record<string, CollateralToken> = {};
  for (const t of deployment.tokens) tokens[t.symbol] = CollateralToken__factory.connect(t.address, provider);
  const errorInterfaces = [
    KycRegistry__factory.createInterface(),
    CollateralToken__factory.createInterface(),
    ProtocolAccessManager__factory.createInterface(),
  ];
  const kycOfficer = config.kycOfficerKey
    ? new TxSender(
        new Wallet(config.kycOfficerKey, provider),
        errorInterfaces,
        retry,
        log.child({ signer: "kycOfficer" }),
      )
    : undefined;
  const signers = new Map<string, RawSigner>();
  return {
    provider,
    deployment,
    kycRegistry,
    tokens,
    kycOfficer,
    retry,
    signer: (privateKey) => {
      let s = signers.get(privateKey);
      if (!s) signers.set(privateKey, (s = rawSigner(privateKey)));
      return s;
    },
    coreHandlers: () => [
      kycRegistryHandler(deployment.contracts.KycRegistry),
      ...deployment.tokens.map((t) => collateralTokenHandler(t.symbol, t.address)),
    ],
    createIndexer: (store, handlers, name = "main") =>
      new Indexer({
        name,
        provider,
        store,
        handlers,
        confirmations: config.confirmations,
        batchBlocks: config.batchBlocks,
        startBlock: deployment.deployBlock,
        retry,
        log: log.child({ component: "indexer" }),
      }),
    close: () => provider.destroy(),
  };
}
