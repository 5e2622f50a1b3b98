import type { SqlExecutor } from "../engine";

/** A journal row: the command's sequence number and its JSON (a StampedCommand, opaque to the store). */
export interface JournalRow {
  seq: number;
  entry: string;
}

/** One side of a trade as its account sees it (the maker's and the taker's fill share the trade id). */
export interface FillRow {
  tradeId: string;
  role: "maker" | "taker";
  account: string;
  orderId: number;
  instrument: string;
  side: "buy" | "sell";
  /** cash base units per whole security token */
  price: bigint;
  /** security base units */
  quantity: bigint;
  /** The journal sequence number of the command that traded. */
  seq: number;
  /** The trade's position among that command's trades (1, 2, …): tradeId is "seq-idx". */
  idx: number;
}

/** Where a page of fills ends: the next page starts strictly after it (newest first). */
export interface FillCursor {
  seq: number;
  idx: number;
  role: "maker" | "taker";
}

/** Rows per INSERT statement: keeps PostgreSQL's parameter count (≤ 65,535) and SQLite's (≤ 32,766) safe. */
const ROWS_PER_INSERT = 500;

/** Each order book's command journal, snapshots and fallback trade queue. Payloads are JSON text. */
export class OrderbookRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** Inserts journal rows; a duplicate (instrument, seq) fails the statement (and its transaction). */
  async appendJournal(instrument: string, rows: readonly JournalRow[]): Promise<void> {
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT);
      const values: string[] = [];
      const params: (string | number)[] = [];
      for (const r of chunk) {
        const n = params.length;
        values.push(`($${n + 1}, $${n + 2}, $${n + 3})`);
        params.push(instrument, r.seq, r.entry);
      }
      await this.db.run(`INSERT INTO orderbook_journal (instrument, seq, entry) VALUES ${values.join(", ")}`, params);
    }
  }

  /** Journal rows with seq > afterSeq, in sequence order. */
  async readJournal(instrument: string, afterSeq: number): Promise<JournalRow[]> {
    const rows = await this.db.query<{ seq: number | string; entry: string }>(
      "SELECT seq, entry FROM orderbook_journal WHERE instrument = $1 AND seq > $2 ORDER BY seq",
      [instrument, afterSeq],
    );
    return rows.map((r) => ({ seq: Number(r.seq), entry: r.entry }));
  }

  /** The highest journaled sequence number, or the highest snapshot's when the journal was compacted empty. */
  async lastSeq(instrument: string): Promise<number> {
    const rows = await this.db.query<{ j: number | string | null; s: number | string | null }>(
      `SELECT (SELECT MAX(seq) FROM orderbook_journal WHERE instrument = $1) AS j,
              (SELECT MAX(seq) FROM orderbook_snapshots WHERE instrument = $1) AS s`,
      [instrument],
    );
    return Math.max(Number(rows[0]?.j ?? 0), Number(rows[0]?.s ?? 0));
  }

  /** Drops journal rows a snapshot covers, but always keeps the last row (it carries the journal's head). */
  async compactJournal(instrument: string, seq: number): Promise<number> {
    return this.db.run(
      `DELETE FROM orderbook_journal WHERE instrument = $1 AND seq <= $2
         AND seq < (SELECT MAX(seq) FROM orderbook_journal WHERE instrument = $1)`,
      [instrument, seq],
    );
  }

  async saveSnapshot(instrument: string, seq: number, body: string): Promise<void> {
    await this.db.run(
      `INSERT INTO orderbook_snapshots (instrument, seq, body) VALUES ($1, $2, $3)
       ON CONFLICT (instrument, seq) DO UPDATE SET body = excluded.body`,
      [instrument, seq, body],
    );
  }

  /** Keeps the newest `keep` snapshots of the instrument. */
  async pruneSnapshots(instrument: string, keep: number): Promise<void> {
    await this.db.run(
      `DELETE FROM orderbook_snapshots WHERE instrument = $1 AND seq NOT IN
         (SELECT seq FROM orderbook_snapshots WHERE instrument = $1 ORDER BY seq DESC LIMIT $2)`,
      [instrument, keep],
    );
  }

  async latestSnapshot(instrument: string): Promise<string | undefined> {
    const rows = await this.db.query<{ body: string }>(
      "SELECT body FROM orderbook_snapshots WHERE instrument = $1 ORDER BY seq DESC LIMIT 1",
      [instrument],
    );
    return rows[0]?.body;
  }

  /** Queues a trade for settlement (fallback sink); the same trade id twice is stored once. */
  async enqueueTrade(tradeId: string, instrument: string, seq: number, body: string, now = Date.now()): Promise<void> {
    await this.db.run(
      `INSERT INTO orderbook_trades (trade_id, instrument, seq, body, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (trade_id) DO NOTHING`,
      [tradeId, instrument, seq, body, now],
    );
  }

  /** Records fills (one per side of a trade); a fill recorded before (a replayed trade) is kept as it was. */
  async recordFills(fills: readonly FillRow[], now = Date.now()): Promise<void> {
    for (const f of fills) {
      await this.db.run(
        `INSERT INTO orderbook_fills
           (trade_id, role, account, order_id, instrument, side, price, quantity, seq, idx, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (trade_id, role) DO NOTHING`,
        [
          f.tradeId,
          f.role,
          f.account.toLowerCase(),
          f.orderId,
          f.instrument,
          f.side,
          f.price.toString(),
          f.quantity.toString(),
          f.seq,
          f.idx,
          now,
        ],
      );
    }
  }

  /** An account's fills, newest first, `limit` at most; after `before` (the last fill of the previous page). */
  async fills(account: string, limit: number, before?: FillCursor): Promise<FillRow[]> {
    const order = "ORDER BY seq DESC, idx DESC, role ASC LIMIT $2";
    const rows = await this.db.query<{
      trade_id: string;
      role: "maker" | "taker";
      account: string;
      order_id: number | string;
      instrument: string;
      side: "buy" | "sell";
      price: string;
      quantity: string;
      seq: number | string;
      idx: number | string;
    }>(
      before === undefined
        ? `SELECT * FROM orderbook_fills WHERE account = $1 ${order}`
        : `SELECT * FROM orderbook_fills WHERE account = $1
             AND (seq < $3 OR (seq = $3 AND (idx < $4 OR (idx = $4 AND role > $5)))) ${order}`,
      before === undefined
        ? [account.toLowerCase(), limit]
        : [account.toLowerCase(), limit, before.seq, before.idx, before.role],
    );
    return rows.map((r) => ({
      tradeId: r.trade_id,
      role: r.role,
      account: r.account,
      orderId: Number(r.order_id),
      instrument: r.instrument,
      side: r.side,
      price: BigInt(r.price),
      quantity: BigInt(r.quantity),
      seq: Number(r.seq),
      idx: Number(r.idx),
    }));
  }

  /**
   * Units of `instrument` traded since `sinceMs` (one fill per trade: the taker's) and the time of the instrument's
   * first recorded fill: what the average daily volume is taken from (pre-trade concentration limits).
   */
  async volumeSince(instrument: string, sinceMs: number): Promise<{ units: bigint; firstAt: number | undefined }> {
    const rows = await this.db.query<{ quantity: string | number | bigint }>(
      "SELECT quantity FROM orderbook_fills WHERE instrument = $1 AND role = 'taker' AND created_at >= $2",
      [instrument, sinceMs],
    );
    let units = 0n;
    for (const r of rows) units += BigInt(r.quantity);
    const first = await this.db.query<{ first: string | number | null }>(
      "SELECT MIN(created_at) AS first FROM orderbook_fills WHERE instrument = $1",
      [instrument],
    );
    const f = first[0]?.first;
    return { units, firstAt: f === null || f === undefined ? undefined : Number(f) };
  }

  /** Every account that has traded on the books (from the fills). */
  async tradingAccounts(): Promise<string[]> {
    const rows = await this.db.query<{ account: string }>("SELECT DISTINCT account FROM orderbook_fills");
    return rows.map((r) => r.account);
  }

  /** Queued trades of an instrument in sequence order (JSON bodies). */
  async trades(instrument: string): Promise<Array<{ tradeId: string; seq: number; body: string }>> {
    const rows = await this.db.query<{ trade_id: string; seq: number | string; body: string }>(
      "SELECT trade_id, seq, body FROM orderbook_trades WHERE instrument = $1 ORDER BY seq, trade_id",
      [instrument],
    );
    return rows.map((r) => ({ tradeId: r.trade_id, seq: Number(r.seq), body: r.body }));
  }

  /**
   * Records the signed order behind book order `orderId`. Returns false when the same signed order (hash) was
   * submitted before: a signed order enters the book once.
   */
  async insertOrder(o: StoredOrderRow, now = Date.now()): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO orderbook_orders (order_id, instrument, account, order_hash, body, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_hash) DO NOTHING`,
      [o.orderId, o.instrument, o.account.toLowerCase(), o.orderHash, o.body, now],
    );
    return n === 1;
  }

  /** The book order carrying the signed order `orderHash`, if any. */
  async orderIdByHash(orderHash: string): Promise<number | null> {
    const rows = await this.db.query<{ order_id: number | string }>(
      "SELECT order_id FROM orderbook_orders WHERE order_hash = $1",
      [orderHash],
    );
    return rows.length > 0 ? Number(rows[0].order_id) : null;
  }

  async order(orderId: number): Promise<StoredOrderRow | undefined> {
    const rows = await this.db.query<{
      order_id: number | string;
      instrument: string;
      account: string;
      order_hash: string;
      body: string;
    }>("SELECT order_id, instrument, account, order_hash, body FROM orderbook_orders WHERE order_id = $1", [orderId]);
    const r = rows[0];
    return r === undefined
      ? undefined
      : {
          orderId: Number(r.order_id),
          instrument: r.instrument,
          account: r.account,
          orderHash: r.order_hash,
          body: r.body,
        };
  }

  /**
   * Forgets the signed order behind an order that never entered the book (refused by pre-trade risk, or stored by a
   * process that died before journaling it) and the nonce it reserved: the same signed order may come again.
   */
  async deleteOrder(orderId: number): Promise<void> {
    await this.db.run("DELETE FROM orderbook_nonces WHERE order_id = $1", [orderId]);
    await this.db.run("DELETE FROM orderbook_orders WHERE order_id = $1", [orderId]);
  }

  /**
   * Replaces the signed order behind `orderId` (a modify) only while the stored one is still `expectedHash`
   * (compare-and-swap); the replaced one is kept as `prev_*`. "used": the new signed order was submitted before;
   * "changed": the stored signed order is no longer the expected one.
   */
  async replaceOrder(
    orderId: number,
    orderHash: string,
    body: string,
    expectedHash: string,
  ): Promise<"ok" | "used" | "changed"> {
    const used = await this.db.query("SELECT 1 FROM orderbook_orders WHERE order_hash = $1 AND order_id <> $2", [
      orderHash,
      orderId,
    ]);
    if (used.length > 0) return "used";
    const n = await this.db.run(
      `UPDATE orderbook_orders SET prev_hash = order_hash, prev_body = body, order_hash = $2, body = $3
       WHERE order_id = $1 AND order_hash = $4`,
      [orderId, orderHash, body, expectedHash],
    );
    return n === 1 ? "ok" : "changed";
  }

  /** The orders of `instrument` a modify replaced, with the signed order before the last replacement. */
  async modifiedOrders(
    instrument: string,
  ): Promise<Array<{ orderId: number; orderHash: string; body: string; prevHash: string; prevBody: string }>> {
    const rows = await this.db.query<{
      order_id: number | string;
      order_hash: string;
      body: string;
      prev_hash: string;
      prev_body: string;
    }>(
      `SELECT order_id, order_hash, body, prev_hash, prev_body FROM orderbook_orders
       WHERE instrument = $1 AND prev_body IS NOT NULL`,
      [instrument],
    );
    return rows.map((r) => ({
      orderId: Number(r.order_id),
      orderHash: r.order_hash,
      body: r.body,
      prevHash: r.prev_hash,
      prevBody: r.prev_body,
    }));
  }

  /** Order ids of `instrument` above `aboveId` or among `ids`: the candidates of an unfinished placement. */
  async orderIdsAfter(instrument: string, aboveId: number, ids: readonly number[]): Promise<number[]> {
    const rows = await this.db.query<{ order_id: number | string }>(
      "SELECT order_id FROM orderbook_orders WHERE instrument = $1 AND order_id > $2",
      [instrument, aboveId],
    );
    const out = rows.map((r) => Number(r.order_id));
    for (let start = 0; start < ids.length; start += ROWS_PER_INSERT) {
      const chunk = ids.slice(start, start + ROWS_PER_INSERT);
      const more = await this.db.query<{ order_id: number | string }>(
        `SELECT order_id FROM orderbook_orders WHERE instrument = $1 AND order_id IN (${chunk.map((_, i) => `$${i + 2}`).join(", ")})`,
        [instrument, ...chunk],
      );
      out.push(...more.map((r) => Number(r.order_id)));
    }
    return out;
  }

  // ───────────────────────────── hub nonces ─────────────────────────────

  /**
   * Reserves `nonce` of `account` for book order `orderId`, as the SettlementHub will spend it: refused (false)
   * when another order reserved it, the hub has it spent (cancelOrder) or it is below the account's minNonce.
   */
  async reserveNonce(account: string, nonce: bigint, orderId: number): Promise<boolean> {
    const pg = this.db.kind === "postgres";
    const [a, n, id] = pg
      ? ["CAST($1 AS TEXT)", "CAST($2 AS NUMERIC(78,0))", "CAST($3 AS BIGINT)"]
      : ["$1", "$2", "$3"];
    const changed = await this.db.run(
      `INSERT INTO orderbook_nonces (account, nonce, order_id)
       SELECT ${a}, ${n}, ${id}
       WHERE NOT EXISTS (SELECT 1 FROM hub_min_nonces m WHERE m.account = ${a} AND ${greater("m.min_nonce", n, pg)})
         AND NOT EXISTS (SELECT 1 FROM hub_spent_nonces s WHERE s.account = ${a} AND s.nonce = ${n})
       ON CONFLICT (account, nonce) DO NOTHING`,
      [account.toLowerCase(), nonce.toString(), orderId],
    );
    return changed === 1;
  }

  /** Why a nonce cannot be reserved (the refusal's details): the order holding it, spent on-chain, the minNonce. */
  async nonceState(
    account: string,
    nonce: bigint,
  ): Promise<{ reservedBy: number | null; spent: boolean; minNonce: bigint }> {
    const a = account.toLowerCase();
    // one after another: inside a transaction they share one connection
    const reserved = await this.db.query<{ order_id: number | string }>(
      "SELECT order_id FROM orderbook_nonces WHERE account = $1 AND nonce = $2",
      [a, nonce.toString()],
    );
    const spent = await this.db.query("SELECT 1 FROM hub_spent_nonces WHERE account = $1 AND nonce = $2", [
      a,
      nonce.toString(),
    ]);
    const min = await this.db.query<{ min_nonce: string }>("SELECT min_nonce FROM hub_min_nonces WHERE account = $1", [
      a,
    ]);
    return {
      reservedBy: reserved.length > 0 ? Number(reserved[0].order_id) : null,
      spent: spent.length > 0,
      minNonce: min.length > 0 ? BigInt(String(min[0].min_nonce)) : 0n,
    };
  }

  /** Gives a nonce back when the order reserving it no longer wants it (a modify's discarded signed order). */
  async releaseNonce(account: string, nonce: bigint, orderId: number): Promise<void> {
    await this.db.run("DELETE FROM orderbook_nonces WHERE account = $1 AND nonce = $2 AND order_id = $3", [
      account.toLowerCase(),
      nonce.toString(),
      orderId,
    ]);
  }

  /** Projection of SettlementHub.MinNonceRaised (indexed). */
  async recordMinNonce(account: string, minNonce: bigint): Promise<void> {
    await this.db.run(
      `INSERT INTO hub_min_nonces (account, min_nonce) VALUES ($1, $2)
       ON CONFLICT (account) DO UPDATE SET min_nonce = excluded.min_nonce`,
      [account.toLowerCase(), minNonce.toString()],
    );
  }

  /** Projection of SettlementHub.OrderCancelled: the nonce is spent on-chain (indexed). */
  async recordSpentNonce(account: string, nonce: bigint): Promise<void> {
    await this.db.run(
      "INSERT INTO hub_spent_nonces (account, nonce) VALUES ($1, $2) ON CONFLICT (account, nonce) DO NOTHING",
      [account.toLowerCase(), nonce.toString()],
    );
  }

  /** A rewind drops the nonce projections; the surviving events are replayed. */
  async resetHubNonces(): Promise<void> {
    await this.db.run("DELETE FROM hub_min_nonces");
    await this.db.run("DELETE FROM hub_spent_nonces");
  }

  /** Book orders whose reserved nonce the hub has since spent or put below the account's minNonce. */
  async ordersWithDeadNonces(): Promise<number[]> {
    const pg = this.db.kind === "postgres";
    const rows = await this.db.query<{ order_id: number | string }>(
      `SELECT n.order_id FROM hub_spent_nonces s
         JOIN orderbook_nonces n ON n.account = s.account AND n.nonce = s.nonce
       UNION
       SELECT n.order_id FROM hub_min_nonces m
         JOIN orderbook_nonces n ON n.account = m.account AND ${greater("m.min_nonce", "n.nonce", pg)}`,
    );
    return rows.map((r) => Number(r.order_id));
  }

  /** The highest book order id handed out so far (0 when none). */
  async maxOrderId(): Promise<number> {
    const rows = await this.db.query<{ m: number | string | null }>("SELECT MAX(order_id) AS m FROM orderbook_orders");
    return Number(rows[0]?.m ?? 0);
  }
}

/**
 * `a > b` for amounts: NUMERIC compares on PostgreSQL; SQLite keeps canonical decimal text (no leading zeros), so
 * a longer string is larger and strings of one length compare as text.
 */
function greater(a: string, b: string, postgres: boolean): string {
  return postgres ? `${a} > ${b}` : `(length(${a}) > length(${b}) OR (length(${a}) = length(${b}) AND ${a} > ${b}))`;
}

/** The signed order behind one book order (body: JSON of the signed fields and signature, opaque to the store). */
export interface StoredOrderRow {
  orderId: number;
  instrument: string;
  account: string;
  orderHash: string;
  body: string;
}
