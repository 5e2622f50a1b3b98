import type { ReserveLedger } from "../../typechain-types";
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
  log: Logger;
}
