import { hexlify } from "ethers";
import { recordOffset, type TreeBuffers } from "./treeLayout";
import { writeProof } from "./treeJob";
import type { Sums } from "./encoding";

/** One sibling of a proof: the node hash and its per-asset sums. */
export interface ProofSibling {
  hash: string;
  owed: bigint[];
  debt: bigint[];
}

export interface InclusionPath {
  /** Leaf position; bit l says whether the level-l node is a right (1) or left (0) child. */
  index: number;
  siblings: ProofSibling[];
}

function readU128(b: Uint8Array, o: number): bigint {
  let v = 0n;
  for (let i = 0; i < 16; i += 4) {
    v = (v << 32n) | BigInt(((b[o + i] << 24) | (b[o + i + 1] << 16) | (b[o + i + 2] << 8) | b[o + i + 3]) >>> 0);
  }
  return v;
}

/** Reads the sums of the record at byte offset `o` (hash first, then owed[K], debt[K]). */
export function readSums(b: Uint8Array, o: number, assets: number): Sums {
  const owed: bigint[] = [];
  const debt: bigint[] = [];
  for (let k = 0; k < assets; k++) owed.push(readU128(b, o + 32 + 16 * k));
  for (let k = 0; k < assets; k++) debt.push(readU128(b, o + 32 + 16 * (assets + k)));
  return { owed, debt };
}

/** Where a build spent its time: validation and placement on the calling thread, then hashing. */
export interface BuildTimings {
  prepareSeconds: number;
  hashSeconds: number;
}

/** A built Merkle-sum tree (read-only view over its TreeBuffers). */
export class SumTree {
  readonly buffers: TreeBuffers;
  /** Number of real (non-padding) leaves. */
  readonly leafCount: number;
  readonly timings?: BuildTimings;
  private readonly levels: Uint8Array[];
  private readonly accountAt: Int32Array;
  private readonly commitments: Uint8Array;
  private positionOfAccount?: Int32Array;

  constructor(buffers: TreeBuffers, leafCount: number, timings?: BuildTimings) {
    this.buffers = buffers;
    this.leafCount = leafCount;
    this.timings = timings;
    this.levels = buffers.levels.map((b) => new Uint8Array(b));
    this.accountAt = new Int32Array(buffers.accountAt);
    this.commitments = new Uint8Array(buffers.commitments);
  }

  get depth(): number {
    return this.buffers.depth;
  }

  get assets(): number {
    return this.buffers.assets;
  }

  get size(): number {
    return 2 ** this.depth;
  }

  get root(): string {
    const o = recordOffset(0, this.assets);
    return hexlify(this.levels[this.depth].subarray(o, o + 32));
  }

  /** Per-asset totals: the root's sums (total liabilities and total debt). */
  get totals(): Sums {
    return readSums(this.levels[this.depth], recordOffset(0, this.assets), this.assets);
  }

  /** Input account index at a position, or a negative number for a padding leaf. */
  accountIndexAt(position: number): number {
    return this.accountAt[position];
  }

  isPadding(position: number): boolean {
    return this.accountAt[position] < 0;
  }

  positionOf(accountIndex: number): number {
    if (!this.positionOfAccount) {
      const map = new Int32Array(this.leafCount).fill(-1);
      for (let p = 0; p < this.size; p++) if (this.accountAt[p] >= 0) map[this.accountAt[p]] = p;
      this.positionOfAccount = map;
    }
    return this.positionOfAccount[accountIndex];
  }

  commitmentAt(position: number): string {
    return hexlify(this.commitments.subarray(position * 32, position * 32 + 32));
  }

  leafHashAt(position: number): string {
    const o = recordOffset(position, this.assets);
    return hexlify(this.levels[0].subarray(o, o + 32));
  }

  leafSumsAt(position: number): Sums {
    return readSums(this.levels[0], recordOffset(position, this.assets), this.assets);
  }

  /** The inclusion path of a leaf as typed values. */
  path(position: number): InclusionPath {
    const siblings: ProofSibling[] = [];
    let idx = position;
    for (let l = 0; l < this.depth; l++) {
      const o = recordOffset(idx ^ 1, this.assets);
      siblings.push({ hash: hexlify(this.levels[l].subarray(o, o + 32)), ...readSums(this.levels[l], o, this.assets) });
      idx >>= 1;
    }
    return { index: position, siblings };
  }

  /** The inclusion path as raw bytes: depth sibling records, bottom-up (the fast path used by the benchmark). */
  pathBytes(position: number, out: Uint8Array): number {
    return writeProof(this.buffers, position, out, this.levels);
  }
}
