import type { BlockRecord } from "./blockRecord";
import { RpcError, type Rpc } from "./rpc";

/** A recorded block that the fresh node did not mine identically. */
export class ReplayMismatchError extends Error {
  constructor(
    readonly blockNumber: number,
    readonly reason: string,
    readonly expectedHash: string,
    readonly actualHash: string | undefined,
  ) {
    super(`block ${blockNumber}: ${reason}`);
    this.name = "ReplayMismatchError";
  }
}

export interface ReplayStats {
  blocks: number;
  transactions: number;
  milliseconds: number;
}

interface MinedHeader {
  hash: string;
  timestamp: string;
  miner: string;
  baseFeePerGas: string;
  mixHash: string;
  gasLimit: string;
  transactions: string[];
}

export const toQuantity = (n: number | bigint): string => `0x${n.toString(16)}`;

/**
 * Mines every recorded block again, in order, on a node that holds only genesis: automine off; per block the
 * recorded coinbase, gas limit, timestamp, base fee and prevRandao; the signed transactions in block order; one
 * evm_mine; and the new block's hash compared with the recorded one. Stops at the first difference.
 * The node's automine is switched back on at the end (the node's default; a paused automine is not recorded).
 */
export async function replayBlocks(rpc: Rpc, blocks: readonly BlockRecord[]): Promise<ReplayStats> {
  const started = performance.now();
  let transactions = 0;
  let coinbase = (await rpc.call<string>("eth_coinbase")).toLowerCase();
  let gasLimit = BigInt((await rpc.call<MinedHeader>("eth_getBlockByNumber", ["latest", false])).gasLimit);
  await rpc.call("evm_setAutomine", [false]);
  try {
    for (const block of blocks) {
      if (block.miner !== coinbase) {
        await rpc.call("hardhat_setCoinbase", [block.miner]);
        coinbase = block.miner;
      }
      if (BigInt(block.gasLimit) !== gasLimit) {
        await rpc.call("evm_setBlockGasLimit", [block.gasLimit]);
        gasLimit = BigInt(block.gasLimit);
      }
      await rpc.call("evm_setNextBlockTimestamp", [block.timestamp]);
      await rpc.call("hardhat_setNextBlockBaseFeePerGas", [block.baseFeePerGas]);
      await rpc.call("hardhat_setPrevRandao", [block.prevRandao]);
      for (const [i, raw] of block.rawTxs.entries()) {
        let sent: string;
        try {
          sent = await rpc.call<string>("eth_sendRawTransaction", [raw]);
        } catch (err) {
          if (!(err instanceof RpcError)) throw err;
          const reason = `the node rejected recorded transaction ${block.txHashes[i]}: ${err.rpcMessage}`;
          throw new ReplayMismatchError(block.number, reason, block.hash, undefined);
        }
        if (sent !== block.txHashes[i]) {
          const reason = `recorded transaction ${i} hashes to ${sent}, recorded as ${block.txHashes[i]}`;
          throw new ReplayMismatchError(block.number, reason, block.hash, undefined);
        }
      }
      transactions += block.rawTxs.length;
      await rpc.call("evm_mine");
      const mined = await rpc.call<MinedHeader | null>("eth_getBlockByNumber", [toQuantity(block.number), false]);
      if (mined?.hash !== block.hash)
        throw new ReplayMismatchError(block.number, describeDifference(block, mined), block.hash, mined?.hash);
    }
  } finally {
    await rpc.call("evm_setAutomine", [true]).catch(() => undefined);
  }
  return { blocks: blocks.length, transactions, milliseconds: performance.now() - started };
}

function describeDifference(recorded: BlockRecord, mined: MinedHeader | null): string {
  if (mined === null) return "the node mined no block at this height";
  const differences: string[] = [];
  if (Number(mined.timestamp) !== recorded.timestamp) differences.push("timestamp");
  if (mined.miner.toLowerCase() !== recorded.miner) differences.push("coinbase");
  if (BigInt(mined.baseFeePerGas) !== BigInt(recorded.baseFeePerGas)) differences.push("base fee");
  if (mined.mixHash !== recorded.prevRandao) differences.push("prevRandao");
  if (mined.transactions.join() !== recorded.txHashes.join()) differences.push("transactions or their order");
  if (differences.length > 0) return `the replayed block differs in ${differences.join(", ")}`;
  return (
    "same header inputs and transactions but another hash: the state differs (a change made without a " +
    "transaction, such as hardhat_setBalance, or a different Hardhat version)"
  );
}
