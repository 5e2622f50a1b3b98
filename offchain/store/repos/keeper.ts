import { fromDbAmount, toDbAmount } from "../../shared/money";
import type { Row, SqlExecutor } from "../engine";

export type IntentStatus = "pending" | "mined" | "reverted" | "dropped";

/** One signed liquidate transaction, journaled before it is broadcast (never-twice: resend only these bytes). */
export interface LiquidationIntent {
  id: number;
  account: string;
  /** Per account, 1, 2, 3…: a new epoch starts only when every earlier intent of the account is settled. */
  epoch: number;
  signer: string;
  nonce: number;
  txHash: string;
  rawTx: string;
  maxSegments: number;
  status: IntentStatus;
  /** Unix ms when the keeper first saw what made the account liquidatable (a price round, a deadline). */
  triggerAt: number;
  triggerReason: string;
  createdAt: number;
  updatedAt: number;
  minedBlock: number | null;
  minedAt: number | null;
  segments: number | null;
  error: string | null;
  /** How many accounts the transaction liquidates: 1 for `liquidate`, n for `liquidateMany` (keeper_intent_accounts). */
  accounts: number;
}

/** One account of a journaled transaction; outcome once mined: liquidated, or skipped (LiquidationSkipped). */
export interface IntentAccount {
  intentId: number;
  account: string;
  epoch: number;
  outcome: "liquidated" | "skipped" | null;
}

/** Thrown inside a store transaction when an account's epoch is already journaled (the insert is rolled back). */
export class IntentConflictError extends Error {
  constructor(readonly account: string) {
    super(`an intent for ${account} at this epoch is already journaled`);
    this.name = "IntentConflictError";
  }
}

export type NotificationKind = "warning" | "margin_call" | "cured" | "liquidated";

export interface Notification {
  id: number;
  dedupeKey: string;
  account: string;
  kind: NotificationKind;
  /** Margin-call deadline (unix seconds, chain time). */
  deadline: number | null;
  /** Cash (base units) that restores the line the notice is about. */
  amountToCure: bigint | null;
  equity: bigint | null;
  maintenanceReq: bigint | null;
  blockNumber: number | null;
  txHash: string | null;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  lastError: string | null;
}

export type NewNotification = Omit<
  Notification,
  "id" | "attempts" | "nextAttemptAt" | "deliveredAt" | "lastError" | "createdAt"
> & { createdAt: number };

export interface Override {
  scope: "account" | "asset";
  target: string;
  reason: string;
  createdBy: string;
  createdAt: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function intent(r: Row): LiquidationIntent {
  return {
    id: Number(r.id),
    account: String(r.account),
    epoch: Number(r.epoch),
    signer: String(r.signer),
    nonce: Number(r.nonce),
    txHash: String(r.tx_hash),
    rawTx: String(r.raw_tx),
    maxSegments: Number(r.max_segments),
    status: r.status as IntentStatus,
    triggerAt: Number(r.trigger_at),
    triggerReason: String(r.trigger_reason),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    minedBlock: num(r.mined_block),
    minedAt: num(r.mined_at),
    segments: num(r.segments),
    error: r.error === null ? null : String(r.error),
    accounts: r.accounts === undefined || r.accounts === null ? 1 : Number(r.accounts),
  };
}

function notification(r: Row): Notification {
  const amount = (v: unknown): bigint | null => (v === null ? null : fromDbAmount(v as string));
  return {
    id: Number(r.id),
    dedupeKey: String(r.dedupe_key),
    account: String(r.account),
    kind: r.kind as NotificationKind,
    deadline: num(r.deadline),
    amountToCure: amount(r.amount_to_cure),
    equity: r.equity === null ? null : BigInt(String(r.equity)),
    maintenanceReq: amount(r.maintenance_req),
    blockNumber: num(r.block_number),
    txHash: r.tx_hash === null ? null : String(r.tx_hash),
    createdAt: Number(r.created_at),
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    deliveredAt: num(r.delivered_at),
    lastError: r.last_error === null ? null : String(r.last_error),
  };
}

/** The keeper's journal, outbox, overrides and cursor. */
export class KeeperRepository {
  constructor(private readonly db: SqlExecutor) {}

  // ── intents ──

  /**
   * Journals a signed transaction and the (account, epoch) of every account it liquidates (default: its own
   * account and epoch). false when the transaction's (account, epoch) or (signer, nonce) is already taken; throws
   * IntentConflictError when another account's epoch is, so callers with several accounts run it in a store
   * transaction (rolled back on the throw).
   */
  async insertIntent(
    i: Omit<LiquidationIntent, "id">,
    members: { account: string; epoch: number }[] = [{ account: i.account, epoch: i.epoch }],
  ): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO keeper_intents (account, epoch, signer, nonce, tx_hash, raw_tx, max_segments, status, trigger_at,
         trigger_reason, created_at, updated_at, mined_block, mined_at, segments, error, accounts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT DO NOTHING`,
      [
        i.account.toLowerCase(),
        i.epoch,
        i.signer.toLowerCase(),
        i.nonce,
        i.txHash,
        i.rawTx,
        i.maxSegments,
        i.status,
        i.triggerAt,
        i.triggerReason,
        i.createdAt,
        i.updatedAt,
        i.minedBlock,
        i.minedAt,
        i.segments,
        i.error,
        members.length,
      ],
    );
    if (n !== 1) return false;
    const rows = await this.db.query<{ id: unknown }>(
      `SELECT id FROM keeper_intents WHERE signer = $1 AND nonce = $2`,
      [i.signer.toLowerCase(), i.nonce],
    );
    const id = Number(rows[0].id);
    for (const m of members) {
      const added = await this.db.run(
        `INSERT INTO keeper_intent_accounts (intent_id, account, epoch, outcome) VALUES ($1, $2, $3, NULL)
         ON CONFLICT DO NOTHING`,
        [id, m.account.toLowerCase(), m.epoch],
      );
      if (added !== 1) throw new IntentConflictError(m.account.toLowerCase());
    }
    return true;
  }

  /** The accounts of a journaled transaction, in the order they were journaled. */
  async intentAccounts(intentId: number): Promise<IntentAccount[]> {
    return (
      await this.db.query(`SELECT * FROM keeper_intent_accounts WHERE intent_id = $1 ORDER BY epoch, account`, [
        intentId,
      ])
    ).map((r) => ({
      intentId: Number(r.intent_id),
      account: String(r.account),
      epoch: Number(r.epoch),
      outcome: (r.outcome ?? null) as IntentAccount["outcome"],
    }));
  }

  /** Accounts named by a transaction not settled yet (batched or not): none of them may be journaled again. */
  async pendingAccounts(): Promise<Set<string>> {
    const rows = await this.db.query<{ account: string }>(
      `SELECT m.account FROM keeper_intent_accounts m JOIN keeper_intents i ON i.id = m.intent_id
       WHERE i.status = 'pending'`,
    );
    return new Set(rows.map((r) => String(r.account)));
  }

  /** The last journaled epoch of each of `accounts` (absent: never journaled). */
  async lastEpochs(accounts: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let s = 0; s < accounts.length; s += 500) {
      const part = accounts.slice(s, s + 500).map((a) => a.toLowerCase());
      const rows = await this.db.query<{ account: string; e: unknown }>(
        `SELECT account, MAX(epoch) AS e FROM keeper_intent_accounts
         WHERE account IN (${part.map((_, k) => `$${k + 1}`).join(", ")}) GROUP BY account`,
        part,
      );
      for (const r of rows) out.set(String(r.account), Number(r.e));
    }
    return out;
  }

  /** Records what a mined transaction did to each of its accounts. */
  async setOutcomes(intentId: number, outcomes: Map<string, "liquidated" | "skipped">): Promise<void> {
    for (const [account, outcome] of outcomes)
      await this.db.run(`UPDATE keeper_intent_accounts SET outcome = $3 WHERE intent_id = $1 AND account = $2`, [
        intentId,
        account.toLowerCase(),
        outcome,
      ]);
  }

  async pendingIntents(): Promise<LiquidationIntent[]> {
    return (await this.db.query(`SELECT * FROM keeper_intents WHERE status = 'pending' ORDER BY nonce`)).map(intent);
  }

  /** The account's latest transaction (batched or not), seen from the account: its own account and epoch. */
  async lastEpoch(account: string): Promise<LiquidationIntent | undefined> {
    const rows = await this.db.query(
      `SELECT i.*, m.account AS m_account, m.epoch AS m_epoch FROM keeper_intent_accounts m
       JOIN keeper_intents i ON i.id = m.intent_id WHERE m.account = $1 ORDER BY m.epoch DESC LIMIT 1`,
      [account.toLowerCase()],
    );
    return rows[0]
      ? { ...intent(rows[0]), account: String(rows[0].m_account), epoch: Number(rows[0].m_epoch) }
      : undefined;
  }

  async maxNonce(signer: string): Promise<number | null> {
    const rows = await this.db.query<{ n: unknown }>(`SELECT MAX(nonce) AS n FROM keeper_intents WHERE signer = $1`, [
      signer.toLowerCase(),
    ]);
    return num(rows[0]?.n);
  }

  /** Settles a pending intent; false when it was already settled (another instance got there first). */
  async settleIntent(
    id: number,
    s: {
      status: Exclude<IntentStatus, "pending">;
      minedBlock?: number;
      minedAt?: number;
      segments?: number;
      error?: string;
    },
    now: number,
  ): Promise<boolean> {
    const n = await this.db.run(
      `UPDATE keeper_intents SET status = $2, mined_block = $3, mined_at = $4, segments = $5, error = $6, updated_at = $7
       WHERE id = $1 AND status = 'pending'`,
      [id, s.status, s.minedBlock ?? null, s.minedAt ?? null, s.segments ?? null, s.error ?? null, now],
    );
    return n === 1;
  }

  async intents(limit = 100): Promise<LiquidationIntent[]> {
    return (await this.db.query(`SELECT * FROM keeper_intents ORDER BY id DESC LIMIT $1`, [limit])).map(intent);
  }

  async intentCounts(): Promise<Record<IntentStatus, number>> {
    const out: Record<IntentStatus, number> = { pending: 0, mined: 0, reverted: 0, dropped: 0 };
    for (const r of await this.db.query<{ status: string; n: unknown }>(
      `SELECT status, COUNT(*) AS n FROM keeper_intents GROUP BY status`,
    ))
      out[r.status as IntentStatus] = Number(r.n);
    return out;
  }

  // ── outbox ──

  /** Enqueues a notice once per dedupe key (replayed events do not notify twice). */
  async enqueue(n: NewNotification): Promise<boolean> {
    const rows = await this.db.run(
      `INSERT INTO keeper_notifications (dedupe_key, account, kind, deadline, amount_to_cure, equity, maintenance_req,
         block_number, tx_hash, created_at, attempts, next_attempt_at, delivered_at, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $10, NULL, NULL)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        n.dedupeKey,
        n.account.toLowerCase(),
        n.kind,
        n.deadline,
        n.amountToCure === null ? null : toDbAmount(n.amountToCure),
        n.equity === null ? null : n.equity.toString(),
        n.maintenanceReq === null ? null : toDbAmount(n.maintenanceReq),
        n.blockNumber,
        n.txHash,
        n.createdAt,
      ],
    );
    return rows === 1;
  }

  async dueNotifications(now: number, limit = 50): Promise<Notification[]> {
    return (
      await this.db.query(
        `SELECT * FROM keeper_notifications WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2`,
        [now, limit],
      )
    ).map(notification);
  }

  async markDelivered(id: number, now: number): Promise<void> {
    await this.db.run(
      `UPDATE keeper_notifications SET delivered_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`,
      [id, now],
    );
  }

  async markFailed(id: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.db.run(
      `UPDATE keeper_notifications SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1`,
      [id, nextAttemptAt, error.slice(0, 500)],
    );
  }

  async notifications(filter: { account?: string; limit?: number } = {}): Promise<Notification[]> {
    const limit = filter.limit ?? 100;
    const rows = filter.account
      ? await this.db.query(`SELECT * FROM keeper_notifications WHERE account = $1 ORDER BY id DESC LIMIT $2`, [
          filter.account.toLowerCase(),
          limit,
        ])
      : await this.db.query(`SELECT * FROM keeper_notifications ORDER BY id DESC LIMIT $1`, [limit]);
    return rows.map(notification);
  }

  // ── overrides ──

  async setOverride(o: Override): Promise<void> {
    await this.db.run(
      `INSERT INTO keeper_overrides (scope, target, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (scope, target) DO UPDATE SET reason = $3, created_by = $4, created_at = $5`,
      [o.scope, o.target.toLowerCase(), o.reason, o.createdBy, o.createdAt],
    );
  }

  async clearOverride(scope: Override["scope"], target: string): Promise<boolean> {
    return (
      (await this.db.run(`DELETE FROM keeper_overrides WHERE scope = $1 AND target = $2`, [
        scope,
        target.toLowerCase(),
      ])) === 1
    );
  }

  async overrides(): Promise<Override[]> {
    return (await this.db.query(`SELECT * FROM keeper_overrides ORDER BY created_at`)).map((r) => ({
      scope: r.scope as Override["scope"],
      target: String(r.target),
      reason: String(r.reason),
      createdBy: String(r.created_by),
      createdAt: Number(r.created_at),
    }));
  }

  // ── cursor ──

  async getState(name: string): Promise<string | undefined> {
    const rows = await this.db.query<{ value: string }>(`SELECT value FROM keeper_state WHERE name = $1`, [name]);
    return rows[0]?.value;
  }

  async setState(name: string, value: string): Promise<void> {
    await this.db.run(
      `INSERT INTO keeper_state (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2`,
      [name, value],
    );
  }
}
