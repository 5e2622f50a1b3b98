/**
 * The liabilities snapshot from the indexed chain state plus the off-chain ledger: for every margin account the
 * reserves indexer has seen at or before the snapshot block, its MarginEngine balance of every ledger asset and
 * its debt, read at `blockTag = snapshotBlock`, plus what the off-chain ledger still owes it (unsettled trade
 * proceeds), and its proof-of-reserves secret.
 */
import type { Store } from "../store";
import { accountSecret } from "./accountSecrets";
import { ReservesError } from "./errors";
import type { AccountLiabilities, LiabilitySet, LiabilitySource } from "./liabilities";
import { RESERVES_INDEXER } from "./marginAccountsHandler";

/** What the snapshot reads from the MarginEngine; the typechain binding (connected to a provider) satisfies it. */
export interface MarginBalances {
  balanceOf(account: string, asset: string, overrides: { blockTag: number }): Promise<bigint>;
  debtOf(account: string, overrides: { blockTag: number }): Promise<[bigint, bigint] & { debt: bigint }>;
}

/** Per account, amounts the off-chain ledger owes it (or it owes), in the snapshot's asset order. */
export interface PendingAmounts {
  owed: bigint[];
  debt: bigint[];
}

/**
 * Source of the off-chain ledger's amounts not yet on-chain at the snapshot block: unsettled trade proceeds
 * (a sale matched but not settled owes the seller the cash and the buyer the units). Keys are lower-case account
 * addresses; accounts absent from the map have none. The order book and settlement tables are not in this
 * service yet, so the default provider returns nothing; they plug in here when they land.
 */
export type PendingAmountsProvider = (input: {
  snapshotBlock: bigint;
  assets: string[];
  accounts: string[];
}) => Promise<Map<string, PendingAmounts>>;

export const NO_PENDING_AMOUNTS: PendingAmountsProvider = async () => new Map();

export interface IndexedSourceOptions {
  store: Store;
  engine: MarginBalances;
  /** Ledger assets in tree order (ReserveLedger.assets()). */
  assets: string[];
  /** The cash asset: an account's debt goes into its debt column. */
  cashAsset: string;
  /** The block to read at; must be at or below the reserves indexer's cursor (its confirmed head). */
  snapshotBlock: bigint;
  /** Seals the per-account secrets (the API's secret key). */
  secretKey: Buffer;
  pending?: PendingAmountsProvider;
  /** Accounts read in parallel (each is K + 1 eth_calls). */
  concurrency?: number;
  indexerName?: string;
}

export class IndexedLiabilitySource implements LiabilitySource {
  readonly description: string;

  constructor(private readonly opts: IndexedSourceOptions) {
    this.description = `indexed MarginEngine state at block ${opts.snapshotBlock} + off-chain ledger`;
  }

  async load(): Promise<LiabilitySet> {
    const { store, engine, snapshotBlock } = this.opts;
    const assets = this.opts.assets.map((a) => a.toLowerCase());
    const cashIndex = assets.indexOf(this.opts.cashAsset.toLowerCase());
    if (cashIndex < 0) throw new ReservesError("ASSET_MISMATCH", "the cash asset is not a ledger asset", { assets });
    const cursor = await store.chain.cursor(this.opts.indexerName ?? RESERVES_INDEXER);
    if (!cursor || BigInt(cursor.blockNumber) < snapshotBlock) {
      throw new ReservesError("INVALID_INPUT", "the snapshot block is above the indexed (confirmed) head", {
        snapshotBlock: snapshotBlock.toString(),
        indexedHead: cursor?.blockNumber ?? null,
      });
    }
    const blockTag = Number(snapshotBlock);
    const accounts = await store.reserves.accountsAt(blockTag);
    const pending = await (this.opts.pending ?? NO_PENDING_AMOUNTS)({ snapshotBlock, assets, accounts });

    const readAccount = async (account: string): Promise<AccountLiabilities> => {
      const [owed, debtOf, secret] = await Promise.all([
        Promise.all(assets.map((asset) => engine.balanceOf(account, asset, { blockTag }))),
        engine.debtOf(account, { blockTag }),
        accountSecret(store, this.opts.secretKey, account),
      ]);
      const debt = assets.map((_, i) => (i === cashIndex ? debtOf[0] : 0n));
      const extra = pending.get(account);
      if (extra) {
        if (extra.owed.length !== assets.length || extra.debt.length !== assets.length) {
          throw new ReservesError("ASSET_MISMATCH", "pending amounts must have one value per asset", { account });
        }
        extra.owed.forEach((v, i) => (owed[i] += v));
        extra.debt.forEach((v, i) => (debt[i] += v));
      }
      return { accountId: account, secret, owed, debt };
    };
    return { assets, snapshotBlock, accounts: await mapLimit(accounts, this.opts.concurrency ?? 8, readAccount) };
  }
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
