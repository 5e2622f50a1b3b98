/**
 * The input of a snapshot: for every account, per asset, what the platform owes the client (collateral and cash
 * held for it, unsettled proceeds, accrued amounts) and the client's debt. Amounts are token base units.
 */
export interface AccountLiabilities {
  /** Stable account id (the margin account address or the service's account id); committed, never published. */
  accountId: string;
  /** 32-byte hex secret the client can obtain; the per-snapshot salt of the account commitment derives from it. */
  secret: string;
  /** Per asset, in the snapshot's asset order. */
  owed: bigint[];
  debt: bigint[];
}

export interface LiabilitySet {
  /** Asset ids in tree order (token addresses, matching ReserveLedger.assets()). */
  assets: string[];
  /** The block the balances were read at. */
  snapshotBlock: bigint;
  accounts: AccountLiabilities[];
}

/**
 * Where a snapshot's liabilities come from. Today: a JSON file (jsonFileSource.ts). When the store and the
 * margin engine land, an indexed-state source implements the same interface.
 */
export interface LiabilitySource {
  /** Human-readable origin, for logs and the data set manifest. */
  readonly description: string;
  load(): Promise<LiabilitySet>;
}
