/**
 * The Merkle-sum tree encoding, version 1 (docs/reserves.md is the normative text; this file is its reference
 * implementation with ethers' keccak256 and is what every verifier here uses). The fast builder (build.ts) hashes
 * the same bytes with hash-wasm; a test proves both byte-identical.
 *
 *   snapshotId  = keccak256(abi.encode("MarginBridge.PoR.v1", chainId, ledger, epoch, snapshotBlock))
 *   commitment  = keccak256(0x03 ‖ snapshotId ‖ secret ‖ utf8(accountId))
 *   leaf        = keccak256(0x00 ‖ snapshotId ‖ commitment ‖ owed[0..K) ‖ debt[0..K))
 *   node        = keccak256(0x01 ‖ leftHash ‖ leftOwed ‖ leftDebt ‖ rightHash ‖ rightOwed ‖ rightDebt)
 *
 * Every amount is a uint128, 16 bytes big-endian; `‖` is plain concatenation. A node's sums are the per-asset sums
 * of its children, each checked to stay within uint128.
 */
import { AbiCoder, concat, getBytes, hexlify, keccak256, toUtf8Bytes, zeroPadValue, toBeHex } from "ethers";
import { ReservesError } from "./errors";

export const ENCODING_VERSION = 1 as const;
export const SNAPSHOT_DOMAIN = "MarginBridge.PoR.v1";
export const TAG_LEAF = 0x00;
export const TAG_NODE = 0x01;
export const TAG_COMMITMENT = 0x03;
export const MAX_UINT128 = (1n << 128n) - 1n;
/** Deep enough for 2^32 accounts; the contract enforces the same bound. */
export const MAX_DEPTH = 32;

/** Per-asset amounts of one leaf or one subtree: what the platform owes and what the client(s) owe it. */
export interface Sums {
  owed: bigint[];
  debt: bigint[];
}

export function snapshotId(chainId: bigint, ledger: string, epoch: bigint, snapshotBlock: bigint): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "uint256", "address", "uint256", "uint256"],
      [SNAPSHOT_DOMAIN, chainId, ledger, epoch, snapshotBlock],
    ),
  );
}

export function accountCommitment(snapshot: string, secret: string, accountId: string): string {
  assertBytes32(secret, "secret");
  return keccak256(concat([new Uint8Array([TAG_COMMITMENT]), snapshot, secret, toUtf8Bytes(accountId)]));
}

/** Throws unless `v` is an integer in [0, 2^128 - 1]: the range rule every leaf value obeys. */
export function assertUint128(v: bigint, what: string): void {
  if (v < 0n) throw new ReservesError("NEGATIVE_VALUE", `${what} is negative`, { what, value: v.toString() });
  if (v > MAX_UINT128) {
    throw new ReservesError("VALUE_OUT_OF_RANGE", `${what} exceeds uint128`, { what, value: v.toString() });
  }
}

export function assertBytes32(hex: string, what: string): void {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new ReservesError("INVALID_INPUT", `${what} must be 32 bytes hex`);
}

function u128(v: bigint): string {
  return zeroPadValue(toBeHex(v), 16);
}

function sumsBytes(s: Sums): string[] {
  return [...s.owed.map(u128), ...s.debt.map(u128)];
}

export function leafHash(snapshot: string, commitment: string, s: Sums): string {
  s.owed.forEach((v, i) => assertUint128(v, `owed[${i}]`));
  s.debt.forEach((v, i) => assertUint128(v, `debt[${i}]`));
  return keccak256(concat([new Uint8Array([TAG_LEAF]), snapshot, commitment, ...sumsBytes(s)]));
}

export function nodeHash(leftHash: string, left: Sums, rightHash: string, right: Sums): string {
  return keccak256(concat([new Uint8Array([TAG_NODE]), leftHash, ...sumsBytes(left), rightHash, ...sumsBytes(right)]));
}

/** Per-asset sum of two subtrees; refuses a sum above uint128 (the sum rule). */
export function addSums(a: Sums, b: Sums): Sums {
  const add = (x: bigint[], y: bigint[], kind: string): bigint[] =>
    x.map((v, i) => {
      const s = v + y[i];
      if (s > MAX_UINT128) throw new ReservesError("SUM_OVERFLOW", `${kind}[${i}] sum exceeds uint128`, { asset: i });
      return s;
    });
  return { owed: add(a.owed, b.owed, "owed"), debt: add(a.debt, b.debt, "debt") };
}

export function hex32(bytes: Uint8Array): string {
  return hexlify(bytes);
}

export function bytes(hex: string): Uint8Array {
  return getBytes(hex);
}
