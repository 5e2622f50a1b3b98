import path from "node:path";
import pg from "pg";
import type { Config } from "../shared/config";

/** Whether the practice service runs: config.practice.enabled, else on in development only. */
export function practiceEnabled(config: Config): boolean {
  return config.practice.enabled ?? config.env === "development";
}

/** The practice deployment's record name: config.practice.network, else "<chain.network>-practice". */
export function practiceNetwork(config: Config): string {
  return config.practice.network ?? `${config.chain.network}-practice`;
}

/**
 * The practice service's configuration, derived from the real one: its own port, its own store (a second SQLite
 * file beside the real one, or the PostgreSQL schema config.practice.pgSchema through the connection's
 * search_path), the practice deployment and the practice keys. The keeper and the reserve publisher stay off in
 * practice; no real key is carried over.
 */
export function practiceServiceConfig(config: Config): Config {
  const p = config.practice;
  const store: Config["store"] =
    config.store.engine === "sqlite"
      ? {
          engine: "sqlite",
          path: config.store.path
            ? config.store.path.replace(/(\.sqlite)?$/, "-practice.sqlite")
            : path.join(config.dataDir, "marginbridge-practice.sqlite"),
        }
      : { ...config.store, url: withSearchPath(config.store.url, p.pgSchema) };
  return {
    ...config,
    store,
    chain: {
      ...config.chain,
      network: practiceNetwork(config),
      kycOfficerKey: p.kycOfficerKey,
      reservePublisherKey: undefined,
    },
    api: { ...config.api, port: p.port, metricsPort: undefined },
    settlement: { ...config.settlement, operatorKey: p.operatorKey },
    providers: { ...config.providers, queueServerKey: p.queueServerKey },
    keeper: { ...config.keeper, enabled: false },
  };
}

/** The PostgreSQL URL with `schema` as the connection's only search_path. */
function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return u.toString();
}

/** Creates the practice schema when it is not there (the store's migrations then create their tables in it). */
export async function ensurePracticeSchema(config: Config): Promise<void> {
  if (config.store.engine !== "postgres") return;
  const client = new pg.Client({ connectionString: config.store.url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${config.practice.pgSchema}`);
  } finally {
    await client.end();
  }
}
