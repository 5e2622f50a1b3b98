import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { AppError } from "../shared/errors";
import type { Row, SqlEngine, SqlExecutor, SqlParam } from "./engine";

/**
 * The embedded engine: one better-sqlite3 connection in WAL mode. better-sqlite3 is synchronous, so an async
 * transaction must keep every other caller out until it ends; a promise chain (`gate`) does that.
 *
 * Writes are group-committed: the transactions and standalone writes (outside any transaction) begun during one turn
 * of the event loop run one after another in one SQLite transaction, and each resolves with its own result once that
 * transaction has committed. A commit costs more than a small write, and under load many requests write at once (a
 * request nonce, a signed order, the order book's journal group). Each member keeps its own outcome (a transaction
 * runs in its own savepoint): a transaction that throws, or a statement that fails a constraint, leaves nothing
 * behind and the others commit; a failure that ends the SQLite transaction, or a failed commit, fails every member
 * of the group. Reads outside a transaction run at once.
 */
export function openSqlite(file: string): SqlEngine {
  if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");
  const savepoint = db.prepare("SAVEPOINT member");
  const release = db.prepare("RELEASE member");
  const rollbackToSavepoint = db.prepare("ROLLBACK TO member");

  // keyed by the SQL as written, so the placeholder rewrite runs once per statement text, not once per call
  const statements = new Map<string, Prepared>();
  const prepare = (sql: string): Prepared => {
    let prepared = statements.get(sql);
    if (prepared === undefined) {
      const order: number[] = [];
      const rewritten = sql.replace(/\$(\d+)/g, (_m, n: string) => {
        order.push(Number(n) - 1);
        return "?";
      });
      prepared = { stmt: db.prepare(rewritten), order };
      statements.set(sql, prepared);
    }
    return prepared;
  };
  const bind = (params: SqlParam[], order: number[]): unknown[] =>
    order.map((i) => {
      const v = params[i];
      return typeof v === "boolean" ? (v ? 1 : 0) : v;
    });
  const rowsOf = ({ stmt, order }: Prepared, params: SqlParam[]): Row[] => {
    try {
      if (stmt.reader) return stmt.all(...bind(params, order)) as Row[];
      stmt.run(...bind(params, order));
      return [];
    } catch (err) {
      throw storeError(err);
    }
  };
  const changesOf = ({ stmt, order }: Prepared, params: SqlParam[]): number => {
    try {
      if (stmt.reader) return stmt.all(...bind(params, order)).length;
      return stmt.run(...bind(params, order)).changes;
    } catch (err) {
      throw storeError(err);
    }
  };

  const direct: SqlExecutor = {
    kind: "sqlite",
    query: async <T extends Row>(sql: string, params: SqlParam[] = []) => rowsOf(prepare(sql), params) as T[],
    run: async (sql: string, params: SqlParam[] = []) => changesOf(prepare(sql), params),
    lock: async () => {},
  };

  let gate: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = gate.then(fn, fn);
    gate = result.catch(() => undefined);
    return result;
  };
  let inTransaction = false;

  let group: GroupMember[] = [];
  /** Runs the queued members in one transaction; every promise settles after the commit, or with its failure. */
  const commitGroup = async (): Promise<void> => {
    const members = group;
    group = [];
    if (members.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    inTransaction = true;
    try {
      begin.run();
      for (const m of members) {
        // one statement is atomic by itself (a failed one leaves nothing behind); a transaction needs the savepoint
        if (m.transaction) savepoint.run();
        try {
          outcomes.push({ ok: true, value: await m.execute(direct) });
          if (m.transaction) release.run();
        } catch (error) {
          if (!db.inTransaction) throw error;
          if (m.transaction) {
            rollbackToSavepoint.run();
            release.run();
          }
          outcomes.push({ ok: false, error });
        }
      }
      commit.run();
    } catch (err) {
      if (db.inTransaction) rollback.run();
      const error = err instanceof AppError ? err : storeError(err);
      for (const m of members) m.reject(error);
      return;
    } finally {
      inTransaction = false;
    }
    members.forEach((m, i) => {
      const o = outcomes[i];
      if (o.ok) m.resolve(o.value);
      else m.reject(o.error);
    });
  };
  const joinGroup = <T>(transaction: boolean, execute: (tx: SqlExecutor) => T | Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (group.length === 0) setImmediate(() => void exclusive(commitGroup));
      group.push({ transaction, execute, resolve: resolve as (v: unknown) => void, reject });
    });

  return {
    kind: "sqlite",
    query: <T extends Row>(sql: string, params: SqlParam[] = []): Promise<T[]> => {
      const prepared = prepare(sql);
      if (!prepared.stmt.readonly) return joinGroup(false, () => rowsOf(prepared, params) as T[]);
      return inTransaction ? exclusive(() => direct.query<T>(sql, params)) : direct.query<T>(sql, params);
    },
    run: (sql: string, params: SqlParam[] = []): Promise<number> => {
      const prepared = prepare(sql);
      if (!prepared.stmt.readonly) return joinGroup(false, () => changesOf(prepared, params));
      return inTransaction ? exclusive(() => direct.run(sql, params)) : direct.run(sql, params);
    },
    lock: async () => {},
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => joinGroup(true, fn),
    async close(): Promise<void> {
      await exclusive(async () => {
        await commitGroup();
        db.close();
      });
    },
  };
}

interface Prepared {
  stmt: Database.Statement;
  /** For each `?` of the rewritten SQL, the index of the `$n` parameter it takes. */
  order: number[];
}

/** A standalone write or a whole transaction, waiting for its group's commit. */
interface GroupMember {
  /** A whole transaction (runs in a savepoint), or one standalone statement. */
  transaction: boolean;
  execute(tx: SqlExecutor): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

function storeError(err: unknown): AppError {
  return new AppError("STORE_FAILED", "SQLite statement failed", { cause: err });
}
