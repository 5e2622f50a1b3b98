import type { Repositories } from "../store";
import { enqueueTrade } from "./enqueueTrade";
import { orderId, type CompactSignature, type SignedOrderFields } from "./orders";

/** A trade as the order book hands it over (mirrors offchain/orderbook's SettlementTrade, without importing it). */
export interface BookTrade {
  tradeId: string;
  instrument: string;
  buy: { order: SignedOrderFields; sig: CompactSignature };
  sell: { order: SignedOrderFields; sig: CompactSignature };
  quantity: bigint;
  price: bigint;
}

/** The signal a queued trade sends (Signals.notify): the settlement batcher wakes on it instead of its next tick. */
export const TRADES_QUEUED = "settlement:trades-queued";

/**
 * The order book's trade sink: every matched fill goes into the settlement batcher's durable queue with both signed
 * orders, then `queued` is told (the batcher wakes). Idempotent by trade id (the book re-sends trades it replays
 * after a restart).
 */
export function settlementQueueSink(
  store: Pick<Repositories, "settlement">,
  queued: () => void = () => undefined,
): { enqueue(t: BookTrade): Promise<void> } {
  return {
    async enqueue(t) {
      await enqueueTrade(store, {
        tradeId: t.tradeId,
        instrument: t.instrument,
        buy: t.buy.order,
        sell: t.sell.order,
        buySig: t.buy.sig,
        sellSig: t.sell.sig,
        buyOrderHash: orderId(t.buy.order),
        sellOrderHash: orderId(t.sell.order),
        quantity: t.quantity,
        price: t.price,
      });
      queued();
    },
  };
}
