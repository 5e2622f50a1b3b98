import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, truncateSync, unlinkSync } from "node:fs";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { crc32 } from "node:zlib";
import { GroupCommit } from "./groupCommit";
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
  /** Group commit (./groupCommit.ts): one write + one fdatasync per group. */
  private readonly commits: GroupCommit;
  private readonly sync: boolean;

  private constructor(
    readonly dir: string,
    lastSeq: number,
    opts: FileJournalOptions,
  ) {
    this.sync = opts.sync ?? true;
    this.commits = new GroupCommit(lastSeq, (batch) => this.writeGroup(batch));
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

  /** Groups written and entries in them, for metrics and the benchmark. */
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

  /** Writes one group: one write + one fdatasync. */
  private async writeGroup(batch: StampedCommand[]): Promise<void> {
    const buf = encode(batch);
    const h = this.handle as FileHandle;
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await h.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
    if (this.sync) await h.datasync();
    this.segmentBytes += buf.length;
  }

  /** Resolves when everything appended so far is durable. */
  flush(): Promise<void> {
    return this.commits.flush();
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
    // no group is written while the segment rotates; appends meanwhile wait for the new segment
    await this.commits.hold(async () => {
      if (this.segmentBytes > 0) {
        await (this.handle as FileHandle).close();
        await this.openSegment(this.commits.durableSeq + 1);
      }
      const segments = FileJournal.segments(this.dir);
      for (let i = 0; i + 1 < segments.length; i++) {
        // segment i holds [first_i, first_{i+1} − 1]
        if (segments[i + 1].first - 1 <= seq) unlinkSync(path.join(this.dir, segments[i].name));
      }
      await this.syncDir();
    });
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
