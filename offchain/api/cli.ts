/**
 * Operations commands of the API capability.
 *   ts-node --transpile-only offchain/api/cli.ts verify-audit
 * verifies the audit log's hash chain in the configured store (MB_STORE, MB_SQLITE_PATH / MB_DATABASE_URL…)
 * and exits 0 when intact, 1 when broken (printing the first bad entry).
 */
import { configFromEnv, sqlitePath } from "../shared/config";
import { openStore, verifyAuditChain } from "../store";

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command !== "verify-audit") {
    console.error("usage: cli.ts verify-audit");
    return 2;
  }
  const config = configFromEnv();
  const store =
    config.store.engine === "sqlite"
      ? await openStore({ engine: "sqlite", path: sqlitePath(config) })
      : await openStore({ engine: "postgres", url: config.store.url });
  try {
    const result = await verifyAuditChain(store);
    console.log(JSON.stringify(result));
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}

export { main as auditCli };
