import { Signature, Transaction, type TransactionLike } from "ethers";
import { z } from "zod";

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);
const hash = z.string().regex(/^0x[0-9a-f]{64}$/);

/**
 * A transaction sent from an account unlocked by hardhat_impersonateAccount: EDR signs it with a fake
 * signature (r = s = the sender), so there are no signed bytes to resend. It is replayed by impersonating the
 * sender again and sending the same fields with eth_sendTransaction, which yields the same fake signature and hash.
 */
export const impersonatedTxSchema = z
  .object({
    from: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    type: hex,
    nonce: hex,
    gas: hex,
    to: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .nullable(),
    value: hex,
    data: hex,
    gasPrice: hex.optional(),
    maxFeePerGas: hex.optional(),
    maxPriorityFeePerGas: hex.optional(),
    accessList: z.array(z.object({ address: z.string(), storageKeys: z.array(z.string()) }).strict()).optional(),
  })
  .strict();
export type ImpersonatedTx = z.infer<typeof impersonatedTxSchema>;

/**
 * One mined block as it is written to blocks.jsonl: what the node needs to mine it again (header inputs and
 * the signed transactions in block order) and the hash it must come out with. One JSON object per line.
 */
export const blockRecordSchema = z
  .object({
    number: z.number().int().positive(),
    hash,
    parentHash: hash,
    timestamp: z.number().int().nonnegative(),
    miner: z.string().regex(/^0x[0-9a-f]{40}$/),
    baseFeePerGas: hex,
    prevRandao: hash,
    gasLimit: hex,
    /** Hashes of the transactions, in block order (checked against what the node answers on resend). */
    txHashes: z.array(hash),
    /**
     * The same transactions as signed raw bytes (EIP-2718 envelopes) rebuilt from the block's fields, or, for
     * an impersonated sender, the fields to send again.
     */
    rawTxs: z.array(z.union([hex, impersonatedTxSchema])),
    /** Wall-clock unix seconds when the recorder saw the block: how far the chain clock ran ahead of time. */
    recordedAt: z.number().int().nonnegative(),
  })
  .strict()
  .refine((r) => r.txHashes.length === r.rawTxs.length, "txHashes and rawTxs differ in length");
export type BlockRecord = z.infer<typeof blockRecordSchema>;

/** The subset of eth_getBlockByNumber(n, true) the recorder reads (Hardhat's field names). */
export interface RpcBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  miner: string;
  baseFeePerGas: string;
  mixHash: string;
  gasLimit: string;
  transactions: RpcTransaction[];
}

export interface RpcTransaction {
  hash: string;
  from: string;
  type: string;
  chainId?: string;
  nonce: string;
  gas: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  to: string | null;
  value: string;
  input: string;
  accessList?: { address: string; storageKeys: string[] }[];
  authorizationList?: { chainId: string; address: string; nonce: string; yParity: string; r: string; s: string }[];
  v: string;
  r: string;
  s: string;
  yParity?: string;
}

/**
 * The transaction's signed EIP-2718 bytes, rebuilt from the fields the node returns (dev-chain transactions
 * are sent with eth_sendTransaction, so no raw bytes were ever seen). Returns undefined when the rebuilt bytes
 * do not hash to the transaction's hash or do not recover its sender: an impersonated sender (hardhat_impersonateAccount signs with a fake
 * signature) or a type this code does not know.
 */
export function rebuildRawTransaction(tx: RpcTransaction): string | undefined {
  const type = Number(tx.type);
  const like: TransactionLike = {
    type,
    nonce: Number(tx.nonce),
    gasLimit: BigInt(tx.gas),
    to: tx.to,
    value: BigInt(tx.value),
    data: tx.input,
  };
  if (tx.chainId !== undefined) like.chainId = BigInt(tx.chainId);
  if (type === 0 || type === 1) like.gasPrice = BigInt(tx.gasPrice ?? "0x0");
  else {
    like.maxFeePerGas = BigInt(tx.maxFeePerGas ?? "0x0");
    like.maxPriorityFeePerGas = BigInt(tx.maxPriorityFeePerGas ?? "0x0");
  }
  if (type !== 0) like.accessList = tx.accessList ?? [];
  if (type === 4)
    like.authorizationList = (tx.authorizationList ?? []).map((a) => ({
      address: a.address,
      nonce: BigInt(a.nonce),
      chainId: BigInt(a.chainId),
      signature: Signature.from({ r: a.r, s: a.s, yParity: Number(a.yParity) === 1 ? 1 : 0 }),
    }));
  try {
    like.signature =
      type === 0
        ? Signature.from({ r: tx.r, s: tx.s, v: BigInt(tx.v) })
        : Signature.from({ r: tx.r, s: tx.s, yParity: Number(tx.yParity ?? tx.v) === 1 ? 1 : 0 });
    const rebuilt = Transaction.from(like);
    // The hash covers the signature but not the sender: a fake signature rebuilds the hash and recovers another.
    return rebuilt.hash === tx.hash && rebuilt.from?.toLowerCase() === tx.from.toLowerCase()
      ? rebuilt.serialized
      : undefined;
  } catch {
    return undefined;
  }
}

/** EDR's fake signature for impersonated senders: r = s = the sender's address. */
function impersonatedFields(tx: RpcTransaction): ImpersonatedTx | undefined {
  const sender = BigInt(tx.from);
  if (BigInt(tx.r) !== sender || BigInt(tx.s) !== sender) return undefined;
  const type = Number(tx.type);
  const fields: ImpersonatedTx = {
    from: tx.from,
    type: tx.type,
    nonce: tx.nonce,
    gas: tx.gas,
    to: tx.to,
    value: tx.value,
    data: tx.input,
  };
  if (type === 0 || type === 1) fields.gasPrice = tx.gasPrice;
  else if (type === 2) {
    fields.maxFeePerGas = tx.maxFeePerGas;
    fields.maxPriorityFeePerGas = tx.maxPriorityFeePerGas;
  } else return undefined;
  if (type !== 0) fields.accessList = tx.accessList ?? [];
  return fields;
}

/** The record of a block, or the hashes of the transactions that can be neither rebuilt nor re-sent. */
export function toBlockRecord(block: RpcBlock, recordedAt: number): BlockRecord | { unrebuildable: string[] } {
  const rawTxs: BlockRecord["rawTxs"] = [];
  const unrebuildable: string[] = [];
  for (const tx of block.transactions) {
    const raw = impersonatedFields(tx) ?? rebuildRawTransaction(tx);
    if (raw === undefined) unrebuildable.push(tx.hash);
    else rawTxs.push(raw);
  }
  if (unrebuildable.length > 0) return { unrebuildable };
  return {
    number: Number(block.number),
    hash: block.hash,
    parentHash: block.parentHash,
    timestamp: Number(block.timestamp),
    miner: block.miner.toLowerCase(),
    baseFeePerGas: block.baseFeePerGas,
    prevRandao: block.mixHash,
    gasLimit: block.gasLimit,
    txHashes: block.transactions.map((t) => t.hash),
    rawTxs,
    recordedAt,
  };
}
