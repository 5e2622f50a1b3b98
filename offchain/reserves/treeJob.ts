/**
 * The hashing work of a build, run on a contiguous, aligned block of leaf positions, in a worker or in the main
 * thread. Pure functions over TreeBuffers; no I/O.
 */
import type { Keccak } from "./keccak";
import { pairSize, recordOffset, recordSize, sumsSize, type TreeBuffers } from "./treeLayout";

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

const TAG_LEAF = 0x00;
const TAG_NODE = 0x01;
const TAG_COMMITMENT = 0x03;

export function runJob(job: Job, h: Keccak): JobResult {
  return job.kind === "hash" ? hashBlock(job, h) : proofBlock(job);
}

function hashBlock(job: HashJob, h: Keccak): JobResult {
  const t = job.tree;
  const size = 2 ** job.levels;
  if (job.withCommitments) computeCommitments(t, job.from, size, h);
  hashLeaves(t, job.from, size, h);
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

function hashLeaves(t: TreeBuffers, from: number, size: number, h: Keccak): void {
  const r = recordSize(t.assets);
  const s = sumsSize(t.assets);
  const commitments = new Uint8Array(t.commitments);
  const leaves = new Uint8Array(t.levels[0]);
  // 0x00 ‖ snapshotId ‖ commitment ‖ sums, assembled in one buffer so that each leaf is one hash call.
  const pre = new Uint8Array(65 + s);
  pre[0] = TAG_LEAF;
  pre.set(t.snapshotId, 1);
  for (let p = from; p < from + size; p++) {
    const o = recordOffset(p, t.assets);
    pre.set(commitments.subarray(p * 32, p * 32 + 32), 33);
    pre.set(leaves.subarray(o + 32, o + r), 65);
    h.init();
    h.update(pre);
    leaves.set(h.digest("binary"), o);
  }
}

/** Hashes nodes [from, from + n) of level l from level l - 1; returns the index of a node whose sums overflow. */
export function hashNodes(t: TreeBuffers, l: number, from: number, n: number, h: Keccak): number | undefined {
  const r = recordSize(t.assets);
  const s = sumsSize(t.assets);
  const pair = pairSize(t.assets);
  const below = new Uint8Array(t.levels[l - 1]);
  const level = new Uint8Array(t.levels[l]);
  for (let j = from; j < from + n; j++) {
    const a = j * pair;
    below[a] = TAG_NODE;
    h.init();
    h.update(below.subarray(a, a + pair));
    const o = recordOffset(j, t.assets);
    level.set(h.digest("binary"), o);
    if (!addSums(below, a + 1 + 32, a + 1 + r + 32, level, o + 32, s)) return j;
  }
  return undefined;
}

function computeCommitments(t: TreeBuffers, from: number, size: number, h: Keccak): void {
  const accountAt = new Int32Array(t.accountAt);
  const commitments = new Uint8Array(t.commitments);
  const secrets = new Uint8Array(t.secrets!);
  const ids = new Uint8Array(t.ids!);
  const idOffsets = new Uint32Array(t.idOffsets!);
  let longest = 0;
  for (let a = 0; a + 1 < idOffsets.length; a++) longest = Math.max(longest, idOffsets[a + 1] - idOffsets[a]);
  // 0x03 ‖ snapshotId ‖ secret ‖ utf8(id)
  const pre = new Uint8Array(65 + longest);
  pre[0] = TAG_COMMITMENT;
  pre.set(t.snapshotId, 1);
  for (let p = from; p < from + size; p++) {
    const a = accountAt[p];
    if (a < 0) continue;
    pre.set(secrets.subarray(a * 32, a * 32 + 32), 33);
    const len = idOffsets[a + 1] - idOffsets[a];
    pre.set(ids.subarray(idOffsets[a], idOffsets[a + 1]), 65);
    h.init();
    h.update(pre.subarray(0, 65 + len));
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

/** Writes the proof of `position` into `out` (depth sibling records, bottom-up); returns the bytes written. */
export function writeProof(t: TreeBuffers, position: number, out: Uint8Array, levels?: Uint8Array[]): number {
  const r = recordSize(t.assets);
  const lv = levels ?? t.levels.map((b) => new Uint8Array(b));
  let idx = position;
  for (let l = 0; l < t.depth; l++) {
    const sib = recordOffset(idx ^ 1, t.assets);
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
