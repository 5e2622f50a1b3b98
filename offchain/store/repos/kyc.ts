import { fromDbAmount, toDbAmount } from "../../shared/money";
import type { SqlExecutor } from "../engine";

export type KycStatus = "pending_review" | "approved" | "rejected" | "revoked" | "expired";

export interface SanctionsMatch {
  entNum: string;
  listName: string;
  score: number;
}

export interface ApplicantRecord {
  id: string;
  /** The wallet address that receives the on-chain identity (lower case). */
  account: string;
  /** API key id that submitted the application. */
  submittedBy: string;
  status: KycStatus;
  /** Identity data sealed with AES-256-GCM by kyc/ (never in clear here). */
  identitySealed: string;
  /** keccak256 of the salted identity record, written on-chain. */
  identityHash: string;
  jurisdiction: number;
  score: number;
  tier: number;
  /** 18-decimal multiple. */
  maxLeverage: bigint;
  screening: SanctionsMatch[];
  reviewReasons: string[];
  expiresAt: number | null;
  txHash: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface StatusChange {
  status: KycStatus | "submitted";
  actor: string;
  reason: string;
  txHash: string | null;
  at: number;
}

export class KycRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(a: ApplicantRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO kyc_applicants (id, account, submitted_by, status, identity_sealed, identity_hash, jurisdiction, score, tier,
         max_leverage, screening, review_reasons, expires_at, tx_hash, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        a.id,
        a.account.toLowerCase(),
        a.submittedBy,
        a.status,
        a.identitySealed,
        a.identityHash,
        a.jurisdiction,
        a.score,
        a.tier,
        toDbAmount(a.maxLeverage),
        JSON.stringify(a.screening),
        JSON.stringify(a.reviewReasons),
        a.expiresAt,
        a.txHash,
        a.createdAt,
        a.updatedAt,
      ],
    );
  }

  /** Moves an applicant to `status` only if it is currently in `from` (no lost updates between instances). */
  async transition(
    id: string,
    from: KycStatus[],
    change: StatusChange & { status: KycStatus },
    fields: { expiresAt?: number | null; txHash?: string | null } = {},
  ): Promise<boolean> {
    const placeholders = from.map((_, i) => `$${i + 6}`).join(", ");
    const changed = await this.db.run(
      `UPDATE kyc_applicants SET status = $2, updated_at = $3,
         expires_at = COALESCE($4, expires_at), tx_hash = COALESCE($5, tx_hash)
       WHERE id = $1 AND status IN (${placeholders})`,
      [id, change.status, change.at, fields.expiresAt ?? null, fields.txHash ?? null, ...from],
    );
    if (changed === 0) return false;
    await this.addHistory(id, change);
    return true;
  }

  /** Records the tier finally granted and its on-chain leverage (an officer may lower the assessed tier). */
  async setAssessment(id: string, tier: number, maxLeverage: bigint): Promise<void> {
    await this.db.run("UPDATE kyc_applicants SET tier = $2, max_leverage = $3 WHERE id = $1", [
      id,
      tier,
      toDbAmount(maxLeverage),
    ]);
  }

  async addHistory(id: string, c: StatusChange): Promise<void> {
    await this.db.run(
      "INSERT INTO kyc_status_history (applicant_id, status, actor, reason, tx_hash, at) VALUES ($1, $2, $3, $4, $5, $6)",
      [id, c.status, c.actor, c.reason, c.txHash, c.at],
    );
  }

  async get(id: string): Promise<ApplicantRecord | undefined> {
    const r = (await this.db.query("SELECT * FROM kyc_applicants WHERE id = $1", [id]))[0];
    return r ? toApplicant(r) : undefined;
  }

  async list(filter: { status?: KycStatus; account?: string; limit?: number } = {}): Promise<ApplicantRecord[]> {
    const rows = await this.db.query(
      `SELECT * FROM kyc_applicants WHERE ($1 = '' OR status = $1) AND ($2 = '' OR account = $2)
       ORDER BY created_at, id LIMIT $3`,
      [filter.status ?? "", (filter.account ?? "").toLowerCase(), filter.limit ?? 100],
    );
    return rows.map(toApplicant);
  }

  /** Approved applicants whose expiry is at or before `now` (unix seconds). */
  async dueForExpiry(nowSeconds: number, limit = 100): Promise<ApplicantRecord[]> {
    const rows = await this.db.query(
      "SELECT * FROM kyc_applicants WHERE status = 'approved' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
      [nowSeconds, limit],
    );
    return rows.map(toApplicant);
  }

  async history(id: string): Promise<StatusChange[]> {
    const rows = await this.db.query(
      "SELECT status, actor, reason, tx_hash, at FROM kyc_status_history WHERE applicant_id = $1 ORDER BY id",
      [id],
    );
    return rows.map((r) => ({
      status: String(r.status) as StatusChange["status"],
      actor: String(r.actor),
      reason: String(r.reason),
      txHash: r.tx_hash === null ? null : String(r.tx_hash),
      at: Number(r.at),
    }));
  }
}

function toApplicant(r: Record<string, unknown>): ApplicantRecord {
  return {
    id: String(r.id),
    account: String(r.account),
    submittedBy: String(r.submitted_by),
    status: String(r.status) as KycStatus,
    identitySealed: String(r.identity_sealed),
    identityHash: String(r.identity_hash),
    jurisdiction: Number(r.jurisdiction),
    score: Number(r.score),
    tier: Number(r.tier),
    maxLeverage: fromDbAmount(r.max_leverage as string),
    screening: JSON.parse(String(r.screening)) as SanctionsMatch[],
    reviewReasons: JSON.parse(String(r.review_reasons)) as string[],
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    txHash: r.tx_hash === null ? null : String(r.tx_hash),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
