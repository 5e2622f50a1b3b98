import { fromDbAmount, toDbAmount } from "../../shared/money";
import type { SqlExecutor } from "../engine";
import type { JournalRow } from "./orderbook";

export type AlertKind = "order-flow" | "aml" | "sanctions";
export type AlertStatus = "open" | "accepted" | "dismissed";
export type CaseStatus = "open" | "investigating" | "reported" | "closed";

/** What a rule proposes: the account, the window it looked at, the tier it suggests and the evidence behind it. */
export interface NewAlert {
  /** Same key, same alert: a re-run over the same window raises nothing new. */
  dedupeKey: string;
  kind: AlertKind;
  rule: string;
  account: string;
  instrument: string | null;
  windowStart: number;
  windowEnd: number;
  reasonCode: string;
  proposedTier: string;
  summary: string;
  /** The order ids, trade ids, events and figures against the thresholds (JSON). */
  evidence: Record<string, unknown>;
  /** AML: the amount concerned (base units), else null. */
  amount: bigint | null;
}

export interface AlertRecord extends NewAlert {
  id: number;
  status: AlertStatus;
  raisedAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  decisionNote: string | null;
  version: number;
}

export interface CaseRecord {
  id: number;
  alertId: number;
  account: string;
  status: CaseStatus;
  openedAt: number;
  updatedAt: number;
  version: number;
}

export interface CaseNote {
  id: number;
  caseId: number;
  author: string;
  note: string;
  /** The case's status as this note left it. */
  status: CaseStatus;
  at: number;
}

/** A pre-trade refusal: never journaled by the book (it did not reach it), so surveillance keeps its own record. */
export interface Refusal {
  id: number;
  instrument: string;
  account: string;
  orderId: number;
  code: string;
  at: number;
}

/** One side of a trade as surveillance reads it (orderbook_fills). */
export interface FlowFill {
  tradeId: string;
  role: "maker" | "taker";
  account: string;
  orderId: number;
  side: "buy" | "sell";
  seq: number;
}

type Row = Record<string, unknown>;
const orNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function alert(r: Row): AlertRecord {
  return {
    id: Number(r.id),
    dedupeKey: String(r.dedupe_key),
    kind: r.kind as AlertKind,
    rule: String(r.rule),
    account: String(r.account),
    instrument: text(r.instrument),
    windowStart: Number(r.window_start),
    windowEnd: Number(r.window_end),
    reasonCode: String(r.reason_code),
    proposedTier: String(r.proposed_tier),
    summary: String(r.summary),
    evidence: JSON.parse(String(r.evidence)) as Record<string, unknown>,
    amount: r.amount === null || r.amount === undefined ? null : fromDbAmount(r.amount as string),
    status: r.status as AlertStatus,
    raisedAt: Number(r.raised_at),
    decidedBy: text(r.decided_by),
    decidedAt: orNull(r.decided_at),
    decisionNote: text(r.decision_note),
    version: Number(r.version),
  };
}

function caseOf(r: Row): CaseRecord {
  return {
    id: Number(r.id),
    alertId: Number(r.alert_id),
    account: String(r.account),
    status: r.status as CaseStatus,
    openedAt: Number(r.opened_at),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
  };
}

/**
 * Surveillance alerts and AML case files. Alerts are inserted once per de-duplication key and decided once, by
 * compare-and-swap on `version` from `open`; a case's status changes the same way, each change with its note.
 * Also what the incremental readers need: their cursors, the book's journal and fills past a sequence number,
 * the pre-trade refusals, and the sanctions lists already screened.
 */
export class AlertsRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** Inserts the alert unless its key is known; the stored alert and whether this call created it. */
  async raise(a: NewAlert, now = Date.now()): Promise<{ alert: AlertRecord; created: boolean }> {
    const created =
      (await this.db.run(
        `INSERT INTO surveillance_alerts (dedupe_key, kind, rule, account, instrument, window_start, window_end,
           reason_code, proposed_tier, summary, evidence, amount, status, raised_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, 1)
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [
          a.dedupeKey,
          a.kind,
          a.rule,
          a.account.toLowerCase(),
          a.instrument,
          a.windowStart,
          a.windowEnd,
          a.reasonCode,
          a.proposedTier,
          a.summary,
          JSON.stringify(a.evidence),
          a.amount === null ? null : toDbAmount(a.amount),
          now,
        ],
      )) === 1;
    const rows = await this.db.query<Row>("SELECT * FROM surveillance_alerts WHERE dedupe_key = $1", [a.dedupeKey]);
    return { alert: alert(rows[0]), created };
  }

  async get(id: number): Promise<AlertRecord | undefined> {
    const rows = await this.db.query<Row>("SELECT * FROM surveillance_alerts WHERE id = $1", [id]);
    return rows[0] ? alert(rows[0]) : undefined;
  }

  /** Newest first; each filter optional. */
  async list(f: { status?: string; kind?: string; account?: string; limit?: number } = {}): Promise<AlertRecord[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM surveillance_alerts WHERE ($1 = '' OR status = $1) AND ($2 = '' OR kind = $2)
         AND ($3 = '' OR account = $3) ORDER BY id DESC LIMIT $4`,
      [f.status ?? "", f.kind ?? "", (f.account ?? "").toLowerCase(), f.limit ?? 500],
    );
    return rows.map(alert);
  }

  /** Decides an open alert at version `expected`; false when it was decided or changed meanwhile. */
  async decide(
    id: number,
    expected: number,
    d: { status: "accepted" | "dismissed"; by: string; note: string; at: number },
  ): Promise<boolean> {
    const n = await this.db.run(
      `UPDATE surveillance_alerts SET status = $3, decided_by = $4, decision_note = $5, decided_at = $6,
         version = version + 1 WHERE id = $1 AND version = $2 AND status = 'open'`,
      [id, expected, d.status, d.by, d.note, d.at],
    );
    return n === 1;
  }

  /** Opens the alert's case file (one per alert); the case either way. */
  async openCase(alertId: number, account: string, now: number): Promise<CaseRecord> {
    await this.db.run(
      `INSERT INTO surveillance_cases (alert_id, account, status, opened_at, updated_at, version)
       VALUES ($1, $2, 'open', $3, $3, 1) ON CONFLICT (alert_id) DO NOTHING`,
      [alertId, account.toLowerCase(), now],
    );
    return caseOf((await this.db.query<Row>("SELECT * FROM surveillance_cases WHERE alert_id = $1", [alertId]))[0]);
  }

  async case(id: number): Promise<CaseRecord | undefined> {
    const rows = await this.db.query<Row>("SELECT * FROM surveillance_cases WHERE id = $1", [id]);
    return rows[0] ? caseOf(rows[0]) : undefined;
  }

  async caseOfAlert(alertId: number): Promise<CaseRecord | undefined> {
    const rows = await this.db.query<Row>("SELECT * FROM surveillance_cases WHERE alert_id = $1", [alertId]);
    return rows[0] ? caseOf(rows[0]) : undefined;
  }

  async cases(status?: string, limit = 500): Promise<CaseRecord[]> {
    const rows = await this.db.query<Row>(
      "SELECT * FROM surveillance_cases WHERE ($1 = '' OR status = $1) ORDER BY id DESC LIMIT $2",
      [status ?? "", limit],
    );
    return rows.map(caseOf);
  }

  /** Moves the case to `status` at version `expected`; false when it changed meanwhile. */
  async updateCase(id: number, expected: number, status: CaseStatus, at: number): Promise<boolean> {
    return (
      (await this.db.run(
        "UPDATE surveillance_cases SET status = $3, updated_at = $4, version = version + 1 WHERE id = $1 AND version = $2",
        [id, expected, status, at],
      )) === 1
    );
  }

  async addNote(n: Omit<CaseNote, "id">): Promise<void> {
    await this.db.run(
      "INSERT INTO surveillance_case_notes (case_id, author, note, status, at) VALUES ($1, $2, $3, $4, $5)",
      [n.caseId, n.author, n.note, n.status, n.at],
    );
  }

  async notes(caseId: number): Promise<CaseNote[]> {
    const rows = await this.db.query<Row>("SELECT * FROM surveillance_case_notes WHERE case_id = $1 ORDER BY id", [
      caseId,
    ]);
    return rows.map((r) => ({
      id: Number(r.id),
      caseId: Number(r.case_id),
      author: String(r.author),
      note: String(r.note),
      status: r.status as CaseStatus,
      at: Number(r.at),
    }));
  }

  /** Where the reader `name` got to (0: nowhere yet). */
  async cursor(name: string): Promise<number> {
    const rows = await this.db.query<{ position: number | string }>(
      "SELECT position FROM surveillance_cursors WHERE name = $1",
      [name],
    );
    return rows[0] ? Number(rows[0].position) : 0;
  }

  async setCursor(name: string, position: number, now = Date.now()): Promise<void> {
    await this.db.run(
      `INSERT INTO surveillance_cursors (name, position, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET position = $2, updated_at = $3`,
      [name, position, now],
    );
  }

  async recordRefusal(r: Omit<Refusal, "id">): Promise<void> {
    await this.db.run(
      "INSERT INTO surveillance_refusals (instrument, account, order_id, code, at) VALUES ($1, $2, $3, $4, $5)",
      [r.instrument, r.account.toLowerCase(), r.orderId, r.code, r.at],
    );
  }

  async refusalsAfter(id: number, limit: number): Promise<Refusal[]> {
    const rows = await this.db.query<Row>("SELECT * FROM surveillance_refusals WHERE id > $1 ORDER BY id LIMIT $2", [
      id,
      limit,
    ]);
    return rows.map((r) => ({
      id: Number(r.id),
      instrument: String(r.instrument),
      account: String(r.account),
      orderId: Number(r.order_id),
      code: String(r.code),
      at: Number(r.at),
    }));
  }

  /** The instruments whose book has journaled anything. */
  async journaledInstruments(): Promise<string[]> {
    const rows = await this.db.query<{ instrument: string }>(
      "SELECT DISTINCT instrument FROM orderbook_journal ORDER BY instrument",
    );
    return rows.map((r) => r.instrument);
  }

  /** At most `limit` journal rows of the book past `afterSeq` (the book compacts what its snapshots cover). */
  async journalAfter(instrument: string, afterSeq: number, limit: number): Promise<JournalRow[]> {
    const rows = await this.db.query<{ seq: number | string; entry: string }>(
      "SELECT seq, entry FROM orderbook_journal WHERE instrument = $1 AND seq > $2 ORDER BY seq LIMIT $3",
      [instrument, afterSeq, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), entry: r.entry }));
  }

  /** Both sides of every trade of the book made by commands with seq in (afterSeq, toSeq]. */
  async fillsBetween(instrument: string, afterSeq: number, toSeq: number): Promise<FlowFill[]> {
    const rows = await this.db.query<Row>(
      `SELECT trade_id, role, account, order_id, side, seq FROM orderbook_fills
       WHERE instrument = $1 AND seq > $2 AND seq <= $3 ORDER BY seq, idx, role`,
      [instrument, afterSeq, toSeq],
    );
    return rows.map((r) => ({
      tradeId: String(r.trade_id),
      role: r.role as "maker" | "taker",
      account: String(r.account).toLowerCase(),
      orderId: Number(r.order_id),
      side: r.side as "buy" | "sell",
      seq: Number(r.seq),
    }));
  }

  async screened(listHash: string): Promise<boolean> {
    return (await this.db.query("SELECT 1 FROM sanctions_screens WHERE list_hash = $1", [listHash])).length > 0;
  }

  async recordScreen(s: {
    listHash: string;
    entries: number;
    screened: number;
    hits: number;
    at: number;
  }): Promise<void> {
    await this.db.run(
      `INSERT INTO sanctions_screens (list_hash, entries, screened, hits, at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (list_hash) DO NOTHING`,
      [s.listHash, s.entries, s.screened, s.hits, s.at],
    );
  }
}
