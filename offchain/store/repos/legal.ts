import {
  LegalError,
  type AgreementRecord,
  type AmendmentRecord,
  type Dispute,
  type EvidenceBundle,
  type LegalStore,
  type StoredPaymentMessage,
  type StoredStatement,
} from "../../settlement/legal/port";
import type { SqlExecutor } from "../engine";

/**
 * LegalStore on SQLite and PostgreSQL. Records are kept as lossless JSON (a bigint is written as
 * `{"$bigint":"<decimal>"}` so it reads back as a bigint) next to the columns that are queried. Behaviour is
 * MemoryLegalStore's, including LEGAL_CONFLICT: an insert of an existing id, an update whose expected revision is
 * not the stored one (the update is one `UPDATE … WHERE revision = $n`, so two instances cannot both win), a
 * different statement for an issued period, a reused payment message id.
 */
export class LegalRepository implements LegalStore {
  constructor(private readonly db: SqlExecutor) {}

  async insertAgreement(rec: AgreementRecord): Promise<void> {
    const t = rec.document.terms;
    const n = await this.db.run(
      `INSERT INTO legal_agreements (agreement_id, client, platform, status, terms_hash, record, revision)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agreement_id) DO NOTHING`,
      [
        t.agreementId,
        t.client.address.toLowerCase(),
        t.platform.address.toLowerCase(),
        rec.status,
        rec.document.termsHash,
        encode(rec),
        rec.revision,
      ],
    );
    if (n === 0) throw new LegalError("LEGAL_CONFLICT", "agreement exists", { agreementId: t.agreementId });
  }

  async getAgreement(agreementId: string): Promise<AgreementRecord | undefined> {
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      "SELECT record, revision FROM legal_agreements WHERE agreement_id = $1",
      [agreementId],
    );
    return rows[0] && { ...decode<AgreementRecord>(rows[0].record), revision: Number(rows[0].revision) };
  }

  async updateAgreement(rec: AgreementRecord, expectedRevision: number): Promise<void> {
    const id = rec.document.terms.agreementId;
    const next = { ...rec, revision: expectedRevision + 1 };
    const n = await this.db.run(
      `UPDATE legal_agreements SET status = $2, terms_hash = $3, record = $4, revision = $5
       WHERE agreement_id = $1 AND revision = $6`,
      [id, rec.status, rec.document.termsHash, encode(next), next.revision, expectedRevision],
    );
    if (n > 0) return;
    const exists = await this.db.query("SELECT 1 FROM legal_agreements WHERE agreement_id = $1", [id]);
    if (exists.length === 0) throw new LegalError("LEGAL_NOT_FOUND", "no such agreement", { agreementId: id });
    throw new LegalError("LEGAL_CONFLICT", "agreement changed meanwhile", { agreementId: id });
  }

  async listAgreementsOf(party: string): Promise<AgreementRecord[]> {
    const p = party.toLowerCase();
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      "SELECT record, revision FROM legal_agreements WHERE client = $1 OR platform = $1 ORDER BY agreement_id",
      [p],
    );
    return rows.map((r) => ({ ...decode<AgreementRecord>(r.record), revision: Number(r.revision) }));
  }

  async listAgreementsByStatus(status: AgreementRecord["status"]): Promise<AgreementRecord[]> {
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      "SELECT record, revision FROM legal_agreements WHERE status = $1 ORDER BY agreement_id",
      [status],
    );
    return rows.map((r) => ({ ...decode<AgreementRecord>(r.record), revision: Number(r.revision) }));
  }

  /** Agreements anchored on-chain (and not closed): the accounts that get daily statements. */
  async listAnchoredAgreements(): Promise<AgreementRecord[]> {
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      "SELECT record, revision FROM legal_agreements WHERE status = 'anchored' ORDER BY agreement_id",
    );
    return rows.map((r) => ({ ...decode<AgreementRecord>(r.record), revision: Number(r.revision) }));
  }

  async insertAmendment(a: AmendmentRecord): Promise<boolean> {
    // Both keys (the id and the pair) conflict the same way: a second scan, or a second instance, inserts nothing.
    const n = await this.db.run(
      `INSERT INTO legal_amendments
         (amendment_id, agreement_id, operation_id, client, status, effective_at, record, revision)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [a.id, a.agreementId, a.operationId, a.client.toLowerCase(), a.status, a.effectiveAt, encode(a), a.revision],
    );
    return n > 0;
  }

  async getAmendment(id: string): Promise<AmendmentRecord | undefined> {
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      "SELECT record, revision FROM legal_amendments WHERE amendment_id = $1",
      [id],
    );
    return rows[0] && { ...decode<AmendmentRecord>(rows[0].record), revision: Number(rows[0].revision) };
  }

  async updateAmendment(a: AmendmentRecord, expectedRevision: number): Promise<void> {
    const next = { ...a, revision: expectedRevision + 1 };
    const n = await this.db.run(
      `UPDATE legal_amendments SET status = $2, record = $3, revision = $4
       WHERE amendment_id = $1 AND revision = $5`,
      [a.id, a.status, encode(next), next.revision, expectedRevision],
    );
    if (n > 0) return;
    const exists = await this.db.query("SELECT 1 FROM legal_amendments WHERE amendment_id = $1", [a.id]);
    if (exists.length === 0) throw new LegalError("LEGAL_NOT_FOUND", "no such amendment", { amendmentId: a.id });
    throw new LegalError("LEGAL_CONFLICT", "amendment changed meanwhile", { amendmentId: a.id });
  }

  async listAmendmentsOf(agreementId: string): Promise<AmendmentRecord[]> {
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      "SELECT record, revision FROM legal_amendments WHERE agreement_id = $1 ORDER BY effective_at, amendment_id",
      [agreementId],
    );
    return rows.map((r) => ({ ...decode<AmendmentRecord>(r.record), revision: Number(r.revision) }));
  }

  async listAmendments(status?: AmendmentRecord["status"]): Promise<AmendmentRecord[]> {
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      `SELECT record, revision FROM legal_amendments ${status ? "WHERE status = $1" : ""}
       ORDER BY effective_at, amendment_id`,
      status ? [status] : [],
    );
    return rows.map((r) => ({ ...decode<AmendmentRecord>(r.record), revision: Number(r.revision) }));
  }

  /** The last day (from = to) with an issued daily statement on or after `from`, if any. */
  async lastStatementDay(agreementId: string, from: string): Promise<string | undefined> {
    const rows = await this.db.query<{ day: string | null }>(
      `SELECT MAX(from_day) AS day FROM legal_statements
       WHERE agreement_id = $1 AND from_day = to_day AND from_day >= $2`,
      [agreementId, from],
    );
    return rows[0]?.day ?? undefined;
  }

  /** An account's statements, newest period first (`limit` at most). */
  async listStatementsOf(account: string, limit: number): Promise<StoredStatement[]> {
    const rows = await this.db.query<{
      agreement_id: string;
      account: string;
      from_day: string;
      to_day: string;
      hash: string;
      json: string;
    }>(
      `SELECT agreement_id, account, from_day, to_day, hash, json FROM legal_statements
       WHERE LOWER(account) = $1 ORDER BY from_day DESC, to_day DESC, agreement_id LIMIT $2`,
      [account.toLowerCase(), limit],
    );
    return rows.map((r) => ({
      agreementId: r.agreement_id,
      account: r.account,
      from: r.from_day,
      to: r.to_day,
      hash: r.hash,
      json: r.json,
    }));
  }

  async putStatement(s: StoredStatement): Promise<void> {
    await this.db.run(
      `INSERT INTO legal_statements (agreement_id, from_day, to_day, account, hash, json)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (agreement_id, from_day, to_day) DO NOTHING`,
      [s.agreementId, s.from, s.to, s.account, s.hash, s.json],
    );
    const cur = await this.getStatement(s.agreementId, s.from, s.to);
    if (cur && cur.hash !== s.hash) {
      throw new LegalError("LEGAL_CONFLICT", "a different statement was issued for this period", {
        key: `${s.agreementId}/${s.from}/${s.to}`,
      });
    }
  }

  async getStatement(agreementId: string, from: string, to: string): Promise<StoredStatement | undefined> {
    const rows = await this.db.query<{ account: string; hash: string; json: string }>(
      "SELECT account, hash, json FROM legal_statements WHERE agreement_id = $1 AND from_day = $2 AND to_day = $3",
      [agreementId, from, to],
    );
    return rows[0] && { agreementId, from, to, account: rows[0].account, hash: rows[0].hash, json: rows[0].json };
  }

  /** Keeps what a statement was computed from, so it can be re-derived (and re-checked) in any format later. */
  async putStatementInput(agreementId: string, from: string, to: string, input: unknown): Promise<void> {
    await this.db.run(
      "UPDATE legal_statements SET input = $4 WHERE agreement_id = $1 AND from_day = $2 AND to_day = $3",
      [agreementId, from, to, encode(input)],
    );
  }

  async getStatementInput<T>(agreementId: string, from: string, to: string): Promise<T | undefined> {
    const rows = await this.db.query<{ input: string | null }>(
      "SELECT input FROM legal_statements WHERE agreement_id = $1 AND from_day = $2 AND to_day = $3",
      [agreementId, from, to],
    );
    return rows[0]?.input ? decode<T>(rows[0].input) : undefined;
  }

  async insertDispute(d: Dispute): Promise<void> {
    const n = await this.db.run(
      `INSERT INTO legal_disputes (id, account, status, record, revision) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING`,
      [d.id, d.subject.account.toLowerCase(), d.status, encode(d), d.revision],
    );
    if (n === 0) throw new LegalError("LEGAL_CONFLICT", "dispute exists", { disputeId: d.id });
  }

  async getDispute(id: string): Promise<Dispute | undefined> {
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      "SELECT record, revision FROM legal_disputes WHERE id = $1",
      [id],
    );
    return rows[0] && { ...decode<Dispute>(rows[0].record), revision: Number(rows[0].revision) };
  }

  async updateDispute(d: Dispute, expectedRevision: number): Promise<void> {
    const next = { ...d, revision: expectedRevision + 1 };
    const n = await this.db.run(
      "UPDATE legal_disputes SET status = $2, record = $3, revision = $4 WHERE id = $1 AND revision = $5",
      [d.id, d.status, encode(next), next.revision, expectedRevision],
    );
    if (n > 0) return;
    const exists = await this.db.query("SELECT 1 FROM legal_disputes WHERE id = $1", [d.id]);
    if (exists.length === 0) throw new LegalError("LEGAL_NOT_FOUND", "no such dispute", { disputeId: d.id });
    throw new LegalError("LEGAL_CONFLICT", "dispute changed meanwhile", { disputeId: d.id });
  }

  async listDisputes(filter: { account?: string; status?: Dispute["status"] }): Promise<Dispute[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.account) {
      params.push(filter.account.toLowerCase());
      where.push(`account = $${params.length}`);
    }
    if (filter.status) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    const rows = await this.db.query<{ record: string; revision: number | string }>(
      `SELECT record, revision FROM legal_disputes ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id`,
      params,
    );
    return rows.map((r) => ({ ...decode<Dispute>(r.record), revision: Number(r.revision) }));
  }

  async putEvidenceBundle(disputeId: string, bundle: EvidenceBundle): Promise<void> {
    await this.db.run(
      `INSERT INTO legal_evidence_bundles (dispute_id, root, bundle) VALUES ($1, $2, $3)
       ON CONFLICT (dispute_id) DO UPDATE SET root = excluded.root, bundle = excluded.bundle`,
      [disputeId, bundle.manifest.root, encode(bundle)],
    );
  }

  async getEvidenceBundle(disputeId: string): Promise<EvidenceBundle | undefined> {
    const rows = await this.db.query<{ bundle: string }>(
      "SELECT bundle FROM legal_evidence_bundles WHERE dispute_id = $1",
      [disputeId],
    );
    return rows[0] && decode<EvidenceBundle>(rows[0].bundle);
  }

  async putPaymentMessage(m: StoredPaymentMessage): Promise<void> {
    const n = await this.db.run(
      `INSERT INTO legal_payment_messages (message_id, created_at, hash, xml, end_to_end_ids)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING`,
      [m.messageId, m.createdAt, m.hash, m.xml, JSON.stringify(m.endToEndIds)],
    );
    if (n === 0) {
      throw new LegalError("LEGAL_CONFLICT", "payment message id already used", { messageId: m.messageId });
    }
  }

  async getPaymentMessage(messageId: string): Promise<StoredPaymentMessage | undefined> {
    const rows = await this.db.query<{ created_at: string; hash: string; xml: string; end_to_end_ids: string }>(
      "SELECT created_at, hash, xml, end_to_end_ids FROM legal_payment_messages WHERE message_id = $1",
      [messageId],
    );
    const r = rows[0];
    return (
      r && {
        messageId,
        createdAt: r.created_at,
        hash: r.hash,
        xml: r.xml,
        endToEndIds: JSON.parse(r.end_to_end_ids) as string[],
      }
    );
  }
}

/** JSON that keeps bigints: `{"$bigint":"123"}`; `undefined` fields are dropped as JSON does. */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? { $bigint: v.toString(10) } : v));
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === "$bigint") return BigInt((v as { $bigint: string }).$bigint);
    }
    return v;
  }) as T;
}
