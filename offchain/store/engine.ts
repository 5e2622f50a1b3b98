/**
 * The SQL surface both engines offer. SQL is written once with PostgreSQL placeholders ($1, $2…); the SQLite
 * engine rewrites them. Only offchain/store/ sees this interface.
 */
export type EngineKind = "sqlite" | "postgres";
export type SqlParam = string | number | bigint | null | boolean;
export type Row = Record<string, unknown>;

export interface SqlExecutor {
  readonly kind: EngineKind;
  query<T extends Row = Row>(sql: string, params?: SqlParam[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: SqlParam[]): Promise<number>;
  /**
   * Serialises this transaction against every other holder of `name` until it ends (PostgreSQL: an advisory
   * transaction lock; SQLite: writers are already serialised by BEGIN IMMEDIATE, so nothing to do).
   */
  lock(name: string): Promise<void>;
}

export interface SqlEngine extends SqlExecutor {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Nested calls join. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Column types that differ between the engines, for migrations. */
export interface Dialect {
  kind: EngineKind;
  /** Token amounts: uint256 does not fit SQLite's 64-bit INTEGER, so SQLite keeps the decimal string. */
  amount: string;
  /** Block numbers, unix milliseconds, counters. */
  int64: string;
  /** An auto-incrementing primary key. */
  serialKey: string;
}

export const DIALECTS: Record<EngineKind, Dialect> = {
  sqlite: { kind: "sqlite", amount: "TEXT", int64: "INTEGER", serialKey: "INTEGER PRIMARY KEY AUTOINCREMENT" },
  postgres: { kind: "postgres", amount: "NUMERIC(78,0)", int64: "BIGINT", serialKey: "BIGSERIAL PRIMARY KEY" },
};

/** A 31-bit key for pg_advisory_xact_lock derived from a name (FNV-1a). */
export function lockKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}
