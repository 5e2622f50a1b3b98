import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, truncateSync, unlinkSync } from "node:fs";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import type { StampedCommand } from "./types";

/**
 * The journal the book writes every accepted command to before acknowledging it. One interface, several engines:
 * the file journal below (first, and the benchmark's), and the store-backed one (SQLite / PostgreSQL) that comes
 * with offchain/store.
 */
export interface CommandJournal {
  /** Appends entries (in sequence order, continuing the journal). Resolves only once they are durable. */
  append(entries: readonly StampedCommand[]): Promise<void>;
  /** Every durable entry with seq > afterSeq, in order. */
  read(afterSeq: number): Promise<StampedCommand[]>;
  /** The highest durable sequence number (0 when empty). */
  lastSeq(): number;
  /** Resolves when everything appended so far is durable. */
  flush(): Promise<void>;
  /** A snapshot now covers everything up to `seq`: entries up to it may be dropped. */
  compact(seq: number): Promise<void>;
  close(): Promise<void>;
}

export class JournalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`journal ${file} is corrupt at byte ${offset}: ${detail}`);
    this.name = "JournalCorruptError";
  }
}

/*
 * File format: segments named journal-<first seq, 16 digits>.mbj, each a sequence of records
 *   u32 LE payload length | u32 LE CRC-32 of the payload | payload (UTF-8 JSON of a StampedCommand)
 * A record cut short by a crash (short header, short payload, or a CRC mismatch on the very last record of the last
 * segment) was never acknowledged and is truncated away on open; damage anywhere else is corruption and stops
 * recovery with JournalCorruptError rather than silently dropping acknowledged commands.
 */
const HEADER = 8;
const SEGMENT_RE = /^journal-(\d{16})\.mbj$/;

function segmentName(firstSeq: number): string {
  return `journal-${String(firstSeq).padStart(16, "0")}.mbj`;
}

/** Encodes a group of entries into one buffer (one allocation per group, not per entry). */
function encode(entries: readonly StampedCommand[]): Buffer {
  const json = new Array<string>(entries.length);
  let size = 0;
  for (let i = 0; i < entries.length; i++) {
    json[i] = JSON.stringify(entries[i]);
    size += HEADER + Buffer.byteLength(json[i], "utf8");
  }
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (const s of json) {
    const len = buf.write(s, off + HEADER, "utf8");
    buf.writeUInt32LE(len, off);
    buf.writeUInt32LE(crc32(buf.subarray(off + HEADER, off + HEADER + len)), off + 4);
    off += HEADER + len;
  }
  return buf;
}

/** Decodes a segment; returns the entries and the length of the valid prefix. */
function decode(buf: Buffer): { entries: StampedCommand[]; valid: number; error: string | null } {
  const entries: StampedCommand[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER) return { entries, valid: off, error: "short header" };
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    if (buf.length - off - HEADER < len) return { entries, valid: off, error: "short payload" };
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== crc) return { entries, valid: off, error: "checksum mismatch" };
    entries.push(JSON.parse(payload.toString("utf8")) as StampedCommand);
    off += HEADER + len;
  }
  return { entries, valid: off, error: null };
}

/** A group commit: one promise shared by every append in the group. */
class Group {
  resolve!: () => void;
  reject!: (e: unknown) => void;
  readonly promise = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

export interface FileJournalOptions {
  /** fdatasync after each group (default true). Turning it off is only for measuring the cost of fsync. */
  sync?: boolean;
}

/**
 * Append-only file journal with group commit: appends that arrive while a write+fdatasync is in flight are
 * gathered and written by the next one, so one disk flush acknowledges a whole group. Single writer per directory.
 */
export class FileJournal implements CommandJournal {
  private handle: FileHandle | null = null;
  private segmentFirst = 0;
  private segmentBytes = 0;
  private durableSeq: number;
  private appendedSeq: number;
  /** Entries waiting for the next group; encoded when the group is written. */
  private pending: StampedCommand[] = [];
  private pendingSeq = 0;
  /** The promise every append of the pending group shares: one promise per group, not per entry. */
  private group: Group | null = null;
  private flushing: Promise<void> | null = null;
  /** Held while the segment is rotated: no group may be written meanwhile. */
  private rotating: Promise<void> | null = null;
  private failed: unknown = null;
  private readonly sync: boolean;
  /** Groups written and entries in them, for metrics and the benchmark. */
  groups = 0;
  entries = 0;

  private constructor(
    readonly dir: string,
    lastSeq: number,
    opts: FileJournalOptions,
  ) {
    this.durableSeq = lastSeq;
    this.appendedSeq = lastSeq;
    this.sync = opts.sync ?? true;
  }

  /** Opens (creating if needed) the journal in `dir`, truncating a torn final record left by a crash. */
  static async open(dir: string, opts: FileJournalOptions = {}): Promise<FileJournal> {
    await mkdir(dir, { recursive: true });
    const segments = FileJournal.segments(dir);
    let lastSeq = 0;
    if (segments.length > 0) {
      const last = segments[segments.length - 1];
      const file = path.join(dir, last.name);
      const buf = readFileSync(file);
      const { entries, valid, error } = decode(buf);
      // only the last record can be torn by a crash; a bad record with data after it is damage, not a crash
      if (error === "checksum mismatch" && valid + HEADER + buf.readUInt32LE(valid) < buf.length)
        throw new JournalCorruptError(file, valid, error);
      if (valid < buf.length) {
        truncateSync(file, valid);
        const fd = openSync(file, "r+");
        fsyncSync(fd);
        closeSync(fd);
      }
      lastSeq = entries.length > 0 ? entries[entries.length - 1].seq : last.first - 1;
    }
    const j = new FileJournal(dir, lastSeq, opts);
    await j.openSegment(segments.length > 0 ? segments[segments.length - 1].first : lastSeq + 1);
    return j;
  }

  private static segments(dir: string): Array<{ name: string; first: number }> {
    return readdirSync(dir)
      .map((name) => ({ name, m: SEGMENT_RE.exec(name) }))
      .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
      .map((x) => ({ name: x.name, first: Number(x.m[1]) }))
      .sort((a, b) => a.first - b.first);
  }

  private async openSegment(first: number): Promise<void> {
    const h = await open(path.join(this.dir, segmentName(first)), "a");
    this.segmentBytes = (await h.stat()).size;
    this.handle = h;
    this.segmentFirst = first;
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    if (!this.sync) return;
    const d = await open(this.dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  lastSeq(): number {
    return this.durableSeq;
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
    this.pendingSeq = this.appendedSeq;
    this.entries += entries.length;
    if (this.group === null) this.group = new Group();
    const p = this.group.promise;
    if (this.flushing === null && this.rotating === null) this.flushing = this.flushLoop();
    return p;
  }

  /** Writes groups until nothing is pending. One write + one fdatasync per group. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && this.rotating === null) {
        const buf = encode(this.pending);
        const group = this.group as Group;
        const seq = this.pendingSeq;
        this.pending = [];
        this.group = null;
        try {
          const h = this.handle as FileHandle;
          let off = 0;
          while (off < buf.length) {
            const { bytesWritten } = await h.write(buf, off, buf.length - off);
            off += bytesWritten;
          }
          if (this.sync) await h.datasync();
          this.segmentBytes += buf.length;
          this.durableSeq = seq;
          this.groups++;
          group.resolve();
        } catch (err) {
          // a journal that failed to write must not acknowledge anything after it
          this.failed = err;
          group.reject(err);
          // appends that arrived during the failed write form the next group: they fail too
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

  /** Resolves when everything appended so far is durable. */
  async flush(): Promise<void> {
    while (this.flushing !== null || this.rotating !== null || this.pending.length > 0) {
      if (this.flushing === null && this.rotating === null) this.flushing = this.flushLoop();
      await (this.flushing ?? this.rotating);
      if (this.failed !== null) break;
    }
    if (this.failed !== null) throw this.failed;
  }

  async read(afterSeq: number): Promise<StampedCommand[]> {
    await this.flush();
    const out: StampedCommand[] = [];
    const segments = FileJournal.segments(this.dir);
    for (let i = 0; i < segments.length; i++) {
      const next = segments[i + 1];
      if (next !== undefined && next.first <= afterSeq + 1) continue; // wholly before what we need
      const file = path.join(this.dir, segments[i].name);
      const buf = readFileSync(file);
      const { entries, valid, error } = decode(buf);
      if (error !== null) throw new JournalCorruptError(file, valid, error);
      let expect = segments[i].first;
      for (const e of entries) {
        if (e.seq !== expect) throw new JournalCorruptError(file, 0, `sequence ${e.seq} where ${expect} expected`);
        expect++;
        if (e.seq > afterSeq) out.push(e);
      }
    }
    return out;
  }

  /** Starts a new segment at the next sequence number and deletes segments wholly covered by `seq`. */
  async compact(seq: number): Promise<void> {
    while (this.rotating !== null) await this.rotating;
    let done = (): void => {};
    this.rotating = new Promise<void>((r) => (done = r));
    try {
      // let the group in flight finish; appends meanwhile wait in `pending` for the new segment
      while (this.flushing !== null) await this.flushing;
      if (this.failed !== null) throw this.failed;
      if (this.segmentBytes > 0) {
        await (this.handle as FileHandle).close();
        await this.openSegment(this.durableSeq + 1);
      }
      const segments = FileJournal.segments(this.dir);
      for (let i = 0; i + 1 < segments.length; i++) {
        // segment i holds [first_i, first_{i+1} − 1]
        if (segments[i + 1].first - 1 <= seq) unlinkSync(path.join(this.dir, segments[i].name));
      }
      await this.syncDir();
    } finally {
      this.rotating = null;
      done();
      if (this.pending.length > 0 && this.flushing === null && this.failed === null) this.flushing = this.flushLoop();
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.handle !== null) {
      await this.handle.close();
      this.handle = null;
    }
  }

  get segmentStart(): number {
    return this.segmentFirst;
  }
}
