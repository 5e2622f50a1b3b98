/**
 * Memory layout of a built tree, shared between threads (SharedArrayBuffer, so workers write in place).
 *
 * Level l (0 = leaves, depth = root) holds 2^(depth-l) records of R = 32 + 32·K bytes: the node hash followed by
 * its sums (owed[0..K) then debt[0..K), uint128 big-endian). Records are stored in pairs behind a tag byte,
 * [0x01][record 2j][record 2j+1], so that a parent's preimage 0x01 ‖ record(2j) ‖ record(2j+1) is one contiguous
 * slice (one hash call, no copy) and a proof sibling is one record copied as is.
 */
export interface TreeBuffers {
  depth: number;
  assets: number;
  snapshotId: Uint8Array;
  /** levels[l]: records of level l. */
  levels: SharedArrayBuffer[];
  /** 32 bytes per position: the account commitment (random for padding leaves). */
  commitments: SharedArrayBuffer;
  /** Int32 per position: account index in the input, or -1 - k for the k-th padding leaf. */
  accountAt: SharedArrayBuffer;
  /** Commitment inputs per account (only when commitments are computed by the build). */
  secrets?: SharedArrayBuffer;
  ids?: SharedArrayBuffer;
  idOffsets?: SharedArrayBuffer;
}

export function recordSize(assets: number): number {
  return 32 + 32 * assets;
}

export function sumsSize(assets: number): number {
  return 32 * assets;
}

/** Bytes of one pair slot: the tag byte and two records. */
export function pairSize(assets: number): number {
  return 1 + 2 * recordSize(assets);
}

/** Byte offset of record j in its level. */
export function recordOffset(j: number, assets: number): number {
  const r = recordSize(assets);
  return (j >>> 1) * (1 + 2 * r) + 1 + (j & 1) * r;
}

export function allocateTree(depth: number, assets: number, snapshotId: Uint8Array): TreeBuffers {
  const r = recordSize(assets);
  const levels: SharedArrayBuffer[] = [];
  const pair = 1 + 2 * r;
  for (let l = 0; l <= depth; l++) levels.push(new SharedArrayBuffer(Math.max(1, 2 ** (depth - l - 1)) * pair));
  return {
    depth,
    assets,
    snapshotId,
    levels,
    commitments: new SharedArrayBuffer(2 ** depth * 32),
    accountAt: new SharedArrayBuffer(2 ** depth * 4),
  };
}
