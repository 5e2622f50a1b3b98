import type { Migration } from "../migrations";

/**
 * The operations console's chain writes: each breaker re-arm a risk officer asks for, recorded (claimed) before it
 * is sent. At most one request per asset may be `sending` (the partial unique index is the claim).
 */
export const OPS_MIGRATIONS: Migration[] = [
  {
    capability: "ops",
    version: 1,
    description: "breaker re-arm requests",
    up: (d) => `
CREATE TABLE breaker_resets (
  id TEXT PRIMARY KEY,
  asset TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  status TEXT NOT NULL,
  via TEXT,
  tx_hash TEXT,
  error TEXT,
  created_at ${d.int64} NOT NULL,
  updated_at ${d.int64} NOT NULL
);
CREATE UNIQUE INDEX breaker_resets_one_sending ON breaker_resets (asset) WHERE status = 'sending';
CREATE INDEX breaker_resets_by_asset ON breaker_resets (asset, created_at);`,
  },
];
