import { settlementDomain, signOrder, type SignedOrderFields } from "../../offchain/settlement/orders";
import { ok } from "../lib/demoPlatform";
import type { User } from "./plan";
import type { DemoRun } from "./run";

export interface PlacedOrder {
  orderId: number;
  filledQuantity: string;
  restingQuantity: string;
  fills: { price: string; quantity: string }[];
}

/**
 * A user's limit order through `POST /v1/orders`, signed by its wallet (EIP-712, the SettlementHub's domain), good
 * for a day of chain time. Nonces come from the run's one counter (kept in its state, so a resumed run never reuses
 * one).
 */
export async function placeOrder(
  run: DemoRun,
  user: User,
  side: 0 | 1,
  instrument: string,
  limitPrice: bigint,
  quantity: bigint,
  what?: string,
): Promise<PlacedOrder> {
  const nonce = BigInt(run.state.facts.nonce ?? "1");
  const fields: SignedOrderFields = {
    account: run.address(user),
    instrument,
    side,
    expiry: BigInt((await run.d.chainTime()) + 86_400),
    limitPrice,
    quantity,
    nonce,
  };
  run.state.facts.nonce = (nonce + 1n).toString();
  run.d.saveState();
  const domain = settlementDomain(run.cfg.chainId!, run.contract("SettlementHub"));
  const signature = await signOrder(run.wallet(user), domain, fields);
  const body = {
    order: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
    signature,
  };
  return ok(
    await run.d.user(user).post<PlacedOrder>("/v1/orders", body),
    `POST /v1/orders (${user} ${side === 0 ? "buy" : "sell"} ${what ?? instrument})`,
  );
}
