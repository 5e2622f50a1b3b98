import type { CompactSignature, SignedOrderFields } from "../settlement/orders";
import { AppError } from "../shared/errors";
import { NullObserver } from "./events";
import type { InstrumentSpec } from "./instrument";
import { ATR_SCALE, type ProtectiveBook, type ProtectiveOrder } from "./protective";
import { type AccountId, type CancelReason, type ProtectiveOrderCommand, RejectCode, Side, StpMode } from "./types";

/**
 * Protective orders at the API edge: what a client posts (a trigger and the child order it signed), the book
 * command it becomes, and what the client reads back (the current stop, how far below the high it sits, status).
 */
export const PROTECTIVE_TYPES = [
  "stop",
  "stopLimit",
  "takeProfit",
  "takeProfitLimit",
  "trailing",
  "atrTrailing",
] as const;
export type ProtectiveType = (typeof PROTECTIVE_TYPES)[number];

/** Trigger fields in base units (cash base units per whole token) or basis points. */
export interface ProtectiveTrigger {
  price?: bigint;
  trailAmount?: bigint;
  trailPercentBps?: number;
  atrMultipleBps?: number;
}

/**
 * A protective order as placed: `order` is the child the client signed (side, quantity, limitPrice = the worst
 * acceptable price for stop / takeProfit / trailing kinds, the limit for the *Limit kinds, expiry).
 */
export interface PlaceProtective {
  type: ProtectiveType;
  order: SignedOrderFields;
  sig: CompactSignature;
  trigger: ProtectiveTrigger;
}

export type ProtectiveStatus = "armed" | "fired" | "cancelled";

/** What GET /v1/orders shows of a protective order (prices in cash base units per whole token). */
export interface ProtectiveView {
  orderId: number;
  instrument: string;
  type: ProtectiveType;
  side: "buy" | "sell";
  quantity: string;
  status: ProtectiveStatus;
  /** The signed child's limit: the worst acceptable price, or the limit of a *Limit kind. */
  limitPrice: string;
  /** The price that fires it now (a trailing stop's current level). */
  stopPrice: string;
  /** Trailing kinds: the highest oracle price since placement (a sell) or the lowest (a buy). */
  highest?: string;
  lowest?: string;
  /** Trailing kinds: how far the stop sits below the high (above the low for a buy), percent with 2 decimals. */
  belowHighPercent?: string;
  aboveLowPercent?: string;
  trailAmount?: string;
  trailPercentBps?: number;
  atrMultipleBps?: number;
  /** atrTrailing: the ATR over the completed bars (price units, rounded down to base units). */
  atr?: string;
  ocoWith?: number;
  /** Fired: what entered the book (after a reduce-only cut). */
  firedQuantity?: string;
  /** Fired smaller than placed: the position it could still close was smaller. */
  cutFrom?: string;
  cancelReason?: string;
}

/** The kind a book order was placed as (from its fields). */
export function protectiveType(o: Readonly<ProtectiveOrder>): ProtectiveType {
  const limit = o.limitPrice !== 0 && !o.ioc;
  if (o.trigger === "stop") return limit ? "stopLimit" : "stop";
  if (o.trigger === "takeProfit") return limit ? "takeProfitLimit" : "takeProfit";
  return o.atrMultipleBps !== 0 ? "atrTrailing" : "trailing";
}

function fieldError(code: RejectCode | string, field: string, message: string): AppError {
  return new AppError("ORDER_REJECTED", `${field}: ${message}`, { details: { reject: code, field } });
}

/** Base units to ticks, on the grid, or a 422 naming the field. */
function ticksOf(spec: InstrumentSpec, units: bigint, field: string): number {
  if (units <= 0n) throw fieldError(RejectCode.InvalidTrigger, field, "must be above 0");
  if (units % spec.tickSize !== 0n)
    throw fieldError(RejectCode.OffTickGrid, field, `not on the tick grid (${spec.tickSize} base units)`);
  const ticks = units / spec.tickSize;
  if (ticks > 2n ** 31n - 1n) throw fieldError(RejectCode.InvalidTrigger, field, "too large");
  return Number(ticks);
}

/**
 * The book command of a protective order: the signed child's side, size and limit, the trigger in ticks, the child
 * firing as IOC at the signed worst price (market-like kinds) or resting GTT until the signed expiry (*Limit kinds);
 * always reduce-only.
 */
export function protectiveCommand(
  spec: InstrumentSpec,
  p: PlaceProtective,
  id: number,
  grid: { ticks: number; lots: number },
  ocoWith?: number,
): ProtectiveOrderCommand {
  const t = p.trigger;
  const cmd: ProtectiveOrderCommand = {
    kind: "protective",
    id,
    account: p.order.account.toLowerCase(),
    side: p.order.side === 0 ? Side.Buy : Side.Sell,
    qty: grid.lots,
    trigger: "stop",
    limitPrice: grid.ticks,
    expiresAt: Number(p.order.expiry) * 1000,
    reduceOnly: true,
    stp: StpMode.CancelNewest,
  };
  if (ocoWith !== undefined) cmd.ocoWith = ocoWith;
  switch (p.type) {
    case "stop":
    case "stopLimit":
    case "takeProfit":
    case "takeProfitLimit":
      cmd.trigger = p.type.startsWith("stop") ? "stop" : "takeProfit";
      cmd.triggerPrice = ticksOf(spec, t.price ?? 0n, "trigger.price");
      if (!p.type.endsWith("Limit")) cmd.ioc = true;
      break;
    case "trailing":
      cmd.trigger = "trailing";
      cmd.ioc = true;
      if (t.trailAmount !== undefined) cmd.trailTicks = ticksOf(spec, t.trailAmount, "trigger.trailAmount");
      else cmd.trailBps = t.trailPercentBps;
      break;
    case "atrTrailing":
      cmd.trigger = "trailing";
      cmd.ioc = true;
      cmd.atrMultipleBps = t.atrMultipleBps;
      break;
  }
  return cmd;
}

/** Why the protective book refuses a command, naming the field, for the 422. */
export function protectiveRefusal(code: RejectCode, book: ProtectiveBook, cmd: ProtectiveOrderCommand): AppError {
  const field =
    cmd.triggerPrice !== undefined
      ? "trigger.price"
      : cmd.trailTicks !== undefined
        ? "trigger.trailAmount"
        : cmd.trailBps !== undefined
          ? "trigger.trailPercentBps"
          : "trigger.atrMultipleBps";
  if (code === RejectCode.OracleUnavailable && cmd.atrMultipleBps !== undefined && book.oraclePrice !== 0)
    return fieldError(
      code,
      field,
      `the ATR needs ${book.atr.period} completed bars of ${book.atr.barMs} ms; ${book.atr.completed} so far`,
    );
  if (code === RejectCode.OracleUnavailable) return fieldError(code, field, "no oracle price for the book yet");
  if (code === RejectCode.InvalidTrigger)
    return fieldError(code, field, `the order would fire at once at the oracle price (${book.oraclePrice} ticks)`);
  if (code === RejectCode.OcoPartnerInvalid) return fieldError(code, "legs", "the legs must be of one account");
  return fieldError(code, field, `refused: ${code}`);
}

/** 2-decimal percent of `part / whole`, rounded down (integer arithmetic). */
function percent(part: number, whole: number): string {
  const bps = Math.floor((part * 10_000) / whole);
  return `${Math.floor(bps / 100)}.${String(bps % 100).padStart(2, "0")}`;
}

/** One protective order as last seen, and what became of it. */
interface HistoryEntry {
  instrument: string;
  order: ProtectiveOrder;
  status: ProtectiveStatus;
  firedLots?: number;
  cutFrom?: number;
  reason?: CancelReason;
}

/**
 * Every protective order of the gateway's books and what became of it, kept from the engines' `onProtective`
 * events (the journal replay after a restart brings back those after the latest snapshot; the armed ones come from
 * the snapshot itself).
 */
export class ProtectiveHistory {
  private readonly records = new Map<number, HistoryEntry>();

  /** The observer for one book. */
  observer(instrument: string): NullObserver {
    const records = this.records;
    return Object.assign(new NullObserver(), {
      onProtective(event: string, order: Readonly<ProtectiveOrder>, qty: number, reason?: CancelReason): void {
        const r = records.get(order.id) ?? { instrument, order: { ...order }, status: "armed" as ProtectiveStatus };
        r.order = { ...order };
        if (event === "cut") r.cutFrom = order.qty;
        else if (event === "fired") {
          r.status = "fired";
          r.firedLots = qty;
        } else if (event === "cancelled") {
          r.status = "cancelled";
          r.reason = reason;
        }
        records.set(order.id, r);
      },
    });
  }

  /** Adds the armed orders a snapshot brought back (they have no event since). */
  seed(instrument: string, book: ProtectiveBook): void {
    for (const o of book.list())
      if (!this.records.has(o.id)) this.records.set(o.id, { instrument, order: { ...o }, status: "armed" });
  }

  /** An account's protective orders, newest first; armed ones as the book holds them now. */
  list(
    account: AccountId,
    books: ReadonlyMap<string, { spec: InstrumentSpec; protective: ProtectiveBook }>,
  ): ProtectiveView[] {
    const out: ProtectiveView[] = [];
    for (const [id, r] of this.records) {
      if (r.order.account !== account) continue;
      const b = books.get(r.instrument);
      if (b === undefined) continue;
      const live = r.status === "armed" ? b.protective.get(id) : undefined;
      if (r.status === "armed" && live === undefined) continue; // the next event is on its way
      out.push(viewOf(b.spec, b.protective, live ?? r.order, r));
    }
    return out.sort((a, b) => b.orderId - a.orderId);
  }

  /** One order's view (for the placement answer). */
  view(id: number, books: ReadonlyMap<string, { spec: InstrumentSpec; protective: ProtectiveBook }>): ProtectiveView {
    const r = this.records.get(id) as HistoryEntry;
    const b = books.get(r.instrument) as { spec: InstrumentSpec; protective: ProtectiveBook };
    return viewOf(b.spec, b.protective, b.protective.get(id) ?? r.order, r);
  }
}

function viewOf(
  spec: InstrumentSpec,
  book: ProtectiveBook,
  o: Readonly<ProtectiveOrder>,
  r: HistoryEntry,
): ProtectiveView {
  const price = (ticks: number): string => (BigInt(ticks) * spec.tickSize).toString();
  const lots = (n: number): string => (BigInt(n) * spec.lotSize).toString();
  const type = protectiveType(o);
  const v: ProtectiveView = {
    orderId: o.id,
    instrument: r.instrument,
    type,
    side: o.side === Side.Buy ? "buy" : "sell",
    quantity: lots(o.qty),
    status: r.status,
    limitPrice: price(o.limitPrice),
    stopPrice: price(o.triggerPrice),
  };
  if (o.trigger === "trailing" && o.extreme > 0) {
    const gap = Math.abs(o.extreme - o.triggerPrice);
    if (o.side === Side.Sell) {
      v.highest = price(o.extreme);
      v.belowHighPercent = percent(gap, o.extreme);
    } else {
      v.lowest = price(o.extreme);
      v.aboveLowPercent = percent(gap, o.extreme);
    }
  }
  if (o.trailTicks !== 0) v.trailAmount = price(o.trailTicks);
  if (o.trailBps !== 0) v.trailPercentBps = o.trailBps;
  if (o.atrMultipleBps !== 0) {
    v.atrMultipleBps = o.atrMultipleBps;
    v.atr = ((book.atr.value * spec.tickSize) / ATR_SCALE).toString();
  }
  if (o.ocoWith !== 0) v.ocoWith = o.ocoWith;
  if (r.firedLots !== undefined) v.firedQuantity = lots(r.firedLots);
  if (r.cutFrom !== undefined) v.cutFrom = lots(r.cutFrom);
  if (r.reason !== undefined) v.cancelReason = r.reason;
  return v;
}

/**
 * The reduce-only caps for the orders an oracle price fires (see OracleCommand.caps): in placement order, each may
 * close what its account still holds in the closing direction after the account's open book orders and the orders
 * capped before it.
 */
export function reduceOnlyCaps(
  firing: readonly ProtectiveOrder[],
  closable: (account: AccountId, side: Side) => number,
): Record<string, number> | undefined {
  const left = new Map<string, number>();
  const caps: Record<string, number> = {};
  let any = false;
  for (const o of firing) {
    if (!o.reduceOnly) continue;
    const key = `${o.account} ${o.side}`;
    const have = left.get(key) ?? closable(o.account, o.side);
    const cap = Math.min(o.qty, have);
    caps[String(o.id)] = cap;
    left.set(key, have - cap);
    any = true;
  }
  return any ? caps : undefined;
}
