import { Signature, verifyTypedData, type TypedDataDomain } from "ethers";
import type { Repositories, SettlementTrade } from "../store";
import type { DisputeSubject } from "./legal/port";
import type { EvidenceSource } from "./legal/disputes";
import { amendmentEvidenceItem, type EvidenceItem } from "./legal/evidence";
import { ORDER_TYPES } from "./orders";

/**
 * Evidence from the store for a disputed trade: the queued trade (fill), both signed orders (with the EIP-712
 * typed data and the full signature, so a third party re-verifies them with plain ethers), the batch it settled in
 * and the settling transaction. The claimed signer is the address the signature recovers to (the owner, or the
 * trading key the owner delegated on-chain); the order's `account` is in its data. Other subjects (statements,
 * liquidations) carry a note naming what to attach; their sources belong to later capabilities. Every subject also
 * carries the amendment history of the agreement it names (or of every agreement of its account, as client): each
 * amendment's text, hash, status and countersignature (with `agreementDomain`, its EIP-712 domain).
 */
export function storeEvidenceSource(
  store: Pick<Repositories, "settlement" | "legal" | "chain">,
  domain: TypedDataDomain,
  agreementDomain?: TypedDataDomain,
): EvidenceSource {
  const amendments = async (subject: DisputeSubject): Promise<EvidenceItem[]> => {
    if (!agreementDomain) return [];
    const ids = subject.agreementId
      ? [subject.agreementId]
      : (await store.legal.listAgreementsOf(subject.account))
          .filter((r) => r.document.terms.client.address.toLowerCase() === subject.account.toLowerCase())
          .map((r) => r.document.terms.agreementId);
    const lists = await Promise.all(ids.map((id) => store.legal.listAmendmentsOf(id)));
    return lists.flat().map((a) => amendmentEvidenceItem(a, agreementDomain));
  };
  return {
    async partiesOf(subject: DisputeSubject): Promise<string[] | undefined> {
      if (subject.kind === "trade") {
        const t = await store.settlement.trade(subject.ref);
        return t ? [t.buy.account, t.sell.account] : undefined;
      }
      if (subject.kind === "statement") {
        const own = await store.legal.listStatementsOf(subject.account, 10_000);
        return own.some((s) => s.hash.toLowerCase() === subject.ref.toLowerCase()) ? [subject.account] : undefined;
      }
      // A liquidation: the transaction's indexed MarginEngine.Liquidated segments name the account.
      const segments = (await store.chain.eventsOfTx("main", subject.ref)).filter((e) => e.event === "Liquidated");
      return segments.length ? [...new Set(segments.map((e) => String(e.args.account)))] : undefined;
    },
    async collect(subject: DisputeSubject): Promise<EvidenceItem[]> {
      return [...(await subjectEvidence(store, domain, subject)), ...(await amendments(subject))];
    },
  };
}

async function subjectEvidence(
  store: Pick<Repositories, "settlement">,
  domain: TypedDataDomain,
  subject: DisputeSubject,
): Promise<EvidenceItem[]> {
  if (subject.kind !== "trade") {
    return [{ kind: "note", id: subject.ref, data: { subject: subject.kind, note: "no store evidence source" } }];
  }
  const t = await store.settlement.trade(subject.ref);
  if (!t) return [{ kind: "note", id: subject.ref, data: { note: "trade not in the settlement queue" } }];
  const items: EvidenceItem[] = [
    {
      kind: "trade",
      id: t.tradeId,
      data: {
        tradeId: t.tradeId,
        seq: t.seq,
        instrument: t.instrument,
        buyOrderHash: t.buyOrderHash,
        sellOrderHash: t.sellOrderHash,
        quantity: t.quantity,
        price: t.price,
        status: t.status,
        batchId: t.batchId,
        batchIndex: t.batchIndex,
      },
    },
    // Each order is its signer's data: the other party of the trade sees it redacted.
    orderItem(t.buyOrderHash, t.buy, t.buySig, domain),
    orderItem(t.sellOrderHash, t.sell, t.sellSig, domain),
  ];
  if (t.batchId) {
    const b = await store.settlement.batch(t.batchId);
    if (b) {
      items.push({
        kind: "batch",
        id: b.batchId,
        data: {
          batchId: b.batchId,
          status: b.status,
          fills: b.fills,
          tradeCount: b.tradeCount,
          tradesRoot: b.tradesRoot,
          settledBlock: b.settledBlock,
        },
      });
    }
  }
  if (t.settledTx) {
    items.push({ kind: "transaction", id: t.settledTx, data: { hash: t.settledTx, block: t.settledBlock } });
  }
  return items;
}

function orderItem(
  hash: string,
  order: SettlementTrade["buy"],
  sig: SettlementTrade["buySig"],
  domain: TypedDataDomain,
): EvidenceItem {
  const signature = Signature.from({ r: sig.r, yParityAndS: sig.vs }).serialized;
  const message = { ...order } as Record<string, unknown>;
  return {
    kind: "order",
    id: hash,
    parties: [order.account.toLowerCase()],
    data: { ...order },
    signed: [
      {
        domain,
        types: ORDER_TYPES,
        primaryType: "Order",
        message,
        signature,
        signer: verifyTypedData(domain, ORDER_TYPES, message, signature),
      },
    ],
  };
}
