import type { Repositories, Store } from "../store";

/**
 * A check run inside every journal and snapshot transaction, before the write (the order book's lease fence):
 * it throws when this instance is no longer the book's writer, which rolls the write back and stops the journal.
 */
export type WriteFence = (tx: Repositories) => Promise<void>;
import type { EngineSnapshot } from "./engine";
import { GroupCommit } from "./groupCommit";
import type { CommandJournal } from "./journal";
import type { SnapshotStore } from "./snapshots";
import type { StampedCommand } from "./types";

/**
 * The journal in the service's store (SQLite or PostgreSQL), same contract as `FileJournal`: appends arriving while
 * a transaction is in flight form the next group, and one transaction (one commit) acknowledges the whole group. An
 * append resolves only once its group has committed. A failed commit stops the journal: nothing after it is
 * acknowledged. One writer per instrument.
 *
 * Durability is the engine's commit: PostgreSQL's (fsync at commit with the default synchronous_commit = on);
 * SQLite's WAL with synchronous = NORMAL survives a process crash but not a power cut inside the last commits
 * (set synchronous = FULL on the store connection where that matters).
 */
export class StoreJournal implements CommandJournal {
  /** Group commit (./groupCommit.ts): one transaction per group. */
  private readonly commits: GroupCommit;

  private constructor(
    private readonly store: Store,
    readonly instrument: string,
    lastSeq: number,
    private readonly fence?: WriteFence,
  ) {
    this.commits = new GroupCommit(lastSeq, (batch) => this.commitGroup(batch));
  }

  static async open(store: Store, instrument: string, fence?: WriteFence): Promise<StoreJournal> {
    return new StoreJournal(store, instrument, await store.orderbook.lastSeq(instrument), fence);
  }

  /** Groups committed and entries in them, for metrics and tests. */
  get groups(): number {
    return this.commits.groups;
  }

  get entries(): number {
    return this.commits.entries;
  }

  lastSeq(): number {
    return this.commits.durableSeq;
  }

  append(entries: readonly StampedCommand[]): Promise<void> {
    return this.commits.append(entries);
  }

  /** Commits one group: one transaction (fenced). */
  private async commitGroup(batch: StampedCommand[]): Promise<void> {
    const rows = batch.map((e) => ({ seq: e.seq, entry: JSON.stringify(e) }));
    await this.store.transaction(async (tx) => {
      await this.fence?.(tx);
      await tx.orderbook.appendJournal(this.instrument, rows);
    });
  }

  flush(): Promise<void> {
    return this.commits.flush();
  }

  async read(afterSeq: number): Promise<StampedCommand[]> {
    await this.flush();
    const rows = await this.store.orderbook.readJournal(this.instrument, afterSeq);
    const out: StampedCommand[] = [];
    let expect = afterSeq + 1;
    for (const r of rows) {
      // compaction may have removed rows before the first one asked for: start at the first row present
      if (out.length === 0 && r.seq > expect) expect = r.seq;
      if (r.seq !== expect)
        throw new Error(`journal of ${this.instrument}: sequence ${r.seq} where ${expect} expected`);
      out.push(JSON.parse(r.entry) as StampedCommand);
      expect++;
    }
    return out;
  }

  async compact(seq: number): Promise<void> {
    await this.flush();
    await this.store.orderbook.compactJournal(this.instrument, seq);
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** Engine snapshots in the store, newest `keep` kept per instrument; saving is one transaction (all or nothing). */
export class StoreSnapshotStore implements SnapshotStore {
  constructor(
    private readonly store: Store,
    readonly instrument: string,
    private readonly keep = 2,
    private readonly fence?: WriteFence,
  ) {}

  async save(s: EngineSnapshot, meta?: unknown): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.fence?.(tx);
      await tx.orderbook.saveSnapshot(this.instrument, s.seq, JSON.stringify(meta === undefined ? s : { ...s, meta }));
      await tx.orderbook.pruneSnapshots(this.instrument, this.keep);
    });
  }

  async latest(): Promise<EngineSnapshot | undefined> {
    return (await this.latestWithMeta())?.snapshot;
  }

  /** The latest snapshot and the meta saved with it (undefined when none was given). */
  async latestWithMeta(): Promise<{ snapshot: EngineSnapshot; meta: unknown } | undefined> {
    const body = await this.store.orderbook.latestSnapshot(this.instrument);
    if (body === undefined) return undefined;
    const { meta, ...snapshot } = JSON.parse(body) as EngineSnapshot & { meta?: unknown };
    return { snapshot: snapshot as EngineSnapshot, meta };
  }
}
