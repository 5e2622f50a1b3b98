import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import type { SignedOrderFields } from "../settlement/orders";
import type { Ack } from "./service";
import type { OrderGateway } from "./gateway";
import { formatPrice } from "./instrument";
import { Side } from "./types";

const uint = z.string().regex(/^[0-9]{1,78}$/, "unsigned integer as a decimal string");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes, 0x-prefixed");

/** The SettlementHub Order exactly as signed (EIP-712), amounts as decimal strings. */
const signedOrder = z
  .object({
    account: address,
    instrument: address.openapi({ description: "security token address" }),
    side: z.nativeEnum({ buy: 0, sell: 1 } as const).openapi({ description: "0 = buy, 1 = sell" }),
    expiry: uint.openapi({ description: "unix seconds" }),
    limitPrice: uint.openapi({
      description: "cash base units per whole security token; on the instrument's tick grid",
    }),
    quantity: uint.openapi({ description: "security base units; on the instrument's lot grid" }),
    nonce: uint,
  })
  .strict();
const compactSig = z
  .object({ r: bytes32, vs: bytes32 })
  .strict()
  .openapi({ description: "EIP-2098 compact signature" });

const placeBody = z
  .object({
    order: signedOrder,
    signature: compactSig,
    type: z.enum(["limit", "market"]).default("limit"),
    tif: z.enum(["GTC", "GTT", "IOC", "FOK"]).default("GTC"),
    postOnly: z.boolean().default(false),
  })
  .strict();

const ackSchema = z.object({
  orderId: z.number(),
  seq: z.number(),
  accepted: z.boolean(),
  filledQuantity: uint,
  restingQuantity: uint,
  cancelledQuantity: uint,
  cancelReason: z.string().nullable(),
  fills: z.array(z.object({ makerOrderId: z.number(), price: uint, quantity: uint })),
});

function toSigned(o: z.output<typeof signedOrder>): SignedOrderFields {
  return {
    account: o.account,
    instrument: o.instrument,
    side: o.side,
    expiry: BigInt(o.expiry),
    limitPrice: BigInt(o.limitPrice),
    quantity: BigInt(o.quantity),
    nonce: BigInt(o.nonce),
  };
}

/**
 * The order-entry API: signed SettlementHub orders in, book acknowledgements out (sent once the command is durable
 * in the store journal). Refusals by the book or pre-trade risk are 422 ORDER_REJECTED with `details.reject` the
 * RejectCode; a wrong account or bad signature is 403 with `details.reject` WRONG_ACCOUNT / BAD_SIGNATURE.
 */
export function orderbookRoutes(gateway: OrderGateway): CapabilityRoutes {
  const units = (instrument: string) => {
    const spec = gateway.instruments().find((s) => s.id === instrument);
    if (spec === undefined) throw new Error(`no instrument ${instrument}`);
    return {
      ack: (a: Ack): z.input<typeof ackSchema> => ({
        orderId: a.orderId,
        seq: a.seq,
        accepted: a.accepted,
        filledQuantity: (BigInt(a.filledQty) * spec.lotSize).toString(),
        restingQuantity: (BigInt(a.restingQty) * spec.lotSize).toString(),
        cancelledQuantity: (BigInt(a.cancelledQty) * spec.lotSize).toString(),
        cancelReason: a.cancelReason,
        fills: a.fills.map((f) => ({
          makerOrderId: f.makerId,
          price: (BigInt(f.price) * spec.tickSize).toString(),
          quantity: (BigInt(f.qty) * spec.lotSize).toString(),
        })),
      }),
    };
  };
  return {
    name: "orderbook",
    routes: [
      defineRoute({
        method: "post",
        path: "/v1/orders",
        summary: "Submit a signed order (EIP-712 SettlementHub Order)",
        description:
          "The order's account must be the API key's account; it is signed by the account or a live trading key. " +
          "limitPrice/quantity map to the book's ticks/lots; a market order is IOC at its signed (worst) limitPrice. " +
          "The same signed order is accepted once (ORDER_REPLAYED, naming the order that has it); one live order per " +
          "hub nonce (NONCE_USED, NONCE_BELOW_MIN). Answered once the command is durable. An optional " +
          "Idempotency-Key gives a retry the first answer.",
        tags: ["orderbook"],
        roles: ["client"],
        write: false,
        idempotent: "optional",
        body: placeBody,
        response: ackSchema.extend({ instrument: z.string(), orderHash: bytes32 }),
        status: 201,
        handler: async ({ caller, body }) => {
          const placed = await gateway.place(caller.subject, {
            order: toSigned(body.order),
            sig: body.signature,
            type: body.type,
            tif: body.tif,
            postOnly: body.postOnly,
          });
          return {
            ...units(placed.instrument).ack(placed.ack),
            instrument: placed.instrument,
            orderHash: placed.orderHash,
          };
        },
      }),
      defineRoute({
        method: "delete",
        path: "/v1/orders/:id",
        summary: "Cancel one of the caller's orders",
        tags: ["orderbook"],
        roles: ["client"],
        write: false,
        idempotent: "optional",
        params: z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict(),
        response: ackSchema,
        handler: async ({ caller, params }) => {
          const ack = await gateway.cancel(caller.subject, params.id);
          return units(gateway.instrumentOf(params.id)).ack(ack);
        },
      }),
      defineRoute({
        method: "patch",
        path: "/v1/orders/:id",
        summary: "Modify an order's price and/or size with a new signed order",
        description:
          "The hub settles only what was signed, so a modify carries a new signed order equal to the old one except " +
          "limitPrice, quantity (the order's total, filled part included) and nonce. A pure size decrease keeps " +
          "priority; a price change or size increase re-queues.",
        tags: ["orderbook"],
        roles: ["client"],
        write: false,
        idempotent: "optional",
        params: z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict(),
        body: z.object({ order: signedOrder, signature: compactSig }).strict(),
        response: ackSchema,
        handler: async ({ caller, params, body }) => {
          const ack = await gateway.modify(caller.subject, params.id, toSigned(body.order), body.signature);
          return units(gateway.instrumentOf(params.id)).ack(ack);
        },
      }),
      defineRoute({
        method: "get",
        path: "/v1/orders",
        summary: "The caller's open orders and its fills, newest first (paged: pass nextCursor as cursor)",
        tags: ["orderbook"],
        roles: ["client"],
        write: false,
        query: z
          .object({
            limit: z.coerce.number().int().min(1).max(500).default(100),
            cursor: z.string().max(64).optional(),
          })
          .strict(),
        response: z.object({
          orders: z.array(
            z.object({
              id: z.number(),
              instrument: z.string(),
              side: z.enum(["buy", "sell"]),
              price: uint,
              openQuantity: uint,
              filledQuantity: uint,
            }),
          ),
          fills: z.array(
            z.object({
              tradeId: z.string(),
              orderId: z.number(),
              instrument: z.string(),
              side: z.enum(["buy", "sell"]),
              price: uint,
              quantity: uint,
              role: z.enum(["maker", "taker"]),
            }),
          ),
          nextCursor: z.string().nullable(),
        }),
        handler: async ({ caller, query }) =>
          gateway.openOrders(caller.subject, { limit: query.limit, cursor: query.cursor }),
      }),
      defineRoute({
        method: "get",
        path: "/v1/book/:instrument",
        summary: "Depth snapshot of one book (public)",
        tags: ["orderbook"],
        roles: "public",
        write: false,
        params: z.object({ instrument: z.string().min(1).max(64) }).strict(),
        query: z.object({ levels: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
        response: z.object({
          instrument: z.string(),
          seq: z.number(),
          bids: z.array(z.object({ price: z.string(), quantity: uint, orders: z.number() })),
          asks: z.array(z.object({ price: z.string(), quantity: uint, orders: z.number() })),
        }),
        handler: async ({ params, query }) => {
          const svc = gateway.service(params.instrument);
          const spec = gateway.instruments().find((s) => s.id === svc.engine.instrument) ?? gateway.instruments()[0];
          const side = (s: Side) =>
            svc.engine.book.depth(s, query.levels).map(([p, q, n]) => ({
              price: formatPrice(spec, p),
              quantity: (BigInt(q) * spec.lotSize).toString(),
              orders: n,
            }));
          return { instrument: spec.id, seq: svc.engine.seq, bids: side(Side.Buy), asks: side(Side.Sell) };
        },
      }),
    ],
  };
}
