import { z } from "zod";
import { defineRoute, type CapabilityRoutes } from "../api";
import type { SignedOrderFields } from "../settlement/orders";
import type { Ack } from "./service";
import type { OrderGateway } from "./gateway";
import { formatPrice } from "./instrument";
import { PROTECTIVE_TYPES, type PlaceProtective } from "./protectiveOrders";
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

/** What fires a protective order: prices in cash base units per whole token (on the tick grid), or basis points. */
const triggerSchema = z
  .object({
    price: uint
      .optional()
      .openapi({ description: "stop, stopLimit, takeProfit, takeProfitLimit: the oracle price that fires it" }),
    trailAmount: uint.optional().openapi({ description: "trailing: fixed distance below the high (above the low)" }),
    trailPercentBps: z
      .number()
      .int()
      .min(1)
      .max(9_999)
      .optional()
      .openapi({ description: "trailing: distance in bps of the high" }),
    atrMultipleBps: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .openapi({ description: "atrTrailing: k × ATR over the configured bars, k in bps (30000 = 3×)" }),
  })
  .strict();

const protectiveBody = z
  .object({
    type: z.enum(PROTECTIVE_TYPES),
    order: signedOrder.openapi({
      description:
        "the child order the client authorises: side, quantity, limitPrice = worst acceptable price (the limit of the *Limit kinds), expiry",
    }),
    signature: compactSig,
    trigger: triggerSchema,
  })
  .strict();

/** Which trigger fields each protective kind takes: exactly these (`issue` names the first wrong one). */
const TRIGGER_FIELDS: Record<(typeof PROTECTIVE_TYPES)[number], ReadonlyArray<keyof z.infer<typeof triggerSchema>>> = {
  stop: ["price"],
  stopLimit: ["price"],
  takeProfit: ["price"],
  takeProfitLimit: ["price"],
  trailing: ["trailAmount", "trailPercentBps"],
  atrTrailing: ["atrMultipleBps"],
};

function checkTrigger(b: z.infer<typeof protectiveBody>, path: Array<string | number>, ctx: z.RefinementCtx): void {
  const allowed = TRIGGER_FIELDS[b.type];
  const given = (Object.keys(b.trigger) as Array<keyof typeof b.trigger>).filter((k) => b.trigger[k] !== undefined);
  for (const k of given)
    if (!allowed.includes(k))
      ctx.addIssue({ code: "custom", path: [...path, "trigger", k], message: `not a field of a ${b.type} trigger` });
  if (given.filter((k) => allowed.includes(k)).length !== 1)
    ctx.addIssue({
      code: "custom",
      path: [...path, "trigger", allowed.join("|")],
      message: `a ${b.type} trigger needs exactly one of ${allowed.join(", ")}`,
    });
}

const limitBody = z
  .object({
    order: signedOrder,
    signature: compactSig,
    type: z.enum(["limit", "market"]),
    tif: z.enum(["GTC", "GTT", "IOC", "FOK"]).default("GTC"),
    postOnly: z.boolean().default(false),
    protect: protectiveBody.optional().openapi({
      description: "a sell stop carried with a buy (required above the protective template's leverage tier)",
    }),
  })
  .strict();

const ocoBody = z.object({ type: z.literal("oco"), legs: z.tuple([protectiveBody, protectiveBody]) }).strict();

/** limit / market (type defaults to limit), a protective kind, or an OCO pair, told apart by `type`. */
const placeBody = z
  .preprocess(
    (v) => (typeof v === "object" && v !== null && !Array.isArray(v) && !("type" in v) ? { ...v, type: "limit" } : v),
    z.discriminatedUnion("type", [limitBody, protectiveBody, ocoBody]),
  )
  .superRefine((b, ctx) => {
    if ("legs" in b) b.legs.forEach((leg, i) => checkTrigger(leg, ["legs", i], ctx));
    else if ("trigger" in b) checkTrigger(b, [], ctx);
    else if (b.protect !== undefined) checkTrigger(b.protect, ["protect"], ctx);
  });

function toProtective(b: z.output<typeof protectiveBody>): PlaceProtective {
  const t = b.trigger;
  return {
    type: b.type,
    order: toSigned(b.order),
    sig: b.signature,
    trigger: {
      ...(t.price !== undefined ? { price: BigInt(t.price) } : {}),
      ...(t.trailAmount !== undefined ? { trailAmount: BigInt(t.trailAmount) } : {}),
      ...(t.trailPercentBps !== undefined ? { trailPercentBps: t.trailPercentBps } : {}),
      ...(t.atrMultipleBps !== undefined ? { atrMultipleBps: t.atrMultipleBps } : {}),
    },
  };
}

const protectiveView = z.object({
  orderId: z.number(),
  instrument: z.string(),
  type: z.enum(PROTECTIVE_TYPES),
  side: z.enum(["buy", "sell"]),
  quantity: uint,
  status: z.enum(["armed", "fired", "cancelled"]),
  limitPrice: uint,
  stopPrice: uint,
  highest: uint.optional(),
  lowest: uint.optional(),
  belowHighPercent: z.string().optional(),
  aboveLowPercent: z.string().optional(),
  trailAmount: uint.optional(),
  trailPercentBps: z.number().optional(),
  atrMultipleBps: z.number().optional(),
  atr: uint.optional(),
  ocoWith: z.number().optional(),
  firedQuantity: uint.optional(),
  cutFrom: uint.optional(),
  cancelReason: z.string().optional(),
});
const placedProtective = protectiveView.extend({ orderHash: bytes32, seq: z.number() });

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
        summary: "Submit a signed order (EIP-712 SettlementHub Order), a protective order or an OCO pair",
        description:
          "The order's account must be the API key's account; it is signed by the account or a live trading key. " +
          "limitPrice/quantity map to the book's ticks/lots; a market order is IOC at its signed (worst) limitPrice. " +
          "The same signed order is accepted once (ORDER_REPLAYED, naming the order that has it); one live order per " +
          "hub nonce (NONCE_USED, NONCE_BELOW_MIN). Answered once the command is durable. An optional " +
          "Idempotency-Key gives a retry the first answer. Protective kinds (stop, stopLimit, takeProfit, " +
          "takeProfitLimit, trailing, atrTrailing) carry the child order the client signed and a `trigger`; they are " +
          "reduce-only, fire on the oracle price, and their child settles like any order. `oco` arms two legs; when " +
          "one fires or is cancelled the other is cancelled.",
        tags: ["orderbook"],
        roles: ["client"],
        write: false,
        idempotent: "optional",
        body: placeBody,
        response: z.union([
          ackSchema.extend({ instrument: z.string(), orderHash: bytes32, protective: placedProtective.optional() }),
          placedProtective,
          z.object({
            type: z.literal("oco"),
            status: z.literal("armed"),
            orderIds: z.array(z.number()),
            legs: z.array(placedProtective),
          }),
        ]),
        status: 201,
        handler: async ({ caller, body }) => {
          if ("legs" in body) {
            const legs = await gateway.placeOco(caller.subject, [
              toProtective(body.legs[0]),
              toProtective(body.legs[1]),
            ]);
            return { type: "oco" as const, status: "armed" as const, orderIds: legs.map((l) => l.orderId), legs };
          }
          if ("trigger" in body) return gateway.placeProtective(caller.subject, toProtective(body));
          const placed = await gateway.place(caller.subject, {
            order: toSigned(body.order),
            sig: body.signature,
            type: body.type,
            tif: body.tif,
            postOnly: body.postOnly,
            ...(body.protect !== undefined ? { protect: toProtective(body.protect) } : {}),
          });
          return {
            ...units(placed.instrument).ack(placed.ack),
            instrument: placed.instrument,
            orderHash: placed.orderHash,
            ...(placed.protective !== undefined ? { protective: placed.protective } : {}),
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
        summary:
          "The caller's open orders, its fills, newest first (paged: pass nextCursor as cursor), and its protective orders",
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
          protective: z.array(protectiveView),
        }),
        handler: async ({ caller, query }) => ({
          ...(await gateway.openOrders(caller.subject, { limit: query.limit, cursor: query.cursor })),
          protective: gateway.protectiveOrders(caller.subject),
        }),
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
