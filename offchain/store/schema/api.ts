import type { Migration } from "../migrations";

/** API keys, replay nonces, idempotency records, the hash-chained audit log and job leases. */
export const API_MIGRATIONS: Migration[] = [
  {
    capability: "api",
    version: 1,
    description: "api keys, nonces, idempotency records, audit log, job locks",
    up: (d) => `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  subject TEXT NOT NULL,
  label TEXT NOT NULL,
  secret_sealed TEXT NOT NULL,
  totp_sealed TEXT,
  created_at ${d.int64} NOT NULL,
  revoked_at ${d.int64}
);
CREATE TABLE api_nonces (
  key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at ${d.int64} NOT NULL,
  PRIMARY KEY (key_id, nonce)
);
CREATE INDEX api_nonces_by_expiry ON api_nonces (expires_at);
CREATE TABLE idempotency_records (
  key_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  status INTEGER,
  response TEXT,
  created_at ${d.int64} NOT NULL,
  PRIMARY KEY (key_id, idem_key)
);
CREATE TABLE audit_log (
  seq ${d.int64} PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE job_locks (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at ${d.int64} NOT NULL
);`,
  },
  {
    capability: "api",
    version: 2,
    description: "lease epochs on job_locks: each change of holder increments the epoch (fencing token)",
    up: () => `ALTER TABLE job_locks ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    capability: "api",
    version: 3,
    description: "wallet sign-in (EIP-4361): single-use sign-in nonces and revocable sessions bound to an address",
    up: (d) => `
CREATE TABLE siwe_nonces (
  nonce TEXT PRIMARY KEY,
  issued_at ${d.int64} NOT NULL,
  expires_at ${d.int64} NOT NULL,
  used_at ${d.int64}
);
CREATE INDEX siwe_nonces_by_expiry ON siwe_nonces (expires_at);
CREATE TABLE wallet_sessions (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  address TEXT NOT NULL,
  role TEXT NOT NULL,
  nonce TEXT NOT NULL UNIQUE,
  created_at ${d.int64} NOT NULL,
  expires_at ${d.int64} NOT NULL,
  revoked_at ${d.int64}
);
CREATE INDEX wallet_sessions_by_address ON wallet_sessions (address);`,
  },
];
