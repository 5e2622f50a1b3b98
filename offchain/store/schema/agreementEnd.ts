import type { Migration } from "../migrations";

/**
 * The agreement-end workflow (offchain/settlement/agreementEnd): one row per agreement being executed at its end
 * (expiry, the client's early termination, or default), the step it is at, the lease of the instance advancing
 * it, and the record (history, facts read from the chain, transactions) as JSON. Written by compare-and-swap on
 * `revision`; the lease (owner, until) lets one instance at a time send the step's transaction.
 */
export const AGREEMENT_END_MIGRATIONS: Migration[] = [
  {
    capability: "agreement-end",
    version: 1,
    description: "agreement-end workflows",
    up: (d) => `
CREATE TABLE agreement_ends (
  agreement_id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  reason TEXT NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  lease_owner TEXT,
  lease_until ${d.int64},
  record TEXT NOT NULL,
  revision INTEGER NOT NULL,
  updated_at ${d.int64} NOT NULL
);
CREATE INDEX agreement_ends_by_status ON agreement_ends (status, updated_at);
CREATE INDEX agreement_ends_by_account ON agreement_ends (account)`,
  },
];
