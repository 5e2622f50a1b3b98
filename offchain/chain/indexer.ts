import type { Log, Provider } from "ethers";
import { AppError } from "../shared/errors";
import type { InstanceClaim } from "../shared/instance";
import type { Logger } from "../shared/logger";
import type { Repositories, Store, StoredEvent } from "../store";
import { combineHandlers, type ContractHandler, type IndexedEvent } from "./handlers/types";
import { LogSpan } from "./logSpan";
import { withRetry, type RetryOptions } from "./retry";

export interface IndexerOptions {
  /** Names the cursor; several indexers may share a store. */
  name: string;
  provider: Provider;
  store: Store;
  handlers: ContractHandler[];
  /** A block is indexed once `confirmations` blocks sit on top of it. */
  confirmations: number;
  /** At most this many blocks per step (the range adapts below it to the logs they hold: LogSpan). */
  batchBlocks: number;
  /** Logs one step's eth_getLogs should hold at most, about (default LOGS_PER_REQUEST). */
  logsPerStep?: number;
  /** First block to look at on a fresh store (the deployment block). */
  startBlock: number;
  retry: RetryOptions;
  log: Logger;
  /** How many recent block hashes to keep for finding the fork point of a reorg. */
  keepBlocks?: number;
}

export interface StepResult {
  fromBlock: number;
  toBlock: number;
  events: number;
  /** Set when a reorg was found: the last block both forks share. */
  rewoundTo?: number;
}

export interface IndexerStatus {
  lastBlock: number;
  head: number;
  events: number;
  rewinds: number;
}

/**
 * Follows the handlers' contracts: each step checks that the last indexed block is still on the chain (else
 * rewinds to the fork point and replays the surviving events), then records the logs of the next confirmed
 * range and moves the cursor, all in one store transaction — a crash between steps loses nothing and a
 * restart resumes from the cursor.
 */
export class Indexer {
  private readonly byAddress = new Map<string, ContractHandler>();
  /** The handlers' events are recorded as covered (once per process: the rows never change after). */
  private covered = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private owner = `indexer-${process.pid}-${Math.random().toString(36).slice(2)}`;
  private claim: InstanceClaim | undefined;
  readonly status: IndexerStatus = { lastBlock: -1, head: -1, events: 0, rewinds: 0 };
  private headLimit: (() => number) | undefined;
  /** The epoch of the lease `start()` holds: every step's transaction checks it (fencing). */
  private leaseEpoch: number | undefined;
  /** Blocks per step: from one, doubling while the logs stay few, shrinking on dense blocks. */
  private readonly span: LogSpan;

  constructor(private readonly opts: IndexerOptions) {
    this.span = new LogSpan(opts.batchBlocks, opts.logsPerStep);
    const grouped = new Map<string, ContractHandler[]>();
    for (const h of opts.handlers) {
      const key = h.address.toLowerCase();
      grouped.set(key, [...(grouped.get(key) ?? []), h]);
    }
    for (const [key, hs] of grouped) this.byAddress.set(key, combineHandlers(hs));
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, this.opts.retry);
  }

  /**
   * Never index above `limit()` (e.g. the local chain's durable head: state must not refer to a block that a
   * crash could still lose).
   */
  limitHead(limit: () => number): void {
    this.headLimit = limit;
  }

  /** Indexes at most one batch. Returns what it did (toBlock < fromBlock when there was nothing new). */
  async step(): Promise<StepResult> {
    const { store, name, provider } = this.opts;
    let cursor = await store.chain.cursor(name);
    let rewoundTo: number | undefined;
    if (cursor?.blockHash) {
      const onChain = await this.rpc(() => provider.getBlock(cursor!.blockNumber));
      if (!onChain || onChain.hash !== cursor.blockHash) {
        rewoundTo = await this.rewind(cursor.blockNumber);
        cursor = await store.chain.cursor(name);
      }
    }
    const from = cursor ? cursor.blockNumber + 1 : this.opts.startBlock;
    const head = await this.rpc(() => provider.getBlockNumber());
    this.status.head = head;
    const safe = Math.min(head - this.opts.confirmations, this.headLimit ? this.headLimit() : Infinity);
    const to = Math.min(safe, from + this.span.blocks - 1);
    if (to < from) return { fromBlock: from, toBlock: to, events: 0, rewoundTo };

    const toBlock = await this.rpc(() => provider.getBlock(to));
    if (!toBlock?.hash) throw new AppError("CHAIN_UNAVAILABLE", `block ${to} not available`);
    const logs = await this.rpc(() =>
      provider.getLogs({ address: [...this.byAddress.values()].map((h) => h.address), fromBlock: from, toBlock: to }),
    );
    this.span.observe(to - from + 1, logs.length);
    // A reorg between the two reads would mix forks; the next step's hash check catches a later one.
    const recheck = await this.rpc(() => provider.getBlock(to));
    if (recheck?.hash !== toBlock.hash || logs.some((l) => l.blockNumber === to && l.blockHash !== toBlock.hash)) {
      return { fromBlock: from, toBlock: from - 1, events: 0, rewoundTo };
    }
    logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);

    let count = 0;
    await store.transaction(async (tx) => {
      await this.fence(tx);
      // from this range on, every event the handlers name is stored (kept once: the first range that had it)
      if (!this.covered)
        for (const h of this.byAddress.values()) await tx.chain.coverEvents(name, h.contract, h.events, from);
      const blocks = new Map<number, string>();
      for (const log of logs) {
        const event = this.decode(log);
        if (!event) continue;
        const fresh = await tx.chain.insertEvent(name, toStored(event, log));
        if (fresh) {
          await this.byAddress.get(log.address.toLowerCase())!.handle(event, tx);
          count++;
        }
        blocks.set(log.blockNumber, log.blockHash);
      }
      blocks.set(to, toBlock.hash!);
      for (const [n, h] of blocks) await tx.chain.recordBlock(name, n, h);
      await tx.chain.setCursor(name, { blockNumber: to, blockHash: toBlock.hash! });
      await tx.chain.pruneBlocks(name, to - (this.opts.keepBlocks ?? 5000));
    });
    this.covered = true;
    this.status.lastBlock = to;
    this.status.events += count;
    if (count > 0) this.opts.log.info("indexed", { fromBlock: from, toBlock: to, events: count });
    return { fromBlock: from, toBlock: to, events: count, rewoundTo };
  }

  /** Steps until the confirmed head is reached. */
  async catchUp(): Promise<StepResult[]> {
    const steps: StepResult[] = [];
    for (;;) {
      const s = await this.step();
      steps.push(s);
      if (s.toBlock < s.fromBlock || s.toBlock >= this.status.head - this.opts.confirmations) return steps;
    }
  }

  /**
   * The cursor's block is no longer on the chain: walk back through the recorded hashes to the last block both
   * forks share, delete everything above it, and rebuild every projection from the surviving events.
   */
  private async rewind(fromBlock: number): Promise<number> {
    const { store, name, provider } = this.opts;
    let base = this.opts.startBlock - 1;
    let baseHash = "";
    for (const rec of await store.chain.recentBlocks(name, fromBlock, 10_000)) {
      const b = await this.rpc(() => provider.getBlock(rec.blockNumber));
      if (b?.hash === rec.blockHash) {
        base = rec.blockNumber;
        baseHash = rec.blockHash;
        break;
      }
    }
    await store.transaction(async (tx) => {
      await this.fence(tx);
      const removed = await tx.chain.rewindAbove(name, base);
      await this.replay(tx);
      // An empty hash (nothing shared with the old fork) means "start over from the deployment block".
      await tx.chain.setCursor(name, { blockNumber: base, blockHash: baseHash });
      this.opts.log.warn("chain reorganised; rewound", { fromBlock, toBlock: base, removedEvents: removed });
    });
    this.status.rewinds++;
    return base;
  }

  private async replay(tx: Repositories): Promise<void> {
    for (const h of this.opts.handlers) {
      await h.reset(tx);
      for (const stored of await tx.chain.events(this.opts.name, { contract: h.contract })) {
        const event = this.decode({
          address: stored.address,
          topics: stored.topics,
          data: stored.data,
          blockNumber: stored.blockNumber,
          index: stored.logIndex,
          blockHash: stored.blockHash,
          transactionHash: stored.txHash,
        });
        if (event) await h.handle(event, tx);
      }
    }
  }

  private decode(
    log: Pick<Log, "address" | "topics" | "data" | "blockNumber" | "index" | "blockHash" | "transactionHash">,
  ): IndexedEvent | undefined {
    const h = this.byAddress.get(log.address.toLowerCase());
    if (!h) return undefined;
    const parsed = h.iface.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed || !h.events.includes(parsed.name)) return undefined;
    const args: Record<string, unknown> = {};
    parsed.fragment.inputs.forEach((input, i) => (args[input.name || String(i)] = parsed.args[i]));
    return {
      contract: h.contract,
      address: h.address,
      event: parsed.name,
      args,
      blockNumber: log.blockNumber,
      logIndex: log.index,
      blockHash: log.blockHash,
      txHash: log.transactionHash,
    };
  }

  /**
   * Runs `step` every `intervalMs` while this process holds the indexer's lease (one active indexer per name
   * across instances sharing the store). Errors are logged and retried on the next tick. With `holder` (this
   * process's lease owner and instance claim), a restart of the same instance takes the lease back at once.
   */
  start(
    intervalMs: number,
    leaseTtlMs = Math.max(30_000, intervalMs * 5),
    holder?: { owner: string; claim: InstanceClaim },
  ): void {
    if (this.timer) return;
    if (holder) {
      this.owner = holder.owner;
      this.claim = holder.claim;
    }
    const lease = `indexer:${this.opts.name}`;
    const tick = async (): Promise<void> => {
      try {
        this.leaseEpoch = await this.opts.store.locks.acquireLease(
          lease,
          this.owner,
          leaseTtlMs,
          Date.now(),
          this.claim,
        );
        if (this.leaseEpoch !== undefined) await this.catchUp();
      } catch (err) {
        this.opts.log.error("indexer step failed", { err });
      }
    };
    const loop = (): void => {
      this.running = tick().finally(() => {
        if (this.timer) this.timer = setTimeout(loop, intervalMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t) clearTimeout(t);
    await this.running;
    await this.opts.store.locks.releaseLease(`indexer:${this.opts.name}`, this.owner).catch(() => undefined);
  }

  /** Under `start()`, refuses a write once another instance has taken the indexer's lease (a stale holder). */
  private async fence(tx: Repositories): Promise<void> {
    const epoch = this.leaseEpoch;
    if (epoch === undefined) return;
    if (!(await tx.locks.holdsLease(`indexer:${this.opts.name}`, this.owner, epoch)))
      throw new AppError("NOT_LEADER", `indexer ${this.opts.name}: lease epoch ${epoch} was taken over`);
  }
}

function toStored(e: IndexedEvent, log: Pick<Log, "topics" | "data">): StoredEvent {
  const args: StoredEvent["args"] = {};
  for (const [k, v] of Object.entries(e.args))
    args[k] = typeof v === "bigint" ? v.toString() : (v as string | number | boolean);
  return {
    blockNumber: e.blockNumber,
    logIndex: e.logIndex,
    blockHash: e.blockHash,
    txHash: e.txHash,
    contract: e.contract,
    address: e.address,
    event: e.event,
    topics: [...log.topics],
    data: log.data,
    args,
  };
}
