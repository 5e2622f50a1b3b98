import type { TypedDataDomain } from "ethers";
import { orderToJson, type CompactSignature, type SignedOrderFields } from "../settlement/orders";
import { OrderVerifier } from "../settlement/orderSignature";
import { AppError } from "../shared/errors";
import type { FillCursor, FillRow, Store } from "../store";
import { NullObserver } from "./events";
import { type InstrumentSpec } from "./instrument";
import type { AccountGroup, PreTradeRisk } from "./risk";
import { rejectMessages } from "./rejectMessages";
import {
  type PlaceProtective,
  ProtectiveHistory,
  type ProtectiveView,
  protectiveCommand,
  protectiveRefusal,
  reduceOnlyCaps,
} from "./protectiveOrders";
import { BookService, JournalFailedError, type Ack } from "./service";
import { StoreJournal, StoreSnapshotStore, type WriteFence } from "./storeJournal";
import type { Repositories } from "../store";
import type { ProtectiveBook } from "./protective";
import {
  type AccountId,
  type BookCommand,
  type ProtectiveOrderCommand,
  RejectCode,
  Side,
  StpMode,
  TimeInForce,
} from "./types";

/** One side of a trade as the settlement hub takes it: the owner's signed order and its compact signature. */
export interface TradeLeg {
  order: SignedOrderFields;
  sig: CompactSignature;
}

/** A trade the book produced, handed to settlement. `price`: cash base units per whole token; `quantity`: security base units. */
export interface SettlementTrade {
  /** `<seq>-<n>`: stable across replays (the n-th trade of journal command `seq`). */
  tradeId: string;
  sequence: number;
  /** The security token address. */
  instrument: string;
  buy: TradeLeg;
  sell: TradeLeg;
  quantity: bigint;
  price: bigint;
}

/** Where trades go: the settlement batcher's durable queue. Must be idempotent by `tradeId` (replays re-enqueue). */
export interface TradeSink {
  enqueue(trade: SettlementTrade): Promise<void> | void;
}

/** The fallback sink: the store's orderbook_trades table (used only when no settlement queue is wired). */
export function storeTradeSink(store: Store): TradeSink {
  return {
    enqueue: (t) =>
      store.orderbook.enqueueTrade(
        t.tradeId,
        t.instrument.toLowerCase(),
        t.sequence,
        JSON.stringify(t, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      ),
  };
}

export type OrderType = "limit" | "market";

export interface PlaceOrder {
  order: SignedOrderFields;
  sig: CompactSignature;
  type: OrderType;
  /** Limit orders only (market orders are IOC at the signed limitPrice). GTT expires at the signed expiry. */
  tif: "GTC" | "GTT" | "IOC" | "FOK";
  postOnly: boolean;
  /** A stop carried with a buy (the protective template): placed first, cancelled if the buy is refused. */
  protect?: PlaceProtective;
}

/** A protective order as placed. */
export interface PlacedProtective extends ProtectiveView {
  orderHash: string;
  seq: number;
}

export interface PlacedOrder {
  id: number;
  orderHash: string;
  instrument: string;
  ack: Ack;
}

export interface RecentFill {
  tradeId: string;
  orderId: number;
  instrument: string;
  side: "buy" | "sell";
  price: string;
  quantity: string;
  role: "maker" | "taker";
}

export interface OrderGatewayOptions {
  store: Store;
  /** The SettlementHub's EIP-712 domain (chain id, hub address from the deployment). */
  domain: TypedDataDomain;
  /** Instruments traded; `base` is the security token address, `id` the book's name (the token symbol). */
  instruments: InstrumentSpec[];
  sink: TradeSink;
  risk?: PreTradeRisk;
  /**
   * The risk source behind `risk` when it reads the chain (ChainRiskState): refreshed per account before an order
   * is checked, told about every fill (unsettled until settlement), polled for oracle prices.
   */
  riskState?: {
    ensure(account: string): Promise<void>;
    recordTrade(
      tradeId: string,
      spec: InstrumentSpec,
      buyer: string,
      seller: string,
      ticks: number,
      lots: number,
    ): void;
    refreshOracles(): Promise<Map<string, number>>;
    /** Platform-wide limits: the books' average daily volumes, the accounts to follow, their periodic re-read. */
    setAverageDailyVolumes?(volumes: ReadonlyMap<string, bigint>): void;
    track?(accounts: readonly string[]): void;
    refreshPlatform?(): Promise<void>;
  };
  /**
   * Linked accounts (surveillance): each account's group, read before every order (cached by the directory). Its
   * limits apply through `risk`; `selfTrade` "refuse" puts the other members on the order (`linked`) so the matcher
   * prevents a trade between two members like a self-trade, "flag" lets it trade and reports it (`onGroupTrade`, after settlement's
   * hand-over; replays may report a trade again).
   */
  groups?: {
    groupOf(account: string): Promise<AccountGroup | undefined>;
    selfTrade: "refuse" | "flag";
    onGroupTrade?(t: {
      tradeId: string;
      group: string;
      taker: string;
      maker: string;
      instrument: string;
    }): Promise<void>;
  };
  /** The ATR's bars and period for every book (defaults: 14 one-day bars from 00:00 UTC). */
  atr?: { period?: number; barMs?: number; barOffsetMs?: number };
  /** Whether `key` is a live delegated trading key of `owner` (SettlementHub.tradingKeyExpiry); none when absent. */
  isTradingKey?: (owner: string, key: string) => Promise<boolean>;
  snapshotEvery?: number;
  /** Checked in every journal and snapshot transaction: the order book's lease (several instances, one writer). */
  fence?: WriteFence;
  now?: () => number;
  log?: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

interface Book {
  spec: InstrumentSpec;
  svc: BookService;
  /** Trades of journal commands not yet handed to the sink, by sequence number (removed once the sink has them). */
  trades: Map<number, Array<{ takerId: number; makerId: number; takerSide: Side; price: number; qty: number }>>;
  /** Snapshots waiting until every trade up to their sequence number is in the sink. */
  waiting: Array<{ seq: number; resolve: () => void; reject: (err: Error) => void }>;
}

interface StoredOrder {
  order: SignedOrderFields;
  sig: CompactSignature;
  instrument: string;
}

/** What a snapshot records of the orders the gateway was still placing at its instant (orphan detection). */
interface PlacingMeta {
  /** The highest order id handed out. */
  maxId: number;
  /** Ids stored but not yet sequenced (nor forgotten after a refusal). */
  placing: number[];
}

/** Whether a stored signed order is the one the book holds for that order (price, and total = open + filled). */
function agrees(o: StoredOrder, r: { price: number; qty: number; filled: number }, spec: InstrumentSpec): boolean {
  return (
    o.order.limitPrice === BigInt(r.price) * spec.tickSize &&
    o.order.quantity === BigInt(r.qty + r.filled) * spec.lotSize
  );
}

/** A fills cursor "seq.idx.role" (what `openOrders` returns as nextCursor). */
function parseCursor(cursor: string): FillCursor {
  const m = /^([0-9]{1,15})\.([0-9]{1,6})\.(maker|taker)$/.exec(cursor);
  if (m === null)
    throw new AppError("VALIDATION_FAILED", "cursor: not a cursor this endpoint returned", {
      details: { issues: [{ field: "query.cursor", message: "malformed" }] },
    });
  return { seq: Number(m[1]), idx: Number(m[2]), role: m[3] as FillCursor["role"] };
}

export function rejected(code: string, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError("ORDER_REJECTED", message, { details: { reject: code, ...details } });
}

/**
 * Submits to a book's service. A journal stopped by the store's refusal of a classified write (the lease fence's
 * NOT_LEADER once another instance took the order books) answers with that refusal, not as an internal failure.
 */
async function submitTo(book: Book, cmd: BookCommand): Promise<Ack> {
  try {
    return await book.svc.submit(cmd);
  } catch (err) {
    if (err instanceof JournalFailedError && err.cause instanceof AppError) throw err.cause;
    throw err;
  }
}

/**
 * The order-entry gateway: checks a client's EIP-712 signed SettlementHub order at the edge, maps it onto the
 * book's tick/lot grid, records the signed order, submits it to the instrument's `BookService` (store journal),
 * and hands every trade (with both signed orders) to the `TradeSink`. Book order ids are assigned here, one
 * increasing counter for every book.
 */
export class OrderGateway {
  private readonly books = new Map<string, Book>();
  private readonly byToken = new Map<string, Book>();
  private readonly orders = new Map<number, StoredOrder>();
  private nextId = 1;
  /** Order ids whose signed order is (being) stored but whose command is not sequenced yet. */
  private readonly placing = new Set<number>();
  /** One writer per order: the modify or cancel in progress on each order id, the next waits for it. */
  private readonly writers = new Map<number, Promise<unknown>>();
  private readonly lastOracle = new Map<string, number>();
  /** Protective orders and what became of them (fired, cut, cancelled). */
  private readonly history = new ProtectiveHistory();

  private constructor(
    private readonly opts: OrderGatewayOptions,
    /** The hub's order-signature rules with the domain precomputed (about 20× faster than ethers' generic path). */
    private readonly verifier: OrderVerifier,
  ) {}

  /** The order's EIP-712 struct hash (its id at the hub). */
  private orderHash(o: SignedOrderFields): string {
    return "0x" + this.verifier.structHash(o).toString("hex");
  }

  static async open(opts: OrderGatewayOptions): Promise<OrderGateway> {
    const g = new OrderGateway(opts, await OrderVerifier.create(opts.domain));
    g.nextId = (await opts.store.orderbook.maxOrderId()) + 1;
    // every account that ever traded counts in the platform-wide sums, not only those ordering after this start
    opts.riskState?.track?.(await opts.store.orderbook.tradingAccounts());
    for (const spec of opts.instruments) {
      const trades: Book["trades"] = new Map();
      let seq = 0;
      const collector = Object.assign(new NullObserver(), {
        onCommandStart(s: number): void {
          seq = s;
        },
        // applied, so sequenced: a snapshot taken from here on covers it (it is no longer being placed)
        onAccepted(id: number): void {
          g.placing.delete(id);
        },
        onRejected(id: number): void {
          g.placing.delete(id);
        },
        onTrade(
          takerId: number,
          _ta: AccountId,
          makerId: number,
          _ma: AccountId,
          takerSide: Side,
          price: number,
          qty: number,
        ): void {
          let list = trades.get(seq);
          if (list === undefined) trades.set(seq, (list = []));
          list.push({ takerId, makerId, takerSide, price, qty });
        },
      });
      const waiting: Book["waiting"] = [];
      const journal = await StoreJournal.open(opts.store, spec.id, opts.fence);
      const snapshots = new StoreSnapshotStore(opts.store, spec.id, undefined, opts.fence);
      const svc = await BookService.open({
        instrument: spec.id,
        // a snapshot compacts the journal: it may cover a command only once that command's trades are in the sink
        beforeSnapshot: (upTo) =>
          new Promise<void>((resolve, reject) => {
            if (![...trades.keys()].some((s) => s <= upTo)) return resolve();
            waiting.push({ seq: upTo, resolve, reject });
          }),
        journal,
        snapshots,
        snapshotMeta: (): PlacingMeta => ({ maxId: g.nextId - 1, placing: [...g.placing] }),
        risk: opts.risk,
        observers: [collector, g.history.observer(spec.id)],
        engine: { atrPeriod: opts.atr?.period, atrBarMs: opts.atr?.barMs, atrBarOffsetMs: opts.atr?.barOffsetMs },
        snapshotEvery: opts.snapshotEvery ?? 1_000,
        now: opts.now,
        log: opts.log,
      });
      const book: Book = { spec, svc, trades, waiting };
      g.books.set(spec.id, book);
      g.byToken.set(spec.base.toLowerCase(), book);
      await g.repair(book, journal, snapshots);
      g.history.seed(spec.id, svc.engine.protective);
      // trades replayed from the journal may not have reached the sink before a crash: hand them again (idempotent)
      for (const s of [...trades.keys()].sort((a, b) => a - b)) await g.settle(book, s);
    }
    return g;
  }

  instruments(): InstrumentSpec[] {
    return [...this.books.values()].map((b) => b.spec);
  }

  /** The book an order id belongs to (after a cancel or modify of it). */
  instrumentOf(id: number): string {
    const o = this.orders.get(id);
    if (o === undefined) throw rejected(RejectCode.UnknownOrder, `no order ${id}`);
    return o.instrument;
  }

  service(instrument: string): BookService {
    return this.book(instrument).svc;
  }

  private book(instrument: string): Book {
    const b = this.books.get(instrument) ?? this.byToken.get(instrument.toLowerCase());
    if (b === undefined) throw rejected(RejectCode.UnknownInstrument, `unknown instrument ${instrument}`);
    return b;
  }

  /**
   * Checks the signature, maps the order to the book and submits it. `caller` is the API key's account. A buy of an
   * account the protective template covers must carry its stop (`protect`): the stop is armed first (reduce-only
   * counting this buy) and cancelled again if the buy is refused.
   */
  async place(caller: string, p: PlaceOrder): Promise<PlacedOrder & { protective?: PlacedProtective }> {
    const book = this.book(p.order.instrument);
    const { ticks, lots, hash } = await this.checkSigned(caller, book.spec, p.order, p.sig);
    await this.opts.riskState?.ensure(p.order.account);
    const side = p.order.side === 0 ? Side.Buy : Side.Sell;
    const account = p.order.account.toLowerCase();
    const group = await this.readGroup(account);
    let protective: PlacedProtective | undefined;
    if (p.protect !== undefined) {
      if (
        side !== Side.Buy ||
        p.protect.order.side !== 1 ||
        p.protect.order.instrument.toLowerCase() !== p.order.instrument.toLowerCase()
      )
        throw rejected(
          RejectCode.MalformedCommand,
          "protect: a sell protective order on the same instrument, carried by a buy",
          { field: "protect" },
        );
      protective = await this.placeProtective(caller, p.protect, { pendingLots: lots, entryTicks: ticks });
    } else {
      const refusal = this.opts.risk?.checkTemplate(account, side, ticks, undefined) ?? null;
      if (refusal !== null)
        throw this.refusal(book, refusal, "protect: this account's leverage tier requires a stop with every buy");
    }
    try {
      const id = await this.claim(book, p.order, p.sig, hash);
      let cmd: BookCommand;
      if (p.type === "market") {
        // the hub refuses any fill beyond the signed limit: a market order is an IOC at its worst acceptable price
        cmd = {
          kind: "limit",
          id,
          account,
          side,
          price: ticks,
          qty: lots,
          tif: TimeInForce.IOC,
          stp: StpMode.CancelNewest,
          ...group,
        };
      } else {
        const tif = TimeInForce[p.tif];
        cmd = {
          kind: "limit",
          id,
          account,
          side,
          price: ticks,
          qty: lots,
          tif,
          postOnly: p.postOnly,
          stp: StpMode.CancelNewest,
          ...group,
        };
        if (tif === TimeInForce.GTT) cmd.expiresAt = Number(p.order.expiry) * 1000;
      }
      const ack = await this.enter(book, id, cmd);
      return { id, orderHash: hash, instrument: book.spec.id, ack, ...(protective ? { protective } : {}) };
    } catch (err) {
      // the buy was refused: its stop must not stay armed alone
      if (protective !== undefined)
        await this.cancel(caller, protective.orderId).catch((e: unknown) =>
          this.opts.log?.("warn", "could not cancel the stop of a refused buy", {
            id: protective?.orderId,
            err: String(e),
          }),
        );
      throw err;
    }
  }

  /**
   * Arms a protective order: checks the signed child like any order, checks the trigger against the book, checks that
   * it only reduces a position (`pendingLots`: a buy it is carried with, not filled yet), stores the signed child
   * and submits the protective command (reduce-only; the child settles like any order when it fires).
   */
  async placeProtective(
    caller: string,
    p: PlaceProtective,
    opts: { pendingLots?: number; entryTicks?: number; ocoWith?: number } = {},
  ): Promise<PlacedProtective> {
    const book = this.book(p.order.instrument);
    const { ticks, lots, hash } = await this.checkSigned(caller, book.spec, p.order, p.sig);
    const protective = book.svc.engine.protective;
    const draft = protectiveCommand(book.spec, p, this.nextId, { ticks, lots }, opts.ocoWith);
    const code = protective.check(draft);
    if (code !== null) throw protectiveRefusal(code, protective, draft);
    await this.opts.riskState?.ensure(p.order.account);
    const risk = this.opts.risk;
    if (risk !== undefined) {
      const closable = risk.closableLots(draft.account, book.spec.id, draft.side) + (opts.pendingLots ?? 0);
      if (lots > closable)
        throw rejected(
          RejectCode.ReduceOnly,
          `order.quantity: a protective order only reduces a position; it may close ${BigInt(closable) * book.spec.lotSize} units`,
          { field: "order.quantity", closable: (BigInt(closable) * book.spec.lotSize).toString() },
        );
      if (opts.entryTicks !== undefined) {
        const stop = this.stopAtPlacement(protective, draft);
        const refusal = risk.checkTemplate(draft.account, Side.Buy, opts.entryTicks, stop);
        if (refusal !== null) throw this.refusal(book, refusal, "protect: the stop is too far below the entry");
      }
    }
    const id = await this.claim(book, p.order, p.sig, hash);
    const ack = await this.enter(book, id, { ...draft, id });
    return { ...this.history.view(id, this.protectiveBooks()), orderHash: hash, seq: ack.seq };
  }

  /** A linked-account group's use of its limits (this instance's pre-trade risk); undefined without pre-trade risk. */
  groupUsage(members: readonly string[]): ReturnType<PreTradeRisk["groupUsage"]> | undefined {
    return this.opts.risk?.groupUsage(members, (this.opts.now ?? Date.now)());
  }

  /**
   * Reads the account's linked-account group for the order: hands it to pre-trade risk (group limits), brings every
   * other member's chain view up to date (their exposure counts), and returns the order's `linked` field when the
   * group refuses trades with itself ({} otherwise).
   */
  private async readGroup(account: string): Promise<{ linked?: string[] }> {
    const groups = this.opts.groups;
    if (groups === undefined) return {};
    const group = await groups.groupOf(account);
    this.opts.risk?.setGroup(account, group);
    if (group === undefined) return {};
    const others = group.members.filter((m) => m !== account);
    const riskState = this.opts.riskState;
    if (riskState !== undefined) await Promise.all(others.map((m) => riskState.ensure(m)));
    return groups.selfTrade === "refuse" ? { linked: others } : {};
  }

  /** A trade between two members of one group, when the group is flagged rather than refused (see `groups`). */
  private async reportGroupTrade(tradeId: string, instrument: string, taker: string, maker: string): Promise<void> {
    const groups = this.opts.groups;
    if (groups?.selfTrade !== "flag" || groups.onGroupTrade === undefined) return;
    try {
      const group = await groups.groupOf(taker);
      if (group === undefined || !group.members.includes(maker)) return;
      await groups.onGroupTrade({ tradeId, group: group.id, taker, maker, instrument });
    } catch (err) {
      this.opts.log?.("warn", "could not report a trade within a linked-account group", { tradeId, err: String(err) });
    }
  }

  /** An OCO pair: the first leg, then the second paired with it; if the second is refused the first is cancelled. */
  async placeOco(caller: string, legs: readonly [PlaceProtective, PlaceProtective]): Promise<PlacedProtective[]> {
    const [a, b] = legs;
    if (a.order.instrument.toLowerCase() !== b.order.instrument.toLowerCase() || a.order.side !== b.order.side)
      throw rejected(
        RejectCode.OcoPartnerInvalid,
        "legs: both legs close the same position (one instrument, one side)",
        {
          field: "legs",
        },
      );
    const first = await this.placeProtective(caller, a);
    try {
      const second = await this.placeProtective(caller, b, { ocoWith: first.orderId });
      return [
        { ...this.history.view(first.orderId, this.protectiveBooks()), orderHash: first.orderHash, seq: first.seq },
        second,
      ];
    } catch (err) {
      await this.cancel(caller, first.orderId).catch(() => undefined);
      throw err;
    }
  }

  /** The stop price an order would start at now (fixed: its trigger; trailing: from the oracle price). */
  private stopAtPlacement(book: ProtectiveBook, cmd: ProtectiveOrderCommand): number {
    if (cmd.triggerPrice !== undefined) return cmd.triggerPrice;
    const extreme = book.oraclePrice;
    const d = book.distance({
      extreme,
      trailTicks: cmd.trailTicks ?? 0,
      trailBps: cmd.trailBps ?? 0,
      atrMultipleBps: cmd.atrMultipleBps ?? 0,
    });
    return cmd.side === Side.Sell ? extreme - d : extreme + d;
  }

  private refusal(book: Book, code: RejectCode, fallback: string): AppError {
    const messages = rejectMessages(code, book.spec.id);
    return rejected(code, messages?.en ?? fallback, {
      field: "protect",
      ...(messages !== undefined ? { messages } : {}),
    });
  }

  private protectiveBooks(): Map<string, { spec: InstrumentSpec; protective: ProtectiveBook }> {
    const out = new Map<string, { spec: InstrumentSpec; protective: ProtectiveBook }>();
    for (const [id, b] of this.books) out.set(id, { spec: b.spec, protective: b.svc.engine.protective });
    return out;
  }

  /** The caller's protective orders (armed, fired, cancelled), newest first. */
  protectiveOrders(caller: string): ProtectiveView[] {
    return this.history.list(caller.toLowerCase(), this.protectiveBooks());
  }

  /** Stores a signed order under a new id (replay and nonce checks in one transaction). */
  private async claim(book: Book, order: SignedOrderFields, sig: CompactSignature, hash: string): Promise<number> {
    const id = this.nextId++;
    const stored: StoredOrder = { order, sig, instrument: book.spec.id };
    this.placing.add(id);
    try {
      await this.opts.store.transaction(async (tx) => {
        await this.opts.fence?.(tx);
        const fresh = await tx.orderbook.insertOrder({
          orderId: id,
          instrument: book.spec.id,
          account: order.account,
          orderHash: hash,
          body: encodeStored(stored),
        });
        if (!fresh) throw await replayed(tx, hash);
        // the hub spends a nonce once: one live order per (account, nonce), none on a spent or retired nonce
        if (!(await tx.orderbook.reserveNonce(order.account, order.nonce, id)))
          throw (await nonceRefusal(tx, order.account, order.nonce, id)) ?? new Error("nonce reservation failed");
      });
    } catch (err) {
      this.placing.delete(id);
      throw err;
    }
    this.orders.set(id, stored);
    return id;
  }

  /** Submits a new order's command; a command never sequenced forgets the stored signed order (it may come again). */
  private async enter(book: Book, id: number, cmd: BookCommand): Promise<Ack> {
    try {
      const before = book.svc.engine.seq;
      const pending = this.submit(book, cmd);
      // sequenced (synchronously, in submit): from here the journal decides whether the order exists
      const sequenced = book.svc.engine.seq > before;
      if (sequenced) this.placing.delete(id);
      try {
        return await pending;
      } catch (err) {
        // never sequenced (refused by pre-trade risk, or the book stopped): the signed order may come again
        if (!sequenced) {
          this.orders.delete(id);
          await this.opts.store.orderbook
            .deleteOrder(id)
            .catch((e: unknown) =>
              this.opts.log?.("warn", "could not forget an order that never entered the book", { id, err: String(e) }),
            );
        }
        throw err;
      }
    } finally {
      this.placing.delete(id);
    }
  }

  /** Cancels the caller's order `id`. */
  async cancel(caller: string, id: number): Promise<Ack> {
    return this.exclusive(id, async () => {
      const { book } = await this.owned(caller, id);
      return this.submit(book, { kind: "cancel", id, account: caller.toLowerCase() });
    });
  }

  /**
   * Modifies the caller's order `id` to the price and size of a new signed order (the hub settles only what was
   * signed, so a new price or size needs a new signature). The new signed order must match the old one except for
   * limitPrice, quantity and nonce; it replaces the old one for every later fill of this book order. Modifies and
   * cancels of one order run one at a time (one writer per order).
   */
  async modify(caller: string, id: number, order: SignedOrderFields, sig: CompactSignature): Promise<Ack> {
    return this.exclusive(id, () => this.modifyNow(caller, id, order, sig));
  }

  private async modifyNow(caller: string, id: number, order: SignedOrderFields, sig: CompactSignature): Promise<Ack> {
    const { book, stored } = await this.owned(caller, id);
    const o = stored.order;
    if (
      order.account.toLowerCase() !== o.account.toLowerCase() ||
      order.instrument.toLowerCase() !== o.instrument.toLowerCase() ||
      order.side !== o.side ||
      order.expiry !== o.expiry
    ) {
      throw rejected(RejectCode.MalformedCommand, "a modify may change only limitPrice, quantity and nonce");
    }
    const { ticks, lots, hash } = await this.checkSigned(caller, book.spec, order, sig);
    await this.opts.riskState?.ensure(order.account);
    await this.readGroup(order.account.toLowerCase());
    // the book counts open lots; the signed quantity is the order's total, so what has filled stays filled
    const openLots = (): number => {
      const r = book.svc.engine.book.get(id);
      if (r === undefined) throw rejected(RejectCode.UnknownOrder, `order ${id} is not resting`);
      if (lots - r.filled <= 0)
        throw rejected(RejectCode.InvalidQuantity, "the new quantity is not above what has filled");
      return lots - r.filled;
    };
    openLots();
    const next: StoredOrder = { order, sig, instrument: book.spec.id };
    const oldHash = this.orderHash(o);
    const newNonce = order.nonce !== o.nonce;
    // the new signed order is stored before the book changes (a crash in between is repaired at the next open),
    // and only over the version this request read (compare-and-swap)
    const reserved = await this.opts.store.transaction(async (tx) => {
      await this.opts.fence?.(tx);
      const r = await tx.orderbook.replaceOrder(id, hash, encodeStored(next), oldHash);
      if (r === "used") throw await replayed(tx, hash);
      if (r === "changed")
        throw new AppError("CONFLICT", `order ${id} was changed by another request; read it again`, {
          details: { orderId: id },
        });
      if (!newNonce) return false;
      if (await tx.orderbook.reserveNonce(order.account, order.nonce, id)) return true;
      // refused unless the nonce is already this order's own (an earlier version of it used it)
      const refusal = await nonceRefusal(tx, order.account, order.nonce, id);
      if (refusal) throw refusal;
      return false;
    });
    let ack: Ack;
    try {
      // fills may have happened while the new signed order was stored: the open quantity is taken at sequencing,
      // and fills before this point settle under the old signed order, fills after it under the new one
      const cmd: BookCommand = { kind: "modify", id, account: caller.toLowerCase(), price: ticks, qty: openLots() };
      this.orders.set(id, next);
      ack = await this.submit(book, cmd);
    } catch (err) {
      if (err instanceof AppError && err.code === "ORDER_REJECTED")
        await this.restore(id, stored, next, hash, reserved);
      throw err;
    }
    return ack;
  }

  /**
   * Puts back the signed order a refused modify replaced, only while the stored one is still the one that modify
   * wrote (compare-and-swap); gives back the nonce the refused one reserved (`releaseNonce`: it reserved a new one).
   */
  private async restore(
    id: number,
    previous: StoredOrder,
    refused: StoredOrder,
    refusedHash: string,
    releaseNonce: boolean,
  ): Promise<void> {
    const restored = await this.opts.store.transaction(async (tx) => {
      await this.opts.fence?.(tx);
      const r = await tx.orderbook.replaceOrder(
        id,
        this.orderHash(previous.order),
        encodeStored(previous),
        refusedHash,
      );
      if (r === "ok" && releaseNonce) await tx.orderbook.releaseNonce(refused.order.account, refused.order.nonce, id);
      return r === "ok";
    });
    if (restored) this.orders.set(id, previous);
    else this.opts.log?.("warn", "a refused modify's signed order was replaced since; not restored", { id });
  }

  /** Runs `fn` once every earlier modify or cancel of order `id` has finished: one writer per order. */
  private async exclusive<T>(id: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.writers.get(id) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    this.writers.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.writers.get(id) === tail) this.writers.delete(id);
    }
  }

  /**
   * Cancels book orders whose nonce the hub has since spent (the client's on-chain cancelOrder) or retired
   * (raiseMinNonce): their fills could never settle. Returns how many were cancelled.
   */
  async cancelDeadNonces(): Promise<number> {
    let cancelled = 0;
    for (const id of await this.opts.store.orderbook.ordersWithDeadNonces()) {
      const live = (b: Book): boolean => b.svc.engine.book.has(id) || b.svc.engine.protective.has(id);
      if (![...this.books.values()].some(live)) continue;
      const o = await this.stored(id);
      const book = o && this.books.get(o.instrument);
      if (!o || !book || !live(book)) continue;
      await this.exclusive(id, () =>
        this.submit(book, { kind: "cancel", id, account: o.order.account.toLowerCase() }).catch(() => undefined),
      );
      cancelled++;
      this.opts.log?.("info", "order cancelled: its nonce is spent on-chain", { id, nonce: o.order.nonce.toString() });
    }
    return cancelled;
  }

  /**
   * At open, after replay: forgets signed orders a previous process stored but never journaled (it died between
   * the two; such an order is in no book, so it may be submitted again), and puts back the signed order of any
   * order whose modify was stored but never applied. The latest snapshot says which order ids were still being
   * placed at its instant; journaled placements after it name the rest.
   */
  private async repair(book: Book, journal: StoreJournal, snapshots: StoreSnapshotStore): Promise<void> {
    const { spec } = book;
    const latest = await snapshots.latestWithMeta();
    const meta = latest?.meta as Partial<PlacingMeta> | undefined;
    if (latest === undefined || typeof meta?.maxId === "number") {
      const journaled = new Set<number>();
      for (const e of await journal.read(latest?.snapshot.seq ?? 0))
        if (e.cmd.kind === "limit" || e.cmd.kind === "market" || e.cmd.kind === "protective") journaled.add(e.cmd.id);
      const maxId = meta?.maxId ?? 0;
      this.nextId = Math.max(this.nextId, maxId + 1);
      const orphans = (await this.opts.store.orderbook.orderIdsAfter(spec.id, maxId, meta?.placing ?? [])).filter(
        (id) => !journaled.has(id),
      );
      for (const id of orphans) {
        await this.opts.store.transaction(async (tx) => {
          await this.opts.fence?.(tx);
          await tx.orderbook.deleteOrder(id);
        });
        this.orders.delete(id);
      }
      if (orphans.length > 0)
        this.opts.log?.("warn", "forgot signed orders stored but never journaled (in no book)", {
          instrument: spec.id,
          orderIds: orphans,
        });
    } else {
      this.opts.log?.("warn", "the latest snapshot predates placement tracking; unjournaled orders not checked", {
        instrument: spec.id,
      });
    }
    for (const m of await this.opts.store.orderbook.modifiedOrders(spec.id)) {
      const r = book.svc.engine.book.get(m.orderId);
      if (r === undefined || agrees(decodeStored(m.body), r, spec)) continue;
      const previous = decodeStored(m.prevBody);
      if (!agrees(previous, r, spec)) {
        this.opts.log?.("error", "stored signed order disagrees with the book", { id: m.orderId, instrument: spec.id });
        continue;
      }
      // its new nonce (if any) stays reserved: whether the lost modify reserved it or an earlier version used it is
      // not known here, and a reserved nonce only costs the client another nonce
      await this.restore(m.orderId, previous, decodeStored(m.body), m.orderHash, false);
      this.opts.log?.("warn", "put back the signed order of a modify that never reached the book", { id: m.orderId });
    }
  }

  /**
   * The caller's resting orders on every book and a page of its fills from the store (newest first; `cursor` is
   * the previous page's `nextCursor`).
   */
  async openOrders(
    caller: string,
    page: { limit: number; cursor?: string } = { limit: 100 },
  ): Promise<{
    orders: Array<{
      id: number;
      instrument: string;
      side: "buy" | "sell";
      price: string;
      openQuantity: string;
      filledQuantity: string;
    }>;
    fills: RecentFill[];
    nextCursor: string | null;
  }> {
    const account = caller.toLowerCase();
    const orders = [];
    for (const b of this.books.values()) {
      for (const side of [Side.Buy, Side.Sell]) {
        for (const r of b.svc.engine.book.restingOrders(side)) {
          if (r.account !== account) continue;
          orders.push({
            id: r.id,
            instrument: b.spec.id,
            side: side === Side.Buy ? ("buy" as const) : ("sell" as const),
            price: (BigInt(r.price) * b.spec.tickSize).toString(),
            openQuantity: (BigInt(r.qty) * b.spec.lotSize).toString(),
            filledQuantity: (BigInt(r.filled) * b.spec.lotSize).toString(),
          });
        }
      }
    }
    const before = page.cursor === undefined ? undefined : parseCursor(page.cursor);
    const rows = await this.opts.store.orderbook.fills(account, page.limit, before);
    const last = rows[rows.length - 1];
    return {
      orders,
      fills: rows.map((f) => ({
        tradeId: f.tradeId,
        orderId: f.orderId,
        instrument: f.instrument,
        side: f.side,
        price: f.price.toString(),
        quantity: f.quantity.toString(),
        role: f.role,
      })),
      nextCursor: rows.length === page.limit && last !== undefined ? `${last.seq}.${last.idx}.${last.role}` : null,
    };
  }

  async close(): Promise<void> {
    for (const b of this.books.values()) {
      // a snapshot still waiting for trades the sink never took is abandoned: replay re-derives those trades
      for (const w of b.waiting.splice(0)) w.reject(new Error("closing with trades not yet in the settlement queue"));
      await b.svc.close();
    }
  }

  /** Submits a command to a book and hands its trades to the sink once the command is durable. */
  async submit(book: Book, cmd: BookCommand): Promise<Ack> {
    const ack = await submitTo(book, cmd);
    if (ack.seq > 0) await this.settle(book, ack.seq);
    if (!ack.accepted && ack.reject !== null) {
      // pre-trade refusals never reach the journal: surveillance keeps them (price-band probing), before the answer
      if (ack.seq === 0 && "account" in cmd)
        await this.opts.store.alerts.recordRefusal({
          instrument: book.spec.id,
          account: cmd.account,
          orderId: ack.orderId,
          code: ack.reject,
          at: (this.opts.now ?? Date.now)(),
        });
      // what the client reads, in both languages, naming the limit that refused the order
      const messages = rejectMessages(ack.reject, book.spec.id);
      throw rejected(ack.reject, messages?.en ?? `order refused: ${ack.reject}`, {
        orderId: ack.orderId,
        seq: ack.seq,
        ...(messages !== undefined ? { messages } : {}),
      });
    }
    return ack;
  }

  /**
   * Submits the oracle price (ticks) of `instrument` as a journaled command (fires protective orders). The
   * reduce-only caps of the orders it fires are computed from fresh positions right before it is sequenced (no
   * await in between) and journaled with it.
   */
  async oracle(instrument: string, priceTicks: number): Promise<void> {
    const book = this.book(instrument);
    const protective = book.svc.engine.protective;
    const accounts = new Set(protective.wouldFire(priceTicks).map((o) => o.account));
    for (const a of accounts) await this.opts.riskState?.ensure(a);
    const risk = this.opts.risk;
    const caps = reduceOnlyCaps(protective.wouldFire(priceTicks), (account, side) =>
      risk === undefined ? Number.MAX_SAFE_INTEGER : risk.closableLots(account, book.spec.id, side),
    );
    const ack = await submitTo(book, { kind: "oracle", price: priceTicks, ...(caps ? { caps } : {}) });
    if (ack.seq > 0) await this.settle(book, ack.seq);
  }

  /** Reads every instrument's oracle price and submits the changed ones to their books as `oracle` commands. */
  async pollOracles(): Promise<void> {
    if (this.opts.riskState === undefined) return;
    await this.refreshPlatform();
    const prices = await this.opts.riskState.refreshOracles();
    for (const [instrument, ticks] of prices) {
      const book = this.books.get(instrument);
      if (book === undefined || ticks <= 0 || this.lastOracle.get(instrument) === ticks) continue;
      await this.oracle(instrument, ticks);
      this.lastOracle.set(instrument, ticks);
    }
  }

  /**
   * The platform-wide limits' inputs: each book's average daily volume over the configured window, from the fills
   * (units traded per day since the first fill when the book is younger than the window), and a re-read of the
   * followed accounts.
   */
  private async refreshPlatform(): Promise<void> {
    const state = this.opts.riskState;
    const limits = this.opts.risk?.platformLimits;
    if (state === undefined || limits === undefined) return;
    if (state.setAverageDailyVolumes !== undefined) {
      const DAY = 86_400_000;
      const now = (this.opts.now ?? Date.now)();
      const since = now - limits.advDays * DAY;
      const volumes = new Map<string, bigint>();
      for (const id of this.books.keys()) {
        const { units, firstAt } = await this.opts.store.orderbook.volumeSince(id, since);
        const start = firstAt === undefined || firstAt < since ? since : firstAt;
        const days = Math.min(limits.advDays, Math.max(1, Math.ceil((now - start) / DAY)));
        volumes.set(id, units / BigInt(days));
      }
      state.setAverageDailyVolumes(volumes);
    }
    await state.refreshPlatform?.();
  }

  /**
   * Hands the trades of command `seq` to the sink (idempotent by trade id). They stay listed until the sink has all
   * of them, so no snapshot covers `seq` before that; if the sink fails they are re-derived by the next replay.
   */
  private async settle(book: Book, seq: number): Promise<void> {
    const list = book.trades.get(seq);
    if (list === undefined) return;
    await this.handOver(book, seq, list);
    book.trades.delete(seq);
    const lowest = Math.min(Infinity, ...book.trades.keys());
    for (let i = book.waiting.length - 1; i >= 0; i--) {
      if (book.waiting[i].seq < lowest) book.waiting.splice(i, 1)[0].resolve();
    }
  }

  private async handOver(book: Book, seq: number, list: NonNullable<ReturnType<Book["trades"]["get"]>>): Promise<void> {
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      const [taker, maker] = [await this.stored(t.takerId), await this.stored(t.makerId)];
      if (taker === undefined || maker === undefined) {
        this.opts.log?.("error", "trade without a signed order; not sent to settlement", {
          seq,
          takerId: t.takerId,
          makerId: t.makerId,
        });
        continue;
      }
      const [buy, sell] = t.takerSide === Side.Buy ? [taker, maker] : [maker, taker];
      const trade: SettlementTrade = {
        // unique across books: each book numbers its own commands
        tradeId: `${book.spec.id}:${seq}-${i + 1}`,
        sequence: seq,
        instrument: book.spec.base,
        buy: { order: buy.order, sig: buy.sig },
        sell: { order: sell.order, sig: sell.sig },
        quantity: BigInt(t.qty) * book.spec.lotSize,
        price: BigInt(t.price) * book.spec.tickSize,
      };
      this.opts.riskState?.recordTrade(trade.tradeId, book.spec, buy.order.account, sell.order.account, t.price, t.qty);
      await this.opts.sink.enqueue(trade);
      await this.opts.store.orderbook.recordFills([
        fillOf(trade, t.takerId, taker, "taker"),
        fillOf(trade, t.makerId, maker, "maker"),
      ]);
      const [ta, ma] = [taker.order.account.toLowerCase(), maker.order.account.toLowerCase()];
      if (ta !== ma) await this.reportGroupTrade(trade.tradeId, book.spec.id, ta, ma);
    }
  }

  private async stored(id: number): Promise<StoredOrder | undefined> {
    const cached = this.orders.get(id);
    if (cached !== undefined) return cached;
    const row = await this.opts.store.orderbook.order(id);
    if (row === undefined) return undefined;
    const o = decodeStored(row.body);
    this.orders.set(id, o);
    return o;
  }

  private async owned(caller: string, id: number): Promise<{ book: Book; stored: StoredOrder }> {
    const stored = await this.stored(id);
    if (stored === undefined) throw rejected(RejectCode.UnknownOrder, `no order ${id}`);
    if (stored.order.account.toLowerCase() !== caller.toLowerCase())
      throw rejected(RejectCode.NotOrderOwner, `order ${id} is not yours`);
    return { book: this.book(stored.instrument), stored };
  }

  /** The edge checks of a signed order: account, grid, expiry, signature (owner or delegated trading key). */
  private async checkSigned(
    caller: string,
    spec: InstrumentSpec,
    o: SignedOrderFields,
    sig: CompactSignature,
  ): Promise<{ ticks: number; lots: number; hash: string }> {
    if (o.account.toLowerCase() !== caller.toLowerCase())
      throw new AppError("FORBIDDEN", "the order's account is not the API key's account", {
        details: { reject: "WRONG_ACCOUNT" },
      });
    if (o.limitPrice <= 0n || o.limitPrice % spec.tickSize !== 0n)
      throw rejected(
        o.limitPrice <= 0n ? RejectCode.InvalidPrice : RejectCode.OffTickGrid,
        "limitPrice is not on the tick grid",
      );
    if (o.quantity <= 0n || o.quantity % spec.lotSize !== 0n)
      throw rejected(
        o.quantity <= 0n ? RejectCode.InvalidQuantity : RejectCode.OffLotGrid,
        "quantity is not on the lot grid",
      );
    const ticks = o.limitPrice / spec.tickSize;
    const lots = o.quantity / spec.lotSize;
    if (ticks > 2n ** 31n - 1n) throw rejected(RejectCode.InvalidPrice, "limitPrice is too large");
    if (lots > 1_000_000_000n) throw rejected(RejectCode.InvalidQuantity, "quantity is too large");
    const now = (this.opts.now ?? Date.now)();
    if (o.expiry * 1000n <= BigInt(now)) throw rejected(RejectCode.AlreadyExpired, "the signed order has expired");
    let structHash: Buffer;
    let signer: string;
    try {
      structHash = this.verifier.structHash(o);
      signer = this.verifier.recover(o, sig, structHash);
    } catch (err) {
      throw new AppError("FORBIDDEN", "the order signature is malformed", {
        details: { reject: "BAD_SIGNATURE" },
        cause: err,
      });
    }
    if (signer.toLowerCase() !== o.account.toLowerCase() && !(await this.opts.isTradingKey?.(o.account, signer))) {
      throw new AppError("FORBIDDEN", "the order is not signed by its account or a live trading key", {
        details: { reject: "BAD_SIGNATURE", signer },
      });
    }
    return { ticks: Number(ticks), lots: Number(lots), hash: "0x" + structHash.toString("hex") };
  }
}

/** ORDER_REPLAYED, naming the order that already carries this signed order. */
async function replayed(tx: Repositories, hash: string): Promise<AppError> {
  const orderId = await tx.orderbook.orderIdByHash(hash);
  return rejected("ORDER_REPLAYED", "this signed order was submitted before", { orderHash: hash, orderId });
}

/**
 * Why `nonce` of `account` cannot back book order `orderId` (the hub would refuse the second order on a nonce):
 * NONCE_USED (reserved by another order, or spent on-chain by cancelOrder) or NONCE_BELOW_MIN (raiseMinNonce).
 * Undefined when the nonce is in fact this order's own.
 */
async function nonceRefusal(
  tx: Repositories,
  account: string,
  nonce: bigint,
  orderId: number,
): Promise<AppError | undefined> {
  const st = await tx.orderbook.nonceState(account, nonce);
  if (nonce < st.minNonce)
    return rejected("NONCE_BELOW_MIN", `nonce ${nonce} is below the account's minNonce ${st.minNonce} at the hub`, {
      nonce: nonce.toString(),
      minNonce: st.minNonce.toString(),
    });
  if (st.spent)
    return rejected("NONCE_USED", `nonce ${nonce} is spent at the hub (cancelled on-chain)`, {
      nonce: nonce.toString(),
      reason: "spent",
    });
  if (st.reservedBy !== null && st.reservedBy !== orderId)
    return rejected("NONCE_USED", `nonce ${nonce} belongs to order ${st.reservedBy}; sign with an unused nonce`, {
      nonce: nonce.toString(),
      reason: "reserved",
      orderId: st.reservedBy,
    });
  return undefined;
}

function fillOf(t: SettlementTrade, orderId: number, o: StoredOrder, role: "maker" | "taker"): FillRow {
  return {
    tradeId: t.tradeId,
    role,
    account: o.order.account,
    orderId,
    instrument: o.instrument,
    side: o.order.side === 0 ? "buy" : "sell",
    price: t.price,
    quantity: t.quantity,
    seq: t.sequence,
    // after the last "-": an instrument id may have its own (an option series, "mbBANK-P9")
    idx: Number(t.tradeId.slice(t.tradeId.lastIndexOf("-") + 1)),
  };
}

function encodeStored(o: StoredOrder): string {
  return JSON.stringify({ order: orderToJson(o.order), sig: o.sig, instrument: o.instrument });
}

function decodeStored(body: string): StoredOrder {
  const raw = JSON.parse(body) as { order: Record<string, string | number>; sig: CompactSignature; instrument: string };
  const r = raw.order;
  return {
    instrument: raw.instrument,
    sig: raw.sig,
    order: {
      account: String(r.account),
      instrument: String(r.instrument),
      side: Number(r.side) === 0 ? 0 : 1,
      expiry: BigInt(r.expiry),
      limitPrice: BigInt(r.limitPrice),
      quantity: BigInt(r.quantity),
      nonce: BigInt(r.nonce),
    },
  };
}
