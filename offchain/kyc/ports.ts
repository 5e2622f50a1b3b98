import type { TypedDataDomain } from "ethers";
import type { SdnEntry } from "./sanctions/list";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";

/** An account's KycRegistry entry as the chain has it now. */
export interface ChainIdentity {
  registered: boolean;
  revoked: boolean;
  tier: number;
  jurisdiction: number;
  /** Unix seconds. */
  expiresAt: number;
  identityHash: string;
}

/**
 * What KYC needs from the chain; chain/kycRegistryWriter.ts implements it with the KYC officer's key. A failed
 * write throws an AppError whose `details.effect` is "none" when nothing can have reached the chain (refused in
 * simulation, reverted) and "unknown" otherwise (the transaction may be mined later).
 */
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
  identityOf(account: string): Promise<ChainIdentity>;
}

export interface KycSettings {
  dataKey: Buffer;
  fuzzyThreshold: number;
  reviewAboveTier: number;
  validityDays: number;
  /**
   * How long a claimed KycRegistry write may take before the reconciliation job takes the claim over and finds
   * out on-chain what became of it (ms; longer than a send with its receipt wait).
   */
  claimTtlMs: number;
}

export interface KycDeps {
  store: Store;
  chain?: KycChainPort;
  sanctions: SdnEntry[];
  settings: KycSettings;
  log: Logger;
  /** EIP-712 domain of document acknowledgements (chain id, KycRegistry); absent without a deployment. */
  ackDomain?: TypedDataDomain;
}
