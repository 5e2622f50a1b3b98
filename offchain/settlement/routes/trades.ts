import { z } from "zod";
import { defineRoute, type Route } from "../../api";
import type { SettlementRouteContext } from "./common";

const TRADE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The settlement of the caller's own trades (the fills GET /v1/orders pages): queued, batched, settled or rejected,
 * with the batch and the transaction that carries it. A client sees only trades it is the buyer or the seller of;
 * any other id is answered as unknown.
 */
export function tradeStatusRoutes({ store }: SettlementRouteContext): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/v1/settlements/trades",
      summary: "Settlement status and transaction of the caller's trades (ids from GET /v1/orders' fills)",
      tags: ["settlement"],
      roles: ["client", "operator", "auditor", "risk_officer"],
      write: false,
      query: z
        .object({
          ids: z
            .string()
            .min(1)
            .max(100 * 130)
            .transform((v) => [...new Set(v.split(","))])
            .refine(
              (ids) => ids.length <= 100 && ids.every((id) => TRADE_ID.test(id)),
              "1-100 trade ids, comma-separated",
            ),
        })
        .strict(),
      response: z.object({
        trades: z.array(
          z.object({
            tradeId: z.string(),
            status: z.string(),
            batchId: z.string().nullable(),
            txHash: z.string().nullable(),
            settledBlock: z.number().nullable(),
            rejectReason: z.string().nullable(),
          }),
        ),
      }),
      handler: async ({ caller, query }) => {
        const mine = (t: { buy: { account: string }; sell: { account: string } }) =>
          caller.role !== "client" ||
          [t.buy.account, t.sell.account].some((a) => a.toLowerCase() === caller.subject.toLowerCase());
        const found = await Promise.all(query.ids.map((id) => store.settlement.trade(id)));
        const trades = await Promise.all(
          found
            .filter((t) => t !== undefined && mine(t))
            .map(async (t) => {
              const batch = t!.batchId ? await store.settlement.batch(t!.batchId) : undefined;
              return {
                tradeId: t!.tradeId,
                status: t!.status,
                batchId: t!.batchId,
                txHash: t!.settledTx ?? batch?.txHash ?? null,
                settledBlock: t!.settledBlock,
                rejectReason: t!.rejectReason,
              };
            }),
        );
        return { trades };
      },
    }),
  ];
}
