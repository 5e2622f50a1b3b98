import { Signature, TypedDataEncoder, type Signer, type TypedDataDomain } from "ethers";

/** An order as the owner signs it for the SettlementHub (mirrors ISettlementHub.Order). */
export interface SignedOrderFields {
  account: string;
  instrument: string;
  /** 0 = buy, 1 = sell */
  side: 0 | 1;
  expiry: bigint;
  /** cash base units per whole security token */
  limitPrice: bigint;
  /** security base units */
  quantity: bigint;
  nonce: bigint;
}

/** An order as JSON carries it (API bodies, the stored signed order): every integer field a decimal string. */
export type SignedOrderJson = Omit<SignedOrderFields, "expiry" | "limitPrice" | "quantity" | "nonce"> & {
  expiry: string;
  limitPrice: string;
  quantity: string;
  nonce: string;
};

export function orderToJson(order: SignedOrderFields): SignedOrderJson {
  return {
    ...order,
    expiry: order.expiry.toString(),
    limitPrice: order.limitPrice.toString(),
    quantity: order.quantity.toString(),
    nonce: order.nonce.toString(),
  };
}

/** EIP-2098 compact signature as the hub takes it. */
export interface CompactSignature {
  r: string;
  vs: string;
}

export const ORDER_TYPES = {
  Order: [
    { name: "account", type: "address" },
    { name: "instrument", type: "address" },
    { name: "side", type: "uint8" },
    { name: "expiry", type: "uint64" },
    { name: "limitPrice", type: "uint256" },
    { name: "quantity", type: "uint256" },
    { name: "nonce", type: "uint256" },
  ],
};

export const SETTLEMENT_DOMAIN_NAME = "MarginBridge Settlement";

export function settlementDomain(chainId: bigint | number, hub: string): TypedDataDomain {
  return { name: SETTLEMENT_DOMAIN_NAME, version: "1", chainId, verifyingContract: hub };
}

/** The order's id: its EIP-712 struct hash (what the hub's `orderHash` returns). */
export function orderId(order: SignedOrderFields): string {
  return TypedDataEncoder.hashStruct("Order", ORDER_TYPES, order);
}

/** Signs an order with the owner's key or a delegated trading key and returns the compact signature. */
export async function signOrder(
  signer: Signer,
  domain: TypedDataDomain,
  order: SignedOrderFields,
): Promise<CompactSignature> {
  const sig = Signature.from(await signer.signTypedData(domain, ORDER_TYPES, order));
  return { r: sig.r, vs: sig.yParityAndS };
}
