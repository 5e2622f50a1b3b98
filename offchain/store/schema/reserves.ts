import type { Migration } from "../migrations";

/**
 * Proof of reserves: the margin accounts the indexer has seen (a projection, rebuilt on a rewind) and each
 * account's sealed proof-of-reserves secret (kept across rewinds: a client may already hold it).
 */
export const RESERVES_MIGRATIONS: Migration[] = [
  {
    capability: "reserves",
    version: 1,
    description: "reserves margin accounts and account secrets",
    up: (d) => `
CREATE TABLE reserves_accounts (
  account TEXT PRIMARY KEY,
  first_block ${d.int64} NOT NULL
);
CREATE INDEX reserves_accounts_by_block ON reserves_accounts (first_block);
CREATE TABLE reserves_secrets (
  account TEXT PRIMARY KEY,
  secret_sealed TEXT NOT NULL,
  created_at ${d.int64} NOT NULL
);`,
  },
];
