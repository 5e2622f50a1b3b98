import type { SqlExecutor } from "../engine";

/** A risk or KYC officer's declaration that `account` is owned by `owner` (a free-form owner id, e.g. a client no.). */
export interface BeneficialOwnerRecord {
  account: string;
  owner: string;
  note: string;
  setBy: string;
  setAt: number;
  version: number;
}

/** One edge of the linked-accounts graph: the account carries `key` (`id:<identity hash>` or `owner:<owner>`). */
export interface LinkEdge {
  account: string;
  key: string;
}

export type ReviewStatus = "open" | "lowered" | "dismissed";

/** An account put in front of a risk officer: why (the figure against its threshold), and what was decided. */
export interface AccountReview {
  id: number;
  account: string;
  /** leverage | margin_calls | losses | group_self_trade */
  reason: string;
  figure: bigint;
  threshold: bigint;
  /** JSON: what the figure was computed from (window, trade ids…). */
  evidence: string;
  status: ReviewStatus;
  openedAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  action: string | null;
  tier: string | null;
  note: string | null;
  /** A lower-tier decision that also lowered the KYC tier on KycRegistry: the tier asked, its transaction or why not. */
  kycTier: number | null;
  kycTx: string | null;
  kycError: string | null;
  version: number;
}

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function review(r: Row): AccountReview {
  return {
    id: Number(r.id),
    account: String(r.account),
    reason: String(r.reason),
    figure: BigInt(String(r.figure)),
    threshold: BigInt(String(r.threshold)),
    evidence: String(r.evidence),
    status: String(r.status) as ReviewStatus,
    openedAt: Number(r.opened_at),
    decidedBy: str(r.decided_by),
    decidedAt: r.decided_at === null || r.decided_at === undefined ? null : Number(r.decided_at),
    action: str(r.action),
    tier: str(r.tier),
    note: str(r.note),
    kycTier: r.kyc_tier === null || r.kyc_tier === undefined ? null : Number(r.kyc_tier),
    kycTx: str(r.kyc_tx),
    kycError: str(r.kyc_error),
    version: Number(r.version),
  };
}

/** The most accounts a group read walks to (a bound on one order's cost; no real client holds this many). */
const MAX_GROUP = 1_000;

/** The edges of the graph: identity hashes (approved KYC applications, registered chain identities) and owners. */
const EDGES = `
  SELECT lower(account) AS account, 'id:' || lower(identity_hash) AS k FROM kyc_applicants WHERE status = 'approved'
  UNION SELECT lower(account), 'id:' || lower(identity_hash) FROM chain_identities WHERE revoked = 0
  UNION SELECT account, 'owner:' || owner FROM beneficial_owners`;

/**
 * Linked accounts and the review queue (surveillance, schema v2). Beneficial-owner writes and review decisions are
 * compare-and-swap on `version`; a review is opened at most once per account and reason while open (a unique index).
 */
export class GroupsRepository {
  constructor(private readonly db: SqlExecutor) {}

  /**
   * The accounts connected to `account` through shared identity hashes or owners (itself included), sorted: a
   * breadth-first walk, two indexed reads per step (the keys of the accounts found, the accounts of the keys found),
   * so its cost follows the group's size, not the number of accounts. Stops at `MAX_GROUP` accounts. Identity hashes
   * are compared as stored: both sources hold ethers' lower-case hex.
   */
  async connected(account: string): Promise<string[]> {
    const found = new Set([account.toLowerCase()]);
    const seenKeys = new Set<string>();
    let frontier = [...found];
    while (frontier.length > 0 && found.size < MAX_GROUP) {
      const keys = (await this.keysOf(frontier)).filter((k) => !seenKeys.has(k));
      keys.forEach((k) => seenKeys.add(k));
      frontier = (await this.accountsOf(keys)).filter((a) => !found.has(a));
      frontier.forEach((a) => found.add(a));
    }
    return [...found].sort();
  }

  private async keysOf(accounts: string[]): Promise<string[]> {
    const list = accounts.map((_, i) => `$${i + 1}`).join(", ");
    const rows = await this.db.query<{ k: string }>(
      `SELECT 'id:' || identity_hash AS k FROM chain_identities WHERE revoked = 0 AND account IN (${list})
       UNION SELECT 'id:' || identity_hash FROM kyc_applicants WHERE status = 'approved' AND account IN (${list})
       UNION SELECT 'owner:' || owner FROM beneficial_owners WHERE account IN (${list})`,
      accounts,
    );
    return rows.map((r) => String(r.k));
  }

  private async accountsOf(keys: string[]): Promise<string[]> {
    const hashes = keys.filter((k) => k.startsWith("id:")).map((k) => k.slice(3));
    const owners = keys.filter((k) => k.startsWith("owner:")).map((k) => k.slice(6));
    const out: string[] = [];
    if (hashes.length > 0) {
      const list = hashes.map((_, i) => `$${i + 1}`).join(", ");
      const rows = await this.db.query<{ account: string }>(
        `SELECT account FROM chain_identities WHERE revoked = 0 AND identity_hash IN (${list})
         UNION SELECT account FROM kyc_applicants WHERE status = 'approved' AND identity_hash IN (${list})`,
        hashes,
      );
      out.push(...rows.map((r) => String(r.account).toLowerCase()));
    }
    if (owners.length > 0) {
      const list = owners.map((_, i) => `$${i + 1}`).join(", ");
      const rows = await this.db.query<{ account: string }>(
        `SELECT account FROM beneficial_owners WHERE owner IN (${list})`,
        owners,
      );
      out.push(...rows.map((r) => String(r.account)));
    }
    return out;
  }

  /** Every edge (the whole graph, for the group listing). */
  async edges(): Promise<LinkEdge[]> {
    return (await this.db.query<{ account: string; k: string }>(`SELECT account, k FROM (${EDGES}) e`)).map((r) => ({
      account: String(r.account),
      key: String(r.k),
    }));
  }

  async owner(account: string): Promise<BeneficialOwnerRecord | undefined> {
    const rows = await this.db.query<Row>("SELECT * FROM beneficial_owners WHERE account = $1", [
      account.toLowerCase(),
    ]);
    const r = rows[0];
    return r === undefined
      ? undefined
      : {
          account: String(r.account),
          owner: String(r.owner),
          note: String(r.note),
          setBy: String(r.set_by),
          setAt: Number(r.set_at),
          version: Number(r.version),
        };
  }

  /** Writes the owner if the account's row is at `expected` (0: no row yet); false when another write came first. */
  async putOwner(r: BeneficialOwnerRecord, expected: number): Promise<boolean> {
    const a = r.account.toLowerCase();
    if (expected === 0)
      return (
        (await this.db.run(
          `INSERT INTO beneficial_owners (account, owner, note, set_by, set_at, version) VALUES ($1, $2, $3, $4, $5, 1)
           ON CONFLICT (account) DO NOTHING`,
          [a, r.owner, r.note, r.setBy, r.setAt],
        )) === 1
      );
    return (
      (await this.db.run(
        `UPDATE beneficial_owners SET owner = $2, note = $3, set_by = $4, set_at = $5, version = $6
         WHERE account = $1 AND version = $7`,
        [a, r.owner, r.note, r.setBy, r.setAt, expected + 1, expected],
      )) === 1
    );
  }

  /** Opens a review unless one is open for the account and reason (the partial unique index); true when opened. */
  async openReview(
    r: Pick<AccountReview, "account" | "reason" | "figure" | "threshold" | "evidence" | "openedAt">,
  ): Promise<boolean> {
    return (
      (await this.db.run(
        `INSERT INTO account_reviews (account, reason, figure, threshold, evidence, status, opened_at, version)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, 1) ON CONFLICT DO NOTHING`,
        [r.account.toLowerCase(), r.reason, r.figure.toString(), r.threshold.toString(), r.evidence, r.openedAt],
      )) === 1
    );
  }

  async review(id: number): Promise<AccountReview | undefined> {
    const rows = await this.db.query<Row>("SELECT * FROM account_reviews WHERE id = $1", [id]);
    return rows[0] ? review(rows[0]) : undefined;
  }

  async reviews(filter: { status?: ReviewStatus; account?: string; limit?: number } = {}): Promise<AccountReview[]> {
    return (
      await this.db.query<Row>(
        `SELECT * FROM account_reviews WHERE ($1 = '' OR status = $1) AND ($2 = '' OR account = $2)
         ORDER BY id DESC LIMIT $3`,
        [filter.status ?? "", filter.account?.toLowerCase() ?? "", filter.limit ?? 200],
      )
    ).map(review);
  }

  /** Records the decision if the review is open at `expected`; false when it was decided or changed meanwhile. */
  async decide(
    id: number,
    expected: number,
    d: {
      status: Exclude<ReviewStatus, "open">;
      action: string;
      tier: string | null;
      note: string;
      by: string;
      at: number;
    },
  ): Promise<boolean> {
    return (
      (await this.db.run(
        `UPDATE account_reviews SET status = $3, action = $4, tier = $5, note = $6, decided_by = $7, decided_at = $8,
         version = version + 1 WHERE id = $1 AND version = $2 AND status = 'open'`,
        [id, expected, d.status, d.action, d.tier, d.note, d.by, d.at],
      )) === 1
    );
  }

  /** Margin calls the keeper recorded per account since `since` (its notification outbox, kind margin_call). */
  async marginCallCounts(since: number): Promise<Map<string, number>> {
    const rows = await this.db.query<{ account: string; n: string | number }>(
      `SELECT lower(account) AS account, COUNT(*) AS n FROM keeper_notifications
       WHERE kind = 'margin_call' AND created_at >= $1 GROUP BY lower(account)`,
      [since],
    );
    return new Map(rows.map((r) => [String(r.account), Number(r.n)]));
  }

  /** Records what became of a decision's KycRegistry write (its transaction, or the refusal). */
  async setKycResult(id: number, r: { tier: number; tx: string | null; error: string | null }): Promise<void> {
    await this.db.run("UPDATE account_reviews SET kyc_tier = $2, kyc_tx = $3, kyc_error = $4 WHERE id = $1", [
      id,
      r.tier,
      r.tx,
      r.error,
    ]);
  }

  /** The equity the loss threshold is measured from, and when it was marked. */
  async mark(account: string): Promise<{ equity: bigint; markedAt: number } | undefined> {
    const rows = await this.db.query<Row>("SELECT equity, marked_at FROM equity_marks WHERE account = $1", [
      account.toLowerCase(),
    ]);
    return rows[0] ? { equity: BigInt(String(rows[0].equity)), markedAt: Number(rows[0].marked_at) } : undefined;
  }

  async setMark(account: string, equity: bigint, at: number): Promise<void> {
    await this.db.run(
      `INSERT INTO equity_marks (account, equity, marked_at) VALUES ($1, $2, $3)
       ON CONFLICT (account) DO UPDATE SET equity = excluded.equity, marked_at = excluded.marked_at`,
      [account.toLowerCase(), equity.toString(), at],
    );
  }
}
