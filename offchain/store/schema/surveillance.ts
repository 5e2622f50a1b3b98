import type { Migration } from "../migrations";

/**
 * Surveillance: each account's behaviour tier (who set it, why, until when) and every change to it (v1); the
 * declared beneficial owners that link accounts into groups, the review queue and the equity marks its loss
 * threshold is measured from (v2).
 */
export const SURVEILLANCE_MIGRATIONS: Migration[] = [
  {
    capability: "surveillance",
    version: 1,
    description: "behaviour tiers and their history",
    up: (d) => `
CREATE TABLE behaviour_tiers (
  account TEXT PRIMARY KEY,
  tier TEXT NOT NULL,
  reason_code TEXT NOT NULL,
  note TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at ${d.int64} NOT NULL,
  until_at ${d.int64},
  version INTEGER NOT NULL
);
CREATE TABLE behaviour_tier_events (
  id ${d.serialKey},
  account TEXT NOT NULL,
  action TEXT NOT NULL,
  tier TEXT NOT NULL,
  reason_code TEXT NOT NULL,
  note TEXT NOT NULL,
  actor TEXT NOT NULL,
  at ${d.int64} NOT NULL,
  until_at ${d.int64},
  version INTEGER NOT NULL
);
CREATE INDEX behaviour_tier_events_by_account ON behaviour_tier_events (account, id);`,
  },
  {
    capability: "surveillance",
    version: 2,
    description: "beneficial owners (linked accounts), the review queue, equity marks",
    // Groups are not stored: they are the connected sets of accounts sharing a KYC identity hash (kyc_applicants,
    // chain_identities) or a beneficial owner (here), read when asked. The three indexes serve that read.
    up: (d) => `
CREATE TABLE beneficial_owners (
  account TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  note TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at ${d.int64} NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX beneficial_owners_by_owner ON beneficial_owners (owner);
CREATE INDEX kyc_applicants_by_identity_hash ON kyc_applicants (identity_hash);
CREATE INDEX chain_identities_by_identity_hash ON chain_identities (identity_hash);
CREATE TABLE account_reviews (
  id ${d.serialKey},
  account TEXT NOT NULL,
  reason TEXT NOT NULL,
  figure ${d.amount} NOT NULL,
  threshold ${d.amount} NOT NULL,
  evidence TEXT NOT NULL,
  status TEXT NOT NULL,
  opened_at ${d.int64} NOT NULL,
  decided_by TEXT,
  decided_at ${d.int64},
  action TEXT,
  tier TEXT,
  note TEXT,
  kyc_tier INTEGER,
  kyc_tx TEXT,
  kyc_error TEXT,
  version INTEGER NOT NULL
);
CREATE UNIQUE INDEX account_reviews_one_open ON account_reviews (account, reason) WHERE status = 'open';
CREATE INDEX account_reviews_by_status ON account_reviews (status, id);
CREATE TABLE equity_marks (
  account TEXT PRIMARY KEY,
  equity ${d.amount} NOT NULL,
  marked_at ${d.int64} NOT NULL
);`,
  },
];
