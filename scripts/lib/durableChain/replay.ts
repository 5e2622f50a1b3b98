import { keccak256 } from "ethers";
import type { BlockRecord, ImpersonatedTx } from "./blockRecord";
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

export const ZERO_HASH = `0x${"0".repeat(64)}`;

/**
 * hardhat_mine(n) with n > 8 does not build every block: EDR "reserves" the middle ones, which answer with a
 * zero parentHash and prevRandao, between two real empty blocks (see mine_and_commit_blocks in EDR). Such
 * blocks are recorded like any other and replayed by repeating the call.
 */
export const isReserved = (block: Pick<BlockRecord, "parentHash">): boolean => block.parentHash === ZERO_HASH;

/**
 * Mines every recorded block again, in order, on a node that holds only genesis: automine off; per block the
 * recorded coinbase, gas limit, timestamp, base fee and prevRandao; the signed transactions in block order; one
 * evm_mine; and the new block's hash compared with the recorded one. Stops at the first difference.
 * A run of reserved blocks is replayed as the hardhat_mine call that made it: the call's first block (with
 * that block's recorded inputs and transactions), one real block, the reserved ones and a closing real block.
 * The node's automine is switched back on at the end (the node's default; a paused automine is not recorded).
 */
export async function replayBlocks(rpc: Rpc, blocks: readonly BlockRecord[]): Promise<ReplayStats> {
  const started = performance.now();
  let transactions = 0;
  const head = await rpc.call<MinedHeader>("eth_getBlockByNumber", ["latest", false]);
  let coinbase = (await rpc.call<string>("eth_coinbase")).toLowerCase();
  let gasLimit = BigInt(head.gasLimit);
  // EDR's prevRandao generator: keccak256 of the last real block's prevRandao (an override becomes the new seed).
  let randao = head.mixHash;
  const checker = new HashChecker(rpc, blocks);
  await rpc.call("evm_setAutomine", [false]);
  try {
    for (let i = 0; i < blocks.length;) {
      const block = blocks[i];
      if (isReserved(block))
        throw new ReplayMismatchError(
          block.number,
          "a reserved block outside a hardhat_mine run",
          block.hash,
          undefined,
        );
      let last = i;
      try {
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
        if (block.prevRandao !== keccak256(randao)) await rpc.call("hardhat_setPrevRandao", [block.prevRandao]);
        await sendRecordedTransactions(rpc, block);
        transactions += block.rawTxs.length;
        if (i + 2 < blocks.length && !isReserved(blocks[i + 1]) && isReserved(blocks[i + 2])) {
          last = i + 2;
          while (last < blocks.length && isReserved(blocks[last])) last++;
          if (last === blocks.length) {
            const end = blocks[last - 1];
            throw new ReplayMismatchError(
              end.number,
              "the log ends inside a run of reserved blocks",
              end.hash,
              undefined,
            );
          }
          const interval = blocks[i + 1].timestamp - block.timestamp;
          await rpc.call("hardhat_mine", [toQuantity(last - i + 1), toQuantity(interval)]);
        } else {
          await rpc.call("evm_mine");
        }
      } catch (err) {
        if (!(err instanceof RpcError || err instanceof ReplayMismatchError)) throw err;
        // An earlier block that came out different explains a refusal better than the refusal itself.
        await checker.checkUpTo(i - 1, true);
        if (err instanceof ReplayMismatchError) throw err;
        throw new ReplayMismatchError(
          block.number,
          `the node refused to replay it: ${err.message}`,
          block.hash,
          undefined,
        );
      }
      await checker.checkUpTo(last, last === blocks.length - 1);
      randao = blocks[last].prevRandao;
      i = last + 1;
    }
  } finally {
    await rpc.call("evm_setAutomine", [true]).catch(() => undefined);
  }
  return { blocks: blocks.length, transactions, milliseconds: performance.now() - started };
}

const CHECK_EVERY = 64;

/**
 * Compares replayed hashes with recorded ones every CHECK_EVERY blocks and at the end: a block's hash commits
 * to its parent's, so one match vouches for every block before it. On a difference it walks the unchecked
 * blocks from the oldest to name the first block that differs.
 */
class HashChecker {
  private checked = -1;

  constructor(
    private readonly rpc: Rpc,
    private readonly blocks: readonly BlockRecord[],
  ) {}

  async checkUpTo(index: number, force: boolean): Promise<void> {
    if (index <= this.checked || (!force && index - this.checked < CHECK_EVERY)) return;
    if ((await this.minedAt(index))?.hash === this.blocks[index].hash) {
      this.checked = index;
      return;
    }
    for (let j = this.checked + 1; j <= index; j++) {
      const mined = await this.minedAt(j);
      const recorded = this.blocks[j];
      if (mined?.hash !== recorded.hash)
        throw new ReplayMismatchError(recorded.number, describeDifference(recorded, mined), recorded.hash, mined?.hash);
    }
  }

  private minedAt(index: number): Promise<MinedHeader | null> {
    return this.rpc.call<MinedHeader | null>("eth_getBlockByNumber", [toQuantity(this.blocks[index].number), false]);
  }
}

async function sendRecordedTransactions(rpc: Rpc, block: BlockRecord): Promise<void> {
  for (const [i, tx] of block.rawTxs.entries()) {
    let sent: string;
    try {
      sent = typeof tx === "string" ? await rpc.call<string>("eth_sendRawTransaction", [tx]) : await sendAs(rpc, tx);
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
}

/** Impersonation is session state, not chain state: it is switched off again once the transaction is in. */
async function sendAs(rpc: Rpc, tx: ImpersonatedTx): Promise<string> {
  await rpc.call("hardhat_impersonateAccount", [tx.from]);
  try {
    // No `type`: the node infers it from the fee fields and the access list, as it did the first time.
    const { type: _type, to, ...fields } = tx;
    return await rpc.call<string>("eth_sendTransaction", [to === null ? fields : { ...fields, to }]);
  } finally {
    await rpc.call("hardhat_stopImpersonatingAccount", [tx.from]);
  }
}

function describeDifference(recorded: BlockRecord, mined: MinedHeader | null): string {
  if (mined === null) return "the node mined no block at this height";
  const differences: string[] = [];
  if (Number(mined.timestamp) !== recorded.timestamp) differences.push("timestamp");
  if (mined.miner.toLowerCase() !== recorded.miner) differences.push("coinbase");
  if (BigInt(mined.baseFeePerGas) !== BigInt(recorded.baseFeePerGas)) differences.push("base fee");
  if (mined.mixHash !== recorded.prevRandao) differences.push("prevRandao");
  if (mined.transactions.join() !== recorded.txHashes.join()) differences.push("transactions or their order");
  if (differences.length > 0) return `the replayed block differs from the record in ${differences.join(", ")}`;
  return (
    "the replayed block has the recorded timestamp, coinbase, base fee, prevRandao and transactions but " +
    "another hash: the record was altered, or the state differs (a change made without a transaction, " +
    "such as hardhat_setBalance, or another Hardhat version)"
  );
}
