import type { Migration } from "../migrations";

/** KYC applicants (identity sealed with AES-256-GCM) and their full status history. */
export const KYC_MIGRATIONS: Migration[] = [
  {
    capability: "kyc",
    version: 1,
    description: "kyc applicants and status history",
    up: (d) => `
CREATE TABLE kyc_applicants (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  submitted_by TEXT NOT NULL,
  status TEXT NOT NULL,
  identity_sealed TEXT NOT NULL,
  identity_hash TEXT NOT NULL,
  jurisdiction INTEGER NOT NULL,
  score INTEGER NOT NULL,
  tier INTEGER NOT NULL,
  max_leverage ${d.amount} NOT NULL,
  screening TEXT NOT NULL,
  review_reasons TEXT NOT NULL,
  expires_at ${d.int64},
  tx_hash TEXT,
  created_at ${d.int64} NOT NULL,
  updated_at ${d.int64} NOT NULL
);
CREATE INDEX kyc_applicants_by_account ON kyc_applicants (account);
CREATE INDEX kyc_applicants_by_status ON kyc_applicants (status);
CREATE TABLE kyc_status_history (
  id ${d.serialKey},
  applicant_id TEXT NOT NULL REFERENCES kyc_applicants (id),
  status TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  tx_hash TEXT,
  at ${d.int64} NOT NULL
);
CREATE INDEX kyc_status_history_by_applicant ON kyc_status_history (applicant_id, id);`,
  },
  {
    capability: "kyc",
    version: 2,
    description: "claims on KycRegistry writes (one writer per account) and reconciliation findings",
    up: (d) => `
CREATE TABLE kyc_chain_claims (
  account TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  op TEXT NOT NULL,
  application_id TEXT,
  from_status TEXT,
  detail TEXT NOT NULL,
  until_ms ${d.int64} NOT NULL,
  created_at ${d.int64} NOT NULL
);
CREATE TABLE kyc_discrepancies (
  account TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  application_id TEXT,
  chain_identity_hash TEXT,
  detail TEXT NOT NULL,
  first_seen ${d.int64} NOT NULL,
  last_seen ${d.int64} NOT NULL
);`,
  },
  {
    capability: "kyc",
    version: 3,
    description: "suitability quiz results and signed document acknowledgements",
    up: (d) => `
ALTER TABLE kyc_applicants ADD COLUMN suitability TEXT;
CREATE TABLE kyc_acknowledgements (
  application_id TEXT NOT NULL REFERENCES kyc_applicants (id),
  document_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  language TEXT NOT NULL,
  acknowledged_at ${d.int64} NOT NULL,
  signature TEXT NOT NULL,
  signer TEXT NOT NULL,
  recorded_at ${d.int64} NOT NULL,
  PRIMARY KEY (application_id, document_id, version)
);`,
  },
];
