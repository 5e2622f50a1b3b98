/** Logs one eth_getLogs answer should hold at most, about (≈ 10 MB of JSON). */
export const LOGS_PER_REQUEST = 10_000;

/**
 * How many blocks the next eth_getLogs of a catch-up asks for. A fixed range breaks on dense blocks: 500 blocks of
 * 2,000 transactions each (the keeper bench's 100,000-account setup) were one answer of 300,000 logs, which ethers
 * reads by copying the whole body at every chunk it receives — the indexer spent ten minutes on it and had read
 * a few megabytes. Starting at one block, the range doubles while answers stay under `targetLogs` (up to `maxBlocks`),
 * and a denser answer shrinks it to the blocks that would have held `targetLogs`.
 */
export class LogSpan {
  private span: number;

  constructor(
    private readonly maxBlocks: number,
    private readonly targetLogs = LOGS_PER_REQUEST,
  ) {
    if (!Number.isInteger(maxBlocks) || maxBlocks < 1) throw new RangeError(`maxBlocks ${maxBlocks}: at least 1`);
    if (!Number.isInteger(targetLogs) || targetLogs < 1) throw new RangeError(`targetLogs ${targetLogs}: at least 1`);
    this.span = 1;
  }

  /** Blocks for the next request. */
  get blocks(): number {
    return this.span;
  }

  /** Adjusts to an answer of `logs` logs over `blocks` blocks (fewer than asked near the head). */
  observe(blocks: number, logs: number): void {
    if (logs > this.targetLogs) this.span = Math.max(1, Math.floor((blocks * this.targetLogs) / logs));
    else if (blocks >= this.span) this.span = Math.min(this.maxBlocks, this.span * 2);
  }
}
