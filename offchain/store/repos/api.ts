import { canonicalJson, sha256Hex } from "../../shared/crypto";
import type { SqlExecutor } from "../engine";
import type { InstanceClaim } from "./instances";

export interface ApiKeyRecord {
  id: string;
  role: string;
  /** Who the key acts for: an account address for clients, a person or system name for staff. */
  subject: string;
  label: string;
  /** The HMAC secret, sealed by api/ (this layer never sees it in clear). */
  secretSealed: string;
  totpSealed: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export class ApiKeyRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(k: ApiKeyRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO api_keys (id, role, subject, label, secret_sealed, totp_sealed, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [k.id, k.role, k.subject, k.label, k.secretSealed, k.totpSealed, k.createdAt, k.revokedAt],
    );
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const r = (await this.db.query("SELECT * FROM api_keys WHERE id = $1", [id]))[0];
    return r ? toApiKey(r) : undefined;
  }

  /** Keys not revoked whose label is `label` (the development staff keys are found by theirs). */
  async activeByLabel(label: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db.query(
      "SELECT * FROM api_keys WHERE label = $1 AND revoked_at IS NULL ORDER BY created_at, id",
      [label],
    );
    return rows.map(toApiKey);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return (
      (await this.db.run("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [id, at])) > 0
    );
  }
}

function toApiKey(r: Record<string, unknown>): ApiKeyRecord {
  return {
    id: String(r.id),
    role: String(r.role),
    subject: String(r.subject),
    label: String(r.label),
    secretSealed: String(r.secret_sealed),
    totpSealed: r.totp_sealed === null ? null : String(r.totp_sealed),
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

/** Request nonces seen inside the timestamp window; a second use of a (key, nonce) pair is a replay. */
export class NonceRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** True when the nonce was fresh and is now recorded; false when it was already used. */
  async use(keyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const changed = await this.db.run(
      "INSERT INTO api_nonces (key_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key_id, nonce) DO NOTHING",
      [keyId, nonce, expiresAt],
    );
    return changed > 0;
  }

  async prune(now: number): Promise<number> {
    return this.db.run("DELETE FROM api_nonces WHERE expires_at < $1", [now]);
  }
}

export type IdempotencyOutcome =
  | { kind: "new"; reclaimed?: boolean }
  | { kind: "replay"; status: number; body: unknown }
  | { kind: "conflict" }
  | { kind: "in_progress" };

/**
 * The process that claims an idempotency key: its instance and process epoch (service_instances). A pending
 * claim of a process that is gone (a newer epoch of its instance registered, or no heartbeat for `staleAfterMs`)
 * may be taken over by a retry.
 */
export interface IdempotencyOwner {
  instance: string;
  epoch: number;
  staleAfterMs: number;
}

/** First result per (key, idempotency key); a different body under the same key is a conflict. */
export class IdempotencyRepository {
  constructor(private readonly db: SqlExecutor) {}

  async begin(
    keyId: string,
    idemKey: string,
    requestHash: string,
    now: number,
    owner?: IdempotencyOwner,
  ): Promise<IdempotencyOutcome> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const inserted = await this.db.run(
        `INSERT INTO idempotency_records (key_id, idem_key, request_hash, state, created_at, owner_instance, owner_epoch)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6) ON CONFLICT (key_id, idem_key) DO NOTHING`,
        [keyId, idemKey, requestHash, now, owner?.instance ?? null, owner?.epoch ?? null],
      );
      if (inserted > 0) return { kind: "new" };
      const r = (
        await this.db.query<{
          request_hash: string;
          state: string;
          status: number | string | null;
          response: string | null;
          created_at: number | string;
          owner_instance: string | null;
          owner_epoch: number | string | null;
          live_epoch: number | string | null;
          heartbeat_at: number | string | null;
        }>(
          `SELECT r.request_hash, r.state, r.status, r.response, r.created_at, r.owner_instance, r.owner_epoch,
                  i.epoch AS live_epoch, i.heartbeat_at
           FROM idempotency_records r LEFT JOIN service_instances i ON i.instance_id = r.owner_instance
           WHERE r.key_id = $1 AND r.idem_key = $2`,
          [keyId, idemKey],
        )
      )[0];
      if (!r) continue; // abandoned between the insert and the read: claim it again
      if (r.request_hash !== requestHash) return { kind: "conflict" };
      if (r.state === "done") return { kind: "replay", status: Number(r.status), body: JSON.parse(String(r.response)) };
      if (owner === undefined || !claimGone(r, now, owner.staleAfterMs)) return { kind: "in_progress" };
      // The claiming process is gone: take the claim over, unless another retry took it first.
      const taken = await this.db.run(
        `UPDATE idempotency_records SET owner_instance = $3, owner_epoch = $4, created_at = $5
         WHERE key_id = $1 AND idem_key = $2 AND state = 'pending'
           AND COALESCE(owner_instance, '') = $6 AND COALESCE(owner_epoch, -1) = $7`,
        [
          keyId,
          idemKey,
          owner.instance,
          owner.epoch,
          now,
          r.owner_instance ?? "",
          r.owner_epoch === null ? -1 : Number(r.owner_epoch),
        ],
      );
      if (taken === 1) return { kind: "new", reclaimed: true };
    }
    return { kind: "in_progress" };
  }

  /**
   * Stores the response of a claimed key. With `owner`, only while that process still holds the claim (false when
   * another process took it over, believing this one gone).
   */
  async complete(
    keyId: string,
    idemKey: string,
    status: number,
    body: unknown,
    owner?: IdempotencyOwner,
  ): Promise<boolean> {
    const response = JSON.stringify(body ?? null);
    if (owner === undefined)
      return (
        (await this.db.run(
          "UPDATE idempotency_records SET state = 'done', status = $3, response = $4 WHERE key_id = $1 AND idem_key = $2",
          [keyId, idemKey, status, response],
        )) === 1
      );
    return (
      (await this.db.run(
        `UPDATE idempotency_records SET state = 'done', status = $3, response = $4
         WHERE key_id = $1 AND idem_key = $2 AND state = 'pending' AND owner_instance = $5 AND owner_epoch = $6`,
        [keyId, idemKey, status, response, owner.instance, owner.epoch],
      )) === 1
    );
  }

  /** Forgets a pending record so the client may retry (the handler failed on the server's side). */
  async abandon(keyId: string, idemKey: string, owner?: IdempotencyOwner): Promise<void> {
    if (owner === undefined) {
      await this.db.run("DELETE FROM idempotency_records WHERE key_id = $1 AND idem_key = $2 AND state = 'pending'", [
        keyId,
        idemKey,
      ]);
      return;
    }
    await this.db.run(
      `DELETE FROM idempotency_records WHERE key_id = $1 AND idem_key = $2 AND state = 'pending'
         AND owner_instance = $3 AND owner_epoch = $4`,
      [keyId, idemKey, owner.instance, owner.epoch],
    );
  }
}

/**
 * Whether the process behind a pending claim is gone: its instance has started again since (a newer epoch), it
 * stopped cleanly or stopped beating for `staleAfterMs`; a claim without a recorded process (taken before instances
 * were tracked) counts as gone once it is `staleAfterMs` old.
 */
function claimGone(
  r: {
    created_at: number | string;
    owner_instance: string | null;
    owner_epoch: number | string | null;
    live_epoch: number | string | null;
    heartbeat_at: number | string | null;
  },
  now: number,
  staleAfterMs: number,
): boolean {
  if (r.owner_instance === null || r.live_epoch === null) return Number(r.created_at) < now - staleAfterMs;
  if (Number(r.live_epoch) > Number(r.owner_epoch)) return true;
  return Number(r.heartbeat_at) < now - staleAfterMs;
}

export interface AuditInput {
  actor: string;
  role: string;
  action: string;
  requestId: string;
  details: Record<string, unknown>;
}

export interface AuditEntry extends AuditInput {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export const AUDIT_GENESIS = "0".repeat(64);

/** hash = sha256(prevHash ‖ canonical JSON of {seq, at, actor, role, action, requestId, details}). */
export function auditHash(e: Omit<AuditEntry, "hash">): string {
  const body = canonicalJson({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    role: e.role,
    action: e.action,
    requestId: e.requestId,
    details: e.details,
  });
  return sha256Hex(e.prevHash + body);
}

/** The hash-chained audit log. Appends are serialised (one chain) across every instance sharing the store. */
export class AuditRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** Must run inside a transaction so the lock and the read of the previous entry hold until commit. */
  async append(input: AuditInput, at = new Date()): Promise<AuditEntry> {
    await this.db.lock("audit_log");
    const last = (await this.db.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))[0];
    const draft = {
      ...input,
      seq: last ? Number(last.seq) + 1 : 1,
      at: at.toISOString(),
      prevHash: last ? String(last.hash) : AUDIT_GENESIS,
    };
    const entry: AuditEntry = { ...draft, hash: auditHash(draft) };
    await this.db.run(
      `INSERT INTO audit_log (seq, at, actor, role, action, request_id, details, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        entry.seq,
        entry.at,
        entry.actor,
        entry.role,
        entry.action,
        entry.requestId,
        canonicalJson(entry.details),
        entry.prevHash,
        entry.hash,
      ],
    );
    return entry;
  }

  async list(fromSeq = 1, limit = 100): Promise<AuditEntry[]> {
    const rows = await this.db.query("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2", [fromSeq, limit]);
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: String(r.at),
      actor: String(r.actor),
      role: String(r.role),
      action: String(r.action),
      requestId: String(r.request_id),
      details: JSON.parse(String(r.details)) as Record<string, unknown>,
      prevHash: String(r.prev_hash),
      hash: String(r.hash),
    }));
  }
}

/** Leases for background jobs: one holder per name at a time, across instances; expired leases are taken over. */
export class LockRepository {
  constructor(private readonly db: SqlExecutor) {}

  /**
   * Takes or renews a lease without an epoch. With `claim` (the caller's instance and process epoch), a lease an
   * earlier process of the same instance still holds is taken at once: that process is gone (it was restarted).
   */
  async tryAcquire(
    name: string,
    owner: string,
    ttlMs: number,
    now = Date.now(),
    claim?: InstanceClaim,
  ): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO job_locks (name, owner, expires_at, instance, instance_epoch) VALUES ($1, $2, $3, $5, $6)
       ON CONFLICT (name) DO UPDATE SET owner = $2, expires_at = $3, instance = $5, instance_epoch = $6
       WHERE job_locks.owner = $2 OR job_locks.expires_at < $4
          OR (job_locks.instance = $5 AND job_locks.instance_epoch < $6)
       RETURNING owner`,
      [name, owner, now + ttlMs, now, claim?.instance ?? null, claim?.epoch ?? null],
    );
    return rows.length > 0;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.db.run("DELETE FROM job_locks WHERE name = $1 AND owner = $2", [name, owner]);
  }

  /**
   * Takes or renews a lease and returns its epoch (the fencing token), or undefined while another owner holds it.
   * A renewal in time keeps the epoch; any other take (another owner, or this one after the lease expired) adds
   * one, so whatever a holder started under an expired lease is fenced off. The epoch never goes back:
   * `releaseLease` expires the row instead of deleting it. With `claim`, a lease held by an earlier process of
   * the caller's own instance (a smaller process epoch: that process was restarted) is taken at once, with a new
   * epoch, instead of waiting for it to expire.
   */
  async acquireLease(
    name: string,
    owner: string,
    ttlMs: number,
    now = Date.now(),
    claim?: InstanceClaim,
  ): Promise<number | undefined> {
    const rows = await this.db.query<{ epoch: number | string }>(
      `INSERT INTO job_locks (name, owner, expires_at, epoch, instance, instance_epoch) VALUES ($1, $2, $3, 1, $5, $6)
       ON CONFLICT (name) DO UPDATE SET owner = $2, expires_at = $3, instance = $5, instance_epoch = $6,
         epoch = CASE WHEN job_locks.owner = $2 AND job_locks.expires_at >= $4 THEN job_locks.epoch
                      ELSE job_locks.epoch + 1 END
       WHERE job_locks.owner = $2 OR job_locks.expires_at < $4
          OR (job_locks.instance = $5 AND job_locks.instance_epoch < $6)
       RETURNING epoch`,
      [name, owner, now + ttlMs, now, claim?.instance ?? null, claim?.epoch ?? null],
    );
    return rows.length > 0 ? Number(rows[0].epoch) : undefined;
  }

  /** Gives a lease up at once (a standby may take it on its next try); the epoch stays. */
  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.run("UPDATE job_locks SET expires_at = 0 WHERE name = $1 AND owner = $2", [name, owner]);
  }

  /** Who holds a lease now (undefined when nobody does or it has expired). */
  async leaseHolder(name: string, now = Date.now()): Promise<{ owner: string; epoch: number } | undefined> {
    const rows = await this.db.query<{ owner: string; epoch: number | string }>(
      "SELECT owner, epoch FROM job_locks WHERE name = $1 AND expires_at >= $2",
      [name, now],
    );
    return rows.length > 0 ? { owner: rows[0].owner, epoch: Number(rows[0].epoch) } : undefined;
  }

  /** Every lease row (held, expired or released), by name: what /v1/status shows. */
  async leases(): Promise<LeaseRow[]> {
    const rows = await this.db.query<{
      name: string;
      owner: string;
      expires_at: number | string;
      epoch: number | string;
      instance: string | null;
      instance_epoch: number | string | null;
    }>("SELECT name, owner, expires_at, epoch, instance, instance_epoch FROM job_locks ORDER BY name");
    return rows.map((r) => ({
      name: r.name,
      owner: r.owner,
      expiresAt: Number(r.expires_at),
      epoch: Number(r.epoch),
      instance: r.instance,
      instanceEpoch: r.instance_epoch === null ? null : Number(r.instance_epoch),
    }));
  }

  /**
   * The fence: inside a transaction, true only while `owner` still holds `name` at `epoch`. On PostgreSQL the row
   * is locked FOR SHARE until the transaction ends, so a takeover (an UPDATE of that row) waits for the fenced
   * write to commit and the new holder sees it; SQLite transactions are already serialised.
   */
  async holdsLease(name: string, owner: string, epoch: number): Promise<boolean> {
    const lock = this.db.kind === "postgres" ? " FOR SHARE" : "";
    const rows = await this.db.query(
      `SELECT 1 AS held FROM job_locks WHERE name = $1 AND owner = $2 AND epoch = $3${lock}`,
      [name, owner, epoch],
    );
    return rows.length > 0;
  }
}

/** One lease row: its current (or last) holder, the fencing epoch and the holder's instance and process epoch. */
export interface LeaseRow {
  name: string;
  owner: string;
  expiresAt: number;
  epoch: number;
  instance: string | null;
  instanceEpoch: number | null;
}
