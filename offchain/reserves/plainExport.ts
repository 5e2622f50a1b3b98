/**
 * The plain inclusion tree of a snapshot in @openzeppelin/merkle-tree's StandardMerkleTree format, so that an
 * auditor checks inclusion with that library and OpenZeppelin's MerkleProof.verify, independently of our code.
 * It proves inclusion only (no sums); the Merkle-sum tree is what proves the totals.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { SumTree } from "./sumTree";

/** (snapshotId, accountCommitment, owed per asset, debt per asset). */
export const PLAIN_LEAF_ENCODING = ["bytes32", "bytes32", "uint256[]", "uint256[]"];

export type PlainLeaf = [string, string, string[], string[]];

export interface PlainExport {
  tree: StandardMerkleTree<PlainLeaf>;
  /** Tree value index of each real leaf position (−1 for padding). */
  valueIndexAt: Int32Array;
}

/** One value per real account, in the sum tree's (shuffled) position order; padding leaves are left out. */
export function buildPlainTree(tree: SumTree, snapshotId: string): PlainExport {
  const values: PlainLeaf[] = [];
  const valueIndexAt = new Int32Array(tree.size).fill(-1);
  for (let p = 0; p < tree.size; p++) {
    if (tree.isPadding(p)) continue;
    const s = tree.leafSumsAt(p);
    valueIndexAt[p] = values.length;
    values.push([snapshotId, tree.commitmentAt(p), s.owed.map(String), s.debt.map(String)]);
  }
  return { tree: StandardMerkleTree.of(values, PLAIN_LEAF_ENCODING), valueIndexAt };
}
