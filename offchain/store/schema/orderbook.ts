import type { Migration } from "../migrations";

/**
 * Order book: each book's command journal (one row per sequenced command), its engine snapshots, and the fallback
 * trade queue and the signed order behind each book order (trades handed to the settlement side when no other `TradeSink` is wired).
 */
export const ORDERBOOK_MIGRATIONS: Migration[] = [
  {
    capability: "orderbook",
    version: 1,
    description: "order book journal, snapshots, signed orders, fallback trade queue",
    up: (d) => `
CREATE TABLE orderbook_journal (
  instrument TEXT NOT NULL,
  seq ${d.int64} NOT NULL,
  entry TEXT NOT NULL,
  PRIMARY KEY (instrument, seq)
);
CREATE TABLE orderbook_snapshots (
  instrument TEXT NOT NULL,
  seq ${d.int64} NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (instrument, seq)
);
CREATE TABLE orderbook_trades (
  trade_id TEXT PRIMARY KEY,
  instrument TEXT NOT NULL,
  seq ${d.int64} NOT NULL,
  body TEXT NOT NULL,
  created_at ${d.int64} NOT NULL
);
CREATE INDEX orderbook_trades_by_seq ON orderbook_trades (instrument, seq);
CREATE TABLE orderbook_orders (
  order_id ${d.int64} PRIMARY KEY,
  instrument TEXT NOT NULL,
  account TEXT NOT NULL,
  order_hash TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  created_at ${d.int64} NOT NULL
);
CREATE INDEX orderbook_orders_by_account ON orderbook_orders (account, order_id);`,
  },
  {
    capability: "orderbook",
    version: 2,
    description: "each account's fills (maker and taker side of every trade), kept across restarts",
    up: (d) => `
CREATE TABLE orderbook_fills (
  trade_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('maker', 'taker')),
  account TEXT NOT NULL,
  order_id ${d.int64} NOT NULL,
  instrument TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
  price ${d.amount} NOT NULL,
  quantity ${d.amount} NOT NULL,
  seq ${d.int64} NOT NULL,
  idx ${d.int64} NOT NULL,
  created_at ${d.int64} NOT NULL,
  PRIMARY KEY (trade_id, role)
);
CREATE INDEX orderbook_fills_by_account ON orderbook_fills (account, seq, idx);`,
  },
  {
    capability: "orderbook",
    version: 3,
    description:
      "hub nonces: each account's nonces reserved by book orders, spent on-chain (OrderCancelled) and minNonce; " +
      "the signed order a modify replaced",
    up: (d) => `
CREATE TABLE orderbook_nonces (
  account TEXT NOT NULL,
  nonce ${d.amount} NOT NULL,
  order_id ${d.int64} NOT NULL,
  PRIMARY KEY (account, nonce)
);
CREATE INDEX orderbook_nonces_by_order ON orderbook_nonces (order_id);
CREATE TABLE hub_min_nonces (
  account TEXT PRIMARY KEY,
  min_nonce ${d.amount} NOT NULL
);
CREATE TABLE hub_spent_nonces (
  account TEXT NOT NULL,
  nonce ${d.amount} NOT NULL,
  PRIMARY KEY (account, nonce)
);
ALTER TABLE orderbook_orders ADD COLUMN prev_hash TEXT;
ALTER TABLE orderbook_orders ADD COLUMN prev_body TEXT;
INSERT INTO orderbook_nonces (account, nonce, order_id)
  SELECT account, ${
    d.kind === "postgres"
      ? "CAST((CAST(body AS json) -> 'order' ->> 'nonce') AS NUMERIC(78,0))"
      : "CAST(json_extract(body, '$.order.nonce') AS TEXT)"
  }, order_id FROM orderbook_orders WHERE true ORDER BY order_id
  ON CONFLICT (account, nonce) DO NOTHING;`,
  },
  {
    capability: "orderbook",
    version: 4,
    description: "fills by instrument and time: the average daily volume the platform's concentration limits read",
    up: () => `CREATE INDEX orderbook_fills_by_instrument ON orderbook_fills (instrument, created_at);`,
  },
];
