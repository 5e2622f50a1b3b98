import type { Migration } from "../migrations";

/** Surveillance: each account's behaviour tier (who set it, why, until when) and every change to it. */
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
];
