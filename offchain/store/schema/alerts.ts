import type { Migration } from "../migrations";

/**
 * Surveillance alerts (issue 25): what the order-flow rules, the AML monitor and the sanctions re-screen raise, each
 * de-duplicated by a key (rule, account, window), decided by a risk officer under compare-and-swap; a case file per
 * AML alert with its notes; where each incremental reader got to; the pre-trade refusals the book never journals.
 */
export const ALERTS_MIGRATIONS: Migration[] = [
  {
    capability: "alerts",
    version: 1,
    description: "surveillance alerts, AML case files and notes, reader cursors, pre-trade refusals, sanctions screens",
    up: (d) => `
CREATE TABLE surveillance_alerts (
  id ${d.serialKey},
  dedupe_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('order-flow', 'aml', 'sanctions')),
  rule TEXT NOT NULL,
  account TEXT NOT NULL,
  instrument TEXT,
  window_start ${d.int64} NOT NULL,
  window_end ${d.int64} NOT NULL,
  reason_code TEXT NOT NULL,
  proposed_tier TEXT NOT NULL,
  summary TEXT NOT NULL,
  evidence TEXT NOT NULL,
  amount ${d.amount},
  status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'dismissed')),
  raised_at ${d.int64} NOT NULL,
  decided_by TEXT,
  decided_at ${d.int64},
  decision_note TEXT,
  version INTEGER NOT NULL
);
CREATE INDEX surveillance_alerts_by_status ON surveillance_alerts (status, id);
CREATE INDEX surveillance_alerts_by_account ON surveillance_alerts (account, id);
CREATE TABLE surveillance_cases (
  id ${d.serialKey},
  alert_id ${d.int64} NOT NULL UNIQUE REFERENCES surveillance_alerts (id),
  account TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'reported', 'closed')),
  opened_at ${d.int64} NOT NULL,
  updated_at ${d.int64} NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE surveillance_case_notes (
  id ${d.serialKey},
  case_id ${d.int64} NOT NULL REFERENCES surveillance_cases (id),
  author TEXT NOT NULL,
  note TEXT NOT NULL,
  status TEXT NOT NULL,
  at ${d.int64} NOT NULL
);
CREATE INDEX surveillance_case_notes_by_case ON surveillance_case_notes (case_id, id);
CREATE TABLE surveillance_cursors (
  name TEXT PRIMARY KEY,
  position ${d.int64} NOT NULL,
  updated_at ${d.int64} NOT NULL
);
CREATE TABLE surveillance_refusals (
  id ${d.serialKey},
  instrument TEXT NOT NULL,
  account TEXT NOT NULL,
  order_id ${d.int64} NOT NULL,
  code TEXT NOT NULL,
  at ${d.int64} NOT NULL
);
CREATE TABLE sanctions_screens (
  list_hash TEXT PRIMARY KEY,
  entries INTEGER NOT NULL,
  screened INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  at ${d.int64} NOT NULL
);`,
  },
];
