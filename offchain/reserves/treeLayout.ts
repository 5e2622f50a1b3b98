/**
 * Memory layout of a built tree, shared between threads (SharedArrayBuffer, so workers write in place).
 *
 * Level l (0 = leaves, depth = root) holds 2^(depth-l) records of R = 32 + 32·K bytes: the node hash followed by
 * its sums (owed[0..K) then debt[0..K), uint128 big-endian). A node's preimage is therefore
 * 0x01 ‖ record(2j) ‖ record(2j+1), two adjacent records, and a proof sibling is one record copied as is.
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

export function allocateTree(depth: number, assets: number, snapshotId: Uint8Array): TreeBuffers {
  const r = recordSize(assets);
  const levels: SharedArrayBuffer[] = [];
  for (let l = 0; l <= depth; l++) levels.push(new SharedArrayBuffer(2 ** (depth - l) * r));
  return {
    depth,
    assets,
    snapshotId,
    levels,
    commitments: new SharedArrayBuffer(2 ** depth * 32),
    accountAt: new SharedArrayBuffer(2 ** depth * 4),
  };
}
