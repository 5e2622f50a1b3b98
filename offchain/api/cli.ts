/**
 * Operations commands of the API capability, run against the configured store (MB_STORE, MB_SQLITE_PATH /
 * MB_DATABASE_URL…, and MB_API_SECRET_KEY, which seals API secrets at rest):
 *
 *   ts-node --transpile-only offchain/api/cli.ts verify-audit
 *     verifies the audit log's hash chain; exits 0 when intact, 1 when broken (printing the first bad entry).
 *   ts-node --transpile-only offchain/api/cli.ts create-key --role operator --subject 0x… --label "…" [--totp]
 *     creates an API key (how a production deployment gets its first operator key; later keys come from
 *     POST /v1/admin/api-keys). Prints {keyId, secret, role, subject[, totpSecret]} once; the secret is stored
 *     sealed and cannot be shown again. The creation is written to the audit log.
 */
import { randomBytes } from "node:crypto";
import { AppError } from "../shared/errors";
import { configFromEnv, sqlitePath } from "../shared/config";
import { openStore, verifyAuditChain, type Store } from "../store";
import { createApiKey } from "./keys";
import { isRole } from "./roles";

const USAGE = [
  "usage: cli.ts verify-audit",
  "       cli.ts create-key --role <role> --subject <0x address> --label <text> [--totp]",
].join("\n");

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function createKey(store: Store, secretKey: Buffer, argv: string[]): Promise<number> {
  const role = flag(argv, "role") ?? "";
  const subject = flag(argv, "subject") ?? "";
  const label = flag(argv, "label") ?? "";
  if (!isRole(role)) {
    console.error(`--role must be one of the API roles, not "${role}"\n${USAGE}`);
    return 2;
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(subject)) {
    console.error(`--subject must be a 0x-prefixed 20-byte address\n${USAGE}`);
    return 2;
  }
  if (label.length === 0 || label.length > 200) {
    console.error(`--label is required (1-200 characters)\n${USAGE}`);
    return 2;
  }
  const key = await createApiKey(store, secretKey, {
    role,
    subject,
    label,
    totp: argv.includes("--totp"),
  });
  await store.transaction((tx) =>
    tx.audit.append({
      actor: "cli",
      role: "operator",
      action: "cli.create-key",
      requestId: `cli_${randomBytes(8).toString("hex")}`,
      details: { keyId: key.keyId, role, subject, label },
    }),
  );
  console.log(JSON.stringify(key));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command !== "verify-audit" && command !== "create-key") {
    console.error(USAGE);
    return 2;
  }
  const config = configFromEnv();
  const store =
    config.store.engine === "sqlite"
      ? await openStore({ engine: "sqlite", path: sqlitePath(config) })
      : await openStore({ engine: "postgres", url: config.store.url });
  try {
    if (command === "create-key") return await createKey(store, config.api.secretKey, argv.slice(1));
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
      console.error(err instanceof AppError ? `${err.code}: ${err.message}` : err);
      process.exit(2);
    },
  );
}

export { main as apiCli, main as auditCli };
