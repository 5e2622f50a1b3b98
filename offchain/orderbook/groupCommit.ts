import type { StampedCommand } from "./types";

/** A group commit: one promise shared by every append in the group. */
class Group {
  resolve!: () => void;
  reject!: (e: unknown) => void;
  readonly promise = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/**
 * The group commit both journals share (FileJournal: one write + fdatasync per group; StoreJournal: one
 * transaction per group). Appends arriving while a group is being committed wait in `pending` and form the next
 * group, so one commit acknowledges all of them; an append resolves only once its group is durable. Entries must
 * continue the sequence. A failed commit stops the journal: that group, the appends that arrived meanwhile and
 * every later append are refused with the same error, so nothing after the failure is acknowledged.
 */
export class GroupCommit {
  private durable: number;
  private appendedSeq: number;
  /** Entries waiting for the next group. */
  private pending: StampedCommand[] = [];
  /** The promise every append of the pending group shares: one promise per group, not per entry. */
  private group: Group | null = null;
  private flushing: Promise<void> | null = null;
  /** Held while the owner changes where groups go (FileJournal's segment rotation): no group is committed. */
  private held: Promise<void> | null = null;
  private failed: unknown = null;
  /** Groups committed and entries appended, for metrics and the benchmark. */
  groups = 0;
  entries = 0;

  constructor(
    lastSeq: number,
    /** Makes one group durable (throws when it could not). */
    private readonly commit: (batch: StampedCommand[]) => Promise<void>,
  ) {
    this.durable = lastSeq;
    this.appendedSeq = lastSeq;
  }

  /** The highest durable sequence number. */
  get durableSeq(): number {
    return this.durable;
  }

  append(entries: readonly StampedCommand[]): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (entries.length === 0) return Promise.resolve();
    for (const e of entries) {
      if (e.seq !== this.appendedSeq + 1) {
        return Promise.reject(new Error(`journal append out of order: expected ${this.appendedSeq + 1}, got ${e.seq}`));
      }
      this.appendedSeq = e.seq;
      this.pending.push(e);
    }
    this.entries += entries.length;
    if (this.group === null) this.group = new Group();
    const p = this.group.promise;
    if (this.flushing === null && this.held === null) this.flushing = this.flushLoop();
    return p;
  }

  /** Commits groups until nothing is pending (or the commit is held). */
  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && this.held === null) {
        const batch = this.pending;
        const group = this.group as Group;
        this.pending = [];
        this.group = null;
        try {
          await this.commit(batch);
          this.durable = batch[batch.length - 1].seq;
          this.groups++;
          group.resolve();
        } catch (err) {
          // a journal that failed to write must not acknowledge anything after it
          this.failed = err;
          group.reject(err);
          // appends that arrived during the failed commit form the next group: they fail too
          (this.group as Group | null)?.reject(err);
          this.group = null;
          this.pending = [];
          return;
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Resolves when everything appended so far is durable; throws the failure that stopped the journal. */
  async flush(): Promise<void> {
    while (this.flushing !== null || this.held !== null || this.pending.length > 0) {
      if (this.flushing === null && this.held === null) this.flushing = this.flushLoop();
      await (this.flushing ?? this.held);
      if (this.failed !== null) break;
    }
    if (this.failed !== null) throw this.failed;
  }

  /**
   * Runs `fn` with no group in flight and none started until it returns (appends meanwhile wait in `pending`, then
   * go out as the next group). Throws the journal's failure instead of running `fn` when it has stopped.
   */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    while (this.held !== null) await this.held;
    let done = (): void => {};
    this.held = new Promise<void>((r) => (done = r));
    try {
      // let the group in flight finish
      while (this.flushing !== null) await this.flushing;
      if (this.failed !== null) throw this.failed;
      return await fn();
    } finally {
      this.held = null;
      done();
      if (this.pending.length > 0 && this.flushing === null && this.failed === null) this.flushing = this.flushLoop();
    }
  }
}
