import type { Migration } from "../migrations";

/** Indexer state (cursor, recent block hashes for reorg detection), raw events and their projections. */
export const CHAIN_MIGRATIONS: Migration[] = [
  {
    capability: "chain",
    version: 1,
    description: "indexer cursor, block hashes, raw events, identity and balance projections",
    up: (d) => `
CREATE TABLE chain_cursors (
  indexer TEXT PRIMARY KEY,
  block_number ${d.int64} NOT NULL,
  block_hash TEXT NOT NULL,
  updated_at ${d.int64} NOT NULL
);
CREATE TABLE chain_blocks (
  indexer TEXT NOT NULL,
  block_number ${d.int64} NOT NULL,
  block_hash TEXT NOT NULL,
  PRIMARY KEY (indexer, block_number)
);
CREATE TABLE chain_events (
  indexer TEXT NOT NULL,
  block_number ${d.int64} NOT NULL,
  log_index INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  tx_hash TEXT NOT NULL,
  contract TEXT NOT NULL,
  address TEXT NOT NULL,
  event TEXT NOT NULL,
  topics TEXT NOT NULL,
  data TEXT NOT NULL,
  args TEXT NOT NULL,
  PRIMARY KEY (indexer, block_number, log_index)
);
CREATE INDEX chain_events_by_contract ON chain_events (indexer, contract, block_number, log_index);
CREATE TABLE chain_identities (
  account TEXT PRIMARY KEY,
  tier INTEGER NOT NULL,
  jurisdiction INTEGER NOT NULL,
  expires_at ${d.int64} NOT NULL,
  identity_hash TEXT NOT NULL,
  revoked INTEGER NOT NULL,
  revoke_reason TEXT,
  block_number ${d.int64} NOT NULL
);
CREATE TABLE chain_balances (
  token TEXT NOT NULL,
  account TEXT NOT NULL,
  balance ${d.amount} NOT NULL,
  block_number ${d.int64} NOT NULL,
  PRIMARY KEY (token, account)
);`,
  },
  {
    capability: "chain",
    version: 2,
    description: "the block from which an indexer stores each event of each contract (coverage)",
    up: (d) => `
CREATE TABLE chain_event_coverage (
  indexer TEXT NOT NULL,
  contract TEXT NOT NULL,
  event TEXT NOT NULL,
  from_block ${d.int64} NOT NULL,
  PRIMARY KEY (indexer, contract, event)
);`,
  },
];
