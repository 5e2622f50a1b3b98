import type { SettlementTrade } from "../store";

/** One on-chain trade (ISettlementHub.Trade) and the queued fills it settles. */
export interface NettedTrade {
  buy: SettlementTrade["buy"];
  sell: SettlementTrade["sell"];
  buySig: SettlementTrade["buySig"];
  sellSig: SettlementTrade["sellSig"];
  quantity: bigint;
  price: bigint;
  /** Trade ids of the fills merged into this trade, in queue order. */
  fills: string[];
}

/**
 * Nets a run of fills (in queue order) into on-chain trades. Exactly this is netted: fills with the same buy order
 * hash, the same sell order hash and the same price become one trade whose quantity is the sum of theirs, placed
 * where the first of them was. Both orders allow the sum, because the hub tracks fills per order cumulatively and
 * each fill was within the order's remaining quantity when matched. Nothing else is merged: not different prices,
 * not opposite flows between the same accounts (they are different orders, each with its own fill record and
 * margin effect), not fills of different orders of one account.
 *
 * Cash: the hub computes floor(Σq · price / 10^decimals) for the netted trade, which can exceed the sum of the
 * per-fill floors by less than one base unit per merged fill (the netted amount is the exact one).
 */
export function netFills(fills: SettlementTrade[]): NettedTrade[] {
  const byKey = new Map<string, NettedTrade>();
  const out: NettedTrade[] = [];
  for (const f of fills) {
    const key = `${f.buyOrderHash}/${f.sellOrderHash}/${f.price}`;
    const cur = byKey.get(key);
    if (cur) {
      cur.quantity += f.quantity;
      cur.fills.push(f.tradeId);
      continue;
    }
    const t: NettedTrade = {
      buy: f.buy,
      sell: f.sell,
      buySig: f.buySig,
      sellSig: f.sellSig,
      quantity: f.quantity,
      price: f.price,
      fills: [f.tradeId],
    };
    byKey.set(key, t);
    out.push(t);
  }
  return out;
}
