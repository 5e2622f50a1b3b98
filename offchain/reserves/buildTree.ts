/**
 * Builds the Merkle-sum tree of a snapshot: validates the liabilities, shuffles the accounts over 2^depth
 * positions, pads with random zero-sum leaves and hashes everything with hash-wasm keccak-256, on a HashPool's
 * threads when one is given (each thread takes an aligned subtree; the main thread joins the top levels).
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { getBytes } from "ethers";
import { assertBytes32, MAX_DEPTH, MAX_UINT128 } from "./encoding";
import { ReservesError } from "./errors";
import { createKeccak256 } from "./keccak";
import type { LiabilitySet } from "./liabilities";
import type { HashPool } from "./pool";
import { SumTree } from "./sumTree";
import { hashNodes, runJob, type HashJob, type JobResult } from "./treeJob";
import { allocateTree, recordOffset, type TreeBuffers } from "./treeLayout";

export interface BuildOptions {
  /** The epoch's snapshot id (encoding.snapshotId). */
  snapshotId: string;
  /** Smallest depth to use; the tree is deeper when the accounts need it. Default 1. */
  minDepth?: number;
  /** 32-byte secret seed of the shuffle and the padding commitments; random by default. Never publish it. */
  seed?: Uint8Array;
  /** Threads to hash on; without one everything runs on the calling thread. */
  pool?: HashPool;
}

/** Random stream from AES-256-CTR under the seed: the shuffle and the padding commitments. */
class KeyStream {
  private readonly cipher;
  private buf = new Uint8Array(0);
  private pos = 0;

  constructor(seed: Uint8Array) {
    this.cipher = createCipheriv("aes-256-ctr", seed, new Uint8Array(16));
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const rest = this.buf.subarray(this.pos);
    const fresh = this.cipher.update(new Uint8Array(1 << 20));
    const next = new Uint8Array(rest.length + fresh.length);
    next.set(rest);
    next.set(fresh, rest.length);
    this.buf = next;
    this.pos = 0;
  }

  /** Uniform integer in [0, bound) by rejection sampling on 32-bit draws. */
  below(bound: number): number {
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      this.ensure(4);
      const b = this.buf;
      const p = this.pos;
      this.pos += 4;
      const x = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      if (x < limit) return x % bound;
    }
  }

  fill(out: Uint8Array, offset: number, n: number): void {
    this.ensure(n);
    out.set(this.buf.subarray(this.pos, this.pos + n), offset);
    this.pos += n;
  }
}

export function depthFor(accounts: number, minDepth = 1): number {
  let d = Math.max(1, minDepth);
  while (2 ** d < accounts) d++;
  if (d > MAX_DEPTH) throw new ReservesError("INVALID_INPUT", `tree depth ${d} exceeds ${MAX_DEPTH}`);
  return d;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX["0123456789abcdef".charCodeAt(i)] = i;
for (let i = 10; i < 16; i++) HEX["ABCDEF".charCodeAt(i - 10)] = i;

/** Decodes a 0x-prefixed 32-byte hex string into out[o..o+32); false when it is not one. */
function decodeSecret(hex: unknown, out: Uint8Array, o: number): boolean {
  if (typeof hex !== "string" || hex.length !== 66 || hex[0] !== "0" || hex[1] !== "x") return false;
  for (let i = 0; i < 32; i++) {
    const a = hex.charCodeAt(2 + 2 * i);
    const b = hex.charCodeAt(3 + 2 * i);
    if ((a | b) > 127) return false;
    const hi = HEX[a];
    const lo = HEX[b];
    if ((hi | lo) < 0) return false;
    out[o + i] = (hi << 4) | lo;
  }
  return true;
}

/** Writes utf8(id) at out[o..) and returns its length; plain ASCII ids skip the encoder. */
function writeId(id: string, out: Buffer, o: number): number {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c > 127) return out.write(id, o, "utf8");
    out[o + i] = c;
  }
  return id.length;
}

/** Writes v as uint128 big-endian at out[o..o+16); the caller checked the range. */
function writeU128(out: Uint8Array, o: number, v: bigint): void {
  if (v <= SAFE) {
    const n = Number(v);
    const hi = Math.floor(n / 0x100000000);
    const lo = n >>> 0;
    out[o + 8] = hi >>> 24;
    out[o + 9] = (hi >>> 16) & 0xff;
    out[o + 10] = (hi >>> 8) & 0xff;
    out[o + 11] = hi & 0xff;
    out[o + 12] = lo >>> 24;
    out[o + 13] = (lo >>> 16) & 0xff;
    out[o + 14] = (lo >>> 8) & 0xff;
    out[o + 15] = lo & 0xff;
    return;
  }
  for (let b = 15; b >= 0; b--) {
    out[o + b] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function checkValue(v: bigint, account: string, kind: string, asset: number): void {
  if (typeof v !== "bigint") {
    throw new ReservesError("INVALID_INPUT", `${kind}[${asset}] of ${account} is not a bigint`, { account });
  }
  if (v < 0n) {
    throw new ReservesError("NEGATIVE_VALUE", `${kind}[${asset}] of account is negative`, {
      account,
      asset,
      value: v.toString(),
    });
  }
  if (v > MAX_UINT128) {
    throw new ReservesError("VALUE_OUT_OF_RANGE", `${kind}[${asset}] of account exceeds uint128`, {
      account,
      asset,
      value: v.toString(),
    });
  }
}

/**
 * Index of an account whose id (utf-8 bytes) repeats an earlier one, or -1. An open-addressing table over FNV-1a
 * hashes of the bytes, comparing bytes on a hash match: a Set of a million strings costs several times more.
 */
function findDuplicateId(ids: Uint8Array, offsets: Uint32Array, n: number): number {
  let size = 1;
  while (size < 2 * n) size <<= 1;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  for (let a = 0; a < n; a++) {
    const from = offsets[a];
    const to = offsets[a + 1];
    let h = 0x811c9dc5;
    for (let i = from; i < to; i++) h = Math.imul(h ^ ids[i], 0x01000193);
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const b = table[slot];
      if (b < 0) {
        table[slot] = a;
        break;
      }
      if (sameBytes(ids, offsets[b], offsets[b + 1], from, to)) return a;
    }
  }
  return -1;
}

function sameBytes(ids: Uint8Array, aFrom: number, aTo: number, bFrom: number, bTo: number): boolean {
  if (aTo - aFrom !== bTo - bFrom) return false;
  for (let i = 0; i < aTo - aFrom; i++) if (ids[aFrom + i] !== ids[bFrom + i]) return false;
  return true;
}

/** Builds the tree of a liability set. Throws ReservesError on any input that breaks the encoding's rules. */
export async function buildSumTree(set: LiabilitySet, opts: BuildOptions): Promise<SumTree> {
  assertBytes32(opts.snapshotId, "snapshotId");
  const started = performance.now();
  const k = set.assets.length;
  if (k === 0) throw new ReservesError("INVALID_INPUT", "a snapshot needs at least one asset");
  const n = set.accounts.length;
  const depth = depthFor(n, opts.minDepth);
  const size = 2 ** depth;
  const t = allocateTree(depth, k, getBytes(opts.snapshotId));
  const leaves = new Uint8Array(t.levels[0]);
  const accountAt = new Int32Array(t.accountAt);

  // Shuffle first so that every account's values go straight to its position.
  const stream = new KeyStream(opts.seed ?? randomBytes(32));
  for (let p = 0; p < size; p++) accountAt[p] = p < n ? p : -1 - (p - n);
  for (let i = size - 1; i > 0; i--) {
    const j = stream.below(i + 1);
    const tmp = accountAt[i];
    accountAt[i] = accountAt[j];
    accountAt[j] = tmp;
  }
  const position = new Int32Array(n);
  const commitments = new Uint8Array(t.commitments);
  for (let p = 0; p < size; p++) {
    const a = accountAt[p];
    if (a >= 0) position[a] = p;
    else stream.fill(commitments, p * 32, 32);
  }

  let idBytes = 0;
  for (const acc of set.accounts) idBytes += Buffer.byteLength(acc.accountId, "utf8");
  t.secrets = new SharedArrayBuffer(n * 32);
  t.ids = new SharedArrayBuffer(idBytes);
  t.idOffsets = new SharedArrayBuffer((n + 1) * 4);
  const secrets = Buffer.from(t.secrets);
  const ids = Buffer.from(t.ids);
  const idOffsets = new Uint32Array(t.idOffsets);
  let off = 0;
  for (let a = 0; a < n; a++) {
    const acc = set.accounts[a];
    if (typeof acc.accountId !== "string" || acc.accountId.length === 0) {
      throw new ReservesError("INVALID_INPUT", `account ${a} has no id`);
    }
    if (acc.owed.length !== k || acc.debt.length !== k) {
      throw new ReservesError("ASSET_MISMATCH", `account ${acc.accountId} does not have ${k} assets`);
    }
    if (!decodeSecret(acc.secret, secrets, a * 32)) assertBytes32(String(acc.secret), `secret of ${acc.accountId}`);
    idOffsets[a] = off;
    off += writeId(acc.accountId, ids, off);
    const o = recordOffset(position[a], k) + 32;
    for (let i = 0; i < k; i++) {
      checkValue(acc.owed[i], acc.accountId, "owed", i);
      checkValue(acc.debt[i], acc.accountId, "debt", i);
      writeU128(leaves, o + 16 * i, acc.owed[i]);
      writeU128(leaves, o + 16 * (k + i), acc.debt[i]);
    }
  }
  idOffsets[n] = off;
  const dup = findDuplicateId(new Uint8Array(t.ids), idOffsets, n);
  if (dup >= 0) {
    const accountId = set.accounts[dup].accountId;
    throw new ReservesError("DUPLICATE_ACCOUNT", "an account id appears twice", { accountId });
  }

  const prepared = performance.now();
  await hashTree(t, true, opts.pool);
  return new SumTree(t, n, {
    prepareSeconds: (prepared - started) / 1000,
    hashSeconds: (performance.now() - prepared) / 1000,
  });
}

/** A leaf as published to auditors: position order, commitment and values. */
export interface PublishedLeaf {
  commitment: string;
  owed: bigint[];
  debt: bigint[];
  padding: boolean;
}

/**
 * Rebuilds a tree from its published leaves (the auditor's path): the commitments are given, nothing is shuffled.
 * Applies the same range rules; duplicate commitments are refused.
 */
export async function buildFromLeaves(
  leavesIn: PublishedLeaf[],
  assets: number,
  snapshot: string,
  pool?: HashPool,
): Promise<SumTree> {
  const depth = Math.log2(leavesIn.length);
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
    throw new ReservesError("DATASET_INVALID", `leaf count ${leavesIn.length} is not 2^depth`);
  }
  const t = allocateTree(depth, assets, getBytes(snapshot));
  const leaves = new Uint8Array(t.levels[0]);
  const commitments = new Uint8Array(t.commitments);
  const accountAt = new Int32Array(t.accountAt);
  const seen = new Set<string>();
  let real = 0;
  let pad = 0;
  leavesIn.forEach((leaf, p) => {
    assertBytes32(leaf.commitment, `commitment at ${p}`);
    const c = leaf.commitment.toLowerCase();
    if (seen.has(c)) throw new ReservesError("DUPLICATE_COMMITMENT", `commitment at ${p} repeats`, { position: p });
    seen.add(c);
    if (leaf.owed.length !== assets || leaf.debt.length !== assets) {
      throw new ReservesError("ASSET_MISMATCH", `leaf ${p} does not have ${assets} assets`);
    }
    commitments.set(getBytes(c), p * 32);
    const o = recordOffset(p, assets) + 32;
    for (let i = 0; i < assets; i++) {
      checkValue(leaf.owed[i], `position ${p}`, "owed", i);
      checkValue(leaf.debt[i], `position ${p}`, "debt", i);
      writeU128(leaves, o + 16 * i, leaf.owed[i]);
      writeU128(leaves, o + 16 * (assets + i), leaf.debt[i]);
    }
    accountAt[p] = leaf.padding ? -1 - pad++ : real++;
  });
  await hashTree(t, false, pool);
  return new SumTree(t, real);
}

async function hashTree(t: TreeBuffers, withCommitments: boolean, pool?: HashPool): Promise<void> {
  // Split into 2^s aligned subtrees, one per thread, keeping at least a few levels per subtree.
  let s = 0;
  if (pool) while (2 ** (s + 1) <= pool.size && t.depth - (s + 1) >= 4) s++;
  const levels = t.depth - s;
  const jobs: HashJob[] = Array.from({ length: 2 ** s }, (_, i) => ({
    kind: "hash",
    tree: t,
    from: i * 2 ** levels,
    levels,
    withCommitments,
  }));
  const h = await createKeccak256();
  const results: JobResult[] = pool && s > 0 ? await pool.runAll(jobs) : jobs.map((job) => runJob(job, h));
  for (const res of results) if (res.overflow) throwOverflow(res.overflow);
  for (let l = levels + 1; l <= t.depth; l++) {
    const overflow = hashNodes(t, l, 0, 2 ** (t.depth - l), h);
    if (overflow !== undefined) throwOverflow({ level: l, index: overflow });
  }
}

function throwOverflow(at: { level: number; index: number }): never {
  throw new ReservesError("SUM_OVERFLOW", "a subtree sum exceeds uint128", at);
}
