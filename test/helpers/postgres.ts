import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import pg from "pg";

/**
 * PostgreSQL for tests: uses MB_TEST_PG_ADMIN_URL when set; otherwise starts the local Debian cluster with
 * `pg_ctlcluster 15 main start` (see DEVELOPERS.md) and connects as `postgres` over the unix socket. Each test
 * file gets its own fresh database (names start with the caller's prefix) and drops it afterwards.
 */
export type TestPostgres = { url: string; drop(): Promise<void> } | { skip: string };

const SOCKET_DIR = "/var/run/postgresql";

function adminUrl(db: string): string | { skip: string } {
  const fromEnv = process.env.MB_TEST_PG_ADMIN_URL;
  if (fromEnv) {
    const u = new URL(fromEnv);
    u.pathname = `/${db}`;
    return u.toString();
  }
  if (!existsSync("/usr/bin/pg_ctlcluster") && !existsSync("/usr/bin/pg_lsclusters")) {
    return { skip: "PostgreSQL is not installed here (no pg_ctlcluster); set MB_TEST_PG_ADMIN_URL to use a server" };
  }
  try {
    const status = execFileSync("pg_lsclusters", ["--no-header"], { encoding: "utf8" });
    const line = status.split("\n").find((l) => /^\s*15\s+main\s/.test(l));
    if (!line) return { skip: "no PostgreSQL 15 'main' cluster (pg_lsclusters)" };
    if (!/\bonline\b/.test(line)) {
      try {
        execFileSync("pg_ctlcluster", ["15", "main", "start"], { stdio: "ignore" });
      } catch {
        // Another test process may have started it between the two commands; the connection below decides.
      }
    }
  } catch (err) {
    return { skip: `could not start PostgreSQL: ${(err as Error).message}` };
  }
  const user = ensureSocketRole();
  if (typeof user !== "string") return user;
  return `postgres://${user}@localhost/${db}?host=${encodeURIComponent(SOCKET_DIR)}`;
}

/**
 * Unix-socket connections use peer authentication: the database role must be named like the OS user. As root,
 * create a superuser role "root" once (through `su postgres`), which leaves the cluster's own settings alone.
 */
function ensureSocketRole(): string | { skip: string } {
  const osUser = userInfo().username;
  if (osUser === "postgres") return osUser;
  if (osUser !== "root") return osUser;
  const sql = `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END $$;`;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      execFileSync("su", ["postgres", "-c", `psql -q -h ${SOCKET_DIR} -d postgres -c "${sql.replace(/\$/g, "\\$")}"`], {
        stdio: "ignore",
      });
      return "root";
    } catch {
      execFileSync("sleep", ["0.3"]);
    }
  }
  return { skip: "could not create the 'root' role through su postgres (peer authentication)" };
}

/**
 * `MB_TEST_DB_SUFFIX` (letters, digits, underscores) is appended to every database name, so that two checkouts
 * testing at once on one machine (two worktrees, each in its own network namespace) never drop each other's.
 */
export async function createTestDatabase(base: string): Promise<TestPostgres> {
  if (!/^mb_[a-z0-9_]+$/.test(base)) throw new Error(`test database name ${base} must match mb_[a-z0-9_]+`);
  const suffix = process.env.MB_TEST_DB_SUFFIX ?? "";
  if (!/^[a-z0-9_]*$/.test(suffix)) throw new Error(`MB_TEST_DB_SUFFIX ${suffix} must match [a-z0-9_]*`);
  const name = suffix ? `${base}_${suffix}` : base;
  const admin = adminUrl("postgres");
  if (typeof admin !== "string") return admin;
  const run = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  let lastError: unknown;
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await run(`CREATE DATABASE ${name}`);
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  if (lastError) return { skip: `PostgreSQL did not accept connections: ${(lastError as Error).message}` };
  const url = adminUrl(name) as string;
  return { url, drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
