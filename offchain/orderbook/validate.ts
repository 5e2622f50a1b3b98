import { type BookCommand, RejectCode, Side, StpMode, TimeInForce } from "./types";

/**
 * Edge validation of a command arriving as untrusted JSON (the API decodes its requests with this before they
 * reach risk and the book): exact shape, no unknown fields, enums by name, integers where integers belong.
 * Range checks against ticks, lots and the book's bounds stay in the engine, which repeats them on replay.
 */
export type Decoded = { ok: true; cmd: BookCommand } | { ok: false; reject: RejectCode; field: string };

const SIDES: Record<string, Side> = { buy: Side.Buy, sell: Side.Sell };
const TIFS: Record<string, TimeInForce> = {
  GTC: TimeInForce.GTC,
  GTT: TimeInForce.GTT,
  IOC: TimeInForce.IOC,
  FOK: TimeInForce.FOK,
};
const STPS: Record<string, StpMode> = {
  none: StpMode.None,
  cancelNewest: StpMode.CancelNewest,
  cancelOldest: StpMode.CancelOldest,
  decrementBoth: StpMode.DecrementBoth,
};
const TRIGGERS = new Set(["stop", "takeProfit", "trailing"]);

const FIELDS: Record<string, ReadonlySet<string>> = {
  limit: new Set(["kind", "id", "account", "side", "price", "qty", "tif", "expiresAt", "postOnly", "stp"]),
  market: new Set(["kind", "id", "account", "side", "qty", "stp"]),
  cancel: new Set(["kind", "id", "account"]),
  modify: new Set(["kind", "id", "account", "price", "qty"]),
  protective: new Set([
    "kind",
    "id",
    "account",
    "side",
    "qty",
    "trigger",
    "triggerPrice",
    "trailTicks",
    "trailBps",
    "atrMultipleBps",
    "limitPrice",
    "ioc",
    "expiresAt",
    "reduceOnly",
    "ocoWith",
    "stp",
  ]),
};

class Invalid {
  constructor(
    readonly reject: RejectCode,
    readonly field: string,
  ) {}
}

function int(v: unknown, field: string, code: RejectCode): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Invalid(code, field);
  return v;
}

function optInt(v: unknown, field: string, code: RejectCode): number | undefined {
  return v === undefined ? undefined : int(v, field, code);
}

function pick<T>(table: Record<string, T>, v: unknown, field: string, code: RejectCode): T {
  if (typeof v !== "string" || !Object.prototype.hasOwnProperty.call(table, v)) throw new Invalid(code, field);
  return table[v];
}

/** Decodes `{ kind, id, account, side: "buy"|"sell", price, qty, tif: "GTC"|…, stp: "cancelNewest"|… }` etc. */
export function decodeCommand(input: unknown): Decoded {
  try {
    if (typeof input !== "object" || input === null || Array.isArray(input))
      throw new Invalid(RejectCode.MalformedCommand, "body");
    const o = input as Record<string, unknown>;
    const kind = o.kind;
    const allowed = typeof kind === "string" ? FIELDS[kind] : undefined;
    if (allowed === undefined) throw new Invalid(RejectCode.MalformedCommand, "kind");
    for (const k in o) {
      if (Object.prototype.hasOwnProperty.call(o, k) && !allowed.has(k))
        throw new Invalid(RejectCode.MalformedCommand, k);
    }
    const id = int(o.id, "id", RejectCode.InvalidOrderId);
    if (typeof o.account !== "string" || o.account.length === 0 || o.account.length > 128)
      throw new Invalid(RejectCode.UnknownAccount, "account");
    const account = o.account;
    const stp = o.stp === undefined ? undefined : pick(STPS, o.stp, "stp", RejectCode.InvalidStpMode);
    switch (kind) {
      case "limit": {
        if (o.postOnly !== undefined && typeof o.postOnly !== "boolean")
          throw new Invalid(RejectCode.InvalidTimeInForce, "postOnly");
        const cmd: BookCommand = {
          kind,
          id,
          account,
          side: pick(SIDES, o.side, "side", RejectCode.InvalidSide),
          price: int(o.price, "price", RejectCode.InvalidPrice),
          qty: int(o.qty, "qty", RejectCode.InvalidQuantity),
          tif: o.tif === undefined ? TimeInForce.GTC : pick(TIFS, o.tif, "tif", RejectCode.InvalidTimeInForce),
        };
        const expiresAt = optInt(o.expiresAt, "expiresAt", RejectCode.InvalidTimeInForce);
        if (expiresAt !== undefined) cmd.expiresAt = expiresAt;
        if (o.postOnly === true) cmd.postOnly = true;
        if (stp !== undefined) cmd.stp = stp;
        return { ok: true, cmd };
      }
      case "market": {
        const cmd: BookCommand = {
          kind,
          id,
          account,
          side: pick(SIDES, o.side, "side", RejectCode.InvalidSide),
          qty: int(o.qty, "qty", RejectCode.InvalidQuantity),
        };
        if (stp !== undefined) cmd.stp = stp;
        return { ok: true, cmd };
      }
      case "cancel":
        return { ok: true, cmd: { kind, id, account } };
      case "modify": {
        const cmd: BookCommand = { kind, id, account };
        const price = optInt(o.price, "price", RejectCode.InvalidPrice);
        const qty = optInt(o.qty, "qty", RejectCode.InvalidQuantity);
        if (price === undefined && qty === undefined) throw new Invalid(RejectCode.ModifyNoChange, "price");
        if (price !== undefined) cmd.price = price;
        if (qty !== undefined) cmd.qty = qty;
        return { ok: true, cmd };
      }
      default: {
        if (typeof o.trigger !== "string" || !TRIGGERS.has(o.trigger))
          throw new Invalid(RejectCode.InvalidTrigger, "trigger");
        const cmd: BookCommand = {
          kind: "protective",
          id,
          account,
          side: pick(SIDES, o.side, "side", RejectCode.InvalidSide),
          qty: int(o.qty, "qty", RejectCode.InvalidQuantity),
          trigger: o.trigger as "stop" | "takeProfit" | "trailing",
        };
        const fields = [
          "triggerPrice",
          "trailTicks",
          "trailBps",
          "atrMultipleBps",
          "limitPrice",
          "expiresAt",
          "ocoWith",
        ];
        for (const f of fields as Array<"triggerPrice" | "limitPrice">) {
          const v = optInt(o[f], f, f === "limitPrice" ? RejectCode.InvalidPrice : RejectCode.InvalidTrigger);
          if (v !== undefined) cmd[f] = v;
        }
        for (const f of ["ioc", "reduceOnly"] as const) {
          if (o[f] !== undefined && typeof o[f] !== "boolean") throw new Invalid(RejectCode.MalformedCommand, f);
          if (o[f] === true) cmd[f] = true;
        }
        if (stp !== undefined) cmd.stp = stp;
        return { ok: true, cmd };
      }
    }
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reject: e.reject, field: e.field };
    throw e;
  }
}
