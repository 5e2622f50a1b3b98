import { AppError } from "../../shared/errors";
import { fromDbAmount, toDbAmount } from "../../shared/money";
import type { SqlExecutor } from "../engine";
import { decode, encode } from "./legal";

export type TradeStatus = "pending" | "submitted" | "settled" | "rejected";
export type BatchStatus = "submitted" | "settled" | "abandoned";

/** One side of a trade as its owner signed it (ISettlementHub.Order). */
export interface StoredOrder {
  account: string;
  instrument: string;
  side: 0 | 1;
  expiry: bigint;
  limitPrice: bigint;
  quantity: bigint;
  nonce: bigint;
}

/** A matched trade (one fill) as the order book hands it over. */
export interface NewSettlementTrade {
  tradeId: string;
  instrument: string;
  buy: StoredOrder;
  sell: StoredOrder;
  buySig: { r: string; vs: string };
  sellSig: { r: string; vs: string };
  buyOrderHash: string;
  sellOrderHash: string;
  quantity: bigint;
  price: bigint;
}

export interface SettlementTrade extends NewSettlementTrade {
  /** Queue position, assigned at enqueue (the order the order book matched them in). */
  seq: number;
  status: TradeStatus;
  batchId: string | null;
  /** Index of the on-chain trade (after netting) in its batch. */
  batchIndex: number | null;
  rejectReason: string | null;
  settledBlock: number | null;
  settledTx: string | null;
  createdAt: number;
}

export interface SettlementBatch {
  batchId: string;
  firstSeq: number;
  lastSeq: number;
  /** Queued trades (fills) in the batch. */
  fills: number;
  /** On-chain trades after netting. */
  tradeCount: number;
  gasEstimate: bigint;
  status: BatchStatus;
  attempts: number;
  lastError: string | null;
  txHash: string | null;
  tradesRoot: string | null;
  settledBlock: number | null;
  createdAt: number;
  updatedAt: number;
}

type TradeRow = Record<string, unknown>;

/** The durable queue of matched trades and the batches that settle them. */
export class SettlementRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** Appends a trade; returns false (and changes nothing) when the trade id is already queued. */
  async enqueue(t: NewSettlementTrade, now: number): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO settlement_trades (trade_id, instrument, buy_order, sell_order, buy_sig, sell_sig, buy_order_hash,
         sell_order_hash, quantity, price, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11) ON CONFLICT (trade_id) DO NOTHING`,
      [
        t.tradeId,
        t.instrument.toLowerCase(),
        encode(t.buy),
        encode(t.sell),
        JSON.stringify(t.buySig),
        JSON.stringify(t.sellSig),
        t.buyOrderHash.toLowerCase(),
        t.sellOrderHash.toLowerCase(),
        toDbAmount(t.quantity),
        toDbAmount(t.price),
        now,
      ],
    );
    return n > 0;
  }

  async trade(tradeId: string): Promise<SettlementTrade | undefined> {
    const rows = await this.db.query("SELECT * FROM settlement_trades WHERE trade_id = $1", [tradeId]);
    return rows[0] && toTrade(rows[0]);
  }

  /** Each of these trades' batch, status and settled block (trades not queued are absent); one query. */
  async batchesOfTrades(
    tradeIds: readonly string[],
  ): Promise<{ tradeId: string; batchId: string | null; status: TradeStatus; settledBlock: number | null }[]> {
    if (tradeIds.length === 0) return [];
    const marks = tradeIds.map((_, i) => `$${i + 1}`).join(", ");
    const rows = await this.db.query<{
      trade_id: string;
      batch_id: string | null;
      status: string;
      settled_block: string | number | null;
    }>(`SELECT trade_id, batch_id, status, settled_block FROM settlement_trades WHERE trade_id IN (${marks})`, [
      ...tradeIds,
    ]);
    return rows.map((r) => ({
      tradeId: r.trade_id,
      batchId: r.batch_id,
      status: r.status as TradeStatus,
      settledBlock: r.settled_block === null ? null : Number(r.settled_block),
    }));
  }

  /** The oldest pending trades, in queue order. */
  async pending(limit: number): Promise<SettlementTrade[]> {
    const rows = await this.db.query("SELECT * FROM settlement_trades WHERE status = 'pending' ORDER BY seq LIMIT $1", [
      limit,
    ]);
    return rows.map(toTrade);
  }

  async tradesOfBatch(batchId: string): Promise<SettlementTrade[]> {
    const rows = await this.db.query("SELECT * FROM settlement_trades WHERE batch_id = $1 ORDER BY seq", [batchId]);
    return rows.map(toTrade);
  }

  /** Trades settled on-chain in blocks [fromBlock, toBlock], in settlement order. */
  async tradesSettledBetween(fromBlock: number, toBlock: number): Promise<SettlementTrade[]> {
    const rows = await this.db.query(
      `SELECT * FROM settlement_trades WHERE status = 'settled' AND settled_block >= $1 AND settled_block <= $2
       ORDER BY settled_block, seq`,
      [fromBlock, toBlock],
    );
    return rows.map(toTrade);
  }

  async tradesByStatus(status: TradeStatus): Promise<SettlementTrade[]> {
    const rows = await this.db.query("SELECT * FROM settlement_trades WHERE status = $1 ORDER BY seq", [status]);
    return rows.map(toTrade);
  }

  /**
   * Records a batch and assigns its trades (each with its on-chain index), only if every one is still pending;
   * throws CONFLICT when another instance took any of them first (run it in a transaction so nothing stays).
   */
  async createBatch(b: SettlementBatch, assignment: { tradeId: string; index: number }[]): Promise<void> {
    for (const a of assignment) {
      const n = await this.db.run(
        `UPDATE settlement_trades SET status = 'submitted', batch_id = $2, batch_index = $3
         WHERE trade_id = $1 AND status = 'pending'`,
        [a.tradeId, b.batchId, a.index],
      );
      if (n === 0) {
        throw new AppError("CONFLICT", "trade is no longer pending", { details: { tradeId: a.tradeId } });
      }
    }
    // The same fills planned again after their batch was abandoned (never settled) give the same id: reuse it.
    await this.db.run("DELETE FROM settlement_batches WHERE batch_id = $1 AND status = 'abandoned'", [b.batchId]);
    await this.db.run(
      `INSERT INTO settlement_batches (batch_id, first_seq, last_seq, fills, trade_count, gas_estimate, status, attempts,
         last_error, tx_hash, trades_root, settled_block, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        b.batchId,
        b.firstSeq,
        b.lastSeq,
        b.fills,
        b.tradeCount,
        toDbAmount(b.gasEstimate),
        b.status,
        b.attempts,
        b.lastError,
        b.txHash,
        b.tradesRoot,
        b.settledBlock,
        b.createdAt,
        b.updatedAt,
      ],
    );
  }

  async batch(batchId: string): Promise<SettlementBatch | undefined> {
    const rows = await this.db.query("SELECT * FROM settlement_batches WHERE batch_id = $1", [batchId]);
    return rows[0] && toBatch(rows[0]);
  }

  async batchesByStatus(status: BatchStatus): Promise<SettlementBatch[]> {
    const rows = await this.db.query("SELECT * FROM settlement_batches WHERE status = $1 ORDER BY first_seq", [status]);
    return rows.map(toBatch);
  }

  /** Counts a submission attempt and its outcome (error text, or the transaction hash). */
  async recordAttempt(batchId: string, outcome: { error?: string; txHash?: string }, now: number): Promise<void> {
    await this.db.run(
      `UPDATE settlement_batches SET attempts = attempts + 1, last_error = $2, tx_hash = COALESCE($3, tx_hash),
         updated_at = $4 WHERE batch_id = $1`,
      [batchId, outcome.error ?? null, outcome.txHash ?? null, now],
    );
  }

  /**
   * A batch the hub refused as a whole (never settled): its trades named in `rejected` are set aside with the
   * reason, the others go back to the queue in their places.
   */
  async abandonBatch(batchId: string, rejected: { tradeId: string; reason: string }[], now: number): Promise<void> {
    for (const r of rejected) {
      await this.db.run(
        `UPDATE settlement_trades SET status = 'rejected', reject_reason = $2, batch_id = NULL, batch_index = NULL
         WHERE trade_id = $1 AND batch_id = $3 AND status = 'submitted'`,
        [r.tradeId, r.reason, batchId],
      );
    }
    await this.db.run(
      `UPDATE settlement_trades SET status = 'pending', batch_id = NULL, batch_index = NULL
       WHERE batch_id = $1 AND status = 'submitted'`,
      [batchId],
    );
    await this.db.run(
      "UPDATE settlement_batches SET status = 'abandoned', updated_at = $2 WHERE batch_id = $1 AND status = 'submitted'",
      [batchId, now],
    );
  }

  /** Sets trades aside that never reached a batch (the hub would refuse them). */
  async rejectPending(tradeId: string, reason: string): Promise<void> {
    await this.db.run(
      "UPDATE settlement_trades SET status = 'rejected', reject_reason = $2 WHERE trade_id = $1 AND status = 'pending'",
      [tradeId, reason],
    );
  }

  // --- projections written by the SettlementHub handler (indexed events only) ---

  async markBatchSettled(batchId: string, tradesRoot: string, block: number, txHash: string): Promise<void> {
    await this.db.run(
      `UPDATE settlement_batches SET status = 'settled', trades_root = $2, settled_block = $3, tx_hash = $4
       WHERE batch_id = $1`,
      [batchId, tradesRoot, block, txHash],
    );
  }

  /** Marks the fills behind on-chain trade `index` of a batch settled; returns how many. */
  async markTradeSettled(batchId: string, index: number, block: number, txHash: string): Promise<number> {
    return this.db.run(
      `UPDATE settlement_trades SET status = 'settled', settled_block = $3, settled_tx = $4
       WHERE batch_id = $1 AND batch_index = $2`,
      [batchId, index, block, txHash],
    );
  }

  /** Undoes every projection (a reorg rewind replays the surviving events afterwards). */
  async resetSettled(): Promise<void> {
    await this.db.run(
      "UPDATE settlement_trades SET status = 'submitted', settled_block = NULL, settled_tx = NULL WHERE status = 'settled'",
    );
    await this.db.run(
      "UPDATE settlement_batches SET status = 'submitted', settled_block = NULL, trades_root = NULL WHERE status = 'settled'",
    );
  }

  async counts(): Promise<Record<TradeStatus, number>> {
    const rows = await this.db.query<{ status: TradeStatus; n: number | string }>(
      "SELECT status, COUNT(*) AS n FROM settlement_trades GROUP BY status",
    );
    const out: Record<TradeStatus, number> = { pending: 0, submitted: 0, settled: 0, rejected: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toTrade(r: TradeRow): SettlementTrade {
  return {
    seq: Number(r.seq),
    tradeId: String(r.trade_id),
    instrument: String(r.instrument),
    buy: decode<StoredOrder>(String(r.buy_order)),
    sell: decode<StoredOrder>(String(r.sell_order)),
    buySig: JSON.parse(String(r.buy_sig)) as { r: string; vs: string },
    sellSig: JSON.parse(String(r.sell_sig)) as { r: string; vs: string },
    buyOrderHash: String(r.buy_order_hash),
    sellOrderHash: String(r.sell_order_hash),
    quantity: fromDbAmount(r.quantity as string),
    price: fromDbAmount(r.price as string),
    status: r.status as TradeStatus,
    batchId: (r.batch_id as string | null) ?? null,
    batchIndex: num(r.batch_index),
    rejectReason: (r.reject_reason as string | null) ?? null,
    settledBlock: num(r.settled_block),
    settledTx: (r.settled_tx as string | null) ?? null,
    createdAt: Number(r.created_at),
  };
}

function toBatch(r: TradeRow): SettlementBatch {
  return {
    batchId: String(r.batch_id),
    firstSeq: Number(r.first_seq),
    lastSeq: Number(r.last_seq),
    fills: Number(r.fills),
    tradeCount: Number(r.trade_count),
    gasEstimate: fromDbAmount(r.gas_estimate as string),
    status: r.status as BatchStatus,
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
    txHash: (r.tx_hash as string | null) ?? null,
    tradesRoot: (r.trades_root as string | null) ?? null,
    settledBlock: num(r.settled_block),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
