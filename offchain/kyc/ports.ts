import type { SdnEntry } from "./sanctions/list";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";

/** What KYC needs from the chain; chain/kycRegistryWriter.ts implements it with the KYC officer's key. */
export interface KycChainPort {
  setIdentity(
    account: string,
    tier: number,
    jurisdiction: number,
    expiresAt: number,
    identityHash: string,
  ): Promise<{ txHash: string }>;
  revoke(account: string, reason: string): Promise<{ txHash: string }>;
  /** The registry's maximum leverage of a tier (18 decimals). */
  tierLeverage(tier: number): Promise<bigint>;
  /** The latest block's timestamp (expiries are checked against chain time). */
  now(): Promise<number>;
}

export interface KycSettings {
  dataKey: Buffer;
  fuzzyThreshold: number;
  reviewAboveTier: number;
  validityDays: number;
}

export interface KycDeps {
  store: Store;
  chain?: KycChainPort;
  sanctions: SdnEntry[];
  settings: KycSettings;
  log: Logger;
}
