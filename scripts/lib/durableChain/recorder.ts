import WebSocket from "ws";
import type { BlockLog } from "./blockLog";
import { toBlockRecord, type BlockRecord, type RpcBlock } from "./blockRecord";
import { isReserved, toQuantity } from "./replay";
import type { Rpc } from "./rpc";

/** A mined block holds a transaction whose signed bytes cannot be rebuilt, so it could not be replayed. */
export class UnrecordableBlockError extends Error {
  constructor(
    readonly blockNumber: number,
    readonly txHashes: string[],
  ) {
    super(
      `block ${blockNumber} holds transactions whose signed bytes cannot be rebuilt (${txHashes.join(", ")}): ` +
        "a transaction type this recorder does not know? Recording stopped.",
    );
    this.name = "UnrecordableBlockError";
  }
}

export interface RecorderOptions {
  rpc: Rpc;
  wsUrl: string;
  log: BlockLog;
  /** Fallback poll when no newHeads notification arrives (a dropped WebSocket); the subscription is the fast path. */
  pollIntervalMs: number;
  onFailure(err: Error): void;
  onRewind(fromBlock: number, toBlock: number): void;
}

interface Waiter {
  blockNumber: number;
  resolve(head: number): void;
  reject(err: Error): void;
}

const FETCH_CHUNK = 64;

/**
 * Appends every block the node mines to the block log, fsync'd, as soon as it sees it: a newHeads
 * subscription wakes it within milliseconds of mining, a slow poll covers a lost subscription. One catch-up
 * runs at a time; a wake-up during a run schedules one more run.
 */
export class Recorder {
  private running: Promise<void> | undefined;
  private again = false;
  private failure: Error | undefined;
  private stopped = false;
  private socket: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly opts: RecorderOptions) {}

  async start(): Promise<void> {
    this.subscribe();
    this.timer = setInterval(() => void this.trigger().catch(() => undefined), this.opts.pollIntervalMs);
    this.timer.unref();
    await this.trigger();
  }

  /** The highest block number that is on disk. */
  get durableHead(): number {
    return this.opts.log.head;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Resolves with the durable head once blockNumber (default: the node's current head) is on disk. */
  async waitDurable(blockNumber?: number): Promise<number> {
    if (this.failure) throw this.failure;
    const target = blockNumber ?? Number(await this.opts.rpc.call<string>("eth_blockNumber"));
    if (this.durableHead >= target) return this.durableHead;
    const done = new Promise<number>((resolve, reject) => this.waiters.push({ blockNumber: target, resolve, reject }));
    void this.trigger().catch(() => undefined);
    return done;
  }

  /** Runs a catch-up now, or one more after the current one. Rejects if recording has failed. */
  trigger(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.catchUp();
        } while (this.again && !this.failure);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops recording for good; every waiter is rejected with err and durableHead stays where it is. */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.opts.onFailure(err);
  }

  /** A last catch-up (unless the node is gone), then no more recording. */
  async stop(finalFlush: boolean): Promise<void> {
    if (finalFlush && !this.failure) await this.trigger().catch(() => undefined);
    else await this.running?.catch(() => undefined);
    this.stopped = true;
    clearInterval(this.timer);
    this.socket?.removeAllListeners();
    this.socket?.on("error", () => undefined);
    this.socket?.terminate();
    for (const w of this.waiters.splice(0)) w.reject(new Error("the durable chain was stopped"));
  }

  private subscribe(): void {
    const socket = new WebSocket(this.opts.wsUrl);
    this.socket = socket;
    socket.on("open", () =>
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] })),
    );
    socket.on("message", (data: WebSocket.RawData) => {
      if (data.toString().includes('"eth_subscription"')) void this.trigger().catch(() => undefined);
    });
    // A closed subscription leaves the poll; reconnecting is not worth the complexity for a local node.
    socket.on("error", () => undefined);
  }

  private async catchUp(): Promise<void> {
    if (this.stopped || this.failure) return;
    const { rpc, log } = this.opts;
    try {
      const nodeHead = Number(await rpc.call<string>("eth_blockNumber"));
      await this.rewindIfReverted(nodeHead);
      while (log.head < nodeHead) {
        const to = Math.min(nodeHead, log.head + FETCH_CHUNK);
        const records: BlockRecord[] = [];
        // A chunk never ends inside a run of reserved blocks: replay needs the run's closing real block.
        for (let n = log.head + 1; n <= to || (records.length > 0 && isReserved(records[records.length - 1])); n++) {
          const block = await rpc.call<RpcBlock | null>("eth_getBlockByNumber", [toQuantity(n), true]);
          if (block === null) break;
          const record = toBlockRecord(block, Math.floor(Date.now() / 1000));
          if ("unrebuildable" in record) throw new UnrecordableBlockError(n, record.unrebuildable);
          const parent = records.length > 0 ? records[records.length - 1].hash : log.hashOf(n - 1);
          // The chain changed under us between two reads; the next run starts over from the rewind check.
          if (record.parentHash !== parent && !isReserved(record)) break;
          records.push(record);
        }
        while (records.length > 0 && isReserved(records[records.length - 1])) records.pop();
        if (records.length === 0) break;
        await log.append(records);
        this.settleWaiters();
      }
    } catch (err) {
      if (err instanceof UnrecordableBlockError) this.fail(err);
      else if (!this.stopped) throw err;
    }
  }

  /** evm_revert (or hardhat_reset) took blocks back: forget them down to the last block both sides share. */
  private async rewindIfReverted(nodeHead: number): Promise<void> {
    const { rpc, log } = this.opts;
    let k = Math.min(nodeHead, log.head);
    if (k === 0) return;
    const hashAt = async (n: number) =>
      (await rpc.call<{ hash: string } | null>("eth_getBlockByNumber", [toQuantity(n), false]))?.hash;
    if (k === log.head && (await hashAt(k)) === log.hashOf(k)) return;
    while (k > 0 && (await hashAt(k)) !== log.hashOf(k)) k--;
    if (k === 0 && (await hashAt(0)) !== log.hashOf(0)) {
      this.fail(
        new Error("the node's genesis block changed (hardhat_reset with other parameters?); recording stopped"),
      );
      return;
    }
    const from = log.head;
    await log.truncateTo(k);
    this.opts.onRewind(from, k);
  }

  private settleWaiters(): void {
    const head = this.durableHead;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].blockNumber <= head) this.waiters.splice(i, 1)[0].resolve(head);
    }
  }
}
