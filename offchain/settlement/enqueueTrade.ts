import { getAddress, isHexString } from "ethers";
import { AppError } from "../shared/errors";
import type { NewSettlementTrade, Repositories } from "../store";
import { orderId } from "./orders";

/**
 * The order book's entry point: appends one matched trade (a fill) to the durable settlement queue. Checks what
 * can be checked without the chain — sides, instrument, price within both limits, quantity within both orders,
 * order hashes equal to the orders' EIP-712 struct hashes — so a malformed trade never reaches a batch. Appending
 * the same trade again is a no-op (returns false), so the order book may retry after a crash; another trade under
 * an id already queued is refused (CONFLICT) rather than dropped.
 */
export async function enqueueTrade(
  store: Pick<Repositories, "settlement">,
  trade: NewSettlementTrade,
  now = Date.now(),
): Promise<boolean> {
  const bad = (message: string): never => {
    throw new AppError("VALIDATION_FAILED", message, { details: { tradeId: trade.tradeId } });
  };
  if (!/^[A-Za-z0-9:_.-]{1,128}$/.test(trade.tradeId)) bad("trade id must be 1-128 of [A-Za-z0-9:_.-]");
  const { buy, sell } = trade;
  if (buy.side !== 0 || sell.side !== 1) bad("buy order must have side 0 and sell order side 1");
  const instrument = getAddress(trade.instrument);
  if (getAddress(buy.instrument) !== instrument || getAddress(sell.instrument) !== instrument) {
    bad("both orders must be for the trade's instrument");
  }
  if (getAddress(buy.account) === getAddress(sell.account)) bad("self-trade");
  if (trade.quantity <= 0n || trade.price <= 0n) bad("quantity and price must be positive");
  if (trade.price > buy.limitPrice || trade.price < sell.limitPrice) bad("price outside the orders' limits");
  if (trade.quantity > buy.quantity || trade.quantity > sell.quantity) bad("quantity above an order's quantity");
  if (orderId(buy).toLowerCase() !== trade.buyOrderHash.toLowerCase()) bad("buyOrderHash is not the buy order's hash");
  if (orderId(sell).toLowerCase() !== trade.sellOrderHash.toLowerCase()) {
    bad("sellOrderHash is not the sell order's hash");
  }
  for (const s of [trade.buySig, trade.sellSig]) {
    if (!isHexString(s.r, 32) || !isHexString(s.vs, 32)) bad("signatures must be compact (r, vs) 32-byte hex");
  }
  if (await store.settlement.enqueue(trade, now)) return true;
  const queued = await store.settlement.trade(trade.tradeId);
  const same =
    queued !== undefined &&
    queued.buyOrderHash.toLowerCase() === trade.buyOrderHash.toLowerCase() &&
    queued.sellOrderHash.toLowerCase() === trade.sellOrderHash.toLowerCase() &&
    queued.quantity === trade.quantity &&
    queued.price === trade.price;
  if (!same) {
    throw new AppError("CONFLICT", "another trade is already queued under this trade id", {
      details: { tradeId: trade.tradeId },
    });
  }
  return false;
}
