import { SettlementHub__factory } from "../../../typechain-types";
import type { ContractHandler } from "./types";

/**
 * SettlementHub → settlement_trades / settlement_batches. This is the only place a queued trade becomes
 * `settled`: `TradeSettled(batchId, …, index, …)` marks the fills the batcher put at that index of that batch,
 * `BatchSettled` marks the batch and keeps its trades root. A rewind puts them back to `submitted` and the
 * surviving events are replayed. The hub's nonce rules are projected too (what the order gateway checks before it
 * accepts an order): `OrderCancelled` spends a nonce, `MinNonceRaised` retires every nonce below it.
 */
export function settlementHubHandler(address: string): ContractHandler {
  return {
    contract: "SettlementHub",
    address,
    iface: SettlementHub__factory.createInterface(),
    events: ["BatchSettled", "TradeSettled", "OrderCancelled", "MinNonceRaised"],
    async handle(e, tx) {
      if (e.event === "OrderCancelled") {
        await tx.orderbook.recordSpentNonce(String(e.args.account), BigInt(String(e.args.nonce)));
        return;
      }
      if (e.event === "MinNonceRaised") {
        await tx.orderbook.recordMinNonce(String(e.args.account), BigInt(String(e.args.minNonce)));
        return;
      }
      const batchId = String(e.args.batchId).toLowerCase();
      if (e.event === "BatchSettled") {
        await tx.settlement.markBatchSettled(batchId, String(e.args.tradesRoot), e.blockNumber, e.txHash);
      } else if (e.event === "TradeSettled") {
        await tx.settlement.markTradeSettled(batchId, Number(e.args.index), e.blockNumber, e.txHash);
      }
    },
    async reset(tx) {
      await tx.settlement.resetSettled();
      await tx.orderbook.resetHubNonces();
    },
  };
}
