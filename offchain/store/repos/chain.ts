import { fromDbAmount, toDbAmount } from "../../shared/money";
import type { SqlExecutor } from "../engine";

export interface ChainCursor {
  blockNumber: number;
  blockHash: string;
}

/** One decoded log as the indexer stored it; `topics`/`data` are kept so handlers can re-decode on replay. */
export interface StoredEvent {
  blockNumber: number;
  logIndex: number;
  blockHash: string;
  txHash: string;
  contract: string;
  address: string;
  event: string;
  topics: string[];
  data: string;
  /** Decoded arguments; bigints as decimal strings. */
  args: Record<string, string | number | boolean>;
}

interface EventRow {
  [k: string]: unknown;
  block_number: string | number;
  log_index: number;
  block_hash: string;
  tx_hash: string;
  contract: string;
  address: string;
  event: string;
  topics: string;
  data: string;
  args: string;
}

/** Indexer bookkeeping: cursor, recent block hashes (reorg detection) and the raw event log. */
export class ChainRepository {
  constructor(private readonly db: SqlExecutor) {}

  async cursor(indexer: string): Promise<ChainCursor | undefined> {
    const rows = await this.db.query<{ block_number: string | number; block_hash: string }>(
      "SELECT block_number, block_hash FROM chain_cursors WHERE indexer = $1",
      [indexer],
    );
    return rows[0] ? { blockNumber: Number(rows[0].block_number), blockHash: rows[0].block_hash } : undefined;
  }

  /**
   * Records that the indexer stores these events of `contract` from `fromBlock` on (a row is written once: an event
   * added to a handler later is covered only from the block the indexer was at then).
   */
  async coverEvents(indexer: string, contract: string, events: readonly string[], fromBlock: number): Promise<void> {
    for (const event of events)
      await this.db.run(
        `INSERT INTO chain_event_coverage (indexer, contract, event, from_block) VALUES ($1, $2, $3, $4)
         ON CONFLICT (indexer, contract, event) DO NOTHING`,
        [indexer, contract, event, fromBlock],
      );
  }

  /** From which block the indexer stores each event of `contract` (events it never stored are absent). */
  async eventCoverage(indexer: string, contract: string): Promise<Map<string, number>> {
    const rows = await this.db.query<{ event: string; from_block: string | number }>(
      "SELECT event, from_block FROM chain_event_coverage WHERE indexer = $1 AND contract = $2",
      [indexer, contract],
    );
    return new Map(rows.map((r) => [r.event, Number(r.from_block)]));
  }

  async setCursor(indexer: string, cursor: ChainCursor): Promise<void> {
    await this.db.run(
      `INSERT INTO chain_cursors (indexer, block_number, block_hash, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (indexer) DO UPDATE SET block_number = $2, block_hash = $3, updated_at = $4`,
      [indexer, cursor.blockNumber, cursor.blockHash, Date.now()],
    );
  }

  async recordBlock(indexer: string, blockNumber: number, blockHash: string): Promise<void> {
    await this.db.run(
      `INSERT INTO chain_blocks (indexer, block_number, block_hash) VALUES ($1, $2, $3)
       ON CONFLICT (indexer, block_number) DO UPDATE SET block_hash = $3`,
      [indexer, blockNumber, blockHash],
    );
  }

  /** Recorded block hashes at or below `atOrBelow`, newest first. */
  async recentBlocks(indexer: string, atOrBelow: number, limit: number): Promise<ChainCursor[]> {
    const rows = await this.db.query<{ block_number: string | number; block_hash: string }>(
      `SELECT block_number, block_hash FROM chain_blocks WHERE indexer = $1 AND block_number <= $2
       ORDER BY block_number DESC LIMIT $3`,
      [indexer, atOrBelow, limit],
    );
    return rows.map((r) => ({ blockNumber: Number(r.block_number), blockHash: r.block_hash }));
  }

  /** Forgets block hashes older than `below` (they are far beneath any reorg the chain can still make). */
  async pruneBlocks(indexer: string, below: number): Promise<void> {
    await this.db.run("DELETE FROM chain_blocks WHERE indexer = $1 AND block_number < $2", [indexer, below]);
  }

  async insertEvent(indexer: string, e: StoredEvent): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO chain_events (indexer, block_number, log_index, block_hash, tx_hash, contract, address, event, topics, data, args)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (indexer, block_number, log_index) DO NOTHING`,
      [
        indexer,
        e.blockNumber,
        e.logIndex,
        e.blockHash,
        e.txHash,
        e.contract,
        e.address,
        e.event,
        JSON.stringify(e.topics),
        e.data,
        JSON.stringify(e.args),
      ],
    );
    return changed > 0;
  }

  /** Deletes everything the indexer learnt above `block` (a reorg rewind). */
  async rewindAbove(indexer: string, block: number): Promise<number> {
    await this.db.run("DELETE FROM chain_blocks WHERE indexer = $1 AND block_number > $2", [indexer, block]);
    return this.db.run("DELETE FROM chain_events WHERE indexer = $1 AND block_number > $2", [indexer, block]);
  }

  /** The indexed events of one transaction. */
  async eventsOfTx(indexer: string, txHash: string): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow>(
      "SELECT * FROM chain_events WHERE indexer = $1 AND tx_hash = $2 ORDER BY block_number, log_index",
      [indexer, txHash.toLowerCase()],
    );
    return rows.map(toStoredEvent);
  }

  async events(
    indexer: string,
    filter: { contract?: string; fromBlock?: number; toBlock?: number; limit?: number } = {},
  ): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT * FROM chain_events WHERE indexer = $1 AND ($2 = '' OR contract = $2) AND block_number >= $3
       AND block_number <= $5 ORDER BY block_number, log_index LIMIT $4`,
      [indexer, filter.contract ?? "", filter.fromBlock ?? 0, filter.limit ?? 1_000_000, filter.toBlock ?? 2 ** 53 - 1],
    );
    return rows.map(toStoredEvent);
  }
}

function toStoredEvent(r: EventRow): StoredEvent {
  return {
    blockNumber: Number(r.block_number),
    logIndex: Number(r.log_index),
    blockHash: r.block_hash,
    txHash: r.tx_hash,
    contract: r.contract,
    address: r.address,
    event: r.event,
    topics: JSON.parse(r.topics) as string[],
    data: r.data,
    args: JSON.parse(r.args) as StoredEvent["args"],
  };
}

export interface IdentityProjection {
  account: string;
  tier: number;
  jurisdiction: number;
  expiresAt: number;
  identityHash: string;
  revoked: boolean;
  revokeReason: string | null;
  blockNumber: number;
}

/** State derived from indexed events that other capabilities read (who is verified, token balances). */
export class ProjectionRepository {
  constructor(private readonly db: SqlExecutor) {}

  async upsertIdentity(i: IdentityProjection): Promise<void> {
    await this.db.run(
      `INSERT INTO chain_identities (account, tier, jurisdiction, expires_at, identity_hash, revoked, revoke_reason, block_number)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (account) DO UPDATE SET tier = $2, jurisdiction = $3, expires_at = $4, identity_hash = $5,
         revoked = $6, revoke_reason = $7, block_number = $8`,
      [
        i.account.toLowerCase(),
        i.tier,
        i.jurisdiction,
        i.expiresAt,
        i.identityHash,
        i.revoked ? 1 : 0,
        i.revokeReason,
        i.blockNumber,
      ],
    );
  }

  async markRevoked(account: string, reason: string, blockNumber: number): Promise<void> {
    await this.db.run(
      "UPDATE chain_identities SET revoked = 1, revoke_reason = $2, block_number = $3 WHERE account = $1",
      [account.toLowerCase(), reason, blockNumber],
    );
  }

  async identity(account: string): Promise<IdentityProjection | undefined> {
    const rows = await this.db.query("SELECT * FROM chain_identities WHERE account = $1", [account.toLowerCase()]);
    return rows[0] ? toIdentity(rows[0]) : undefined;
  }

  /** Every indexed identity (the reconciliation job compares them with the KYC records). */
  async identities(): Promise<IdentityProjection[]> {
    return (await this.db.query("SELECT * FROM chain_identities ORDER BY account")).map(toIdentity);
  }

  async clearIdentities(): Promise<void> {
    await this.db.run("DELETE FROM chain_identities");
  }

  /** Adds `delta` (may be negative) to a token balance. */
  async addBalance(token: string, account: string, delta: bigint, blockNumber: number): Promise<bigint> {
    const next = (await this.balance(token, account)) + delta;
    await this.db.run(
      `INSERT INTO chain_balances (token, account, balance, block_number) VALUES ($1, $2, $3, $4)
       ON CONFLICT (token, account) DO UPDATE SET balance = $3, block_number = $4`,
      [token.toLowerCase(), account.toLowerCase(), toDbAmount(next), blockNumber],
    );
    return next;
  }

  async balance(token: string, account: string): Promise<bigint> {
    const rows = await this.db.query<{ balance: string | number }>(
      "SELECT balance FROM chain_balances WHERE token = $1 AND account = $2",
      [token.toLowerCase(), account.toLowerCase()],
    );
    return rows[0] ? fromDbAmount(rows[0].balance) : 0n;
  }

  async clearBalances(token: string): Promise<void> {
    await this.db.run("DELETE FROM chain_balances WHERE token = $1", [token.toLowerCase()]);
  }
}

function toIdentity(r: Record<string, unknown>): IdentityProjection {
  return {
    account: String(r.account),
    tier: Number(r.tier),
    jurisdiction: Number(r.jurisdiction),
    expiresAt: Number(r.expires_at),
    identityHash: String(r.identity_hash),
    revoked: Number(r.revoked) === 1,
    revokeReason: r.revoke_reason === null ? null : String(r.revoke_reason),
    blockNumber: Number(r.block_number),
  };
}
