import { fromDbAmount, toDbAmount } from "../../shared/money";
import type { SqlExecutor } from "../engine";

/** `approving` and `revoking` hold while a KycRegistry write of the application is in flight (its claim). */
export type KycStatus = "pending_review" | "approving" | "approved" | "rejected" | "revoking" | "revoked" | "expired";

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
  /** The suitability quiz's result; null for applications filed before the quiz existed. */
  suitability: SuitabilityRecord | null;
}

/** The suitability quiz's result as the KYC file keeps it (scored by kyc/suitability.ts). */
export interface SuitabilityRecord {
  quizVersion: number;
  answers: Record<string, string>;
  /** Questions answered right, of `total`. */
  score: number;
  total: number;
  correct: Record<string, boolean>;
  /** The highest tier whose questions (and every lower tier's) were all answered right; 1 at least. */
  quizTier: number;
  /** The risk questionnaire's tier. */
  riskTier: number;
  /** The tier offered: min(riskTier, quizTier). */
  tier: number;
}

/** A client's EIP-712 signed acknowledgement of a document (kyc/acknowledgement.ts checks it before it is kept). */
export interface AcknowledgementRecord {
  applicationId: string;
  documentId: string;
  version: number;
  /** keccak256 of the UTF-8 text the client read. */
  contentHash: string;
  language: string;
  /** Unix seconds, as signed. */
  acknowledgedAt: number;
  signature: string;
  /** The recovered signer (lower case): the application's account. */
  signer: string;
  /** Unix ms, when the service kept it. */
  recordedAt: number;
}

export interface StatusChange {
  /**
   * `compensated`: a transaction that outlived its claim was undone on-chain (the status itself did not move);
   * `acknowledged`: the client signed a document's acknowledgement (the status did not move either).
   */
  status: KycStatus | "submitted" | "compensated" | "acknowledged";
  actor: string;
  reason: string;
  txHash: string | null;
  at: number;
}

/** What a KycRegistry write of an account is for: its application, the status to go back to, the case. */
export type ChainClaimOp = "approve" | "revoke" | "revoke-identity" | "compensate" | "lower-tier";

/**
 * The right to write an account's KycRegistry entry: at most one holder per account, taken in the same store
 * transaction as the application's move to its transitional status, and given up when the write is recorded.
 * A claim past `until` belongs to the reconciliation job, which finds out on-chain what became of the write.
 */
export interface ChainClaim {
  account: string;
  owner: string;
  op: ChainClaimOp;
  applicationId: string | null;
  /** The application's status before the claim (where a write that never reached the chain returns it). */
  fromStatus: KycStatus | null;
  /** The case reference and reason of a revocation, the tier of an approval. */
  detail: Record<string, string | number>;
  until: number;
  createdAt: number;
}

export type DiscrepancyKind = "unbacked-identity" | "approved-not-verified";

/** A difference between KycRegistry and the store that the reconciliation job found and could not settle itself. */
export interface Discrepancy {
  account: string;
  kind: DiscrepancyKind;
  applicationId: string | null;
  chainIdentityHash: string | null;
  detail: Record<string, string | number | boolean | null>;
  firstSeen: number;
  lastSeen: number;
}

export class KycRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(a: ApplicantRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO kyc_applicants (id, account, submitted_by, status, identity_sealed, identity_hash, jurisdiction, score, tier,
         max_leverage, screening, review_reasons, expires_at, tx_hash, created_at, updated_at, suitability)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
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
        a.suitability ? JSON.stringify(a.suitability) : null,
      ],
    );
  }

  /** Keeps an acknowledgement; false when this application has one of that document version already (idempotent). */
  async addAcknowledgement(r: AcknowledgementRecord): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO kyc_acknowledgements (application_id, document_id, version, content_hash, language, acknowledged_at,
         signature, signer, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (application_id, document_id, version) DO NOTHING`,
      [
        r.applicationId,
        r.documentId,
        r.version,
        r.contentHash,
        r.language,
        r.acknowledgedAt,
        r.signature,
        r.signer,
        r.recordedAt,
      ],
    );
    return n > 0;
  }

  async acknowledgements(applicationId: string): Promise<AcknowledgementRecord[]> {
    const rows = await this.db.query(
      "SELECT * FROM kyc_acknowledgements WHERE application_id = $1 ORDER BY recorded_at, document_id",
      [applicationId],
    );
    return rows.map(toAcknowledgement);
  }

  /** Whether an approved application of `account` holds an acknowledgement of the document version. */
  async approvedAndAcknowledged(account: string, documentId: string, version: number): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM kyc_acknowledgements k JOIN kyc_applicants a ON a.id = k.application_id
       WHERE a.account = $1 AND a.status = 'approved' AND k.document_id = $2 AND k.version = $3 LIMIT 1`,
      [account.toLowerCase(), documentId, version],
    );
    return rows.length > 0;
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

  /** Takes the account's claim; false while anyone holds one, even an expired one (the reconciler resolves those). */
  async claimAccount(c: ChainClaim): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO kyc_chain_claims (account, owner, op, application_id, from_status, detail, until_ms, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account) DO NOTHING`,
      [
        c.account.toLowerCase(),
        c.owner,
        c.op,
        c.applicationId,
        c.fromStatus,
        JSON.stringify(c.detail),
        c.until,
        c.createdAt,
      ],
    );
    return n > 0;
  }

  async claimOf(account: string): Promise<ChainClaim | undefined> {
    const rows = await this.db.query("SELECT * FROM kyc_chain_claims WHERE account = $1", [account.toLowerCase()]);
    return rows[0] ? toClaim(rows[0]) : undefined;
  }

  /** Claims whose holder is overdue (unix ms). */
  async expiredClaims(now: number, limit = 100): Promise<ChainClaim[]> {
    const rows = await this.db.query("SELECT * FROM kyc_chain_claims WHERE until_ms < $1 ORDER BY until_ms LIMIT $2", [
      now,
      limit,
    ]);
    return rows.map(toClaim);
  }

  /** Moves an overdue claim from `owner` to `newOwner` until `until`; false if it is no longer that overdue claim. */
  async takeOverClaim(account: string, owner: string, newOwner: string, until: number, now: number): Promise<boolean> {
    return (
      (await this.db.run(
        "UPDATE kyc_chain_claims SET owner = $3, until_ms = $4 WHERE account = $1 AND owner = $2 AND until_ms < $5",
        [account.toLowerCase(), owner, newOwner, until, now],
      )) > 0
    );
  }

  /** Gives the claim up; false when `owner` no longer holds it (it was taken over). */
  async releaseClaim(account: string, owner: string): Promise<boolean> {
    return (
      (await this.db.run("DELETE FROM kyc_chain_claims WHERE account = $1 AND owner = $2", [
        account.toLowerCase(),
        owner,
      ])) > 0
    );
  }

  /** Records the reconciliation's findings: `found` replaces the previous set (first sightings are kept). */
  async replaceDiscrepancies(found: Omit<Discrepancy, "firstSeen" | "lastSeen">[], now: number): Promise<void> {
    const keep = found.map((f) => f.account.toLowerCase());
    const stale = (await this.discrepancies()).filter((d) => !keep.includes(d.account));
    for (const d of stale) await this.deleteDiscrepancy(d.account);
    for (const f of found) {
      await this.db.run(
        `INSERT INTO kyc_discrepancies (account, kind, application_id, chain_identity_hash, detail, first_seen, last_seen)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (account) DO UPDATE SET kind = $2, application_id = $3, chain_identity_hash = $4, detail = $5,
           last_seen = $6`,
        [f.account.toLowerCase(), f.kind, f.applicationId, f.chainIdentityHash, JSON.stringify(f.detail), now],
      );
    }
  }

  async discrepancies(): Promise<Discrepancy[]> {
    const rows = await this.db.query("SELECT * FROM kyc_discrepancies ORDER BY first_seen, account");
    return rows.map((r) => ({
      account: String(r.account),
      kind: String(r.kind) as DiscrepancyKind,
      applicationId: r.application_id === null ? null : String(r.application_id),
      chainIdentityHash: r.chain_identity_hash === null ? null : String(r.chain_identity_hash),
      detail: JSON.parse(String(r.detail)) as Discrepancy["detail"],
      firstSeen: Number(r.first_seen),
      lastSeen: Number(r.last_seen),
    }));
  }

  async deleteDiscrepancy(account: string): Promise<void> {
    await this.db.run("DELETE FROM kyc_discrepancies WHERE account = $1", [account.toLowerCase()]);
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
    suitability: r.suitability === null || r.suitability === undefined ? null : JSON.parse(String(r.suitability)),
  };
}

function toAcknowledgement(r: Record<string, unknown>): AcknowledgementRecord {
  return {
    applicationId: String(r.application_id),
    documentId: String(r.document_id),
    version: Number(r.version),
    contentHash: String(r.content_hash),
    language: String(r.language),
    acknowledgedAt: Number(r.acknowledged_at),
    signature: String(r.signature),
    signer: String(r.signer),
    recordedAt: Number(r.recorded_at),
  };
}

function toClaim(r: Record<string, unknown>): ChainClaim {
  return {
    account: String(r.account),
    owner: String(r.owner),
    op: String(r.op) as ChainClaimOp,
    applicationId: r.application_id === null ? null : String(r.application_id),
    fromStatus: r.from_status === null ? null : (String(r.from_status) as KycStatus),
    detail: JSON.parse(String(r.detail)) as ChainClaim["detail"],
    until: Number(r.until_ms),
    createdAt: Number(r.created_at),
  };
}
