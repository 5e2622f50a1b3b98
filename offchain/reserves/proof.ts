/**
 * Client proofs: the file a client receives, its typed form, and the offline check (reference implementation
 * with ethers' keccak256, independent of the fast builder). The same rules as ReserveLedger.verifyInclusion.
 */
import { z } from "zod";
import {
  accountCommitment,
  addSums,
  assertUint128,
  ENCODING_VERSION,
  leafHash,
  MAX_DEPTH,
  nodeHash,
  snapshotId,
  type Sums,
} from "./encoding";
import { ReservesError } from "./errors";
import type { ProofSibling } from "./sumTree";

export interface InclusionProof {
  accountCommitment: string;
  index: number;
  owed: bigint[];
  debt: bigint[];
  siblings: ProofSibling[];
}

/** What a proof is checked against: the epoch as recorded on-chain (or as published, before that check). */
export interface EpochCommitment {
  snapshotId: string;
  root: string;
  depth: number;
  liabilities: bigint[];
  debt: bigint[];
}

/**
 * Recomputes the root and the root's sums and compares both with the epoch. Throws ReservesError
 * (PROOF_INVALID, NEGATIVE_VALUE, VALUE_OUT_OF_RANGE, SUM_OVERFLOW) naming the rule that failed.
 */
export function verifyInclusion(proof: InclusionProof, epoch: EpochCommitment): string {
  const k = epoch.liabilities.length;
  const fail = (reason: string, details: Record<string, unknown> = {}): never => {
    throw new ReservesError("PROOF_INVALID", reason, details);
  };
  if (proof.owed.length !== k || proof.debt.length !== k) fail("asset count differs from the epoch's");
  if (proof.siblings.length !== epoch.depth) {
    fail("proof length differs from the tree depth", { given: proof.siblings.length, depth: epoch.depth });
  }
  if (!Number.isInteger(proof.index) || proof.index < 0 || proof.index >= 2 ** epoch.depth) {
    fail("leaf index outside the tree", { index: proof.index });
  }
  const leaf = leafHash(epoch.snapshotId, proof.accountCommitment, { owed: proof.owed, debt: proof.debt });
  let hash = leaf;
  let sums: Sums = { owed: proof.owed, debt: proof.debt };
  proof.siblings.forEach((sib, l) => {
    if (sib.owed.length !== k || sib.debt.length !== k) fail(`sibling ${l} asset count differs`);
    sib.owed.forEach((v, i) => assertUint128(v, `sibling ${l} owed[${i}]`));
    sib.debt.forEach((v, i) => assertUint128(v, `sibling ${l} debt[${i}]`));
    const right = Math.floor(proof.index / 2 ** l) % 2 === 1;
    hash = right ? nodeHash(sib.hash, sib, hash, sums) : nodeHash(hash, sums, sib.hash, sib);
    sums = addSums(sums, sib);
  });
  if (hash.toLowerCase() !== epoch.root.toLowerCase()) fail("root mismatch", { computed: hash, expected: epoch.root });
  for (let i = 0; i < k; i++) {
    if (sums.owed[i] !== epoch.liabilities[i]) {
      fail("root sums differ from the published liabilities", { asset: i, computed: sums.owed[i].toString() });
    }
    if (sums.debt[i] !== epoch.debt[i]) {
      fail("root sums differ from the published debt", { asset: i, computed: sums.debt[i].toString() });
    }
  }
  return leaf;
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const uintString = z.string().regex(/^-?[0-9]+$/);
const siblingSchema = z.object({ hash: hex32, owed: z.array(uintString), debt: z.array(uintString) }).strict();

/** The proof file a client receives (decimal strings for amounts). Carries the client's secret: keep it private. */
export const clientProofSchema = z
  .object({
    format: z.literal("marginbridge-por-proof"),
    encodingVersion: z.literal(ENCODING_VERSION),
    chainId: uintString,
    ledger: address,
    epoch: uintString,
    snapshotBlock: uintString,
    snapshotId: hex32,
    assets: z.array(address).min(1),
    depth: z.number().int().min(1).max(MAX_DEPTH),
    leafCount: z.number().int().min(1),
    root: hex32,
    liabilities: z.array(uintString),
    debt: z.array(uintString),
    account: z.object({ accountId: z.string().min(1), secret: hex32, commitment: hex32 }).strict(),
    leaf: z.object({ index: z.number().int().min(0), owed: z.array(uintString), debt: z.array(uintString) }).strict(),
    siblings: z.array(siblingSchema),
    plain: z
      .object({ root: hex32, proof: z.array(hex32) })
      .strict()
      .optional(),
  })
  .strict();

export type ClientProofFile = z.infer<typeof clientProofSchema>;

export function parseClientProof(json: unknown): ClientProofFile {
  const r = clientProofSchema.safeParse(json);
  if (!r.success) throw new ReservesError("INVALID_INPUT", "not a MarginBridge proof file", { issues: r.error.issues });
  return r.data;
}

const big = (xs: string[]): bigint[] => xs.map((x) => BigInt(x));

export function inclusionProofOf(file: ClientProofFile): InclusionProof {
  return {
    accountCommitment: file.account.commitment,
    index: file.leaf.index,
    owed: big(file.leaf.owed),
    debt: big(file.leaf.debt),
    siblings: file.siblings.map((s) => ({ hash: s.hash, owed: big(s.owed), debt: big(s.debt) })),
  };
}

/**
 * The client's offline check of its own proof file: the snapshot id follows from (chain, ledger, epoch, block),
 * the commitment from the client's id and secret, and the path from the leaf to the root and the published totals.
 */
export function verifyClientProofOffline(file: ClientProofFile): string {
  const sid = snapshotId(BigInt(file.chainId), file.ledger, BigInt(file.epoch), BigInt(file.snapshotBlock));
  if (sid !== file.snapshotId) throw new ReservesError("PROOF_INVALID", "snapshot id does not match the epoch");
  const commitment = accountCommitment(sid, file.account.secret, file.account.accountId);
  if (commitment !== file.account.commitment.toLowerCase()) {
    throw new ReservesError("PROOF_INVALID", "commitment does not match the account id and secret");
  }
  return verifyInclusion(inclusionProofOf(file), {
    snapshotId: sid,
    root: file.root,
    depth: file.depth,
    liabilities: big(file.liabilities),
    debt: big(file.debt),
  });
}

/** The proof in ReserveLedger.verifyInclusion's calldata shape. */
export function toContractProof(p: InclusionProof): {
  accountCommitment: string;
  index: bigint;
  owed: bigint[];
  debt: bigint[];
  siblingHashes: string[];
  siblingSums: bigint[];
} {
  return {
    accountCommitment: p.accountCommitment,
    index: BigInt(p.index),
    owed: p.owed,
    debt: p.debt,
    siblingHashes: p.siblings.map((s) => s.hash),
    siblingSums: p.siblings.flatMap((s) => [...s.owed, ...s.debt]),
  };
}
