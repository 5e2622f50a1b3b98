import type { SqlExecutor } from "../engine";

/** A wallet session (EIP-4361 sign-in): the token itself is never stored, only its SHA-256. */
export interface WalletSessionRecord {
  /** Public id ("ses_" + the first 24 hex of the token's hash): the caller's key id in rate limits and audit. */
  id: string;
  tokenHash: string;
  /** The signed-in address, lower case. */
  address: string;
  role: string;
  /** The sign-in nonce it was opened with (one session per nonce). */
  nonce: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/** Sign-in nonces (issued by the service, used once) and the sessions they open. */
export class WalletSessionRepository {
  constructor(private readonly db: SqlExecutor) {}

  async issueNonce(nonce: string, now: number, expiresAt: number): Promise<void> {
    await this.db.run("INSERT INTO siwe_nonces (nonce, issued_at, expires_at) VALUES ($1, $2, $3)", [
      nonce,
      now,
      expiresAt,
    ]);
  }

  /** Marks an issued, unexpired, unused nonce used; false when it is unknown, expired or already used. */
  async useNonce(nonce: string, now: number): Promise<boolean> {
    const n = await this.db.run(
      "UPDATE siwe_nonces SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL AND expires_at >= $2",
      [nonce, now],
    );
    return n > 0;
  }

  async insert(s: WalletSessionRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO wallet_sessions (id, token_hash, address, role, nonce, created_at, expires_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [s.id, s.tokenHash, s.address, s.role, s.nonce, s.createdAt, s.expiresAt, s.revokedAt],
    );
  }

  async get(id: string): Promise<WalletSessionRecord | undefined> {
    const r = (await this.db.query("SELECT * FROM wallet_sessions WHERE id = $1", [id]))[0];
    return r ? toSession(r) : undefined;
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const n = await this.db.run("UPDATE wallet_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [
      id,
      at,
    ]);
    return n > 0;
  }

  /** Revokes every live session of an address; returns how many. */
  async revokeAddress(address: string, at: number): Promise<number> {
    return this.db.run(
      "UPDATE wallet_sessions SET revoked_at = $2 WHERE address = $1 AND revoked_at IS NULL AND expires_at > $2",
      [address.toLowerCase(), at],
    );
  }

  /** Drops expired nonces and sessions that ended before `before`. */
  async prune(now: number, before: number): Promise<number> {
    const nonces = await this.db.run("DELETE FROM siwe_nonces WHERE expires_at < $1", [now]);
    const sessions = await this.db.run("DELETE FROM wallet_sessions WHERE expires_at < $1", [before]);
    return nonces + sessions;
  }
}

function toSession(r: Record<string, unknown>): WalletSessionRecord {
  return {
    id: String(r.id),
    tokenHash: String(r.token_hash),
    address: String(r.address),
    role: String(r.role),
    nonce: String(r.nonce),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}
