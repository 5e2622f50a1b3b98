/** Use case: one published epoch as the ledger records it, with the reserve ratio of every asset. */
import type { ReserveLedger } from "../../typechain-types";

export interface AssetReserves {
  asset: string;
  liabilities: bigint;
  debt: bigint;
  reserves: bigint;
  /** reserves × 10^18 / liabilities, rounded down; 2^256 − 1 when nothing is owed. */
  ratio: bigint;
}

export interface EpochView {
  epoch: bigint;
  root: string;
  snapshotId: string;
  dataHash: string;
  plainRoot: string;
  snapshotBlock: bigint;
  leafCount: bigint;
  depth: number;
  publishedAt: bigint;
  uri: string;
  assets: AssetReserves[];
}

export async function readEpoch(ledger: ReserveLedger, epoch: bigint): Promise<EpochView> {
  const r = await ledger.getEpoch(epoch);
  const ratios = await Promise.all(r.assets.map((_, i) => ledger.reserveRatio(epoch, i)));
  return {
    epoch,
    root: r.root,
    snapshotId: r.snapshotId,
    dataHash: r.dataHash,
    plainRoot: r.plainRoot,
    snapshotBlock: r.snapshotBlock,
    leafCount: r.leafCount,
    depth: Number(r.depth),
    publishedAt: r.publishedAt,
    uri: r.uri,
    assets: r.assets.map((asset, i) => ({
      asset,
      liabilities: r.liabilities[i],
      debt: r.debt[i],
      reserves: r.reserves[i],
      ratio: ratios[i],
    })),
  };
}
