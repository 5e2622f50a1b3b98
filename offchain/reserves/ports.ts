import type { ReserveLedger } from "../../typechain-types";
import type { InstanceClaim } from "../shared/instance";
import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import type { MarginBalances, PendingAmountsProvider } from "./indexedSource";

/** What the service's proof-of-reserves use cases need (wired in offchain/main.ts). */
export interface ReservesDeps {
  store: Store;
  engine: MarginBalances;
  /** Read-only ledger binding. */
  ledger: ReserveLedger;
  /** Ledger bound to the reserve publisher's key; without it `publish` is refused. */
  publisherLedger?: ReserveLedger;
  cashAsset: string;
  /** Seals the per-account secrets. */
  secretKey: Buffer;
  /** Data root of published epochs: <dataDir>/<chainId>/epoch-<n>/ (the service uses <config.dataDir>/reserves). */
  dataDir: string;
  pending?: PendingAmountsProvider;
  /** The reserves indexer's name (its cursor is the confirmed head). */
  indexerName?: string;
  /**
   * This process as lease holder (its owner string and instance claim): a publish lease left by a crashed
   * predecessor of the same instance is taken back at once instead of after its ten minutes.
   */
  leaseHolder?: () => { owner: string; claim: InstanceClaim } | undefined;
  log: Logger;
}
