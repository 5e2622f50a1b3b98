import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { EngineSnapshot } from "./engine";

/** Where engine snapshots are kept. The store-backed implementation comes with offchain/store. */
export interface SnapshotStore {
  /**
   * Durably saves a snapshot (atomically: a crash leaves the previous one intact). `meta` is what the book's owner
   * recorded at the snapshot's instant (BookServiceOptions.snapshotMeta); stores that have no use for it drop it.
   */
  save(s: EngineSnapshot, meta?: unknown): Promise<void>;
  /** The snapshot with the highest sequence number, if any. */
  latest(): Promise<EngineSnapshot | undefined>;
}

const SNAPSHOT_RE = /^snapshot-(\d{16})\.json$/;

/**
 * Snapshots as files: written to a temporary name, fsynced, renamed into place and the directory fsynced, so a
 * snapshot is either complete or absent. Keeps the newest `keep` snapshots.
 */
export class FileSnapshotStore implements SnapshotStore {
  constructor(
    readonly dir: string,
    private readonly keep = 2,
  ) {}

  private async list(): Promise<Array<{ name: string; seq: number }>> {
    await mkdir(this.dir, { recursive: true });
    return (await readdir(this.dir))
      .map((name) => ({ name, m: SNAPSHOT_RE.exec(name) }))
      .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
      .map((x) => ({ name: x.name, seq: Number(x.m[1]) }))
      .sort((a, b) => a.seq - b.seq);
  }

  async save(s: EngineSnapshot): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `snapshot-${String(s.seq).padStart(16, "0")}.json`;
    const tmp = path.join(this.dir, `${name}.tmp`);
    const h = await open(tmp, "w");
    try {
      await h.writeFile(JSON.stringify(s));
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path.join(this.dir, name));
    const d = await open(this.dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    const all = await this.list();
    for (const old of all.slice(0, Math.max(0, all.length - this.keep))) await unlink(path.join(this.dir, old.name));
  }

  async latest(): Promise<EngineSnapshot | undefined> {
    const all = await this.list();
    const last = all[all.length - 1];
    if (last === undefined) return undefined;
    return JSON.parse(await readFile(path.join(this.dir, last.name), "utf8")) as EngineSnapshot;
  }
}
