import type { SqlExecutor } from "../engine";

/**
 * A breaker re-arm request: `sending` while claimed (sent or about to be), then `sent` (mined), `failed` (it could
 * not have reached the chain, or was refused) or `unknown` (its fate could not be read; the next request of the
 * asset settles it from the chain).
 */
export type BreakerResetStatus = "sending" | "sent" | "failed" | "unknown";

export interface BreakerResetRecord {
  id: string;
  asset: string;
  reason: string;
  actor: string;
  status: BreakerResetStatus;
  via: string | null;
  txHash: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

type Row = Record<string, unknown>;
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function record(r: Row): BreakerResetRecord {
  return {
    id: String(r.id),
    asset: String(r.asset),
    reason: String(r.reason),
    actor: String(r.actor),
    status: r.status as BreakerResetStatus,
    via: text(r.via),
    txHash: text(r.tx_hash),
    error: text(r.error),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The ops console's breaker re-arm requests (claim before send). */
export class OpsRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** Records the request as `sending`; false when another request of the asset is `sending` (nothing written). */
  async claimBreakerReset(
    r: Pick<BreakerResetRecord, "id" | "asset" | "reason" | "actor" | "createdAt">,
  ): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO breaker_resets (id, asset, reason, actor, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'sending', $5, $5) ON CONFLICT DO NOTHING`,
      [r.id, r.asset.toLowerCase(), r.reason, r.actor, r.createdAt],
    );
    return changed > 0;
  }

  /** Ends a `sending` request with its outcome; false when it was no longer `sending`. */
  async finishBreakerReset(
    id: string,
    outcome: { status: Exclude<BreakerResetStatus, "sending">; via?: string; txHash?: string; error?: string },
    at: number,
  ): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE breaker_resets SET status = $2, via = $3, tx_hash = $4, error = $5, updated_at = $6
       WHERE id = $1 AND status = 'sending'`,
      [id, outcome.status, outcome.via ?? null, outcome.txHash ?? null, outcome.error ?? null, at],
    );
    return changed > 0;
  }

  /** The asset's `sending` request, if any. */
  async sendingBreakerReset(asset: string): Promise<BreakerResetRecord | undefined> {
    const rows = await this.db.query<Row>("SELECT * FROM breaker_resets WHERE asset = $1 AND status = 'sending'", [
      asset.toLowerCase(),
    ]);
    return rows[0] ? record(rows[0]) : undefined;
  }

  /** The latest requests, newest first (of one asset when given). */
  async breakerResets(filter: { asset?: string; limit?: number } = {}): Promise<BreakerResetRecord[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM breaker_resets WHERE ($1 = '' OR asset = $1) ORDER BY created_at DESC, id LIMIT $2`,
      [filter.asset?.toLowerCase() ?? "", filter.limit ?? 50],
    );
    return rows.map(record);
  }
}
