import type { AgreementEndRecord, AgreementEndStore, EndStatus } from "../../settlement/agreementEnd/port";
import type { SqlExecutor } from "../engine";

type Row = Record<string, unknown>;

/**
 * AgreementEndStore on SQLite and PostgreSQL: the record as JSON beside the columns that are queried. An update is
 * one `UPDATE … WHERE revision = $n`, so of two instances writing the same workflow at once exactly one wins; an
 * insert is `ON CONFLICT DO NOTHING`, so two requests ending the same agreement at once create one workflow.
 */
export class AgreementEndRepository implements AgreementEndStore {
  constructor(private readonly db: SqlExecutor) {}

  async insertEnd(rec: AgreementEndRecord): Promise<{ record: AgreementEndRecord; created: boolean }> {
    const n = await this.db.run(
      `INSERT INTO agreement_ends (agreement_id, account, reason, step, status, lease_owner, lease_until, record,
         revision, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (agreement_id) DO NOTHING`,
      [
        rec.agreementId,
        rec.account.toLowerCase(),
        rec.reason,
        rec.step,
        rec.status,
        rec.lease?.owner ?? null,
        rec.lease?.until ?? null,
        JSON.stringify(rec),
        rec.revision,
        rec.updatedAt,
      ],
    );
    const stored = await this.getEnd(rec.agreementId);
    if (!stored) throw new Error(`agreement end ${rec.agreementId} vanished after its insert`);
    return { record: stored, created: n === 1 };
  }

  async getEnd(agreementId: string): Promise<AgreementEndRecord | undefined> {
    const rows = await this.db.query<Row>("SELECT record, revision FROM agreement_ends WHERE agreement_id = $1", [
      agreementId,
    ]);
    return rows[0] ? decode(rows[0]) : undefined;
  }

  async updateEnd(rec: AgreementEndRecord, expectedRevision: number): Promise<boolean> {
    const next: AgreementEndRecord = { ...rec, revision: expectedRevision + 1 };
    const n = await this.db.run(
      `UPDATE agreement_ends SET step = $1, status = $2, lease_owner = $3, lease_until = $4, record = $5,
         revision = $6, updated_at = $7
       WHERE agreement_id = $8 AND revision = $9`,
      [
        next.step,
        next.status,
        next.lease?.owner ?? null,
        next.lease?.until ?? null,
        JSON.stringify(next),
        next.revision,
        next.updatedAt,
        next.agreementId,
        expectedRevision,
      ],
    );
    return n === 1;
  }

  async listEnds(filter: { status?: EndStatus; account?: string }): Promise<AgreementEndRecord[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.status) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    if (filter.account) {
      params.push(filter.account.toLowerCase());
      where.push(`account = $${params.length}`);
    }
    const rows = await this.db.query<Row>(
      `SELECT record, revision FROM agreement_ends ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY updated_at DESC LIMIT 500`,
      params,
    );
    return rows.map(decode);
  }
}

/** The JSON record, with the row's revision (the column is what the compare-and-swap checks). */
function decode(r: Row): AgreementEndRecord {
  return { ...(JSON.parse(String(r.record)) as AgreementEndRecord), revision: Number(r.revision) };
}
