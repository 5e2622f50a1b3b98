import type { SqlExecutor } from "../engine";

/** An account's behaviour tier as the risk officer set it. `version` counts the changes (compare-and-swap). */
export interface BehaviourTierRecord {
  account: string;
  tier: string;
  reasonCode: string;
  note: string;
  setBy: string;
  setAt: number;
  /** Unix ms after which the tier lapses back to standard; null: until cleared. */
  until: number | null;
  version: number;
}

export interface BehaviourTierEvent {
  id: number;
  account: string;
  action: "set" | "clear";
  tier: string;
  reasonCode: string;
  note: string;
  actor: string;
  at: number;
  until: number | null;
  version: number;
}

type Row = Record<string, unknown>;
const nullable = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function record(r: Row): BehaviourTierRecord {
  return {
    account: String(r.account),
    tier: String(r.tier),
    reasonCode: String(r.reason_code),
    note: String(r.note),
    setBy: String(r.set_by),
    setAt: Number(r.set_at),
    until: nullable(r.until_at),
    version: Number(r.version),
  };
}

/**
 * Behaviour tiers (surveillance): one row per account that is not `standard`, and an append-only history of every
 * set and clear. Writes are compare-and-swap on `version` (0: the account has never had a row) and append their
 * history entry, so run them in one transaction.
 */
export class SurveillanceRepository {
  constructor(private readonly db: SqlExecutor) {}

  async tier(account: string): Promise<BehaviourTierRecord | undefined> {
    const rows = await this.db.query<Row>("SELECT * FROM behaviour_tiers WHERE account = $1", [account.toLowerCase()]);
    return rows[0] ? record(rows[0]) : undefined;
  }

  async tiers(): Promise<BehaviourTierRecord[]> {
    return (await this.db.query<Row>("SELECT * FROM behaviour_tiers ORDER BY set_at DESC, account")).map(record);
  }

  /** The last version recorded for the account (the history outlives a cleared row), 0 when never set. */
  async lastVersion(account: string): Promise<number> {
    const rows = await this.db.query<{ v: string | number | null }>(
      "SELECT MAX(version) AS v FROM behaviour_tier_events WHERE account = $1",
      [account.toLowerCase()],
    );
    return Number(rows[0]?.v ?? 0);
  }

  /**
   * Writes the tier if the account's last version is `expected` (insert or update); false when another write
   * came first. The caller appends the history entry in the same transaction.
   */
  async putTier(r: BehaviourTierRecord, expected: number): Promise<boolean> {
    const a = r.account.toLowerCase();
    const args = [a, r.tier, r.reasonCode, r.note, r.setBy, r.setAt, r.until, r.version];
    if ((await this.lastVersion(a)) !== expected) return false;
    const updated = await this.db.run(
      `UPDATE behaviour_tiers SET tier = $2, reason_code = $3, note = $4, set_by = $5, set_at = $6, until_at = $7,
       version = $8 WHERE account = $1 AND version = $9`,
      [...args, expected],
    );
    if (updated === 1) return true;
    const inserted = await this.db.run(
      `INSERT INTO behaviour_tiers (account, tier, reason_code, note, set_by, set_at, until_at, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account) DO NOTHING`,
      args,
    );
    return inserted === 1;
  }

  /** Removes the account's row if it is at version `expected`; false when it is not (gone or changed). */
  async deleteTier(account: string, expected: number): Promise<boolean> {
    return (
      (await this.db.run("DELETE FROM behaviour_tiers WHERE account = $1 AND version = $2", [
        account.toLowerCase(),
        expected,
      ])) === 1
    );
  }

  async appendEvent(e: Omit<BehaviourTierEvent, "id">): Promise<void> {
    await this.db.run(
      `INSERT INTO behaviour_tier_events (account, action, tier, reason_code, note, actor, at, until_at, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [e.account.toLowerCase(), e.action, e.tier, e.reasonCode, e.note, e.actor, e.at, e.until, e.version],
    );
  }

  async history(account: string): Promise<BehaviourTierEvent[]> {
    return (
      await this.db.query<Row>("SELECT * FROM behaviour_tier_events WHERE account = $1 ORDER BY id", [
        account.toLowerCase(),
      ])
    ).map((r) => ({
      id: Number(r.id),
      account: String(r.account),
      action: r.action as BehaviourTierEvent["action"],
      tier: String(r.tier),
      reasonCode: String(r.reason_code),
      note: String(r.note),
      actor: String(r.actor),
      at: Number(r.at),
      until: nullable(r.until_at),
      version: Number(r.version),
    }));
  }
}
