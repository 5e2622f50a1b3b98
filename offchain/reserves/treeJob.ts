/**
 * The hashing work of a build, run on a contiguous, aligned block of leaf positions, in a worker or in the main
 * thread. Pure functions over TreeBuffers; no I/O.
 */
import type { Keccak } from "./keccak";
import { recordSize, sumsSize, type TreeBuffers } from "./treeLayout";

export interface HashJob {
  kind: "hash";
  tree: TreeBuffers;
  /** First leaf position; a multiple of 2^levels. */
  from: number;
  /** Number of levels above the leaves to compute inside the block (the block has 2^levels leaves). */
  levels: number;
  /** Compute the account commitments from (secret, id) first. */
  withCommitments: boolean;
}

export interface ProofJob {
  kind: "proofs";
  tree: TreeBuffers;
  from: number;
  count: number;
}

export type Job = HashJob | ProofJob;

export interface JobResult {
  /** Set when a sum left uint128: the level and position of the offending node. */
  overflow?: { level: number; index: number };
  /** proofs: how many proofs were produced and a checksum over their bytes (so the work cannot be elided). */
  produced?: number;
  checksum?: number;
}

const TAG_LEAF = new Uint8Array([0x00]);
const TAG_NODE = new Uint8Array([0x01]);
const TAG_COMMITMENT = 0x03;

export function runJob(job: Job, h: Keccak): JobResult {
  return job.kind === "hash" ? hashBlock(job, h) : proofBlock(job);
}

function hashBlock(job: HashJob, h: Keccak): JobResult {
  const t = job.tree;
  const r = recordSize(t.assets);
  const s = sumsSize(t.assets);
  const size = 2 ** job.levels;
  const commitments = new Uint8Array(t.commitments);
  const leaves = new Uint8Array(t.levels[0]);
  if (job.withCommitments) computeCommitments(t, job.from, size, h);
  for (let p = job.from; p < job.from + size; p++) {
    h.init();
    h.update(TAG_LEAF);
    h.update(t.snapshotId);
    h.update(commitments.subarray(p * 32, p * 32 + 32));
    h.update(leaves.subarray(p * r + 32, p * r + 32 + s));
    leaves.set(h.digest("binary"), p * r);
  }
  let from = job.from;
  let n = size;
  for (let l = 1; l <= job.levels; l++) {
    from >>= 1;
    n >>= 1;
    const overflow = hashNodes(t, l, from, n, h);
    if (overflow !== undefined) return { overflow: { level: l, index: overflow } };
  }
  return {};
}

/** Hashes nodes [from, from + n) of level l from level l - 1; returns the index of a node whose sums overflow. */
export function hashNodes(t: TreeBuffers, l: number, from: number, n: number, h: Keccak): number | undefined {
  const r = recordSize(t.assets);
  const s = sumsSize(t.assets);
  const below = new Uint8Array(t.levels[l - 1]);
  const level = new Uint8Array(t.levels[l]);
  for (let j = from; j < from + n; j++) {
    const a = 2 * j * r;
    h.init();
    h.update(TAG_NODE);
    h.update(below.subarray(a, a + 2 * r));
    level.set(h.digest("binary"), j * r);
    if (!addSums(below, a + 32, a + r + 32, level, j * r + 32, s)) return j;
  }
  return undefined;
}

function computeCommitments(t: TreeBuffers, from: number, size: number, h: Keccak): void {
  const accountAt = new Int32Array(t.accountAt);
  const commitments = new Uint8Array(t.commitments);
  const secrets = new Uint8Array(t.secrets!);
  const ids = new Uint8Array(t.ids!);
  const idOffsets = new Uint32Array(t.idOffsets!);
  const head = new Uint8Array(65);
  head[0] = TAG_COMMITMENT;
  head.set(t.snapshotId, 1);
  for (let p = from; p < from + size; p++) {
    const a = accountAt[p];
    if (a < 0) continue;
    head.set(secrets.subarray(a * 32, a * 32 + 32), 33);
    h.init();
    h.update(head);
    h.update(ids.subarray(idOffsets[a], idOffsets[a + 1]));
    commitments.set(h.digest("binary"), p * 32);
  }
}

/** out = x + y over `len / 16` uint128 big-endian values; false when any of them carries out of 128 bits. */
function addSums(src: Uint8Array, x: number, y: number, out: Uint8Array, o: number, len: number): boolean {
  for (let v = len - 16; v >= 0; v -= 16) {
    let carry = 0;
    for (let b = 15; b >= 0; b--) {
      const sum = src[x + v + b] + src[y + v + b] + carry;
      out[o + v + b] = sum & 0xff;
      carry = sum >> 8;
    }
    if (carry !== 0) return false;
  }
  return true;
}

/** Writes the proof of `position` into `out` (depth records, bottom-up) and returns the bytes written. */
export function writeProof(t: TreeBuffers, position: number, out: Uint8Array, levels?: Uint8Array[]): number {
  const r = recordSize(t.assets);
  const lv = levels ?? t.levels.map((b) => new Uint8Array(b));
  let idx = position;
  for (let l = 0; l < t.depth; l++) {
    const sib = (idx ^ 1) * r;
    out.set(lv[l].subarray(sib, sib + r), l * r);
    idx >>= 1;
  }
  return t.depth * r;
}

function proofBlock(job: ProofJob): JobResult {
  const t = job.tree;
  const r = recordSize(t.assets);
  const levels = t.levels.map((b) => new Uint8Array(b));
  const accountAt = new Int32Array(t.accountAt);
  const out = new Uint8Array(t.depth * r);
  let produced = 0;
  let checksum = 0;
  for (let p = job.from; p < job.from + job.count; p++) {
    if (accountAt[p] < 0) continue;
    writeProof(t, p, out, levels);
    checksum = (checksum + out[(p % t.depth) * r + (p & 31)]) | 0;
    produced++;
  }
  return { produced, checksum };
}
