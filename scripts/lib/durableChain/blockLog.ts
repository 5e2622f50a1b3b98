import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { blockRecordSchema, type BlockRecord } from "./blockRecord";
import { isReserved } from "./replay";
import { syncDirectory } from "./manifest";

/** The log cannot be read as one unbroken chain from genesis. */
export class CorruptLogError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = "CorruptLogError";
  }
}

/**
 * blocks.jsonl: one line per mined block (block 1 on the first line), append-only, fsync'd after every append.
 * Reserved blocks (hardhat_mine) carry a zero parentHash; the real block after them names the last one.
 * A line counts only with its newline: a tail without one is a write cut by a crash and is dropped on open,
 * and so are reserved blocks at the very end (the recorder appends a run together with its closing block).
 * The only rewrite is truncation back to a common ancestor when the node's chain went back (evm_revert).
 */
export class BlockLog {
  private constructor(
    private readonly handle: FileHandle,
    private readonly genesisHash: string,
    private readonly records: BlockRecord[],
    /** offsets[i] is where the line of block i + 1 starts; offsets[records.length] is the file's size. */
    private readonly offsets: number[],
  ) {}

  /** Reads and checks every line (numbers consecutive, each parentHash the previous hash), then opens for append. */
  static async open(file: string, genesisHash: string): Promise<{ log: BlockLog; droppedTailBytes: number }> {
    let text = "";
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    const records: BlockRecord[] = [];
    const offsets = [0];
    let offset = 0;
    let previous = genesisHash;
    for (const line of complete.split("\n").slice(0, -1)) {
      const lineNo = records.length + 1;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new CorruptLogError(lineNo, "not JSON");
      }
      const result = blockRecordSchema.safeParse(parsed);
      if (!result.success) throw new CorruptLogError(lineNo, `not a block record (${result.error.issues[0].message})`);
      const record = result.data;
      if (record.number !== lineNo)
        throw new CorruptLogError(lineNo, `holds block ${record.number}, expected ${lineNo}`);
      if (record.parentHash !== previous && !isReserved(record))
        throw new CorruptLogError(lineNo, `parent hash ${record.parentHash} is not block ${lineNo - 1}'s ${previous}`);
      previous = record.hash;
      records.push(record);
      offset += Buffer.byteLength(line) + 1;
      offsets.push(offset);
    }
    // Reserved blocks at the end are half of an append cut by a crash: replay needs the real block closing them.
    while (records.length > 0 && isReserved(records[records.length - 1])) {
      records.pop();
      offsets.pop();
      offset = offsets[offsets.length - 1];
    }
    const existed = text.length > 0;
    const handle = await fs.open(file, "a+");
    const droppedTailBytes = Buffer.byteLength(text) - offset;
    if (droppedTailBytes > 0) {
      await handle.truncate(offset);
      await handle.sync();
    }
    if (!existed) await syncDirectory(path.dirname(file));
    return { log: new BlockLog(handle, genesisHash, records, offsets), droppedTailBytes };
  }

  /** The last recorded block number; 0 when only genesis is known. */
  get head(): number {
    return this.records.length;
  }

  hashOf(blockNumber: number): string {
    return blockNumber === 0 ? this.genesisHash : this.records[blockNumber - 1].hash;
  }

  get blocks(): readonly BlockRecord[] {
    return this.records;
  }

  /** Appends the blocks that must follow the head, and returns once they are on disk. */
  async append(blocks: BlockRecord[]): Promise<void> {
    if (blocks.length === 0) return;
    let text = "";
    let offset = this.offsets[this.offsets.length - 1];
    let previous = this.hashOf(this.head);
    blocks.forEach((block, i) => {
      if (block.number !== this.head + i + 1 || (block.parentHash !== previous && !isReserved(block)))
        throw new Error(`block ${block.number} does not follow recorded block ${this.head + i} (${previous})`);
      previous = block.hash;
    });
    for (const block of blocks) {
      const line = `${JSON.stringify(block)}\n`;
      text += line;
      offset += Buffer.byteLength(line);
      this.offsets.push(offset);
    }
    await this.handle.write(text);
    await this.handle.datasync();
    this.records.push(...blocks);
  }

  /** Forgets every block after blockNumber (the node reverted them), durably. */
  async truncateTo(blockNumber: number): Promise<void> {
    if (blockNumber >= this.head) return;
    await this.handle.truncate(this.offsets[blockNumber]);
    await this.handle.sync();
    this.records.length = blockNumber;
    this.offsets.length = blockNumber + 1;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
