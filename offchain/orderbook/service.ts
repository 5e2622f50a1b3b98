import type { ExecutionReport } from "./book";
import { type EngineOptions, InstrumentEngine } from "./engine";
import { type BookObserver, ObserverFanout } from "./events";
import type { CommandJournal } from "./journal";
import { MarketDataFeed } from "./marketdata";
import type { PreTradeRisk, RiskCheckable } from "./risk";
import type { SnapshotStore } from "./snapshots";
import { type BookCommand, type CancelReason, RejectCode, Side, type StampedCommand } from "./types";

/** What a client gets back for a command: sent only once the command is durable (or was refused before it). */
export interface Ack {
  /** Journal sequence number; 0 when refused by pre-trade risk (not journaled). */
  seq: number;
  accepted: boolean;
  reject: RejectCode | null;
  orderId: number;
  filledQty: number;
  restingQty: number;
  cancelledQty: number;
  cancelReason: CancelReason | null;
  fills: ReadonlyArray<{ makerId: number; price: number; qty: number }>;
}

const NO_FILLS: Ack["fills"] = Object.freeze([]);

export interface BookServiceOptions {
  instrument: string;
  journal: CommandJournal;
  snapshots: SnapshotStore;
  risk?: PreTradeRisk;
  /** The engine's settings (the ATR's bars and period). */
  engine?: EngineOptions;
  /** Extra observers (e.g. the in-memory risk state's trade recorder). */
  observers?: BookObserver[];
  /** Take a snapshot (and compact the journal) every this many commands; 0 = never. */
  snapshotEvery?: number;
  /**
   * Awaited before a snapshot covering commands up to `seq` is saved: resolves once everything those commands
   * produced outside the book (trades for settlement) is durable elsewhere. A snapshot compacts the journal, so
   * without this a crash between the journal and the trade sink would lose the trades for good.
   */
  beforeSnapshot?: (seq: number) => Promise<void>;
  /**
   * Called at the very instant a snapshot's state is taken (synchronously, with the engine at `seq`); what it
   * returns is saved with the snapshot. The gateway records which orders it was still placing.
   */
  snapshotMeta?: (seq: number) => unknown;
  /** Clock for stamping commands (ms). Tests and replays pass their own. */
  now?: () => number;
  /** Structured log callback until offchain/shared/logger.ts exists. */
  log?: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

export class JournalFailedError extends Error {
  constructor(override readonly cause: unknown) {
    super("the journal failed: the book stopped accepting commands");
    this.name = "JournalFailedError";
  }
}

function copyReport(seq: number, r: ExecutionReport): Ack {
  let fills = NO_FILLS;
  if (r.fillCount > 0) {
    const list: Array<{ makerId: number; price: number; qty: number }> = [];
    for (let i = 0; i < r.fillCount; i++)
      list.push({ makerId: r.fillMakerIds[i], price: r.fillPrices[i], qty: r.fillQtys[i] });
    fills = list;
  }
  return {
    seq,
    accepted: r.accepted,
    reject: r.reject,
    orderId: r.orderId,
    filledQty: r.filledQty,
    restingQty: r.restingQty,
    cancelledQty: r.cancelledQty,
    cancelReason: r.cancelReason,
    fills,
  };
}

const riskChecked = (c: BookCommand): c is RiskCheckable =>
  c.kind === "limit" || c.kind === "market" || c.kind === "modify" || c.kind === "protective";

/**
 * One instrument's book as a service: pre-trade risk → sequence and stamp → apply to the engine → journal →
 * acknowledge. The engine applies commands at once and in order (so every risk check sees the latest book), while
 * acknowledgements and market data wait until the journal has the command durably (group commit): a crash can only
 * lose commands nobody was told about, and replay rebuilds exactly the acknowledged book.
 */
export class BookService {
  readonly marketData: MarketDataFeed;
  private failed: unknown = null;
  private snapshotting: Promise<void> | null = null;
  private lastSnapshotSeq: number;

  private constructor(
    readonly engine: InstrumentEngine,
    private readonly opts: BookServiceOptions,
    marketData: MarketDataFeed,
  ) {
    this.marketData = marketData;
    this.lastSnapshotSeq = engine.seq;
  }

  /** Recovers the book (latest snapshot + journal replay) and starts serving. */
  static async open(opts: BookServiceOptions): Promise<BookService> {
    const engine = await recover(opts.instrument, opts.journal, opts.snapshots, opts.engine, (e, entries) => {
      // rebuild the views that hang off the engine: risk's open orders, the market-data depth mirror
      const risk = opts.risk?.observerFor(opts.instrument);
      if (risk !== undefined) {
        for (const side of [Side.Buy, Side.Sell])
          for (const o of e.book.restingOrders(side)) risk.onRested(o.id, o.account, o.side, o.price, o.qty);
      }
      const targets = [...(risk !== undefined ? [risk] : []), ...(opts.observers ?? [])];
      e.observer = targets.length > 0 ? new ObserverFanout(targets) : null;
      for (const entry of entries) {
        e.apply(entry);
        if (opts.risk !== undefined && riskChecked(entry.cmd))
          opts.risk.recordAccepted(opts.instrument, entry.cmd, entry.ts);
      }
    });
    const md = new MarketDataFeed(opts.instrument, true);
    md.seed(
      engine.seq,
      engine.book.depth(Side.Buy).map((l) => [l[0], l[1], l[2]]),
      engine.book.depth(Side.Sell).map((l) => [l[0], l[1], l[2]]),
    );
    const targets: BookObserver[] = [md, ...(opts.observers ?? [])];
    if (opts.risk !== undefined) targets.push(opts.risk.observerFor(opts.instrument));
    engine.observer = new ObserverFanout(targets);
    opts.log?.("info", "orderbook recovered", { instrument: opts.instrument, seq: engine.seq, hash: engine.hash() });
    return new BookService(engine, opts, md);
  }

  /**
   * Submits a command. Resolves with the acknowledgement once it is durable; refusals by pre-trade risk resolve
   * at once and are not journaled; refusals by the engine (post-only would take, unknown order…) are journaled
   * like any command, since replay reproduces them.
   */
  async submit(cmd: BookCommand, ts?: number): Promise<Ack> {
    if (this.failed !== null) throw new JournalFailedError(this.failed);
    const now = ts ?? (this.opts.now ?? Date.now)();
    const risk = this.opts.risk;
    const checked = riskChecked(cmd);
    if (risk !== undefined && checked) {
      const code = risk.check(this.opts.instrument, cmd, now);
      if (code !== null) {
        return {
          seq: 0,
          accepted: false,
          reject: code,
          orderId: "id" in cmd ? cmd.id : 0,
          filledQty: 0,
          restingQty: 0,
          cancelledQty: 0,
          cancelReason: null,
          fills: NO_FILLS,
        };
      }
    }
    const stamped: StampedCommand = { seq: this.engine.seq + 1, ts: now, cmd };
    const ack = copyReport(stamped.seq, this.engine.apply(stamped));
    if (risk !== undefined && checked && ack.accepted) risk.recordAccepted(this.opts.instrument, cmd, now);
    const durable = this.opts.journal.append([stamped]);
    this.maybeSnapshot(stamped.seq, durable);
    try {
      await durable;
    } catch (err) {
      this.failed = err;
      this.opts.log?.("error", "journal append failed; book stopped", {
        instrument: this.opts.instrument,
        seq: stamped.seq,
      });
      throw new JournalFailedError(err);
    }
    this.marketData.release(stamped.seq);
    return ack;
  }

  private maybeSnapshot(seq: number, durable: Promise<void>): void {
    const every = this.opts.snapshotEvery ?? 0;
    if (every <= 0 || this.snapshotting !== null || seq - this.lastSnapshotSeq < every) return;
    const snap = this.engine.snapshot();
    const meta = this.opts.snapshotMeta?.(snap.seq);
    // the snapshot may only be saved once the journal holds everything it covers
    this.snapshotting = durable
      .then(() => this.opts.beforeSnapshot?.(snap.seq))
      .then(() => this.opts.snapshots.save(snap, meta))
      .then(() => this.opts.journal.compact(snap.seq))
      .then(() => {
        this.lastSnapshotSeq = snap.seq;
        this.opts.log?.("info", "orderbook snapshot", { instrument: this.opts.instrument, seq: snap.seq });
      })
      .catch((err: unknown) => this.opts.log?.("warn", "snapshot failed", { seq: snap.seq, error: String(err) }))
      .finally(() => {
        this.snapshotting = null;
      });
  }

  /** Takes a snapshot now (after everything so far is durable) and compacts the journal. */
  async snapshotNow(): Promise<number> {
    if (this.snapshotting !== null) await this.snapshotting;
    const snap = this.engine.snapshot();
    const meta = this.opts.snapshotMeta?.(snap.seq);
    await this.opts.journal.flush();
    await this.opts.beforeSnapshot?.(snap.seq);
    await this.opts.snapshots.save(snap, meta);
    await this.opts.journal.compact(snap.seq);
    this.lastSnapshotSeq = snap.seq;
    return snap.seq;
  }

  async close(): Promise<void> {
    if (this.snapshotting !== null) await this.snapshotting;
    await this.opts.journal.close();
  }
}

/**
 * Rebuilds an engine: the latest snapshot, then every journal entry after it. `replay` may attach observers
 * before applying the entries (default: apply them bare).
 */
export async function recover(
  instrument: string,
  journal: CommandJournal,
  snapshots: SnapshotStore,
  engineOpts: EngineOptions = {},
  replay?: (engine: InstrumentEngine, entries: StampedCommand[]) => void,
): Promise<InstrumentEngine> {
  const snap = await snapshots.latest();
  if (snap !== undefined && snap.instrument !== instrument)
    throw new Error(`snapshot is for ${snap.instrument}, not ${instrument}`);
  const engine =
    snap !== undefined ? InstrumentEngine.fromSnapshot(snap, engineOpts) : new InstrumentEngine(instrument, engineOpts);
  const entries = await journal.read(engine.seq);
  if (replay !== undefined) replay(engine, entries);
  else for (const e of entries) engine.apply(e);
  return engine;
}
