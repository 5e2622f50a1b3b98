import type { SqlExecutor } from "../engine";

/** Margin accounts seen on-chain (for the liabilities snapshot) and their sealed proof-of-reserves secrets. */
export class ReservesRepository {
  constructor(private readonly db: SqlExecutor) {}

  /** Records `account` (lower case) as first seen at `block`; an earlier sighting wins. */
  async addAccount(account: string, block: number): Promise<void> {
    // PostgreSQL spells the two-argument minimum LEAST, SQLite MIN.
    const least = this.db.kind === "postgres" ? "LEAST" : "MIN";
    await this.db.run(
      `INSERT INTO reserves_accounts (account, first_block) VALUES ($1, $2)
       ON CONFLICT (account) DO UPDATE SET first_block = ${least}(reserves_accounts.first_block, excluded.first_block)`,
      [account.toLowerCase(), block],
    );
  }

  /** Accounts first seen at or before `block`, in address order. */
  async accountsAt(block: number): Promise<string[]> {
    const rows = await this.db.query<{ account: string }>(
      "SELECT account FROM reserves_accounts WHERE first_block <= $1 ORDER BY account",
      [block],
    );
    return rows.map((r) => r.account);
  }

  async clearAccounts(): Promise<void> {
    await this.db.run("DELETE FROM reserves_accounts");
  }

  async secret(account: string): Promise<string | undefined> {
    const rows = await this.db.query<{ secret_sealed: string }>(
      "SELECT secret_sealed FROM reserves_secrets WHERE account = $1",
      [account.toLowerCase()],
    );
    return rows[0]?.secret_sealed;
  }

  /** Stores a sealed secret unless the account already has one; returns the stored (possibly older) value. */
  async insertSecretIfAbsent(account: string, sealed: string, now = Date.now()): Promise<string> {
    const key = account.toLowerCase();
    await this.db.run(
      `INSERT INTO reserves_secrets (account, secret_sealed, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (account) DO NOTHING`,
      [key, sealed, now],
    );
    const stored = await this.secret(key);
    if (stored === undefined) throw new Error(`reserves secret of ${key} was not stored`);
    return stored;
  }
}
