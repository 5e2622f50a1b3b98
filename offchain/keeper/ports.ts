import type { JsonRpcProvider } from "ethers";
import type { DeploymentRecord } from "../chain";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";

/** The keeper's settings (offchain/shared/config.ts `keeper`). */
export interface KeeperSettings {
  /** Private key of the liquidator: KYC-verified, with mbCNY in its own margin account. */
  signerKey: string;
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
  /** Engine reads in flight at once. */
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
  /** The chain gateway's provider (chain/ owns it; the keeper signs its own liquidations). */
  provider: JsonRpcProvider;
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
  webhookSecret: "mb-dev-webhook-secret",
  webhookBaseBackoffMs: 1000,
  webhookMaxBackoffMs: 5 * 60_000,
};
