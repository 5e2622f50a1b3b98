import type { Migration } from "../migrations";

/**
 * Service instances: a stable identity per instance (its advertised or listen address) and a process epoch that
 * grows by one at every start of that instance. Leases and pending idempotency claims record the instance and
 * epoch that took them, so a restarted instance (same identity, larger epoch) reclaims its own leases at once,
 * and a claim whose process is gone (epoch superseded, or no heartbeat for a lease time) is free to retry.
 */
export const INSTANCE_MIGRATIONS: Migration[] = [
  {
    capability: "instances",
    version: 1,
    description: "service instances with process epochs and heartbeats; lease and idempotency claim owners",
    up: (d) => `
CREATE TABLE service_instances (
  instance_id TEXT PRIMARY KEY,
  epoch ${d.int64} NOT NULL,
  host TEXT NOT NULL,
  pid ${d.int64} NOT NULL,
  started_at ${d.int64} NOT NULL,
  heartbeat_at ${d.int64} NOT NULL
);
ALTER TABLE job_locks ADD COLUMN instance TEXT;
ALTER TABLE job_locks ADD COLUMN instance_epoch ${d.int64};
ALTER TABLE idempotency_records ADD COLUMN owner_instance TEXT;
ALTER TABLE idempotency_records ADD COLUMN owner_epoch ${d.int64};`,
  },
];
