import type { HubTrade, SettlementChain } from "../chain/settlementHubWriter";
import { AppError } from "../shared/errors";
import type { Logger } from "../shared/logger";
import type { Repositories, SettlementBatch, SettlementTrade, Store } from "../store";
import { batchIdOf } from "./batchId";
import { netFills, type NettedTrade } from "./netting";

export interface BatcherOptions {
  store: Store;
  chain: SettlementChain;
  log: Logger;
  /** Most queued fills looked at for one batch. */
  maxFills: number;
  /** Gas a batch may use (eth_estimateGas of the whole batch); a larger batch is cut. */
  blockGasBudget: bigint;
  /** New batches started per run (recovery of unfinished ones always runs first). */
  maxBatchesPerRun?: number;
  clock?: () => number;
  /**
   * Checked inside the transactions that record or abandon a batch (the batcher's lease, when several instances
   * share the store): it throws once this instance is no longer the batcher, so nothing is recorded.
   */
  fence?: (tx: Repositories) => Promise<void>;
}

export interface BatcherRun {
  /** Unfinished batches found settled on-chain (nothing sent). */
  alreadySettled: string[];
  /** Batches (re)sent this run. */
  sent: string[];
  /** Batches the hub refused as a whole; their fills were re-queued or rejected. */
  abandoned: string[];
  /** Fills set aside because the hub would refuse them. */
  rejected: string[];
}

/** Fixed and per-trade gas used to pick a first batch size before eth_estimateGas (measured: ~46k at 100). */
export const BATCH_BASE_GAS = 200_000n;
export const GAS_PER_TRADE = 46_000n;

/**
 * Drains the settlement queue into SettlementHub batches.
 *
 * Each run first finishes what an earlier run (or a crashed instance) left `submitted`: if the hub already has
 * the batch (`batch(id).settledAt != 0`) nothing is sent — the indexer will mark it — otherwise the same batch id
 * and trades are sent again; `HubBatchAlreadySettled` then also means done. Only after that does it take pending
 * fills in queue order, net them (netting.ts), size the batch by gas, record it (batch row + fills `submitted`,
 * one transaction, before anything is sent) and send it. The batcher never marks anything `settled`: only the
 * indexed BatchSettled/TradeSettled events do (chain/handlers/settlementHub.ts). A transport failure ends the run
 * with CHAIN_UNAVAILABLE and leaves the batch `submitted` for the next run.
 */
export class SettlementBatcher {
  private readonly clock: () => number;

  constructor(private readonly opts: BatcherOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  async runOnce(): Promise<BatcherRun> {
    const run: BatcherRun = { alreadySettled: [], sent: [], abandoned: [], rejected: [] };
    const { store } = this.opts;
    for (const b of await store.settlement.batchesByStatus("submitted")) await this.finish(b, run);
    for (let i = 0; i < (this.opts.maxBatchesPerRun ?? 10); i++) {
      const planned = await this.plan(run);
      if (!planned) break;
      await this.submit(planned.batch, planned.trades, run, planned.batch.gasEstimate);
    }
    return run;
  }

  /** Re-drives a batch recorded as submitted: done if the hub has it, else the same id is sent again. */
  private async finish(b: SettlementBatch, run: BatcherRun): Promise<void> {
    const settledAt = await this.opts.chain.settledAt(b.batchId);
    if (settledAt !== 0n) {
      run.alreadySettled.push(b.batchId);
      return;
    }
    const fills = await this.opts.store.settlement.tradesOfBatch(b.batchId);
    await this.submit(b, toHubTrades(groupByIndex(fills)), run);
  }

  private async submit(b: SettlementBatch, trades: HubTrade[], run: BatcherRun, gasEstimate?: bigint): Promise<void> {
    const { store, chain, log } = this.opts;
    try {
      const sent = await chain.settle(b.batchId, trades, gasEstimate);
      await store.settlement.recordAttempt(b.batchId, { txHash: sent.txHash }, this.clock());
      run.sent.push(b.batchId);
      log.info("settlement batch sent", { batchId: b.batchId, trades: trades.length, txHash: sent.txHash });
    } catch (err) {
      const e = err instanceof AppError ? err : undefined;
      const name = (e?.details as { error?: string } | undefined)?.error;
      if (e?.code === "CHAIN_REVERTED" && name === "HubBatchAlreadySettled") {
        await store.settlement.recordAttempt(b.batchId, { error: e.message }, this.clock());
        run.alreadySettled.push(b.batchId);
        return;
      }
      if (e?.code === "CHAIN_REVERTED" && (await chain.settledAt(b.batchId)) === 0n) {
        // Refused as a whole (e.g. an order cancelled or expired since it was planned): set aside the fills the
        // error names, put the others back in the queue in their places.
        const fills = await store.settlement.tradesOfBatch(b.batchId);
        const rejected = fills.filter((f) => f.batchIndex === tradeIndexOf(e)).map((f) => f.tradeId);
        await store.transaction(async (tx) => {
          await this.opts.fence?.(tx);
          await tx.settlement.abandonBatch(
            b.batchId,
            rejected.map((tradeId) => ({ tradeId, reason: e.message })),
            this.clock(),
          );
        });
        run.abandoned.push(b.batchId);
        run.rejected.push(...rejected);
        log.warn("settlement batch refused", { batchId: b.batchId, error: e.message, rejected });
        return;
      }
      await store.settlement.recordAttempt(b.batchId, { error: String((err as Error).message) }, this.clock());
      throw err;
    }
  }

  /**
   * The next batch: the longest prefix of pending fills (in queue order) whose netted trades the hub accepts
   * within the gas budget. Fills the simulation names as refused are rejected before anything is recorded.
   */
  private async plan(run: BatcherRun): Promise<{ batch: SettlementBatch; trades: HubTrade[] } | undefined> {
    const { store, chain, maxFills, blockGasBudget } = this.opts;
    for (;;) {
      const pending = await store.settlement.pending(maxFills);
      if (pending.length === 0) return undefined;
      let fills = pending;
      let netted = netFills(fills);
      const fit = Number((blockGasBudget - BATCH_BASE_GAS) / GAS_PER_TRADE);
      if (netted.length > fit) ({ fills, netted } = prefixWithTrades(fills, Math.max(1, fit)));
      let gas: bigint | undefined;
      let refused: string[] | undefined;
      const id = (): string => batchIdOf(fills.map((f) => f.tradeId));
      for (;;) {
        try {
          gas = await chain.estimateSettle(id(), toHubTrades(netted));
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== "CHAIN_REVERTED") throw err;
          const index = tradeIndexOf(err);
          if (index !== undefined && index < netted.length) {
            refused = netted[index].fills;
          } else if (netted.length === 1) {
            refused = netted[0].fills;
          } else {
            // No trade named (e.g. an engine error): halve until the refused trade is alone.
            ({ fills, netted } = prefixWithTrades(fills, Math.ceil(netted.length / 2)));
            continue;
          }
          for (const tradeId of refused) await store.settlement.rejectPending(tradeId, err.message);
          run.rejected.push(...refused);
          this.opts.log.warn("fills refused by the hub's simulation", { fills: refused, error: err.message });
          break;
        }
        if (gas <= blockGasBudget || netted.length === 1) break;
        const keep = Math.max(1, Math.floor((netted.length * Number(blockGasBudget)) / Number(gas)) - 1);
        ({ fills, netted } = prefixWithTrades(fills, keep));
      }
      if (refused) continue;
      const now = this.clock();
      const batch: SettlementBatch = {
        batchId: id(),
        firstSeq: fills[0].seq,
        lastSeq: fills.at(-1)!.seq,
        fills: fills.length,
        tradeCount: netted.length,
        gasEstimate: gas!,
        status: "submitted",
        attempts: 0,
        lastError: null,
        txHash: null,
        tradesRoot: null,
        settledBlock: null,
        createdAt: now,
        updatedAt: now,
      };
      const assignment = netted.flatMap((t, index) => t.fills.map((tradeId) => ({ tradeId, index })));
      await store.transaction(async (tx) => {
        await this.opts.fence?.(tx);
        await tx.settlement.createBatch(batch, assignment);
      });
      return { batch, trades: toHubTrades(netted) };
    }
  }
}

/** The shortest prefix of `fills` whose netting has `trades` trades (fills of later pairs stay queued). */
function prefixWithTrades(
  fills: SettlementTrade[],
  trades: number,
): { fills: SettlementTrade[]; netted: NettedTrade[] } {
  const keys = new Set<string>();
  let end = 0;
  for (; end < fills.length; end++) {
    const f = fills[end];
    keys.add(`${f.buyOrderHash}/${f.sellOrderHash}/${f.price}`);
    if (keys.size > trades) break;
  }
  const kept = fills.slice(0, end);
  return { fills: kept, netted: netFills(kept) };
}

function groupByIndex(fills: SettlementTrade[]): NettedTrade[] {
  const out: NettedTrade[] = [];
  for (const f of [...fills].sort((a, b) => a.batchIndex! - b.batchIndex! || a.seq - b.seq)) {
    const cur = out[f.batchIndex!];
    if (cur) {
      cur.quantity += f.quantity;
      cur.fills.push(f.tradeId);
    } else {
      out[f.batchIndex!] = { ...f, fills: [f.tradeId] };
    }
  }
  return out;
}

function toHubTrades(netted: NettedTrade[]): HubTrade[] {
  return netted.map((t) => ({
    buy: t.buy,
    sell: t.sell,
    buySig: t.buySig,
    sellSig: t.sellSig,
    quantity: t.quantity,
    price: t.price,
  }));
}

/** The trade index a hub error names (its first argument), when it names one. */
function tradeIndexOf(err: AppError): number | undefined {
  const d = err.details as { error?: string; args?: string[] } | undefined;
  if (!d?.error?.startsWith("Hub") || !d.args?.length) return undefined;
  if (["HubBatchAlreadySettled", "HubEmptyBatch"].includes(d.error)) return undefined;
  const n = Number(d.args[0]);
  return Number.isSafeInteger(n) ? n : undefined;
}
