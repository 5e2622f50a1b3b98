import type { Migration } from "../migrations";

/**
 * Liquidation keeper: the intent journal (one row per signed liquidate transaction, written before it is
 * broadcast), the notification outbox, risk-officer overrides and a small key/value cursor table.
 */
export const KEEPER_MIGRATIONS: Migration[] = [
  {
    capability: "keeper",
    version: 1,
    description: "keeper intents, outbox, overrides, cursor",
    up: (d) => `
CREATE TABLE keeper_intents (
  id ${d.serialKey},
  account TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  signer TEXT NOT NULL,
  nonce ${d.int64} NOT NULL,
  tx_hash TEXT NOT NULL,
  raw_tx TEXT NOT NULL,
  max_segments INTEGER NOT NULL,
  status TEXT NOT NULL,
  trigger_at ${d.int64} NOT NULL,
  trigger_reason TEXT NOT NULL,
  created_at ${d.int64} NOT NULL,
  updated_at ${d.int64} NOT NULL,
  mined_block ${d.int64},
  mined_at ${d.int64},
  segments INTEGER,
  error TEXT,
  UNIQUE (account, epoch),
  UNIQUE (signer, nonce)
);
CREATE INDEX keeper_intents_by_status ON keeper_intents (status);
CREATE TABLE keeper_notifications (
  id ${d.serialKey},
  dedupe_key TEXT NOT NULL UNIQUE,
  account TEXT NOT NULL,
  kind TEXT NOT NULL,
  deadline ${d.int64},
  amount_to_cure ${d.amount},
  equity TEXT,
  maintenance_req ${d.amount},
  block_number ${d.int64},
  tx_hash TEXT,
  created_at ${d.int64} NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at ${d.int64} NOT NULL,
  delivered_at ${d.int64},
  last_error TEXT
);
CREATE INDEX keeper_notifications_due ON keeper_notifications (delivered_at, next_attempt_at);
CREATE INDEX keeper_notifications_by_account ON keeper_notifications (account, id);
CREATE TABLE keeper_overrides (
  scope TEXT NOT NULL,
  target TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at ${d.int64} NOT NULL,
  PRIMARY KEY (scope, target)
);
CREATE TABLE keeper_state (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);`,
  },
  {
    capability: "keeper",
    version: 2,
    description: "batch liquidation: the accounts of each journaled transaction",
    // keeper_intents stays one row per signed transaction (unique nonce per signer); its account and epoch name
    // the transaction's first account. Every account a transaction liquidates has its own (account, epoch) here,
    // so an account is never in two unsettled transactions, batched or not.
    up: (d) => `
CREATE TABLE keeper_intent_accounts (
  intent_id ${d.int64} NOT NULL,
  account TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  outcome TEXT,
  PRIMARY KEY (account, epoch)
);
CREATE INDEX keeper_intent_accounts_by_intent ON keeper_intent_accounts (intent_id);
INSERT INTO keeper_intent_accounts (intent_id, account, epoch, outcome)
  SELECT id, account, epoch, CASE WHEN status = 'mined' THEN 'liquidated' ELSE NULL END FROM keeper_intents;
ALTER TABLE keeper_intents ADD COLUMN accounts INTEGER NOT NULL DEFAULT 1;`,
  },
];
