import { AbiCoder, keccak256 } from "ethers";

export const BATCH_ID_TAG = "MarginBridge settlement batch v1";

/**
 * A batch's id, deterministic from its contents: keccak256(abi.encode(tag, firstTradeId, lastTradeId,
 * keccak256(abi.encode(string[] tradeIds)))) over the queued trade ids in queue order. A retry after a crash or
 * timeout re-sends the id stored with the batch, so the hub's once-per-id rule refuses a second settlement.
 */
export function batchIdOf(tradeIds: string[]): string {
  const coder = AbiCoder.defaultAbiCoder();
  const all = keccak256(coder.encode(["string[]"], [tradeIds]));
  return keccak256(
    coder.encode(["string", "string", "string", "bytes32"], [BATCH_ID_TAG, tradeIds[0], tradeIds.at(-1), all]),
  );
}
