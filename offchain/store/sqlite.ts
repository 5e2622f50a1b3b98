import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
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
  // WAL checkpoints run on a worker thread (their page copies and the fsync stay off the event loop); the
  // connection's own automatic checkpoint is only a backstop should the worker fall far behind or stop.
  const checkpointer = file === ":memory:" ? undefined : startCheckpointer(file);
  if (checkpointer) db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
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
        // the worker's connection first: the last connection to close checkpoints the WAL and removes it
        await checkpointer?.stop();
        db.close();
      });
    },
  };
}

/** Pages the WAL may reach before the writing connection checkpoints it itself (≈ 40 MB at 4 KiB pages). */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;
/** How often the worker checkpoints (a checkpoint with nothing new to copy costs almost nothing). */
const CHECKPOINT_INTERVAL_MS = 500;

/** Runs in the checkpoint worker: its own connection to the file, a PASSIVE checkpoint every interval. */
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 1000");
let checkpoints = 0;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    checkpoints++;
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  }
}, workerData.intervalMs);
parentPort.on("message", (m) => {
  if (m === "stop") {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ stopped: true, checkpoints });
    parentPort.close();
  }
});
`;

interface Checkpointer {
  /** Stops the worker after closing its connection; resolves with the number of checkpoints it ran. */
  stop(): Promise<number>;
}

function startCheckpointer(file: string): Checkpointer {
  const worker = new Worker(CHECKPOINT_WORKER, {
    eval: true,
    workerData: { file, driver: require.resolve("better-sqlite3"), intervalMs: CHECKPOINT_INTERVAL_MS },
  });
  worker.unref();
  let checkpoints = 0;
  let stopped = false;
  // a failed checkpoint (e.g. SQLITE_BUSY) is retried at the next interval; a dead worker leaves the backstop
  worker.on("message", (m: { stopped?: boolean; checkpoints?: number }) => {
    if (m.stopped) {
      stopped = true;
      checkpoints = m.checkpoints ?? 0;
    }
  });
  worker.on("error", () => undefined);
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    async stop() {
      worker.ref(); // keep the process alive until the worker has closed its connection
      worker.postMessage("stop");
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
      await Promise.race([exited, timeout]);
      if (!stopped) await worker.terminate();
      return checkpoints;
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
