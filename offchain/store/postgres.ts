import pg from "pg";
import { AppError } from "../shared/errors";
import { lockKey, type Row, type SqlEngine, type SqlExecutor, type SqlParam } from "./engine";

/**
 * The production engine: a pg connection pool. Several service instances may share one database; anything
 * that must be serialised across them takes an advisory lock inside its transaction (`lock(name)`).
 */
export function openPostgres(url: string, poolSize = 10): SqlEngine {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  const on = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    kind: "postgres",
    async query<T extends Row>(sql: string, params: SqlParam[] = []): Promise<T[]> {
      try {
        return (await client.query(sql, params.map(toPg))).rows as T[];
      } catch (err) {
        throw storeError(err);
      }
    },
    async run(sql: string, params: SqlParam[] = []): Promise<number> {
      try {
        return (await client.query(sql, params.map(toPg))).rowCount ?? 0;
      } catch (err) {
        throw storeError(err);
      }
    },
    async lock(name: string): Promise<void> {
      await client.query("SELECT pg_advisory_xact_lock($1)", [lockKey(name)]);
    },
  });
  const direct = on(pool);
  return {
    ...direct,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect().catch((err: unknown) => {
        throw storeError(err);
      });
      try {
        await client.query("BEGIN");
        const out = await fn(on(client));
        await client.query("COMMIT");
        return out;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}

function toPg(v: SqlParam): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

function storeError(err: unknown): AppError {
  return err instanceof AppError ? err : new AppError("STORE_FAILED", "PostgreSQL statement failed", { cause: err });
}
