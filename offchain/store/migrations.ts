import { AppError } from "../shared/errors";
import { DIALECTS, type Dialect, type SqlEngine } from "./engine";

/**
 * A versioned schema change of one capability. Versions are per capability (chain 1, 2…; kyc 1, 2…) so that
 * capabilities add migrations without coordinating numbers. Applied migrations are never edited: add a new one.
 */
export interface Migration {
  capability: string;
  version: number;
  description: string;
  /** One or more statements separated by ";" at line ends, written for the given dialect. */
  up: (d: Dialect) => string;
}

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  capability TEXT NOT NULL,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (capability, version)
)`;

export interface AppliedMigration {
  capability: string;
  version: number;
}

/**
 * Applies every migration not yet recorded, in list order, each in its own transaction. On PostgreSQL an
 * advisory lock makes concurrent starts of several instances apply each migration exactly once.
 */
export async function migrate(engine: SqlEngine, migrations: Migration[]): Promise<AppliedMigration[]> {
  checkList(migrations);
  const dialect = DIALECTS[engine.kind];
  const applied: AppliedMigration[] = [];
  await engine.transaction(async (tx) => {
    await tx.lock("schema_migrations");
    await tx.run(LEDGER);
  });
  for (const m of migrations) {
    await engine.transaction(async (tx) => {
      await tx.lock("schema_migrations");
      const done = await tx.query("SELECT 1 FROM schema_migrations WHERE capability = $1 AND version = $2", [
        m.capability,
        m.version,
      ]);
      if (done.length > 0) return;
      for (const statement of splitStatements(m.up(dialect))) await tx.run(statement);
      await tx.run(
        "INSERT INTO schema_migrations (capability, version, description, applied_at) VALUES ($1, $2, $3, $4)",
        [m.capability, m.version, m.description, new Date().toISOString()],
      );
      applied.push({ capability: m.capability, version: m.version });
    });
  }
  return applied;
}

function checkList(migrations: Migration[]): void {
  const last = new Map<string, number>();
  for (const m of migrations) {
    const prev = last.get(m.capability) ?? 0;
    if (m.version !== prev + 1) {
      throw new AppError(
        "CONFIG_INVALID",
        `migration ${m.capability}#${m.version} out of order (expected ${prev + 1})`,
      );
    }
    last.set(m.capability, m.version);
  }
}

function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
