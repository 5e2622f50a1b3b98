import type { JsonRpcProvider } from "ethers";
import type { DeploymentRecord, RawSigner, RetryOptions } from "../chain";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";

/** The keeper's settings (offchain/shared/config.ts `keeper`). */
export interface KeeperSettings {
  /**
   * Private key of the liquidator: KYC-verified, with mbCNY in its own margin account. The keeper never uses it
   * itself: the wiring hands it to the chain gateway, whose signer (`KeeperDeps.signer`) signs for the keeper.
   */
  signerKey: string;
  /**
   * "batch" (default): the liquidatable accounts of a tick, deepest shortfall first, in liquidateMany calls packed
   * to the gas budget, several in flight. "single": one liquidate call per account, one after another.
   */
  mode?: "batch" | "single";
  /** Gas one liquidateMany may use (undefined: 80 % of the latest block's gas limit). */
  batchGasBudget?: bigint;
  /** Accounts per liquidateMany at most (default and ceiling 200). */
  batchMaxAccounts?: number;
  /** Accounts valued per eth_call of the batch lens (MarginBatchLens; at most its EIP-170 capacity, ≈ 150). */
  lensChunk?: number;
  /**
   * How a cold start builds the index. "events" (default): every account's position is folded from the engine's
   * events (the indexer's store where it has them, the node for the rest), valued off-chain with the engine's
   * arithmetic against one read of the market; accounts near their lines (or whose events cannot be replayed) are
   * read through the lens at once, the rest confirmed by lens reads in the background. "lens": every account read
   * through the lens before anything else.
   */
  indexFrom?: "events" | "lens";
  /** How often the keeper looks for new blocks and logs. */
  pollIntervalMs: number;
  /** Every account is re-read from the engine this often (the index is a filter, the chain the authority). */
  resyncIntervalMs: number;
  /** Segments per liquidate call. */
  maxSegments: number;
  /** Do not send while the network's maxFeePerGas (or gasPrice) is above this (wei); undefined: no cap. */
  maxFeePerGas?: bigint;
  /** Skip liquidations whose estimated liquidator bonus (cash base units) is below this. */
  minBonus: bigint;
  /** Engine reads in flight at once (lens calls: at most 4 of them). */
  readConcurrency: number;
  /** Outbox: webhook receiving notices (undefined: notices are only recorded for the console). */
  webhookUrl?: string;
  /** HMAC-SHA256 key of the webhook signature. */
  webhookSecret: string;
  /** First retry delay of a failed delivery; doubles per attempt up to `webhookMaxBackoffMs`. */
  webhookBaseBackoffMs: number;
  webhookMaxBackoffMs: number;
}

export interface KeeperDeps {
  store: Store;
  /** The chain gateway's provider (chain/ owns it). */
  provider: JsonRpcProvider;
  /** The chain gateway's signer for the keeper's key (`gateway.signer(settings.signerKey)`). */
  signer: RawSigner;
  /** The service indexer whose stored MarginEngine events a restarted keeper reads its accounts from ("main"). */
  indexerName?: string;
  /** Retry policy of reads (the gateway's `retry`); default: 8 retries from 100 ms within 30 s. */
  retry?: RetryOptions;
  deployment: DeploymentRecord;
  settings: KeeperSettings;
  log: Logger;
}

export const DEFAULT_KEEPER_SETTINGS: Omit<KeeperSettings, "signerKey"> = {
  pollIntervalMs: 250,
  resyncIntervalMs: 60_000,
  maxSegments: 8,
  minBonus: 0n,
  readConcurrency: 8,
  mode: "batch",
  lensChunk: 150,
  webhookSecret: "mb-dev-webhook-secret",
  webhookBaseBackoffMs: 1000,
  webhookMaxBackoffMs: 5 * 60_000,
};
