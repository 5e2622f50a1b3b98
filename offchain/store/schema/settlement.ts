import type { Migration } from "../migrations";

/**
 * Settlement: the durable queue of matched trades the order book appends to and the batcher drains
 * (settlement_trades, settlement_batches), and the legal records (agreements, statements, disputes, evidence
 * bundles, payment messages) behind the LegalStore interface.
 */
export const SETTLEMENT_MIGRATIONS: Migration[] = [
  {
    capability: "settlement",
    version: 1,
    description: "matched-trade queue and settlement batches",
    up: (d) => `
CREATE TABLE settlement_trades (
  seq ${d.serialKey},
  trade_id TEXT NOT NULL UNIQUE,
  instrument TEXT NOT NULL,
  buy_order TEXT NOT NULL,
  sell_order TEXT NOT NULL,
  buy_sig TEXT NOT NULL,
  sell_sig TEXT NOT NULL,
  buy_order_hash TEXT NOT NULL,
  sell_order_hash TEXT NOT NULL,
  quantity ${d.amount} NOT NULL,
  price ${d.amount} NOT NULL,
  status TEXT NOT NULL,
  batch_id TEXT,
  batch_index INTEGER,
  reject_reason TEXT,
  settled_block ${d.int64},
  settled_tx TEXT,
  created_at ${d.int64} NOT NULL
);
CREATE INDEX settlement_trades_by_status ON settlement_trades (status, seq);
CREATE INDEX settlement_trades_by_batch ON settlement_trades (batch_id, batch_index);
CREATE TABLE settlement_batches (
  batch_id TEXT PRIMARY KEY,
  first_seq ${d.int64} NOT NULL,
  last_seq ${d.int64} NOT NULL,
  fills INTEGER NOT NULL,
  trade_count INTEGER NOT NULL,
  gas_estimate ${d.amount} NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  tx_hash TEXT,
  trades_root TEXT,
  settled_block ${d.int64},
  created_at ${d.int64} NOT NULL,
  updated_at ${d.int64} NOT NULL
);
CREATE INDEX settlement_batches_by_status ON settlement_batches (status, first_seq)`,
  },
  {
    capability: "settlement",
    version: 2,
    description: "legal records: agreements, statements, disputes, evidence bundles, payment messages",
    up: () => `
CREATE TABLE legal_agreements (
  agreement_id TEXT PRIMARY KEY,
  client TEXT NOT NULL,
  platform TEXT NOT NULL,
  status TEXT NOT NULL,
  terms_hash TEXT NOT NULL,
  record TEXT NOT NULL,
  revision INTEGER NOT NULL
);
CREATE INDEX legal_agreements_by_client ON legal_agreements (client);
CREATE INDEX legal_agreements_by_platform ON legal_agreements (platform);
CREATE TABLE legal_statements (
  agreement_id TEXT NOT NULL,
  from_day TEXT NOT NULL,
  to_day TEXT NOT NULL,
  account TEXT NOT NULL,
  hash TEXT NOT NULL,
  json TEXT NOT NULL,
  input TEXT,
  PRIMARY KEY (agreement_id, from_day, to_day)
);
CREATE TABLE legal_disputes (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  status TEXT NOT NULL,
  record TEXT NOT NULL,
  revision INTEGER NOT NULL
);
CREATE INDEX legal_disputes_by_account ON legal_disputes (account, status);
CREATE TABLE legal_evidence_bundles (
  dispute_id TEXT PRIMARY KEY,
  root TEXT NOT NULL,
  bundle TEXT NOT NULL
);
CREATE TABLE legal_payment_messages (
  message_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  hash TEXT NOT NULL,
  xml TEXT NOT NULL,
  end_to_end_ids TEXT NOT NULL
)`,
  },
  {
    capability: "settlement",
    version: 3,
    description: "legal amendments: one per (agreement, scheduled operation), answered by compare-and-swap",
    up: (d) => `
CREATE TABLE legal_amendments (
  amendment_id TEXT PRIMARY KEY,
  agreement_id TEXT NOT NULL,
  operation_id TEXT NOT NULL,
  client TEXT NOT NULL,
  status TEXT NOT NULL,
  effective_at ${d.int64} NOT NULL,
  record TEXT NOT NULL,
  revision INTEGER NOT NULL,
  UNIQUE (agreement_id, operation_id)
);
CREATE INDEX legal_amendments_by_status ON legal_amendments (status, effective_at)`,
  },
];
