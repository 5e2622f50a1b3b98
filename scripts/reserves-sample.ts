/**
 * Writes a sample liabilities file for the deployed assets (demo and manual testing).
 *   npx ts-node --transpile-only scripts/reserves-sample.ts [--accounts 100] [--network localhost] > liabilities.json
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { deployment } from "./reserves-lib";

const { values } = parseArgs({
  options: { accounts: { type: "string", default: "100" }, network: { type: "string", default: "localhost" } },
});
const record = deployment(values.network!);
const n = Number(values.accounts);
const accounts = Array.from({ length: n }, (_, i) => ({
  accountId: `client-${i}`,
  secret: `0x${randomBytes(32).toString("hex")}`,
  owed: record.tokens.map((t) => String(t.kind === "cash" ? (i + 1) * 1_000_000 : i % 50)),
  debt: record.tokens.map((t) => String(t.kind === "cash" ? (i % 3) * 500_000 : 0)),
}));
console.log(JSON.stringify({ assets: record.tokens.map((t) => t.symbol), accounts }, null, 2));
