import hre from "hardhat";
import { buildSumTree } from "../../offchain/reserves/buildTree";
import { snapshotId } from "../../offchain/reserves/encoding";
import type { AccountLiabilities, LiabilitySet } from "../../offchain/reserves/liabilities";
import { type InclusionProof } from "../../offchain/reserves/proof";
import type { SumTree } from "../../offchain/reserves/sumTree";
import { ReserveLedger__factory, type ReserveLedger } from "../../typechain-types";
import type { IReserveLedger } from "../../typechain-types/contracts/reserves/ReserveLedger";
import type { CoreFixture } from "./fixtures";

/** Deterministic accounts: account i owes (i+1)·1000 of asset 0, i of the others, and borrowed i·10 of asset 0. */
export function sampleAccounts(n: number, assets: number, prefix = "acct"): AccountLiabilities[] {
  return Array.from({ length: n }, (_, i) => ({
    accountId: `${prefix}-${i}`,
    secret: hre.ethers.keccak256(hre.ethers.toUtf8Bytes(`secret:${prefix}-${i}`)),
    owed: Array.from({ length: assets }, (_, a) => (a === 0 ? BigInt(i + 1) * 1000n : BigInt(i))),
    debt: Array.from({ length: assets }, (_, a) => (a === 0 ? BigInt(i) * 10n : 0n)),
  }));
}

export function ledgerOf(fx: CoreFixture): ReserveLedger {
  return ReserveLedger__factory.connect(fx.record.contracts.ReserveLedger, fx.actors.reservePublisher);
}

export interface BuiltEpoch {
  epoch: bigint;
  snapshotBlock: bigint;
  snapshotId: string;
  set: LiabilitySet;
  tree: SumTree;
}

/** Builds the tree of `accounts` for the ledger's next epoch at the latest block (nothing is published). */
export async function buildNextEpoch(
  ledger: ReserveLedger,
  accounts: AccountLiabilities[],
  opts: { minDepth?: number; seed?: Uint8Array } = {},
): Promise<BuiltEpoch> {
  const epoch = (await ledger.latestEpoch()) + 1n;
  const snapshotBlock = BigInt(await hre.ethers.provider.getBlockNumber());
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const sid = snapshotId(chainId, await ledger.getAddress(), epoch, snapshotBlock);
  const set: LiabilitySet = { assets: await ledger.assets(), snapshotBlock, accounts };
  const tree = await buildSumTree(set, { snapshotId: sid, minDepth: opts.minDepth, seed: opts.seed });
  return { epoch, snapshotBlock, snapshotId: sid, set, tree };
}

/** The publish() argument for a built epoch; `patch` overrides fields to test refusals. */
export function epochInput(
  b: BuiltEpoch,
  patch: Partial<IReserveLedger.EpochInputStruct> = {},
): IReserveLedger.EpochInputStruct {
  return {
    epoch: b.epoch,
    snapshotBlock: b.snapshotBlock,
    root: b.tree.root,
    depth: b.tree.depth,
    leafCount: b.tree.leafCount,
    liabilities: b.tree.totals.owed,
    debt: b.tree.totals.debt,
    dataHash: hre.ethers.keccak256(hre.ethers.toUtf8Bytes(`data:${b.epoch}`)),
    plainRoot: hre.ethers.ZeroHash,
    uri: `file://reserves/epoch-${b.epoch}`,
    ...patch,
  };
}

export async function buildAndPublish(
  ledger: ReserveLedger,
  accounts: AccountLiabilities[],
  opts: { minDepth?: number } = {},
): Promise<BuiltEpoch> {
  const b = await buildNextEpoch(ledger, accounts, opts);
  await (await ledger.publish(epochInput(b))).wait();
  return b;
}

/** The inclusion proof of input account `accountIndex`. */
export function proofOf(b: BuiltEpoch, accountIndex: number): InclusionProof {
  const position = b.tree.positionOf(accountIndex);
  const acc = b.set.accounts[accountIndex];
  return {
    accountCommitment: b.tree.commitmentAt(position),
    index: position,
    owed: acc.owed,
    debt: acc.debt,
    siblings: b.tree.path(position).siblings,
  };
}
