import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { AppError } from "../shared/errors";
import type { Row, SqlEngine, SqlExecutor, SqlParam } from "./engine";

/**
 * The embedded engine: one better-sqlite3 connection in WAL mode. better-sqlite3 is synchronous, so an async
 * transaction must keep every other caller out until it ends; a promise chain (`gate`) does that.
 */
export function openSqlite(file: string): SqlEngine {
  if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");

  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): { stmt: Database.Statement; order: number[] } => {
    const order: number[] = [];
    const rewritten = sql.replace(/\$(\d+)/g, (_m, n: string) => {
      order.push(Number(n) - 1);
      return "?";
    });
    let stmt = statements.get(rewritten);
    if (!stmt) {
      stmt = db.prepare(rewritten);
      statements.set(rewritten, stmt);
    }
    return { stmt, order };
  };
  const bind = (params: SqlParam[], order: number[]): unknown[] =>
    order.map((i) => {
      const v = params[i];
      return typeof v === "boolean" ? (v ? 1 : 0) : v;
    });

  const direct: SqlExecutor = {
    kind: "sqlite",
    async query<T extends Row>(sql: string, params: SqlParam[] = []): Promise<T[]> {
      const { stmt, order } = prepare(sql);
      try {
        if (stmt.reader) return stmt.all(...bind(params, order)) as T[];
        stmt.run(...bind(params, order));
        return [];
      } catch (err) {
        throw storeError(err);
      }
    },
    async run(sql: string, params: SqlParam[] = []): Promise<number> {
      const { stmt, order } = prepare(sql);
      try {
        if (stmt.reader) return stmt.all(...bind(params, order)).length;
        return stmt.run(...bind(params, order)).changes;
      } catch (err) {
        throw storeError(err);
      }
    },
    async lock(): Promise<void> {},
  };

  let gate: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = gate.then(fn, fn);
    gate = result.catch(() => undefined);
    return result;
  };
  let inTransaction = false;

  return {
    kind: "sqlite",
    query: (sql, params) => (inTransaction ? exclusive(() => direct.query(sql, params)) : direct.query(sql, params)),
    run: (sql, params) => (inTransaction ? exclusive(() => direct.run(sql, params)) : direct.run(sql, params)),
    lock: async () => {},
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return exclusive(async () => {
        db.exec("BEGIN IMMEDIATE");
        inTransaction = true;
        try {
          const out = await fn(direct);
          db.exec("COMMIT");
          return out;
        } catch (err) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw err;
        } finally {
          inTransaction = false;
        }
      });
    },
    async close(): Promise<void> {
      await exclusive(async () => db.close());
    },
  };
}

function storeError(err: unknown): AppError {
  return new AppError("STORE_FAILED", "SQLite statement failed", { cause: err });
}
